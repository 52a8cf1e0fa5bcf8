'use strict';
// Where things are: this repository, its CLI, and programs on PATH.
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const ROOT = path.resolve(__dirname, '..', '..');

const DAEMONIZE = path.join(ROOT, 'bin', 'daemonize');

/** Path of `name` on PATH (as `command -v` says), or null. */
function commandPath(name) {
  const r = spawnSync('sh', ['-c', 'command -v "$1"', 'sh', name], { encoding: 'utf8' });
  const out = (r.stdout || '').trim();
  return r.status === 0 && out ? out : null;
}


/** The `node` the sections time: the one on PATH, as the shebang of bin/daemonize finds it. */
function nodePath() {
  return commandPath('node') || process.execPath;
}

module.exports = { ROOT, DAEMONIZE, commandPath, nodePath };
