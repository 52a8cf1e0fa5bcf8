'use strict';
// Signals in a daemonized app (HUP reopens the logs and reloads, TERM and INT shut down and remove the
// pidfile if it is still ours), a normal exit, and the foreground switch.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const { describe, it, after } = require('node:test');

const proc = require('./helpers/proc');
const { Scratch, readPidfile, waitFor } = require('./helpers/harness');
const { runApp, startApp } = require('./fixtures/lib-run');

const scratch = new Scratch();
after(() => scratch.cleanup());

function startDaemon(fixture = 'lib-app.js', options = {}) {
  const dir = scratch.dir();
  const pidfile = path.join(dir, 'app.pid');
  const out = path.join(dir, 'out.log');
  const err = path.join(dir, 'err.log');
  const result = runApp(scratch, fixture, { dir, options: { pidfile, stdout: out, stderr: err, ...options } });
  assert.equal(result.status, 0, result.stderr);
  return { dir, pidfile, out, err, pid: scratch.track(readPidfile(pidfile)) };
}

/** A zombie's exit status (PID 1 here reaps nothing); undefined when the process was reaped. */
function zombieStatus(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[0] === 'Z' ? Number(fields[49]) : undefined;
  } catch {
    return undefined;
  }
}

function read(file) {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** A JSON file's contents, or null while it is missing or half written. */
function parsed(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

describe('signals in the daemon', () => {
  it('SIGHUP reopens the log files (logrotate) and runs the reload listeners; the daemon lives on', async () => {
    const { pid, out, err } = startDaemon();
    await waitFor(() => read(err).includes('stderr after ready'), 'the daemon to log');
    fs.renameSync(out, `${out}.1`);
    fs.renameSync(err, `${err}.1`);
    process.kill(pid, 'SIGHUP');
    await waitFor(() => read(out).includes(`reload in ${pid}\n`), 'the reload listener to log into the new file');
    assert.ok(fs.existsSync(err), 'stderr reopened too');
    assert.equal(proc.fds(pid)[2], err);
    assert.match(read(`${out}.1`), new RegExp(`^running as ${pid}\\n$`));
    process.kill(pid, 'SIGHUP');
    await waitFor(() => read(out) === `reload in ${pid}\nreload in ${pid}\n`, 'a second reload');
    assert.ok(proc.isAlive(pid));
  });

  for (const signal of ['SIGTERM', 'SIGINT']) {
    it(`${signal} runs the shutdown listeners (awaited), removes the pidfile and exits 0`, async () => {
      const { pid, pidfile, out } = startDaemon();
      process.kill(pid, signal);
      await waitFor(() => !proc.isAlive(pid), `pid ${pid} to exit`);
      assert.equal(read(out), `running as ${pid}\nshutdown on ${signal} done\n`);
      assert.ok(!fs.existsSync(pidfile), 'the pidfile is gone');
      const status = zombieStatus(pid);
      if (status !== undefined) assert.equal(status, 0);
    });
  }

  it('removes the pidfile on a normal exit', async () => {
    const { dir, pid, pidfile } = startDaemon('lib-exits.js');
    assert.ok(fs.existsSync(pidfile));
    fs.writeFileSync(path.join(dir, 'go'), '');
    await waitFor(() => !proc.isAlive(pid), `pid ${pid} to exit`);
    assert.ok(!fs.existsSync(pidfile));
  });

  it('leaves a pidfile that is no longer its own', async () => {
    const { pid, pidfile } = startDaemon();
    fs.unlinkSync(pidfile);
    fs.writeFileSync(pidfile, '12345\n');
    process.kill(pid, 'SIGTERM');
    await waitFor(() => !proc.isAlive(pid), `pid ${pid} to exit`);
    assert.equal(fs.readFileSync(pidfile, 'utf8'), '12345\n');
  });
});

describe('the foreground switch', () => {
  const ways = [
    ['foreground: true', { foreground: true }, process.env],
    ['DAEMONIZE_FOREGROUND=1', {}, { ...process.env, DAEMONIZE_FOREGROUND: '1' }],
  ];
  for (const [label, options, env] of ways) {
    it(`${label}: no fork, but the pidfile, signals and readiness`, async () => {
      const dir = scratch.dir();
      const pidfile = path.join(dir, 'fg.pid');
      const app = startApp(scratch, 'lib-app.js', { dir, options: { pidfile, ...options }, env, cwd: dir });
      const pid = app.child.pid;
      const facts = await waitFor(() => parsed(path.join(dir, 'facts.json')), 'the app to start');
      assert.equal(facts.pid, pid, 'the process started is the service');
      assert.equal(facts.foreground, true);
      assert.equal(facts.isReady, true);
      assert.equal(facts.cwd, dir, 'no chdir to / unless asked');
      assert.equal(readPidfile(pidfile), pid);
      assert.equal(proc.stat(pid).session, proc.stat(process.pid).session, 'still in our session');
      assert.equal(read(path.join(dir, 'runs')), `${pid}\n`, 'the code before the call ran once');
      const second = runApp(scratch, 'lib-app.js', { dir, options: { pidfile, ...options }, env });
      assert.equal(second.status, 3);
      assert.match(second.stderr, new RegExp(`daemonize: fatal: unable to lock pidfile ${pidfile}: already running as pid ${pid}\\n$`));
      app.child.kill('SIGTERM');
      const result = await app.done;
      assert.equal(result.status, 0, result.stderr);
      assert.equal(result.stdout, `running as ${pid}\nshutdown on SIGTERM done\n`);
      assert.ok(!fs.existsSync(pidfile));
    });
  }

  it('in the foreground too: log files, chdir, umask and user, when asked', { skip: process.getuid() !== 0 && 'needs root' }, async () => {
    const dir = scratch.dir();
    fs.chmodSync(dir, 0o1777);
    const pidfile = path.join(dir, 'fg.pid');
    const log = path.join(dir, 'fg.log');
    const options = { pidfile, output: log, chdir: '/tmp', umask: 0o077, user: 'nobody', foreground: true };
    const app = startApp(scratch, 'lib-app.js', { dir, options });
    const pid = app.child.pid;
    await waitFor(() => parsed(path.join(dir, 'facts.json')), 'the app to start');
    const status = proc.status(pid);
    assert.match(status.Uid, /^65534\s/);
    assert.equal(status.Umask, '0077');
    assert.equal(fs.readlinkSync(`/proc/${pid}/cwd`), '/tmp');
    assert.equal(proc.fds(pid)[1], log);
    assert.equal(proc.fds(pid)[2], log);
    assert.equal(readPidfile(pidfile), pid);
    app.child.kill('SIGTERM');
    const result = await app.done;
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, '', 'stdout went to the log');
    assert.match(read(log), new RegExp(`running as ${pid}\\n[^]*shutdown on SIGTERM done\\n$`));
    // Root's pidfile sits where only root may remove it (a sticky directory), so the app, now nobody,
    // leaves it behind; unlocked, it says "not running", and the next start takes it over.
    assert.equal(spawnSync('flock', ['--nonblock', pidfile, 'true']).status, 0, 'nobody holds the lock');
  });

  it('DAEMONIZE_FOREGROUND=0 does not keep the app in the foreground', () => {
    const dir = scratch.dir();
    const pidfile = path.join(dir, 'bg.pid');
    const result = runApp(scratch, 'lib-app.js', { dir, options: { pidfile }, env: { ...process.env, DAEMONIZE_FOREGROUND: '0' } });
    assert.equal(result.status, 0, result.stderr);
    const pid = scratch.track(readPidfile(pidfile));
    assert.notEqual(pid, result.pid);
    assert.notEqual(proc.stat(pid).session, proc.stat(process.pid).session);
  });

  it('exports the variable\'s name for the CLI\'s --foreground', () => {
    assert.equal(require('../dist/index.js').FOREGROUND_ENV, 'DAEMONIZE_FOREGROUND');
  });
});
