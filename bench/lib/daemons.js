'use strict';
// The supervised daemons the supervisor and restart sections measure, each as a handle
// { kind, token, supervisor, child(), restarts(), stop(), kill() }: daemonize -r, libslack's daemon --respawn
// and daemonize -f -r.
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const procfs = require('../../tools/procfs');
const { nowMs, waitFor } = require('./measure');
const { DAEMONIZE, timedSpawn, checkExit, timedOk, readPid } = require('./commands');
const { newToken, reap } = require('./cleanup');

const sleepArgv = (token) => ['sleep', `1000.${token}`];
/** `sh -c 'exit 1' crash-TOKEN`: ends at once with status 1; its $0 carries the token. */
const crashArgv = (token) => ['sh', '-c', 'exit 1', `crash-${token}`];

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

/** Fills in a handle's kill() and end() (daemonize: --stop first, its failure ignored; then kill) and, on a failed
 *  start, kills what it started and rethrows. */
function finish(handle, check) {
  handle.kill = () => reap({ pids: [handle.supervisor, handle.child()].filter((p) => p !== null), token: handle.token });
  handle.end = () => {
    try {
      if (handle.kind === 'daemonize') handle.stop();
    } catch {
      // killed below
    } finally {
      handle.kill();
    }
  };
  try {
    check();
  } catch (error) {
    handle.kill();
    throw error;
  }
  return handle;
}

/** daemonize -r [policy] -F P -l LOG [extra] -- argv(token), run by `node` when given; returns once the launcher
 *  exited 0. */
function startDaemonize(dir, makeArgv, { policy = [], node, extra = [] } = {}) {
  const token = newToken();
  const argv = makeArgv(token);
  const pidfile = path.join(dir, `${token}.pid`);
  const statusFile = path.join(dir, `${token}.status`);
  const args = ['-r', ...policy, '-F', pidfile, '-l', path.join(dir, `${token}.log`), ...extra, '--', ...argv];
  const r = timedSpawn(node || DAEMONIZE, node ? [DAEMONIZE, ...args] : args, { stderrFile: path.join(dir, `${token}.err`) });
  const supervisor = readPid(pidfile);
  const status = () => readJson(statusFile);
  return finish({
    kind: 'daemonize',
    token,
    pidfile,
    supervisor,
    child: () => (status() && status().supervisor === supervisor ? status().child : null),
    restarts: () => (status() ? status().restarts : null),
    /** --stop; returns its wall time in ms. */
    stop: () => timedOk('daemonize --stop', DAEMONIZE, ['-F', pidfile, '--stop', '--stop-timeout', '5'],
      { stderrFile: path.join(dir, `${token}.stop.err`) }),
  }, () => {
    checkExit(`daemonize -r ${argv.join(' ')}`, r);
    if (supervisor === null) throw new Error('daemonize -r exited 0 but its pidfile names no pid');
  });
}

/** libslack's flags for a respawn policy that never throttles (root only: --idiot lifts its limits). */
function libslackFastPolicy() {
  const root = process.getuid() === 0;
  const args = root ? ['--idiot', '--acceptable=0', '--attempts=1000000', '--delay=0'] : ['--acceptable=10', '--attempts=100', '--delay=10'];
  return {
    args,
    note: 'daemon (libslack): refuses --acceptable and --delay under 10 s and --attempts over 100 unless root gives --idiot first; '
      + `${root ? 'this run (as root) used' : 'not root here, so'} ${args.join(' ')}${root ? '' : ' (every kill counts as a failure)'}`,
  };
}

/** daemon --respawn [policy] --pidfiles=DIR --name=svTOKEN -- argv(token); returns once its pidfile names the
 *  supervisor. --idiot, when given, leads `policy`: libslack wants it before the options whose limits it lifts. */
function startLibslack(daemon, dir, makeArgv, policy = []) {
  const token = newToken();
  const argv = makeArgv(token);
  const where = [`--pidfiles=${dir}`, `--name=sv${token}`];
  const r = timedSpawn(daemon, ['--respawn', ...policy, ...where, '--', ...argv], { stderrFile: path.join(dir, `${token}.err`) });
  const handle = {
    kind: 'libslack',
    token,
    where,
    supervisor: null,
    // Its pidfile holds the supervisor; the client is the supervisor's child.
    child: () => (handle.supervisor === null ? null : procfs.childrenOf(handle.supervisor)[0] ?? null),
    restarts: () => null,
    /** --stop, which only sends SIGTERM and returns; returns { ms, goneMs } (goneMs: until all is gone). */
    stop: () => {
      const pids = [handle.supervisor, handle.child()].filter((p) => p !== null);
      const t0 = nowMs();
      const ms = timedOk('daemon --stop', daemon, [...where, '--stop'], { stderrFile: path.join(dir, `${token}.stop.err`) });
      const gone = waitFor(() => pids.every((p) => !procfs.isAlive(p)) && nowMs(), 10000, 0.1);
      if (!gone) throw new Error('daemon --stop: supervisor or client still alive after 10 s');
      const left = procfs.findByToken(token);
      if (left.length > 0) throw new Error(`daemon --stop: left ${left.join(', ')} running`);
      return { ms, goneMs: gone - t0 };
    },
  };
  return finish(handle, () => {
    checkExit(`daemon --respawn ${argv.join(' ')}`, r);
    handle.supervisor = waitFor(() => readPid(path.join(dir, `sv${token}.pid`)), 5000);
    if (!handle.supervisor) throw new Error('daemon --respawn: no pidfile after 5 s');
  });
}

/** `daemonize -f -r` as a service manager runs it: in the foreground, a child of the bench. */
function startForeground(dir) {
  const token = newToken();
  const child = spawn(process.execPath, [DAEMONIZE, '-f', '-r', '-F', path.join(dir, `${token}.pid`), '--', ...sleepArgv(token)],
    { stdio: 'ignore', detached: true });
  child.unref();
  const handle = { kind: 'daemonize-fg', token, supervisor: child.pid, restarts: () => null,
    child: () => (readJson(path.join(dir, `${token}.status`)) || {}).child ?? null };
  return finish(handle, () => {
    if (!waitFor(() => handle.child(), 5000)) throw new Error('daemonize -f -r: no child after 5 s');
  });
}

/** A private copy of the node binary: its pages count as private to the one process that maps it. */
function privateNode(dir) {
  const copy = path.join(dir, 'node-private');
  if (!fs.existsSync(copy)) {
    fs.copyFileSync(process.execPath, copy);
    fs.chmodSync(copy, 0o755);
    const fd = fs.openSync(copy, 'r');
    fs.fsyncSync(fd);
    fs.closeSync(fd);
  }
  return copy;
}

module.exports = { sleepArgv, crashArgv, readJson, startDaemonize, libslackFastPolicy, startLibslack, startForeground, privateNode };
