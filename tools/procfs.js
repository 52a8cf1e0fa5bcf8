'use strict';
// What the OS shows about a process, read from /proc; shared by test/helpers and bench/ (dev-only, not packaged).
// Zombies count as dead: PID 1 here reaps nothing.
const fs = require('node:fs');

/** Fields of /proc/PID/stat, or null when the process is gone. */
function stat(pid) {
  let text;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // comm may hold spaces and parentheses: split after the last ')'.
  const close = text.lastIndexOf(')');
  const f = text.slice(close + 2).split(' ').map((x, i) => (i === 0 ? x : Number(x)));
  return {
    pid: Number(text.slice(0, text.indexOf(' '))),
    comm: text.slice(text.indexOf('(') + 1, close),
    state: f[0],
    ppid: f[1],
    pgrp: f[2],
    session: f[3],
    ttyNr: f[4],
    utime: f[11],
    stime: f[12],
    cutime: f[13],
    cstime: f[14],
    threads: f[17],
    starttime: f[19],
  };
}

/** /proc/PID/status as an object of strings. */
function status(pid) {
  const result = {};
  for (const line of fs.readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
    const at = line.indexOf(':');
    if (at > 0) result[line.slice(0, at)] = line.slice(at + 1).trim();
  }
  return result;
}

/** Open descriptors: { fd: target }. */
function fds(pid) {
  const result = {};
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      result[fd] = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      // closed between readdir and readlink
    }
  }
  return result;
}

function environ(pid) {
  const result = {};
  for (const entry of fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')) {
    const at = entry.indexOf('=');
    if (at > 0) result[entry.slice(0, at)] = entry.slice(at + 1);
  }
  return result;
}

function cmdline(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

function isAlive(pid) {
  const s = stat(pid);
  return s !== null && s.state !== 'Z' && s.state !== 'X';
}

/** Every pid now in /proc. */
function pids() {
  return fs.readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map(Number);
}

/** True when `pid` is alive and `token` is in its command line. */
function hasToken(pid, token) {
  return pid !== null && cmdline(pid).some((word) => word.includes(token)) && isAlive(pid);
}

/** Live processes whose command line contains `token`, this one excepted. */
function findByToken(token) {
  return pids().filter((pid) => pid !== process.pid && hasToken(pid, token));
}

/** Live children of `pid`, found by scanning ppid (these kernels have no task children files). */
function childrenOf(pid) {
  return pids().map(stat).filter((s) => s && s.ppid === pid && s.state !== 'Z').map((s) => s.pid);
}

/** /proc/PID/smaps_rollup in MiB: { uss, anon, rss, pss }, or null when the process is gone.
 *  USS = Private_Clean + Private_Dirty + Private_Hugetlb. */
function memory(pid) {
  let text;
  try {
    text = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  } catch {
    return null;
  }
  const kb = (key) => Number((new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text) || [0, 0])[1]);
  return {
    uss: (kb('Private_Clean') + kb('Private_Dirty') + kb('Private_Hugetlb')) / 1024,
    anon: kb('Anonymous') / 1024,
    rss: kb('Rss') / 1024,
    pss: kb('Pss') / 1024,
  };
}

module.exports = { stat, status, fds, environ, cmdline, isAlive, pids, hasToken, findByToken, childrenOf, memory };
