'use strict';
// What the OS shows about a process, read from /proc. Zombies count as dead: PID 1 here reaps nothing.
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
  const rest = text.slice(close + 2).split(' ');
  return {
    pid: Number(text.slice(0, text.indexOf(' '))),
    comm: text.slice(text.indexOf('(') + 1, close),
    state: rest[0],
    ppid: Number(rest[1]),
    pgrp: Number(rest[2]),
    session: Number(rest[3]),
    ttyNr: Number(rest[4]),
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

/** Live processes whose command line contains `token`. */
function findByToken(token) {
  const found = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    if (cmdline(pid).some((word) => word.includes(token)) && isAlive(pid)) found.push(pid);
  }
  return found;
}

/** Live children of `pid`, found by scanning ppid (these kernels have no task children files). */
function childrenOf(pid) {
  const found = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const s = stat(entry);
    if (s && s.ppid === pid && s.state !== 'Z') found.push(s.pid);
  }
  return found;
}

module.exports = { stat, status, fds, environ, cmdline, isAlive, findByToken, childrenOf };
