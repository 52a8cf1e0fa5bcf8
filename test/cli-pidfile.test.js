'use strict';
// The pidfile: written before the launcher exits, locked for the daemon's life, one instance only.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { describe, it, after } = require('node:test');

const proc = require('./helpers/proc');
const { Scratch, runCli, runCliAsync, readPidfile, waitFor } = require('./helpers/harness');

const scratch = new Scratch();
after(() => scratch.cleanup());

function sleeperArgs(token) {
  return ['--', 'sleep', `1000.${token}`];
}

/** Whether some process holds a flock on `file`, asked of util-linux flock(1) from another process. */
function lockHeld(file) {
  return spawnSync('flock', ['--nonblock', '--shared', file, 'true']).status !== 0;
}

describe('the pidfile', () => {
  it('holds the daemon\'s pid, complete, when the launcher exits, and stays locked', () => {
    const dir = scratch.dir();
    const pidfile = path.join(dir, 'a.pid');
    const token = scratch.token();
    const result = runCli(['--pidfile', pidfile, ...sleeperArgs(token)]);
    assert.equal(result.status, 0, result.stderr);
    const text = fs.readFileSync(pidfile, 'utf8');
    assert.match(text, /^\d+\n$/);
    const pid = scratch.track(Number(text));
    assert.deepEqual(proc.findByToken(token), [pid]);
    assert.equal(fs.statSync(pidfile).mode & 0o777, 0o644);
    assert.ok(lockHeld(pidfile), 'the daemon holds the lock');
    process.kill(pid, 'SIGKILL');
    return waitFor(() => !lockHeld(pidfile), 'the lock to go with the daemon');
  });

  it('resolves a relative --pidfile against the caller\'s directory', () => {
    const dir = scratch.dir();
    const token = scratch.token();
    const result = runCli(['--pidfile', 'rel.pid', ...sleeperArgs(token)], { cwd: dir });
    assert.equal(result.status, 0, result.stderr);
    scratch.track(readPidfile(path.join(dir, 'rel.pid')));
  });

  it('refuses a second start on a held pidfile and leaves the first daemon and its pidfile alone', () => {
    const dir = scratch.dir();
    const pidfile = path.join(dir, 'b.pid');
    assert.equal(runCli(['--pidfile', pidfile, ...sleeperArgs(scratch.token())]).status, 0);
    const first = scratch.track(readPidfile(pidfile));
    const token = scratch.token();
    const second = runCli(['--pidfile', pidfile, ...sleeperArgs(token)]);
    assert.equal(second.status, 3);
    assert.equal(second.stderr, `daemonize: fatal: unable to lock pidfile ${pidfile}: already running as pid ${first}\n`);
    assert.deepEqual(proc.findByToken(token), []);
    assert.equal(readPidfile(pidfile), first);
    assert.ok(proc.isAlive(first));
  });

  it('gives exactly one daemon and one exit status 0 for eight simultaneous starts', async () => {
    const dir = scratch.dir();
    const pidfile = path.join(dir, 'race.pid');
    const token = scratch.token();
    const results = await Promise.all(Array.from({ length: 8 }, () => runCliAsync(['--pidfile', pidfile, ...sleeperArgs(token)])));
    const statuses = results.map((r) => r.status).sort();
    assert.deepEqual(statuses, [0, 3, 3, 3, 3, 3, 3, 3], results.map((r) => r.stderr).join(''));
    const pid = scratch.track(readPidfile(pidfile));
    assert.deepEqual(proc.findByToken(token), [pid]);
  });

  it('is not blocked by a stale pidfile, whether its pid is dead or now a stranger', () => {
    const dir = scratch.dir();
    const pidfile = path.join(dir, 'stale.pid');
    for (const stale of ['999999999', String(process.pid)]) {
      fs.writeFileSync(pidfile, `${stale}\n`);
      const result = runCli(['--pidfile', pidfile, ...sleeperArgs(scratch.token())]);
      assert.equal(result.status, 0, result.stderr);
      const pid = scratch.track(readPidfile(pidfile));
      assert.notEqual(String(pid), stale);
      // Exactly the new pid: nothing of a longer stale number is left after it.
      assert.equal(fs.readFileSync(pidfile, 'utf8'), `${pid}\n`);
      process.kill(pid, 'SIGKILL');
    }
  });

  it('is never written through a symbolic link', () => {
    const dir = scratch.dir();
    const target = path.join(dir, 'victim');
    fs.writeFileSync(target, 'precious\n');
    const pidfile = path.join(dir, 'link.pid');
    fs.symlinkSync(target, pidfile);
    const token = scratch.token();
    const result = runCli(['--pidfile', pidfile, ...sleeperArgs(token)]);
    assert.equal(result.status, 1);
    assert.equal(result.stderr, `daemonize: fatal: unable to open pidfile ${pidfile}: it is a symbolic link\n`);
    assert.equal(fs.readFileSync(target, 'utf8'), 'precious\n');
    assert.deepEqual(proc.findByToken(token), []);
  });

  it('takes away group and world write from an existing pidfile', () => {
    const dir = scratch.dir();
    const pidfile = path.join(dir, 'loose.pid');
    fs.writeFileSync(pidfile, '');
    fs.chmodSync(pidfile, 0o666);
    const result = runCli(['--pidfile', pidfile, ...sleeperArgs(scratch.token())]);
    assert.equal(result.status, 0, result.stderr);
    scratch.track(readPidfile(pidfile));
    assert.equal(fs.statSync(pidfile).mode & 0o777, 0o644);
  });

  it('lives at <pidfiles>/<name>.pid with --name and --pidfiles', () => {
    const dir = scratch.dir();
    const result = runCli(['--name', 'web', '--pidfiles', dir, ...sleeperArgs(scratch.token())]);
    assert.equal(result.status, 0, result.stderr);
    scratch.track(readPidfile(path.join(dir, 'web.pid')));
  });

  it('defaults to /run/<name>.pid for root', { skip: process.getuid() !== 0 && 'needs root' }, () => {
    const name = `dztest-${process.pid}`;
    const pidfile = `/run/${name}.pid`;
    try {
      const result = runCli(['--name', name, ...sleeperArgs(scratch.token())]);
      assert.equal(result.status, 0, result.stderr);
      scratch.track(readPidfile(pidfile));
    } finally {
      fs.rmSync(pidfile, { force: true });
    }
  });

  it('defaults to $XDG_RUNTIME_DIR/daemonize/<name>.pid for other users', { skip: process.getuid() !== 0 && 'needs root to become nobody' }, () => {
    const dir = scratch.dir();
    fs.chmodSync(dir, 0o777);
    const result = spawnSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath,
      require('./helpers/harness').CLI, '--name', 'mine', ...sleeperArgs(scratch.token())], {
      encoding: 'utf8', env: { ...process.env, XDG_RUNTIME_DIR: dir },
    });
    assert.equal(result.status, 0, result.stderr);
    const pidfile = path.join(dir, 'daemonize', 'mine.pid');
    scratch.track(readPidfile(pidfile));
    assert.equal(fs.statSync(path.dirname(pidfile)).mode & 0o777, 0o700);
  });
});
