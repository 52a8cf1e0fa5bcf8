'use strict';
// The control API (status, running, stop, restart, signal, list) against real daemons, and the honest
// answers for a supervised daemon: paused is not running; a missing status record falls back to /proc.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { describe, it, after } = require('node:test');

const proc = require('./helpers/proc');
const { ROOT, Scratch, runCli, readPidfile, waitFor } = require('./helpers/harness');

const api = require(path.join(ROOT, 'dist', 'index.js'));
const { DaemonizeError } = api;

const scratch = new Scratch();
after(() => scratch.cleanup());

const STATUS_KEYS = ['name', 'pidfile', 'state', 'pid', 'child', 'supervised', 'since', 'restarts', 'ready', 'memory',
  'command', 'stdout', 'stderr', 'log', 'lastExit'];

function start(pidfile, extra = [], command = scratch.sleeper()) {
  const result = runCli(['--pidfile', pidfile, ...extra, '--', ...command]);
  assert.equal(result.status, 0, result.stderr);
  return scratch.track(readPidfile(pidfile));
}

function childOf(statusFile) {
  return scratch.track(JSON.parse(fs.readFileSync(statusFile, 'utf8')).child);
}

async function rejectsWith(promise, code, exitCode, pattern) {
  await assert.rejects(promise, (error) => {
    assert.ok(error instanceof DaemonizeError, String(error));
    assert.equal(error.code, code);
    assert.equal(error.exitCode, exitCode);
    if (pattern) assert.match(error.message, pattern);
    return true;
  });
}

describe('the control API', () => {
  it('status, running, signal, stop on a plain daemon; ENOTRUNNING once it is gone', async () => {
    const dir = scratch.dir();
    const pidfile = path.join(dir, 'web.pid');
    const token = scratch.token();
    const pid = start(pidfile, ['--stdout', path.join(dir, 'out.log')], ['sleep', `1000.${token}`]);
    const status = await api.status({ pidfile });
    assert.deepEqual(Object.keys(status), STATUS_KEYS);
    assert.equal(status.state, 'running');
    assert.equal(status.pid, pid);
    assert.equal(status.supervised, false);
    assert.deepEqual(status.command, ['sleep', `1000.${token}`]);
    assert.equal(status.stdout, path.join(dir, 'out.log'));
    assert.ok(status.memory > 0);
    assert.ok(Date.parse(status.since) > 0);
    assert.equal(await api.running({ name: 'web', pidfiles: dir }), true);
    assert.deepEqual(await api.signal({ pidfile }, 'STOP'), { name: 'web', pidfile, pid, signal: 'SIGSTOP' });
    await waitFor(() => proc.stat(pid).state === 'T', 'the daemon to stop');
    await api.signal({ pidfile }, 18);
    await waitFor(() => proc.stat(pid).state !== 'T', 'the daemon to continue');
    await rejectsWith(api.signal({ pidfile }, 'NOPE'), 'EUSAGE', 2);
    const stopped = await api.stop({ pidfile });
    assert.deepEqual(stopped, { name: 'web', pidfile, pid, killed: false });
    assert.equal(proc.isAlive(pid), false);
    assert.equal((await api.status({ pidfile })).state, 'stopped');
    assert.equal(await api.running({ pidfile }), false);
    await rejectsWith(api.stop({ pidfile }), 'ENOTRUNNING', 1, /^unable to stop web: not running$/);
    await rejectsWith(api.signal({ pidfile }, 'HUP'), 'ENOTRUNNING', 1);
    await rejectsWith(api.stop({ pidfile }, { timeout: 2147484 }), 'EUSAGE', 2);
    await rejectsWith(api.status({}), 'EUSAGE', 2);
    await rejectsWith(api.status({ name: '../etc' }), 'EUSAGE', 2, /bad --name/);
  });

  it('restart gives a supervisor a new child; a plain daemon needs `start`; list shows them all', async () => {
    const dir = scratch.dir();
    const supervisor = start(path.join(dir, 'sup.pid'), ['--respawn']);
    const before = childOf(path.join(dir, 'sup.status'));
    const restarted = await api.restart({ name: 'sup', pidfiles: dir });
    scratch.track(restarted.child);
    assert.equal(restarted.pid, supervisor);
    assert.notEqual(restarted.child, before);
    assert.ok(proc.isAlive(restarted.child));
    const plain = start(path.join(dir, 'plain.pid'));
    await rejectsWith(api.restart({ pidfile: path.join(dir, 'plain.pid') }), 'EUSAGE', 2, /no supervisor/);
    let second = null;
    await api.restart({ pidfile: path.join(dir, 'plain.pid') }, {
      start: () => { second = start(path.join(dir, 'plain.pid')); },
    });
    assert.equal(proc.isAlive(plain), false);
    assert.ok(proc.isAlive(second));
    fs.writeFileSync(path.join(dir, 'stale.pid'), '1\n');
    const listed = await api.list({ pidfiles: dir });
    assert.deepEqual(listed.map((e) => [e.name, e.state, e.pid, e.supervised]),
      [['plain', 'running', second, false], ['stale', 'dead', null, null], ['sup', 'running', supervisor, true]]);
    assert.equal(listed[2].child, restarted.child);
    assert.equal(listed[2].restarts, 1);
    assert.equal(listed[2].log, path.join(dir, 'sup.log'));
    await api.stop({ pidfile: path.join(dir, 'sup.pid') });
    assert.equal(proc.isAlive(supervisor) || proc.isAlive(restarted.child), false);
  });
});

describe('honest answers for a supervised daemon', () => {
  it('in a crash-loop pause it is not running: --running 1, --status "paused ..." with LSB 3', async () => {
    const dir = scratch.dir();
    const pidfile = path.join(dir, 'crash.pid');
    const supervisor = start(pidfile, ['--respawn', '-A', '1', '-L', '30'], ['sh', '-c', 'sleep 0.5; exit 3']);
    await waitFor(() => JSON.parse(fs.readFileSync(path.join(dir, 'crash.status'), 'utf8')).state === 'paused', 'the pause');
    assert.equal(runCli(['--pidfile', pidfile, '--running']).status, 1);
    assert.equal(await api.running({ pidfile }), false);
    const status = runCli(['--pidfile', pidfile, '--status']);
    assert.equal(status.status, 3);
    // failures and pausedUntil come from the status record; an older supervisor's record has neither.
    assert.match(status.stdout,
      new RegExp(`^crash: paused after (\\d+ failures?|repeated failures); next attempt (in \\d+\\.\\d s|time unknown) \\(supervisor pid ${supervisor}, `));
    const json = JSON.parse(runCli(['--pidfile', pidfile, '--status', '--json']).stdout);
    assert.equal(json.state, 'paused');
    assert.equal(json.pid, supervisor);
    assert.equal(json.child, null);
    // --restart ends the pause at once: a new child, not a 30 s wait.
    const restart = runCli(['--pidfile', pidfile, '--restart']);
    assert.equal(restart.status, 0, restart.stderr);
    assert.ok((await api.status({ pidfile })).restarts >= 1, 'a new child was started');
    const stop = runCli(['--pidfile', pidfile, '--stop']);
    assert.equal(stop.status, 0, stop.stderr);
    assert.equal(proc.isAlive(supervisor), false);
  });

  it('--restart of a program that crashes at once says so, without waiting out the timeout', async () => {
    const dir = scratch.dir();
    const pidfile = path.join(dir, 'instant.pid');
    const supervisor = start(pidfile, ['--respawn', '-A', '1', '-L', '30'], ['sh', '-c', 'exit 3']);
    await waitFor(() => JSON.parse(fs.readFileSync(path.join(dir, 'instant.status'), 'utf8')).state === 'paused', 'the pause');
    const restart = runCli(['--pidfile', pidfile, '--restart']);
    assert.equal(restart.status, 1);
    assert.match(restart.stderr, /^daemonize: fatal: unable to restart instant: its new child ended at once: paused after /);
    await rejectsWith(api.restart({ pidfile }), 'ENOTRUNNING', 1, /its new child ended at once/);
    assert.ok(proc.isAlive(supervisor));
    assert.equal(runCli(['--pidfile', pidfile, '--stop']).status, 0);
  });

  it('--restart of a program that ends a few milliseconds after its exec says it ended at once, every time', async () => {
    // Up for 30 ms: a look every 25 ms sees it running; --restart still waits to see it run for 100 ms.
    const dir = scratch.dir();
    const pidfile = path.join(dir, 'brief.pid');
    const supervisor = start(pidfile, ['--respawn', '-A', '1', '-L', '30'], ['sh', '-c', 'sleep 0.03; exit 3']);
    await waitFor(() => JSON.parse(fs.readFileSync(path.join(dir, 'brief.status'), 'utf8')).state === 'paused', 'the pause');
    for (let i = 0; i < 3; i++) {
      const restart = runCli(['--pidfile', pidfile, '--restart']);
      assert.equal(restart.status, 1, restart.stderr);
      assert.match(restart.stderr, /^daemonize: fatal: unable to restart brief: its new child ended at once: paused after /);
    }
    assert.ok(proc.isAlive(supervisor));
    assert.equal(runCli(['--pidfile', pidfile, '--stop']).status, 0);
  });

  it('without its status record, --status and --running read the supervisor\'s child from /proc', async () => {
    const dir = scratch.dir();
    const pidfile = path.join(dir, 'norec.pid');
    const supervisor = start(pidfile, ['--respawn']);
    const child = childOf(path.join(dir, 'norec.status'));
    fs.rmSync(path.join(dir, 'norec.status'));
    assert.equal(runCli(['--pidfile', pidfile, '--running']).status, 0);
    const status = runCli(['--pidfile', pidfile, '--status']);
    assert.equal(status.status, 0);
    assert.match(status.stdout, new RegExp(`^norec: running as pid ${supervisor} \\(supervisor\\), child pid ${child}, up .*status record missing: read from /proc\\n$`));
    // A stale record (naming another supervisor) is not believed either.
    fs.writeFileSync(path.join(dir, 'norec.status'), JSON.stringify({ supervisor: 1, state: 'paused', child: null, started: 0, restarts: 9 }));
    const json = await api.status({ pidfile });
    assert.equal(json.state, 'running');
    assert.equal(json.child, child);
    assert.equal(json.restarts, null);
    // A record that cannot be written (a directory in its place, as good as a full disk): --restart still
    // sees the new child, through /proc.
    fs.rmSync(path.join(dir, 'norec.status'));
    fs.mkdirSync(path.join(dir, 'norec.status'));
    fs.writeFileSync(path.join(dir, 'norec.status', 'keep'), '');
    const restart = runCli(['--pidfile', pidfile, '--restart']);
    assert.equal(restart.status, 0, restart.stderr);
    const renewed = await api.status({ pidfile });
    assert.equal(renewed.state, 'running');
    assert.notEqual(renewed.child, child);
    assert.equal(proc.stat(renewed.child).ppid, supervisor);
    const newChild = scratch.track(renewed.child);
    // The child gone and the record still missing: not running, whatever the lock says.
    fs.rmSync(path.join(dir, 'norec.status'), { recursive: true });
    process.kill(supervisor, 'SIGSTOP');
    try {
      process.kill(newChild, 'SIGKILL');
      await waitFor(() => !proc.isAlive(newChild), 'the child to die');
      assert.equal(runCli(['--pidfile', pidfile, '--running']).status, 1);
      assert.equal((await api.status({ pidfile })).state, 'starting');
    } finally {
      process.kill(supervisor, 'SIGCONT');
    }
    assert.equal(runCli(['--pidfile', pidfile, '--stop']).status, 0);
  });
});
