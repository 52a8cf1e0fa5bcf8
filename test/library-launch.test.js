'use strict';
// The library's launch, as one transaction: a start that fails before ready stops every process the app
// started (not just the app) and leaves no file it made; a full disk under the stderr file is a failure
// with exit 4, not an uncaught ENOSPC. A cluster worker's daemonize() leaves the worker alone, and the
// daemon stays in the app's working directory unless `chdir` says otherwise.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { fork } = require('node:child_process');
const { once } = require('node:events');
const path = require('node:path');
const { describe, it, after } = require('node:test');

const { FullDisks } = require('./helpers/full-disk');
const proc = require('./helpers/proc');
const { Scratch, readPidfile, waitFor } = require('./helpers/harness');
const { runApp } = require('./fixtures/lib-run');

const scratch = new Scratch();
const disks = new FullDisks(scratch);
after(async () => {
  disks.unmount();
  await scratch.cleanup();
});

describe('a start that fails before ready stops everything the app started', () => {
  const cases = [
    ['never', { readyTimeout: 1 }, /daemonize: fatal: lib-tree\.js was not ready within 1 s: killed it\n$/],
    ['exit', {}, /daemonize: fatal: lib-tree\.js exited with status 3 before it was ready\n$/],
    ['throw', {}, /Error: no database[^]*daemonize: fatal: lib-tree\.js exited with status 1 before it was ready\n$/],
  ];
  for (const [how, extra, pattern] of cases) {
    it(`${how}: the app, its child and grandchild${how === 'never' ? ', and one that called setsid,' : ''} are gone; exit 4, no pidfile, no log`, async () => {
      const dir = scratch.dir();
      const pidfile = path.join(dir, 'tree.pid');
      const log = path.join(dir, 'err.log');
      const result = runApp(scratch, 'lib-tree.js', { args: [how, JSON.stringify({ pidfile, stderr: log, ...extra })] });
      const token = result.token;
      assert.equal(result.status, 4, result.stderr);
      assert.match(result.stderr, pattern);
      const started = /^started ([\d ]+)$/m.exec(result.stderr);
      assert.ok(started, result.stderr);
      const pids = started[1].split(' ').map(Number);
      for (const pid of pids) scratch.track(pid);
      assert.equal(pids.length, how === 'never' ? 3 : 2);
      // Every program the app started, the sleep under sh included, is gone (zombies count as gone).
      await waitFor(() => proc.findByToken(token).filter((pid) => proc.cmdline(pid)[0] !== process.execPath).length === 0,
        'every program the app started to be gone');
      for (const pid of pids) assert.ok(!proc.isAlive(pid), `pid ${pid} is gone`);
      assert.equal(fs.existsSync(pidfile), false);
      assert.equal(fs.existsSync(log), false, 'the log this start created is gone');
    });
  }
});

describe('a full disk under the stderr file while relaying early stderr', () => {
  it('is an error with exit 4, in the one shape; the daemon is killed and nothing is left', async () => {
    const full = disks.make();
    const dir = scratch.dir();
    const pidfile = path.join(dir, 'full.pid');
    const log = path.join(full, 'err.log');
    const result = runApp(scratch, 'lib-dies.js', { args: ['never', JSON.stringify({ pidfile, stderr: log, readyTimeout: 60 })] });
    assert.equal(result.status, 4, result.stderr);
    assert.match(result.stderr, /^last words of \d+\n/);
    assert.match(result.stderr, new RegExp(`\\ndaemonize: fatal: unable to write ${log}: No space left on device\\n$`));
    assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack');
    const pid = scratch.track(Number(/^last words of (\d+)/.exec(result.stderr)[1]));
    await waitFor(() => !proc.isAlive(pid), 'the daemon to be killed');
    assert.equal(fs.existsSync(pidfile), false);
    assert.deepEqual(fs.readdirSync(full), ['fill']);
  });
});

describe('a full disk under the pidfile', () => {
  it('kills the daemon the launcher started and leaves nothing: exit 1, one line', async () => {
    const full = disks.make();
    const pidfile = path.join(full, 'app.pid');
    const result = runApp(scratch, 'lib-dies.js', { args: ['never', JSON.stringify({ pidfile, readyTimeout: 60 })] });
    assert.equal(result.status, 1, result.stderr);
    assert.match(result.stderr, new RegExp(`daemonize: fatal: unable to write pidfile ${pidfile}: No space left on device\\n$`));
    await waitFor(() => proc.findByToken(result.token).filter((pid) => pid !== process.pid).length === 0, 'the daemon to be gone');
    assert.deepEqual(fs.readdirSync(full), ['fill']);
  });
});

describe('a cluster worker', () => {
  it('is left alone by daemonize(): no fork, no exit, no pidfile; the daemon is ready once the worker runs', async () => {
    const dir = scratch.dir();
    const pidfile = path.join(dir, 'cluster.pid');
    const result = runApp(scratch, 'lib-cluster.js', { dir, options: { pidfile } });
    assert.equal(result.status, 0, result.stderr);
    const daemon = scratch.track(readPidfile(pidfile));
    const worker = JSON.parse(fs.readFileSync(path.join(dir, 'worker.json'), 'utf8'));
    scratch.track(worker.pid);
    assert.deepEqual({ ...worker, pid: undefined }, { pid: undefined, pidfile: null, foreground: false, notified: false });
    assert.ok(proc.isAlive(worker.pid), 'the worker lives');
    assert.equal(proc.stat(worker.pid).ppid, daemon, 'a child of the daemon');
    assert.equal(readPidfile(pidfile), daemon, 'the pidfile names the primary');
    // Its handle answers signals as the daemon's does.
    process.kill(worker.pid, 'SIGTERM');
    await waitFor(() => fs.existsSync(path.join(dir, 'worker-shutdown')), 'the worker\'s shutdown listener');
    await waitFor(() => !proc.isAlive(worker.pid), 'the worker to exit');
    assert.ok(proc.isAlive(daemon));
  });
});

describe('a worker thread', () => {
  it('gets an error from daemonize(): no fork, no pidfile, the process goes on', () => {
    const dir = scratch.dir();
    const pidfile = path.join(dir, 'thread.pid');
    const result = runApp(scratch, 'lib-thread.js', { dir, options: { pidfile } });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, 'daemonize() must be called from the main thread\n');
    assert.equal(fs.existsSync(pidfile), false);
    assert.deepEqual(proc.findByToken(result.token).filter((pid) => pid !== process.pid), []);
  });
});

describe('an app started with an IPC channel that is not a cluster worker (child_process.fork)', () => {
  it('daemonizes as any other: the launcher exits 0 and the pidfile names the live daemon', async () => {
    const dir = scratch.dir();
    const pidfile = path.join(dir, 'forked.pid');
    const token = scratch.token();
    const child = fork(path.join(__dirname, 'fixtures', 'lib-app.js'), [JSON.stringify({ dir, options: { pidfile } }), token],
      { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    scratch.track(child.pid);
    let stderr = '';
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    const [status] = await once(child, 'exit');
    assert.equal(status, 0, stderr);
    const daemon = scratch.track(readPidfile(pidfile));
    assert.notEqual(daemon, child.pid);
    assert.ok(proc.isAlive(daemon), 'the daemon lives');
    await waitFor(() => fs.existsSync(path.join(dir, 'facts.json')), 'facts.json');
    assert.equal(JSON.parse(fs.readFileSync(path.join(dir, 'facts.json'), 'utf8')).pid, daemon);
  });
});

describe('the working directory', () => {
  function start(options) {
    const dir = scratch.dir();
    fs.mkdirSync(path.join(dir, 'public'));
    fs.writeFileSync(path.join(dir, 'public', 'index.html'), 'hello\n');
    const result = runApp(scratch, 'lib-cwd.js', { dir, cwd: dir, options: { pidfile: path.join(dir, 'cwd.pid'), ...options } });
    assert.equal(result.status, 0, result.stderr);
    const pid = scratch.track(readPidfile(path.join(dir, 'cwd.pid')));
    return { dir, pid };
  }

  it('is the one the app was started in, so relative paths (express.static(\'public\'), .env) work', async () => {
    const { dir, pid } = start({});
    const seen = await waitFor(() => fs.existsSync(path.join(dir, 'cwd.json')) && JSON.parse(fs.readFileSync(path.join(dir, 'cwd.json'), 'utf8')), 'cwd.json');
    assert.deepEqual(seen, { cwd: dir, sees: true });
    assert.equal(fs.readlinkSync(`/proc/${pid}/cwd`), dir);
  });

  it('is `chdir` when given', async () => {
    const { dir, pid } = start({ chdir: '/' });
    const seen = await waitFor(() => fs.existsSync(path.join(dir, 'cwd.json')) && JSON.parse(fs.readFileSync(path.join(dir, 'cwd.json'), 'utf8')), 'cwd.json');
    assert.deepEqual(seen, { cwd: '/', sees: false });
    assert.equal(fs.readlinkSync(`/proc/${pid}/cwd`), '/');
  });
});
