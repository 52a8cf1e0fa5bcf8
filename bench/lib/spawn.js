'use strict';
// Timed runs of a command to its exit.
const fs = require('node:fs');
const { spawnSync } = require('node:child_process');
const { nowMs } = require('./clock');
const { nodePath } = require('./paths');

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

/** The common baseline: one `node -e 0`, its wall time in ms (throws unless it exited 0). */
function nodeBaselineOnce(node = nodePath()) {
  const r = timedSpawn(node, ['-e', '0']);
  checkExit('node -e 0', r);
  return r.ms;
}

module.exports = { timedSpawn, checkExit, nodeBaselineOnce };
