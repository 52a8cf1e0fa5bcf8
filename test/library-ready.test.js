'use strict';
// Readiness: the launcher waits for ready(), relays the daemon's stderr until then, and reports a daemon
// that dies or times out before it, at once, with its last words, leaving no daemon and no pidfile.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { describe, it, after } = require('node:test');

const proc = require('./helpers/proc');
const { Scratch, readPidfile, waitFor } = require('./helpers/harness');
const { runApp, startApp } = require('./fixtures/lib-run');

const scratch = new Scratch();
after(() => scratch.cleanup());

function isZombieOrGone(pid) {
  return !proc.isAlive(pid);
}

describe('ready: \'manual\'', () => {
  it('keeps the launcher waiting until ready(), relaying stderr until then and not after', async () => {
    const dir = scratch.dir();
    const pidfile = path.join(dir, 'manual.pid');
    const log = path.join(dir, 'err.log');
    const launcher = startApp(scratch, 'lib-manual.js', { dir, options: { pidfile, stderr: log } });
    // The daemon is up and has said so on the launcher's stderr; the launcher still waits.
    await waitFor(() => launcher.output.stderr.includes('warming up'), 'the daemon\'s first words');
    const pid = scratch.track(readPidfile(pidfile));
    assert.ok(proc.isAlive(launcher.child.pid), 'the launcher waits for ready()');
    assert.ok(proc.isAlive(pid));
    fs.writeFileSync(path.join(dir, 'go'), '');
    const result = await launcher.done;
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stderr, `warming up in ${pid}\nready now\n`);
    await waitFor(() => fs.readFileSync(log, 'utf8').includes('after ready'), 'the words after ready() in the log');
    assert.equal(fs.readFileSync(log, 'utf8'), `warming up in ${pid}\nready now\nafter ready\n`);
    assert.ok(proc.isAlive(pid));
  });

  it('lets programs started before ready() write to stderr after the launcher has gone', async () => {
    const dir = scratch.dir();
    const pidfile = path.join(dir, 'kids.pid');
    const log = path.join(dir, 'err.log');
    const result = runApp(scratch, 'lib-children.js', { dir, options: { pidfile, stderr: log } });
    assert.equal(result.status, 0, result.stderr);
    scratch.track(readPidfile(pidfile));
    fs.writeFileSync(path.join(dir, 'go'), '');
    await waitFor(() => fs.existsSync(path.join(dir, 'wrote')), 'the child to write (it would die of EPIPE otherwise)');
    await waitFor(() => fs.readFileSync(log, 'utf8').includes('late words'), 'the child\'s words in the daemon\'s log');
  });
});

describe('death before ready', () => {
  const cases = [
    ['throw', /Error: the database is not there\n[^]*daemonize: fatal: lib-dies\.js exited with status 1 before it was ready\n$/],
    ['exit', /daemonize: fatal: lib-dies\.js exited with status 7 before it was ready\n$/],
    // Here PID 1 reaps nothing, so the zombie tells how it died; where it is reaped, "died".
    ['kill', /daemonize: fatal: lib-dies\.js (was killed by SIGKILL|died) before it was ready\n$/],
  ];
  for (const [how, pattern] of cases) {
    it(`${how}: the launcher prints the last words and exits 4 at once, leaving no pidfile and no file it made`, () => {
      const dir = scratch.dir();
      const pidfile = path.join(dir, 'dies.pid');
      const log = path.join(dir, 'err.log');
      // A log that was there before the start keeps what the daemon said; one the start made goes with it.
      const existed = how === 'throw';
      if (existed) fs.writeFileSync(log, 'before\n');
      const result = runApp(scratch, 'lib-dies.js', { args: [how, JSON.stringify({ pidfile, stderr: log, readyTimeout: 60 })] });
      assert.equal(result.status, 4, result.stderr);
      assert.match(result.stderr, /^last words of (\d+)\n/);
      assert.match(result.stderr, pattern);
      assert.ok(result.ms < 20000, `not after the timeout: ${result.ms} ms`);
      const pid = Number(/^last words of (\d+)/.exec(result.stderr)[1]);
      scratch.track(pid);
      assert.ok(isZombieOrGone(pid));
      assert.ok(!fs.existsSync(pidfile), 'the pidfile is gone');
      if (existed) assert.match(fs.readFileSync(log, 'utf8'), /^before\nlast words of \d+\n/, 'the log keeps the last words');
      else assert.equal(fs.existsSync(log), false, 'the log this start created is gone');
    });
  }

  it('timeout: kills the daemon after readyTimeout, removes the pidfile, exits 4', () => {
    const dir = scratch.dir();
    const pidfile = path.join(dir, 'slow.pid');
    const result = runApp(scratch, 'lib-dies.js', { args: ['never', JSON.stringify({ pidfile, readyTimeout: 0.5 })] });
    assert.equal(result.status, 4, result.stderr);
    assert.match(result.stderr, /^last words of \d+\ndaemonize: fatal: lib-dies\.js was not ready within 0\.5 s: killed it\n$/);
    const pid = scratch.track(Number(/^last words of (\d+)/.exec(result.stderr)[1]));
    assert.ok(isZombieOrGone(pid));
    assert.ok(!fs.existsSync(pidfile));
  });

  it('a launcher killed before ready takes the start down with it', async () => {
    const dir = scratch.dir();
    const pidfile = path.join(dir, 'orphan.pid');
    const launcher = startApp(scratch, 'lib-manual.js', { dir, options: { pidfile } });
    await waitFor(() => launcher.output.stderr.includes('warming up'), 'the daemon\'s first words');
    const pid = scratch.track(readPidfile(pidfile));
    launcher.child.kill('SIGKILL');
    await launcher.done;
    await waitFor(() => isZombieOrGone(pid), 'the abandoned daemon to exit');
    await waitFor(() => !fs.existsSync(pidfile), 'its pidfile to go');
  });

  it('a launcher killed before an app ready at once reaches daemonize() takes the start down too', async () => {
    const dir = scratch.dir();
    const pidfile = path.join(dir, 'auto.pid');
    const launcher = startApp(scratch, 'lib-slow-auto.js', { dir, options: { pidfile } });
    await waitFor(() => launcher.output.stderr.includes('slow start'), 'the daemon\'s first words');
    const pid = scratch.track(readPidfile(pidfile));
    launcher.child.kill('SIGKILL');
    await launcher.done;
    // Now it reports ready, to nobody.
    fs.writeFileSync(path.join(dir, 'go'), '');
    await waitFor(() => isZombieOrGone(pid), 'the abandoned daemon to exit');
    await waitFor(() => !fs.existsSync(pidfile), 'its pidfile to go');
  });
});
