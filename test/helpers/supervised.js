'use strict';
// A `daemonize --respawn` daemon started for a test, with readers for its status record and event log.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const { runCli, readPidfile, waitFor } = require('./harness');
const proc = require('./proc');

/**
 * Starts `command` under a supervisor with pidfile DIR/app.pid; returns its paths, the supervisor's pid
 * (tracked by `scratch` for cleanup) and readers: status() throws when the record is missing,
 * readStatus() answers null; logText(file) and logLines() read the event log (--errlog, else DIR/app.log).
 */
function supervise(scratch, args, command, dir = scratch.dir()) {
  const pidfile = path.join(dir, 'app.pid');
  const result = runCli(['--respawn', '--pidfile', pidfile, ...args, '--', ...command]);
  assert.equal(result.status, 0, result.stderr);
  const supervisor = scratch.track(readPidfile(pidfile));
  const statusFile = path.join(dir, 'app.status');
  const log = args.includes('--errlog') ? args[args.indexOf('--errlog') + 1] : path.join(dir, 'app.log');
  const status = () => JSON.parse(fs.readFileSync(statusFile, 'utf8'));
  const readStatus = () => {
    try {
      return status();
    } catch {
      return null; // missing, or the supervisor could not write it
    }
  };
  const logText = (file = log) => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '');
  const logLines = () => logText().trim().split('\n').filter(Boolean);
  scratch.track(readStatus()?.child);
  /** The running child once it is not `old` (a restart happened), tracked for cleanup. */
  const nextChild = async (old, what = 'a new child') => {
    const found = await waitFor(() => {
      const s = readStatus();
      return s && s.state === 'running' && s.child !== null && s.child !== old && proc.isAlive(s.child) && s;
    }, what, 20000);
    scratch.track(found.child);
    return found;
  };
  return { dir, pidfile, supervisor, statusFile, log, status, readStatus, logText, logLines, nextChild };
}

module.exports = { supervise };
