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

/** The rows `fn` returns, or when it throws, one row that says so: a part that fails does not end the run. */
async function rowsOrError(measure, fn, subject = '-') {
  try {
    return await fn();
  } catch (error) {
    return [{ measure, subject, status: 'error', reason: error.stack || error.message }];
  }
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

/** The `node` the sections time: the one on PATH, as the shebang of bin/daemonize finds it. */
function nodePath() {
  return commandPath('node') || process.execPath;
}

/** The common baseline: one `node -e 0`, its wall time in ms (throws unless it exited 0). */
function nodeBaselineOnce(node = nodePath()) {
  const r = timedSpawn(node, ['-e', '0']);
  checkExit('node -e 0', r);
  return r.ms;
}

/** The state letter from /proc/PID/stat (R, S, D, Z, ...), or null when there is no such process. */
function procState(pid) {
  const stat = readStat(pid);
  return stat ? stat.state : null;
}

/** The command name from /proc/PID/stat (what it exec'd, at most 15 characters), or null. */
function procName(pid) {
  const stat = readStat(pid);
  return stat ? stat.comm : null;
}

/** The fields of /proc/PID/stat the sections use, or null when the process is gone. */
function readStat(pid) {
  let text;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return null;
  }
  const close = text.lastIndexOf(')');
  const f = text.slice(close + 2).split(' ');
  return {
    pid,
    comm: text.slice(text.indexOf('(') + 1, close),
    state: f[0],
    ppid: Number(f[1]),
    pgrp: Number(f[2]),
    session: Number(f[3]),
    ttyNr: Number(f[4]),
    utime: Number(f[11]),
    stime: Number(f[12]),
    cutime: Number(f[13]),
    cstime: Number(f[14]),
    threads: Number(f[17]),
    starttime: Number(f[19]),
  };
}

/** /proc/PID/smaps_rollup in MiB: { uss, anon, rss, pss }, or null when the process is gone.
 *  USS = Private_Clean + Private_Dirty + Private_Hugetlb. */
function readMemory(pid) {
  let text;
  try {
    text = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  } catch {
    return null;
  }
  const kb = (key) => {
    const match = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text);
    return match ? Number(match[1]) : 0;
  };
  const mib = (value) => value / 1024;
  return {
    uss: mib(kb('Private_Clean') + kb('Private_Dirty') + kb('Private_Hugetlb')),
    anon: mib(kb('Anonymous')),
    rss: mib(kb('Rss')),
    pss: mib(kb('Pss')),
  };
}

function isPidName(name) {
  const c = name.charCodeAt(0);
  return c >= 48 && c <= 57;
}

/** Every pid now in /proc. */
function pidSet() {
  const set = new Set();
  for (const name of fs.readdirSync('/proc')) if (isPidName(name)) set.add(Number(name));
  return set;
}

/**
 * SIGKILLs `victim` and spins on /proc until a new child of `supervisor` shows comm `comm` (it has exec'd:
 * before exec it still has its parent's name) and the token in its argv. Returns { ms, pid, scans }.
 */
function killAndAwaitSuccessor(supervisor, victim, comm, token, timeoutMs = 5000) {
  const known = pidSet();
  known.delete(victim);
  let scans = 0;
  const t0 = nowMs();
  process.kill(victim, 'SIGKILL');
  for (;;) {
    scans += 1;
    for (const name of fs.readdirSync('/proc')) {
      if (!isPidName(name)) continue;
      const pid = Number(name);
      if (known.has(pid) || pid === victim) continue;
      const s = readStat(pid);
      if (s === null) continue;
      if (s.ppid !== supervisor) {
        known.add(pid); // a stranger cannot become the supervisor's child later
        continue;
      }
      if (s.comm !== comm || s.state === 'Z') continue; // forked, not exec'd yet: look again next scan
      const t1 = nowMs();
      // The kernel names the process before it has set up the new argv: /proc/PID/cmdline can read empty
      // for a moment after comm changes. The exec is committed by then; the token only confirms it is ours.
      const ours = waitFor(() => {
        try {
          return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(token);
        } catch {
          return true; // gone already: judged by the next scan
        }
      }, 1000, 0.1);
      if (!ours || isGone(pid)) continue;
      trackPid(pid);
      return { ms: t1 - t0, pid, scans };
    }
    if (nowMs() - t0 > timeoutMs) throw new Error(`no successor of pid ${victim} after ${timeoutMs} ms`);
  }
}

/** Time of one empty scan of /proc as killAndAwaitSuccessor does it: the resolution of a respawn figure. */
function scanCostMs() {
  const t0 = nowMs();
  const n = 50;
  for (let i = 0; i < n; i++) for (const name of fs.readdirSync('/proc')) isPidName(name);
  return (nowMs() - t0) / n;
}

let clockTicks = null;
function ticksPerSecond() {
  if (clockTicks === null) {
    const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    clockTicks = r.status === 0 && Number(r.stdout.trim()) > 0 ? Number(r.stdout.trim()) : 100;
  }
  return clockTicks;
}

function uptimeSeconds() {
  return Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
}

/** A CPU-time sample of `pid` (ticks of its own and of its reaped children), or null when it is gone. */
function cpuSample(pid) {
  const s = readStat(pid);
  if (s === null) return null;
  return { t: nowMs(), up: uptimeSeconds(), self: s.utime + s.stime, children: s.cutime + s.cstime, starttime: s.starttime };
}

/** CPU % of the window between two samples, and over the process's whole life up to `b`. */
function cpuPercent(a, b) {
  const hz = ticksPerSecond();
  const wall = (b.t - a.t) / 1000;
  const life = b.up - b.starttime / hz;
  return {
    windowSeconds: wall,
    self: ((b.self - a.self) / hz / wall) * 100,
    children: ((b.children - a.children) / hz / wall) * 100,
    lifetimeSelf: (b.self / hz / life) * 100,
    lifetimeSeconds: life,
  };
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

function readText(file) {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return null;
  }
}

/** First line of a command's output (stdout, else stderr), or null when it cannot run. */
function firstLine(file, args) {
  const r = spawnSync(file, args, { encoding: 'utf8', timeout: 10000 });
  if (r.error) return null;
  const text = `${r.stdout || ''}`.trim() || `${r.stderr || ''}`.trim();
  return text ? text.split('\n')[0].trim() : null;
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
    npm: firstLine('npm', ['--version']),
    platform: `${os.type()} ${os.arch()}`,
    kernel: os.release(),
    debian: readText('/etc/debian_version'),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    loadavg: os.loadavg().map((x) => Number(x.toFixed(2))),
    tmpdir: os.tmpdir(),
    daemonize: version,
    git: gitDescribe(),
    date: new Date().toISOString(),
  };
}

// ---------------------------------------------------------------------------------------------
// The peer tools, found as `command -v` finds them. Nothing here installs anything.

/** True when `file` is an ELF executable (not a script, such as this package's own bin/daemonize). */
function isElf(file) {
  let fd;
  try {
    fd = fs.openSync(file, 'r');
    const head = Buffer.alloc(4);
    return fs.readSync(fd, head, 0, 4, 0) === 4 && head.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
  } catch {
    return false;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * bmc's daemonize (Debian package `daemonize`), or null. Its command name is this package's too: the first
 * `daemonize` on PATH counts only if it is a compiled binary (ours is a Node script), else Debian's paths.
 */
function bmcDaemonizePath() {
  const found = commandPath('daemonize');
  if (found && isElf(found)) return found;
  return ['/usr/sbin/daemonize', '/usr/bin/daemonize'].find((file) => file !== found && isElf(file)) || null;
}

/** The Debian package that owns `file` and its version, e.g. "daemonize 1.7.8-3", or null. */
function debianPackageOf(file) {
  // Under merged /usr, dpkg may list /sbin/x for what PATH finds as /usr/sbin/x.
  const candidates = [...new Set([file, fs.realpathSync(file), file.replace(/^\/usr\//, '/')])];
  for (const candidate of candidates) {
    const owner = spawnSync('dpkg-query', ['-S', candidate], { encoding: 'utf8' });
    if (owner.status !== 0) continue;
    const pkg = owner.stdout.split(':')[0].trim();
    const version = spawnSync('dpkg-query', ['-W', '-f=${Version}', pkg], { encoding: 'utf8' });
    return version.status === 0 ? `${pkg} ${version.stdout.trim()}` : pkg;
  }
  return null;
}

/** The peer tools on this machine: { key: { name, path, version } }, path null when not installed. */
function peerTools() {
  const libslack = commandPath('daemon');
  const bmc = bmcDaemonizePath();
  const ssd = commandPath('start-stop-daemon');
  const describe = (file, own) => {
    if (!file) return 'not installed';
    const pkg = debianPackageOf(file);
    return [own, pkg && `Debian package ${pkg}`].filter(Boolean).join('; ') || 'unknown version';
  };
  return {
    libslack: { name: 'libslack daemon', path: libslack, version: describe(libslack, libslack && firstLine(libslack, ['--version'])) },
    bmc: { name: 'bmc daemonize', path: bmc, version: describe(bmc, null) },
    ssd: { name: 'start-stop-daemon', path: ssd, version: describe(ssd, ssd && firstLine(ssd, ['--version'])) },
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

/** A row's median (or any value) in its own unit: 'ms' (the default), 'MiB' or '%'. */
function fmtValue(value, unit = 'ms') {
  if (value === null || value === undefined || Number.isNaN(value)) return '-';
  if (unit === 'ms') return fmtMs(value);
  if (unit === '%') return `${value.toFixed(3)} %`;
  if (unit === 'MiB') return `${value.toFixed(2)} MiB`;
  return `${value} ${unit}`;
}

/** Within this much over a goal, a result is 'near' rather than 'missed': these machines are noisy. */
const NEAR = 0.05;

/** 'met', 'near' or 'missed' for a measured row with a goal; null otherwise. A relative goal
 *  ({ max }) judges the ratio, an absolute one ({ max, unit, absolute: true }) the median. */
function verdict(row) {
  if (row.status !== 'ok' || !row.goal) return null;
  const value = row.goal.absolute ? row.median : row.ratio;
  if (typeof value !== 'number' || Number.isNaN(value)) return null;
  if (value <= row.goal.max) return 'met';
  return value <= row.goal.max * (1 + NEAR) ? 'near' : 'missed';
}

/** The goal as text: '<= 1.15x' or '<= 8 MiB'. */
function fmtGoal(goal) {
  if (!goal) return '-';
  return goal.absolute ? `<= ${goal.max} ${goal.unit}` : `<= ${goal.max.toFixed(2)}x`;
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
  rowsOrError,
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
  nodePath,
  nodeBaselineOnce,
  readStat,
  readMemory,
  pidSet,
  killAndAwaitSuccessor,
  scanCostMs,
  ticksPerSecond,
  cpuSample,
  cpuPercent,
  uniqueToken,
  trackPid,
  trackToken,
  reap,
  makeTmpDir,
  removeDir,
  cleanupAll,
  installCleanup,
  machineInfo,
  peerTools,
  bmcDaemonizePath,
  fmtMs,
  fmtRatio,
  fmtValue,
  fmtGoal,
  NEAR,
  verdict,
  table,
};
