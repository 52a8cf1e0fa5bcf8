'use strict';
// The daemons the supervisor section measures, each as a handle (pids, stop, kill): daemonize -r, libslack's
// daemon --respawn and daemonize -f -r; and the small helpers they share.
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const lib = require('../lib');
const { readStat } = require('../lib');

function alive(pid) {
  return pid !== null && !lib.isGone(pid);
}

/** Live direct children of `pid`. */
function childrenOf(pid) {
  const found = [];
  for (const other of lib.pidSet()) {
    const s = readStat(other);
    if (s && s.ppid === pid && s.state !== 'Z' && s.state !== 'X') found.push(s);
  }
  return found;
}

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

function round(value, digits = 2) {
  return value === null || value === undefined || Number.isNaN(value) ? null : Number(value.toFixed(digits));
}

// The two supervisors. Each start returns a handle { kind, supervisor, child(), stop(), kill() }.

function sleepArgv(token) {
  return ['sleep', `1000.${token}`];
}

/** `sh -c 'exit 1' crash-TOKEN`: ends at once with status 1; its $0 carries the token. */
function crashArgv(token) {
  return ['sh', '-c', 'exit 1', `crash-${token}`];
}

function isRoot() {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/**
 * daemonize -r. `options.policy` are extra CLI args (-a -A ...), `options.node` a node binary to run the
 * CLI with (the supervisor is started with the launcher's own node). Returns once the launcher exited 0.
 */
function startDaemonize(dir, token, argv, options = {}) {
  lib.trackToken(token);
  const pidfile = path.join(dir, `${token}.pid`);
  const statusFile = path.join(dir, `${token}.status`);
  const args = ['-r', ...(options.policy || []), '-F', pidfile, '-l', path.join(dir, `${token}.log`), '--', ...argv];
  const r = options.node
    ? lib.timedSpawn(options.node, [lib.DAEMONIZE, ...args], { stderrFile: path.join(dir, `${token}.err`) })
    : lib.timedSpawn(lib.DAEMONIZE, args, { stderrFile: path.join(dir, `${token}.err`) });
  const supervisor = lib.readPid(pidfile);
  lib.trackPid(supervisor);
  const handle = {
    kind: 'daemonize',
    token,
    pidfile,
    statusFile,
    supervisor,
    child: () => {
      const status = readJson(statusFile);
      return status && status.supervisor === supervisor ? status.child : null;
    },
    restarts: () => {
      const status = readJson(statusFile);
      return status ? status.restarts : null;
    },
    /** --stop; returns its wall time in ms. */
    stop: () => {
      const s = lib.timedSpawn(lib.DAEMONIZE, ['-F', pidfile, '--stop', '--stop-timeout', '5'],
        { stderrFile: path.join(dir, `${token}.stop.err`) });
      lib.checkExit('daemonize --stop', s);
      return s.ms;
    },
    kill: () => lib.reap({ pids: [supervisor, handle.child()].filter((p) => p !== null), token }),
  };
  try {
    lib.checkExit(`daemonize -r ${argv.join(' ')}`, r);
    if (supervisor === null) throw new Error('daemonize -r exited 0 but its pidfile names no pid');
  } catch (error) {
    handle.kill();
    throw error;
  }
  return handle;
}

/** libslack's flags for a respawn policy that never throttles (root only: --idiot lifts its limits). */
function libslackFastPolicy() {
  if (isRoot()) {
    return {
      args: ['--idiot', '--acceptable=0', '--attempts=1000000', '--delay=0'],
      note: 'daemon (libslack): refuses --acceptable and --delay under 10 s and --attempts over 100 unless root gives '
        + '--idiot first; this run (as root) used --idiot --acceptable=0 --attempts=1000000 --delay=0',
    };
  }
  return {
    args: ['--acceptable=10', '--attempts=100', '--delay=10'],
    note: 'daemon (libslack): refuses --acceptable and --delay under 10 s and --attempts over 100 unless root gives '
      + '--idiot; not root here, so --acceptable=10 --attempts=100 --delay=10 (every kill counts as a failure)',
  };
}

/** daemon --respawn [policy] --pidfiles=DIR --name=NAME -- argv. Returns once supervisor and client are up. */
function startLibslack(daemon, dir, token, argv, policy = []) {
  lib.trackToken(token);
  const name = `sv${token}`;
  const where = [`--pidfiles=${dir}`, `--name=${name}`];
  const pidfile = path.join(dir, `${name}.pid`);
  // --idiot, when given, leads `policy`: libslack wants it before the options whose limits it lifts.
  const r = lib.timedSpawn(daemon, ['--respawn', ...policy, ...where, '--', ...argv], { stderrFile: path.join(dir, `${token}.err`) });
  let supervisor = null;
  const handle = {
    kind: 'libslack',
    token,
    pidfile,
    get supervisor() {
      return supervisor;
    },
    // libslack's pidfile holds the supervisor; its client is found as the supervisor's child.
    child: () => {
      if (supervisor === null) return null;
      const kids = childrenOf(supervisor);
      return kids.length > 0 ? kids[0].pid : null;
    },
    restarts: () => null,
    /** --stop, which only sends SIGTERM and returns; returns { ms, goneMs } (goneMs: until all is gone). */
    stop: () => {
      const pids = [supervisor, handle.child()].filter((p) => p !== null);
      const t0 = lib.nowMs();
      const s = lib.timedSpawn(daemon, [...where, '--stop'], { stderrFile: path.join(dir, `${token}.stop.err`) });
      lib.checkExit('daemon --stop', s);
      const gone = lib.waitFor(() => pids.every((p) => lib.isGone(p)) && lib.nowMs(), 10000, 0.1);
      if (!gone) throw new Error('daemon --stop: supervisor or client still alive after 10 s');
      const left = lib.pidsWithToken(token);
      if (left.length > 0) throw new Error(`daemon --stop: left ${left.join(', ')} running`);
      return { ms: s.ms, goneMs: gone - t0 };
    },
    kill: () => lib.reap({ pids: [supervisor, handle.child()].filter((p) => p !== null), token }),
  };
  try {
    lib.checkExit(`daemon --respawn ${argv.join(' ')}`, r);
    supervisor = lib.waitFor(() => lib.readPid(pidfile), 5000);
    if (!supervisor) throw new Error('daemon --respawn: no pidfile after 5 s');
    lib.trackPid(supervisor);
  } catch (error) {
    handle.kill();
    throw error;
  }
  return handle;
}

// a) respawn latency

/** A private copy of the node binary: pages of it count as private to the one process that maps it. */
function privateNode(dir) {
  const copy = path.join(dir, 'node-private');
  if (fs.existsSync(copy)) return copy;
  fs.copyFileSync(process.execPath, copy);
  fs.chmodSync(copy, 0o755);
  const fd = fs.openSync(copy, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  return copy;
}

/** `daemonize -f -r` as a service manager runs it: in the foreground, a child of the bench. */
function startForeground(dir, token) {
  lib.trackToken(token);
  const pidfile = path.join(dir, `${token}.pid`);
  const child = spawn(process.execPath, [lib.DAEMONIZE, '-f', '-r', '-F', pidfile, '--', ...sleepArgv(token)], {
    stdio: 'ignore',
    detached: true,
  });
  child.unref();
  lib.trackPid(child.pid);
  const supervisor = child.pid;
  const statusFile = path.join(dir, `${token}.status`);
  const handle = {
    kind: 'daemonize-fg',
    token,
    supervisor,
    child: () => {
      const status = readJson(statusFile);
      return status ? status.child : null;
    },
    restarts: () => null,
    kill: () => lib.reap({ pids: [supervisor, handle.child()].filter((p) => p !== null), token }),
  };
  if (!lib.waitFor(() => handle.child(), 5000)) {
    handle.kill();
    throw new Error('daemonize -f -r: no child after 5 s');
  }
  return handle;
}

module.exports = { alive, childrenOf, readJson, round, sleepArgv, crashArgv, isRoot, startDaemonize, libslackFastPolicy, startLibslack, privateNode, startForeground };
