'use strict';
// Shared helpers for the benchmark sections: clocks, medians, interleaved pairs, process bookkeeping,
// temp files, and the plain-text table. Sections produce data (rows); printing is done by run.js.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const DAEMONIZE = path.join(ROOT, 'bin', 'daemonize');
const MiB = 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Clocks and statistics

/** Monotonic time in milliseconds, as a float. */
function nowMs() {
  return Number(process.hrtime.bigint()) / 1e6;
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
/** Blocks the thread for `ms` milliseconds without spinning. */
function sleepMs(ms) {
  Atomics.wait(sleeper, 0, 0, ms);
}

function median(values) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Lets the event loop run (signal handlers included) between two measurements. */
function tick() {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * The measurement plan shared by runPairs and runPairsAsync: `warmup` unmeasured rounds of each side,
 * then `pairs` interleaved pairs, alternating which side goes first. Yields [side, pairIndex, isWarmup].
 */
function* pairSchedule(pairs, warmup) {
  for (let i = 0; i < warmup; i++) {
    yield ['baseline', i, true];
    yield ['subject', i, true];
  }
  for (let i = 0; i < pairs; i++) {
    const order = i % 2 === 0 ? ['baseline', 'subject'] : ['subject', 'baseline'];
    for (const side of order) yield [side, i, false];
  }
}

function pairCollector(onPair) {
  const base = [];
  const subj = [];
  return {
    add(side, i, ms) {
      (side === 'baseline' ? base : subj)[i] = ms;
      if (onPair && base[i] !== undefined && subj[i] !== undefined) onPair(i, subj[i], base[i]);
    },
    result: () => summarize(subj, base),
  };
}

/**
 * Runs `baseline` and `subject` (each synchronous, called as (pairIndex, isWarmup), returning a duration
 * in ms or throwing) in `pairs` interleaved pairs, alternating which of the two goes first, after `warmup`
 * unmeasured rounds of each. Returns the raw samples, the per-pair ratios subject/baseline and their
 * medians. Timings are never asserted.
 */
function runPairs({ pairs, warmup = 1, baseline, subject, onPair }) {
  const collect = pairCollector(onPair);
  for (const [side, i, isWarmup] of pairSchedule(pairs, warmup)) {
    const ms = side === 'baseline' ? baseline(i, isWarmup) : subject(i, isWarmup);
    if (!isWarmup) collect.add(side, i, ms);
  }
  return collect.result();
}

/** runPairs, yielding to the event loop before each measurement so Ctrl-C / SIGTERM can clean up. */
async function runPairsAsync({ pairs, warmup = 1, baseline, subject, onPair }) {
  const collect = pairCollector(onPair);
  for (const [side, i, isWarmup] of pairSchedule(pairs, warmup)) {
    await tick();
    const ms = side === 'baseline' ? baseline(i, isWarmup) : subject(i, isWarmup);
    if (!isWarmup) collect.add(side, i, ms);
  }
  return collect.result();
}

/** Medians and per-pair ratios from two equally long sample lists measured in interleaved pairs. */
function summarize(subject, baseline) {
  const ratios = subject.map((s, i) => s / baseline[i]);
  return {
    n: subject.length,
    samples: { subject, baseline, ratio: ratios },
    median: median(subject),
    baselineMedian: median(baseline),
    ratio: median(ratios),
  };
}

// ---------------------------------------------------------------------------------------------
// Processes

/** Spawns synchronously and returns { ms, status, signal, error, stderr } (stderr goes to a file, never a pipe
 *  a daemon could hold open). `ms` runs from just before spawn to just after the launcher has exited. */
function timedSpawn(file, args, { stderrFile, env, cwd, timeout = 30000 } = {}) {
  const errFd = stderrFile ? fs.openSync(stderrFile, 'w') : 'ignore';
  let result;
  let ms;
  try {
    const t0 = nowMs();
    result = spawnSync(file, args, { stdio: ['ignore', 'ignore', errFd], env, cwd, timeout });
    ms = nowMs() - t0;
  } finally {
    if (typeof errFd === 'number') fs.closeSync(errFd);
  }
  let stderr = '';
  if (stderrFile) {
    try {
      stderr = fs.readFileSync(stderrFile, 'utf8').trim();
      fs.rmSync(stderrFile, { force: true });
    } catch {
      // nothing written
    }
  }
  return { ms, status: result.status, signal: result.signal, error: result.error, stderr };
}

/** Throws a readable error unless the timed spawn exited 0. */
function checkExit(label, r) {
  if (r.error) throw new Error(`${label}: ${r.error.message}`);
  if (r.status !== 0) {
    throw new Error(`${label}: exited ${r.status === null ? `on ${r.signal}` : r.status}${r.stderr ? `: ${r.stderr.split('\n')[0]}` : ''}`);
  }
}

/** The state letter from /proc/PID/stat (R, S, D, Z, ...), or null when there is no such process. */
function procState(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces and parentheses: the state follows the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return null;
  }
}

/** The command name from /proc/PID/stat (what it exec'd, at most 15 characters), or null. */
function procName(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
  } catch {
    return null;
  }
}

/** Dead for our purposes: gone, or a zombie (PID 1 here may never reap it). */
function isGone(pid) {
  const state = procState(pid);
  return state === null || state === 'Z' || state === 'X';
}

function cmdlineOf(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return null;
  }
}

/** Live (non-zombie) pids whose command line contains `token`, excluding this process. */
function pidsWithToken(token) {
  const found = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    const argv = cmdlineOf(pid);
    if (argv && argv.some((word) => word.includes(token)) && !isGone(pid)) found.push(pid);
  }
  return found;
}

/** True when one of `pids` is live and has `token` in its command line. */
function pidsWithTokenIn(pids, token) {
  return pids.some((pid) => {
    const argv = cmdlineOf(pid);
    return argv !== null && argv.some((word) => word.includes(token)) && !isGone(pid);
  });
}

/** SIGKILLs `pid` and waits (up to `ms`) until it is gone or a zombie. Returns true when it is. */
function killAndConfirm(pid, ms = 2000) {
  if (!Number.isInteger(pid) || pid <= 1 || pid === process.pid) return true;
  try {
    process.kill(pid, 'SIGKILL');
  } catch (error) {
    if (error.code !== 'ESRCH') throw error;
  }
  const deadline = nowMs() + ms;
  while (!isGone(pid)) {
    if (nowMs() > deadline) return false;
    sleepMs(1);
  }
  return true;
}

/** Reads a pid from a pidfile; null when missing, empty or not a number. */
function readPid(file) {
  try {
    const match = /^\s*(\d+)\s*$/.exec(fs.readFileSync(file, 'utf8'));
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

/** Polls `check` every `interval` ms until it returns a truthy value or `ms` elapse; returns that value or null. */
function waitFor(check, ms = 5000, interval = 1) {
  const deadline = nowMs() + ms;
  for (;;) {
    const value = check();
    if (value) return value;
    if (nowMs() > deadline) return null;
    sleepMs(interval);
  }
}

/** Path of `name` on PATH (as `command -v` says), or null. */
function commandPath(name) {
  const r = spawnSync('sh', ['-c', 'command -v "$1"', 'sh', name], { encoding: 'utf8' });
  const out = (r.stdout || '').trim();
  return r.status === 0 && out ? out : null;
}

// ---------------------------------------------------------------------------------------------
// Tracking what we start and create, so nothing survives the run (also on Ctrl-C or a crash).

const tracked = { pids: new Set(), tokens: new Set(), dirs: new Set() };
let uniqueCounter = 0;

/** A string no other process on this machine has in its command line: it marks our daemons. */
function uniqueToken() {
  uniqueCounter += 1;
  return `${process.pid}${String(uniqueCounter).padStart(4, '0')}${Math.floor(Math.random() * 1e6).toString().padStart(6, '0')}`;
}

function trackPid(pid) {
  if (Number.isInteger(pid) && pid > 1) tracked.pids.add(pid);
}

function trackToken(token) {
  tracked.tokens.add(token);
}

/** Kills what `token` marks and what `pids` name, confirms they are gone; returns pids that would not die. */
function reap({ pids = [], token } = {}) {
  const survivors = [];
  const all = new Set(pids.filter((p) => Number.isInteger(p) && p > 1));
  if (token) for (const pid of pidsWithToken(token)) all.add(pid);
  for (const pid of all) {
    if (!killAndConfirm(pid)) survivors.push(pid);
    tracked.pids.delete(pid);
  }
  if (token) {
    // Anything the token marks that appeared after the first look (a supervisor forking late).
    for (const pid of pidsWithToken(token)) if (!killAndConfirm(pid)) survivors.push(pid);
    tracked.tokens.delete(token);
  }
  return survivors;
}

function makeTmpDir(prefix = 'daemonize-bench-') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tracked.dirs.add(dir);
  return dir;
}

function removeDir(dir) {
  fs.rmSync(dir, { recursive: true, force: true });
  tracked.dirs.delete(dir);
}

/** Last-resort cleanup: synchronous, so it also runs from process.on('exit'). */
function cleanupAll() {
  for (const token of [...tracked.tokens]) reap({ token });
  for (const pid of [...tracked.pids]) {
    // Only pids we recorded ourselves; a pid that is already gone is skipped by killAndConfirm.
    killAndConfirm(pid, 500);
    tracked.pids.delete(pid);
  }
  for (const dir of [...tracked.dirs]) removeDir(dir);
}

let cleanupInstalled = false;
function installCleanup() {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  process.on('exit', cleanupAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      process.stderr.write(`\nbench: ${signal}, cleaning up\n`);
      cleanupAll();
      process.exit(130);
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Machine information and formatting

function gitDescribe() {
  const head = spawnSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' });
  if (head.status !== 0) return null;
  const dirty = spawnSync('git', ['-C', ROOT, 'status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' });
  return `${head.stdout.trim()}${dirty.stdout && dirty.stdout.trim() ? ' (+uncommitted changes)' : ''}`;
}

function machineInfo() {
  const cpus = os.cpus();
  let version = null;
  try {
    version = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version;
  } catch {
    // keep null
  }
  return {
    cpu: cpus.length ? cpus[0].model : 'unknown',
    cores: cpus.length,
    node: process.version,
    nodePath: process.execPath,
    platform: `${os.type()} ${os.arch()}`,
    kernel: os.release(),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    loadavg: os.loadavg().map((x) => Number(x.toFixed(2))),
    tmpdir: os.tmpdir(),
    daemonize: version,
    git: gitDescribe(),
    date: new Date().toISOString(),
  };
}

function fmtMs(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return '-';
  return ms >= 100 ? `${ms.toFixed(0)} ms` : ms >= 10 ? `${ms.toFixed(1)} ms` : `${ms.toFixed(2)} ms`;
}

function fmtRatio(r) {
  if (r === null || r === undefined || Number.isNaN(r)) return '-';
  return `${r.toFixed(2)}x`;
}

/** Plain-text table with aligned columns; `align` is 'l' or 'r' per column. */
function table(headers, rows, align) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const pad = (cell, i) => (align[i] === 'r' ? String(cell).padStart(widths[i]) : String(cell).padEnd(widths[i]));
  const line = (cells) => cells.map(pad).join(' | ').trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('-+-'), ...rows.map(line)].join('\n');
}

module.exports = {
  ROOT,
  DAEMONIZE,
  MiB,
  nowMs,
  sleepMs,
  median,
  summarize,
  tick,
  runPairs,
  runPairsAsync,
  timedSpawn,
  checkExit,
  procState,
  procName,
  isGone,
  pidsWithToken,
  pidsWithTokenIn,
  killAndConfirm,
  readPid,
  waitFor,
  commandPath,
  uniqueToken,
  trackPid,
  trackToken,
  reap,
  makeTmpDir,
  removeDir,
  cleanupAll,
  installCleanup,
  machineInfo,
  fmtMs,
  fmtRatio,
  table,
};
