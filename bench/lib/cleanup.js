'use strict';
// What the run starts and creates, tracked so nothing survives it (also on Ctrl-C or a crash). Every daemon the
// bench starts carries a token in its command line: that is how it is found and killed.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { nowMs, sleepMs } = require('./measure');
const procfs = require('../../tools/procfs');

const tokens = new Set();
const dirs = new Set();
let counter = 0;

/** A string no other process here has in its command line, killed at exit unless reaped before (and pushed on
 *  `list` when given). */
function newToken(list) {
  counter += 1;
  const token = `${process.pid}${String(counter).padStart(4, '0')}${String(Math.floor(Math.random() * 1e6)).padStart(6, '0')}`;
  tokens.add(token);
  if (list) list.push(token);
  return token;
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
  while (procfs.isAlive(pid)) {
    if (nowMs() > deadline) return false;
    sleepMs(1);
  }
  return true;
}

/** Kills what `pids` name and what `token` marks (looked for twice: a supervisor may fork late); returns the pids
 *  that would not die. */
function reap({ pids = [], token } = {}) {
  const survivors = [...new Set([...pids, ...(token ? procfs.findByToken(token) : [])])].filter((pid) => !killAndConfirm(pid));
  if (token) {
    survivors.push(...procfs.findByToken(token).filter((pid) => !killAndConfirm(pid)));
    tokens.delete(token);
  }
  return survivors;
}

/** Tracks `token` again after a reap (pm2's PM2_HOME: the next start makes another God daemon). */
const trackToken = (token) => tokens.add(token);

function makeTmpDir(prefix) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  dirs.add(dir);
  return dir;
}

function removeDir(dir) {
  fs.rmSync(dir, { recursive: true, force: true });
  dirs.delete(dir);
}

/** The end of one run: kills what it started (`pids`, and what `token` marks), removes its files (`dir`/TOKEN*);
 *  throws if anything survives. */
function endRun(dir, token, pids = []) {
  const survivors = reap({ pids: pids.filter((p) => p !== null), token });
  for (const name of fs.readdirSync(dir)) if (name.startsWith(token)) fs.rmSync(path.join(dir, name), { force: true });
  if (survivors.length) throw new Error(`could not kill ${survivors.join(', ')}`);
}

/** Last-resort cleanup: synchronous, so it also runs from process.on('exit'). One scan of /proc for every token. */
function cleanupAll() {
  const marked = [...tokens];
  for (const pid of procfs.pids()) if (pid !== process.pid && marked.some((t) => procfs.hasToken(pid, t))) killAndConfirm(pid, 500);
  tokens.clear();
  for (const dir of [...dirs]) removeDir(dir);
}

function installCleanup() {
  process.on('exit', cleanupAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      process.stderr.write(`\nbench: ${signal}, cleaning up\n`);
      cleanupAll();
      process.exit(130);
    });
  }
}

module.exports = { newToken, trackToken, reap, makeTmpDir, removeDir, endRun, cleanupAll, installCleanup };
