'use strict';
// The programs the bench runs, where they are, and timed runs of one to its exit.
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { nowMs } = require('./measure');

const ROOT = path.resolve(__dirname, '..', '..');
const DAEMONIZE = path.join(ROOT, 'bin', 'daemonize.cjs');

/** Path of `name` on PATH (as `command -v` says), or null. */
function commandPath(name) {
  const r = spawnSync('sh', ['-c', 'command -v "$1"', 'sh', name], { encoding: 'utf8' });
  const out = (r.stdout || '').trim();
  return r.status === 0 && out ? out : null;
}

/** The `node` the sections time: the one on PATH, as the shebang of bin/daemonize.cjs finds it. */
const nodePath = () => commandPath('node') || process.execPath;

/** An absolute sleep(1): peers such as bmc daemonize want one. */
const sleepPath = () => (fs.existsSync('/bin/sleep') ? '/bin/sleep' : commandPath('sleep'));

/** Spawns synchronously; returns { ms, status, signal, error, stderr }. stderr goes to a file, never a pipe a
 *  daemon could hold open. `ms` runs from just before spawn to just after the command has exited. */
function timedSpawn(file, args, { stderrFile, env, timeout = 30000 } = {}) {
  const errFd = stderrFile ? fs.openSync(stderrFile, 'w') : 'ignore';
  let result;
  let ms;
  try {
    const t0 = nowMs();
    result = spawnSync(file, args, { stdio: ['ignore', 'ignore', errFd], env, timeout });
    ms = nowMs() - t0;
  } finally {
    if (typeof errFd === 'number') fs.closeSync(errFd);
  }
  let stderr = '';
  if (stderrFile) {
    stderr = fs.readFileSync(stderrFile, 'utf8').trim();
    fs.rmSync(stderrFile, { force: true });
  }
  return { ms, status: result.status, signal: result.signal, error: result.error, stderr };
}

/** Throws a readable error unless the run exited 0. */
function checkExit(label, r) {
  if (r.error) throw new Error(`${label}: ${r.error.message}`);
  if (r.status !== 0) {
    throw new Error(`${label}: exited ${r.status === null ? `on ${r.signal}` : r.status}${r.stderr ? `: ${r.stderr.split('\n')[0]}` : ''}`);
  }
}

/** timedSpawn that must exit 0; its wall time. */
function timedOk(label, file, args, options) {
  const r = timedSpawn(file, args, options);
  checkExit(label, r);
  return r.ms;
}

/** The common baseline: one `node -e 0`, its wall time in ms (`env`: another environment than the bench's). */
const nodeBaselineOnce = (node, env) => timedOk('node -e 0', node, ['-e', '0'], { env });

/** The bench's environment without NODE_EXTRA_CA_CERTS (which every Node start, `node -e 0` too, parses first). */
function withoutExtraCaCerts() {
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  return env;
}

/** A pid from a pidfile; null when missing, empty or not a number. */
function readPid(file) {
  try {
    const match = /^\s*(\d+)\s*$/.exec(fs.readFileSync(file, 'utf8'));
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

/** A row timed against `node -e 0`. */
function nodeRow(node, fields) {
  return { baseline: 'node -e 0', baselineCommand: `${node} -e 0`, unit: 'ms', goal: null, notes: [], ...fields };
}

module.exports = {
  ROOT, DAEMONIZE, commandPath, nodePath, sleepPath, timedSpawn, checkExit, timedOk, nodeBaselineOnce, withoutExtraCaCerts, nodeRow, readPid,
};
