'use strict';
// Library mode end to end: real Node apps (test/fixtures/lib-*) call daemonize(); each assertion reads
// /proc of the daemon, the launcher's exit status and stderr, or the files the app wrote.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { describe, it, after } = require('node:test');

const proc = require('./helpers/proc');
const { lockHolders } = require('./helpers/lock');
const { ROOT, Scratch, readPidfile, waitFor } = require('./helpers/harness');
const { runApp } = require('./fixtures/lib-run');

const scratch = new Scratch();
after(() => scratch.cleanup());

/** What the daemon wrote after daemonize() returned in it (which may be after its launcher exited). */
async function facts(dir) {
  const file = path.join(dir, 'facts.json');
  return waitFor(() => {
    try {
      return JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch {
      return null; // not there yet, or half written
    }
  }, file);
}

/** Starts lib-app.js with a pidfile and logs in a fresh directory; returns what a test needs. */
function startApp(options = {}, spec = {}) {
  const dir = scratch.dir();
  const pidfile = path.join(dir, 'app.pid');
  const all = { pidfile, stdout: path.join(dir, 'out.log'), stderr: path.join(dir, 'err.log'), ...options };
  const result = runApp(scratch, 'lib-app.js', { dir, options: all, ...spec });
  assert.equal(result.status, 0, `launcher failed: ${result.stderr}`);
  const pid = scratch.track(readPidfile(pidfile));
  return { dir, pid, pidfile, result };
}

/** Every pipe a process holds with only one of its ends came from somewhere else. */
function loneOpenPipes(pid) {
  const counts = new Map();
  for (const target of Object.values(proc.fds(pid))) {
    if (target.startsWith('pipe:')) counts.set(target, (counts.get(target) ?? 0) + 1);
  }
  return [...counts].filter(([, n]) => n === 1).map(([pipe]) => pipe);
}

describe('daemonize() in a Node app', () => {
  it('exits the launcher 0 with the pidfile holding the daemon\'s pid, written and locked', async () => {
    const { dir, pid, pidfile, result } = startApp();
    assert.ok(proc.isAlive(pid));
    assert.equal((await facts(dir)).pid, pid);
    assert.equal(fs.readFileSync(pidfile, 'utf8'), `${pid}\n`);
    assert.notEqual(pid, result.pid, 'the launcher is not the daemon');
    assert.ok(lockHolders(pidfile).includes(pid), 'the daemon holds the lock');
    assert.ok(Object.values(proc.fds(pid)).includes(pidfile), 'on its pidfile\'s descriptor');
  });

  it('makes a daemon: a session it does not lead, no terminal, umask and cwd as asked', async () => {
    const chdir = scratch.dir();
    const { pid, dir } = startApp({ umask: '027', chdir });
    const s = proc.stat(pid);
    assert.notEqual(s.session, pid, 'the daemon must not lead its session');
    assert.notEqual(s.session, proc.stat(process.pid).session);
    assert.equal(s.ttyNr, 0);
    assert.equal(proc.status(pid).Umask, '0027');
    assert.equal(fs.readlinkSync(`/proc/${pid}/cwd`), chdir);
    assert.equal((await facts(dir)).cwd, chdir);
  });

  it('runs where the app was started (not in the CLI\'s /) with umask 022 by default', () => {
    const startedIn = scratch.dir();
    const { pid } = startApp({}, { cwd: startedIn });
    assert.equal(fs.readlinkSync(`/proc/${pid}/cwd`), startedIn);
    assert.equal(proc.status(pid).Umask, '0022');
  });

  it('resets signals the caller ignored or blocked: the daemon ignores only what any Node ignores', () => {
    const dir = scratch.dir();
    const pidfile = path.join(dir, 'sig.pid');
    const token = scratch.token();
    const script = `
import os, signal, sys
for s in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM, signal.SIGUSR2):
    signal.signal(s, signal.SIG_IGN)
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1, signal.SIGUSR2})
os.execv(sys.argv[1], sys.argv[1:])`;
    const app = path.join(ROOT, 'test', 'fixtures', 'lib-app.js');
    const result = spawnSync('python3', ['-c', script, process.execPath, app, JSON.stringify({ dir, options: { pidfile } }), token],
      { encoding: 'utf8', timeout: 20000 });
    assert.equal(result.status, 0, result.stderr);
    const pid = scratch.track(readPidfile(pidfile));
    const status = proc.status(pid);
    assert.equal(status.SigBlk, '0000000000000000');
    // Node itself ignores SIGPIPE and SIGXFSZ at start-up; a plain node shows the same mask.
    const plain = spawnSync(process.execPath, ['-e',
      'process.stdout.write(require("fs").readFileSync("/proc/self/status","utf8").match(/SigIgn:\\s*(\\S+)/)[1])'], { encoding: 'utf8' });
    assert.equal(status.SigIgn, plain.stdout);
    // TERM, INT and HUP are caught by the library's handlers, not ignored and not left at their defaults.
    const caught = BigInt(`0x${status.SigCgt}`);
    for (const signo of [1, 2, 15]) assert.ok(caught & (1n << BigInt(signo - 1)), `signal ${signo} is caught`);
  });

  it('holds no descriptor of its launcher: stdio on /dev/null and the files, no foreign pipes', async () => {
    const dir = scratch.dir();
    const leak = fs.openSync(path.join(dir, 'leaked-file'), 'w');
    const pidfile = path.join(dir, 'fds.pid');
    const result = runApp(scratch, 'lib-app.js', {
      dir, options: { pidfile, output: path.join(dir, 'all.log') }, stdio: ['pipe', 'pipe', 'pipe', leak, 'pipe'],
    });
    fs.closeSync(leak);
    assert.equal(result.status, 0, result.stderr);
    const pid = scratch.track(readPidfile(pidfile));
    // The launcher's pipes are gone from the daemon once the launcher has exited.
    await waitFor(() => loneOpenPipes(pid).length === 0, `pid ${pid} to close its launcher's pipes`);
    const open = proc.fds(pid);
    assert.equal(open[0], '/dev/null');
    assert.equal(open[1], path.join(dir, 'all.log'));
    assert.equal(open[2], path.join(dir, 'all.log'));
    assert.ok(!Object.values(open).includes(path.join(dir, 'leaked-file')), JSON.stringify(open));
    assert.ok(!Object.values(open).some((target) => target.startsWith('socket:')), JSON.stringify(open));
  });

  it('puts stdio on /dev/null without log files, and returns at once to a spawnSync caller (socketpair stdio)', () => {
    const dir = scratch.dir();
    const pidfile = path.join(dir, 'null.pid');
    const result = runApp(scratch, 'lib-app.js', { dir, options: { pidfile } });
    assert.equal(result.status, 0, result.stderr);
    assert.ok(result.ms < 10000, `spawnSync took ${result.ms} ms`);
    const pid = scratch.track(readPidfile(pidfile));
    const open = proc.fds(pid);
    for (const fd of [0, 1, 2]) assert.equal(open[fd], '/dev/null');
    // What the daemon wrote to stderr before it was ready reached the launcher's stderr; nothing after.
    assert.match(result.stderr, new RegExp(`before daemonize\\(\\) in ${pid}\\n`));
    assert.doesNotMatch(result.stderr, /stderr after ready/);
    assert.equal(result.stdout, '');
  });

  it('runs the code before the call twice, with the same argv and execArgv, and hides its marker', async () => {
    const { dir, pid, result } = startApp({}, { nodeFlags: ['--no-warnings'] });
    const runs = fs.readFileSync(path.join(dir, 'runs'), 'utf8').trim().split('\n').map(Number);
    assert.deepEqual(runs, [result.pid, pid]);
    const seen = await facts(dir);
    assert.deepEqual(seen.execArgv, ['--no-warnings']);
    assert.equal(seen.argv[1], path.join(ROOT, 'test', 'fixtures', 'lib-app.js'));
    assert.deepEqual(seen.daemonizeEnv, [], 'the app never sees DAEMONIZE_DAEMON');
    assert.equal(seen.isReady, true, 'ready when daemonize() returns, by default');
    assert.equal(seen.foreground, false);
  });

  it('copies the early stderr into the stderr file too, and the rest goes there directly', async () => {
    const { dir, pid } = startApp();
    const log = path.join(dir, 'err.log');
    await waitFor(() => fs.readFileSync(log, 'utf8').includes('stderr after ready'), 'the log to fill');
    assert.equal(fs.readFileSync(log, 'utf8'), `before daemonize() in ${pid}\nstderr after ready in ${pid}\n`);
    assert.equal(fs.readFileSync(path.join(dir, 'out.log'), 'utf8'), `running as ${pid}\n`);
  });

  it('drops to user after making the pidfile and logs, with HOME, USER and LOGNAME', { skip: process.getuid() !== 0 && 'needs root' }, () => {
    const dir = scratch.dir();
    // The code before the call runs again in the daemon, as nobody, and writes here.
    fs.chmodSync(dir, 0o1777);
    fs.writeFileSync(path.join(dir, 'runs'), '');
    fs.chmodSync(path.join(dir, 'runs'), 0o666);
    const pidfile = path.join(dir, 'user.pid');
    const log = path.join(dir, 'user.log');
    const result = runApp(scratch, 'lib-app.js', { dir, options: { pidfile, output: log, user: 'nobody' } });
    assert.equal(result.status, 0, result.stderr);
    const pid = scratch.track(readPidfile(pidfile));
    const status = proc.status(pid);
    assert.match(status.Uid, /^65534\s+65534\s+65534\s+65534$/);
    assert.match(status.Gid, /^65534\s/);
    assert.equal(fs.statSync(pidfile).uid, 0, 'the pidfile was made before the drop');
    assert.equal(fs.statSync(log).uid, 65534, 'the log belongs to the daemon\'s user');
    const env = proc.environ(pid);
    assert.equal(env.USER, 'nobody');
    assert.equal(env.LOGNAME, 'nobody');
  });

  it('refuses a second instance in its launcher, with a message and exit 3, leaving the first alone', () => {
    const { dir, pid, pidfile } = startApp();
    const second = runApp(scratch, 'lib-app.js', { dir, options: { pidfile } });
    assert.equal(second.status, 3, second.stderr);
    assert.match(second.stderr, new RegExp(`daemonize: fatal: unable to lock pidfile ${pidfile}: already running as pid ${pid}\\n$`));
    assert.ok(proc.isAlive(pid));
    assert.equal(readPidfile(pidfile), pid);
    const runs = fs.readFileSync(path.join(dir, 'runs'), 'utf8').trim().split('\n');
    assert.equal(runs.length, 3, 'the second launcher forked nothing');
  });

  it('reports a launcher-side failure (a log it cannot open) with exit 1 and forks nothing', () => {
    const dir = scratch.dir();
    const pidfile = path.join(dir, 'x.pid');
    const result = runApp(scratch, 'lib-app.js', { dir, options: { pidfile, stdout: path.join(dir, 'no', 'such', 'out.log') } });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /daemonize: fatal: unable to open .*out\.log: No such file or directory\n$/);
    assert.ok(!fs.existsSync(pidfile));
    assert.equal(fs.readFileSync(path.join(dir, 'runs'), 'utf8').trim().split('\n').length, 1);
  });

  it('reports a daemon-side failure (a chdir it cannot make) with the same message shape and exit 1', () => {
    const dir = scratch.dir();
    const pidfile = path.join(dir, 'cd.pid');
    const result = runApp(scratch, 'lib-app.js', { dir, options: { pidfile, chdir: path.join(dir, 'missing') } });
    assert.equal(result.status, 1, result.stderr);
    assert.match(result.stderr, /daemonize: fatal: unable to chdir to .*missing: No such file or directory\n$/);
    assert.ok(!fs.existsSync(pidfile));
    const pids = fs.readFileSync(path.join(dir, 'runs'), 'utf8').trim().split('\n').map(Number);
    assert.equal(pids.length, 2);
    scratch.track(pids[1]);
    assert.ok(!proc.isAlive(pids[1]));
  });

  it('throws a TypeError naming a bad option before anything forks', () => {
    const dir = scratch.dir();
    for (const [options, pattern] of [
      [{ umask: 'rwx' }, /option 'umask'/],
      [{ ready: 'soon' }, /option 'ready' must be 'auto' or 'manual'; got "soon"/],
      [{ readyTimeout: -1 }, /option 'readyTimeout' must be a number of seconds/],
      [{ pidFile: '/tmp/x.pid' }, /unknown option 'pidFile'/],
    ]) {
      const result = runApp(scratch, 'lib-app.js', { dir, options });
      assert.equal(result.status, 1);
      assert.match(result.stderr, /TypeError/);
      assert.match(result.stderr, pattern);
    }
    assert.equal(fs.readFileSync(path.join(dir, 'runs'), 'utf8').trim().split('\n').length, 4, 'one run each: no daemon');
  });

  it('works from an ES module: import { daemonize } from \'unix-daemonize\'', async () => {
    const dir = scratch.dir();
    fs.mkdirSync(path.join(dir, 'node_modules'));
    fs.symlinkSync(ROOT, path.join(dir, 'node_modules', 'unix-daemonize'));
    const app = path.join(dir, 'app.mjs');
    fs.copyFileSync(path.join(ROOT, 'test', 'fixtures', 'lib-esm.mjs'), app);
    const pidfile = path.join(dir, 'esm.pid');
    const token = scratch.token();
    const result = spawnSync(process.execPath, [app, JSON.stringify({ dir, options: { pidfile } }), token],
      { encoding: 'utf8', timeout: 20000 });
    assert.equal(result.status, 0, result.stderr);
    const pid = scratch.track(readPidfile(pidfile));
    assert.deepEqual(await facts(dir), { pid, isReady: true });
    assert.notEqual(proc.stat(pid).session, pid);
  });
});
