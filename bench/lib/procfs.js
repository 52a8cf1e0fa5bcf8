'use strict';
// What /proc says about a process: state, name, command line, memory and CPU time.
const fs = require('node:fs');
const { spawnSync } = require('node:child_process');
const { nowMs } = require('./clock');

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

/** Reads a pid from a pidfile; null when missing, empty or not a number. */
function readPid(file) {
  try {
    const match = /^\s*(\d+)\s*$/.exec(fs.readFileSync(file, 'utf8'));
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

module.exports = { procState, procName, readStat, readMemory, isPidName, pidSet, scanCostMs, ticksPerSecond, cpuSample, cpuPercent, isGone, cmdlineOf, pidsWithToken, pidsWithTokenIn, readPid };
