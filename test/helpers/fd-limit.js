'use strict';
// Starting the CLI with few descriptors (`ulimit -n N`), as an attack: it must either work or fail with a
// clear error and leave nothing behind, never hang or half start.
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const { CLI, runCli, readPidfile } = require('./harness');
const proc = require('./proc');

/**
 * Runs `daemonize --respawn --pidfile DIR/app.pid ARGS -- sleep 1000.TOKEN` under `ulimit -n limit`; when it
 * started, checks it holds its pidfile and stops it; else checks the error's shape and that nothing runs.
 */
function startUnderFdLimit(scratch, limit, args) {
  const pidfile = path.join(scratch.dir(), 'app.pid');
  const token = scratch.token();
  const result = spawnSync('bash', ['-c', `ulimit -n ${limit}; exec "$0" "$@"`, process.execPath, CLI, '--respawn', '--pidfile', pidfile,
    ...args, '--', 'sleep', `1000.${token}`], { encoding: 'utf8', timeout: 20000 });
  assert.equal(result.error, undefined, 'it returned');
  if (result.status === 0) {
    scratch.track(readPidfile(pidfile));
    assert.equal(runCli(['--stop', '--pidfile', pidfile]).status, 0);
  } else {
    assert.match(result.stderr, /^daemonize: fatal: unable to .*: Too many open files\n$/);
    assert.equal(fs.existsSync(pidfile) && fs.readFileSync(pidfile, 'utf8').trim() !== '', false, 'no pidfile naming anyone');
  }
  assert.deepEqual(proc.findByToken(token), [], 'nothing left running');
  return result;
}

module.exports = { startUnderFdLimit };
