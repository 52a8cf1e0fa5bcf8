'use strict';
// Tracking what the run starts and creates, so nothing survives it (also on Ctrl-C or a crash).
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { nowMs, sleepMs } = require('./clock');
const { isGone, pidsWithToken } = require('./procfs');

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


module.exports = { killAndConfirm, uniqueToken, trackPid, trackToken, reap, makeTmpDir, removeDir, cleanupAll, installCleanup };
