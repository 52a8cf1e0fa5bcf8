'use strict';
// sd_notify: the exact datagrams, read by a real AF_UNIX receiver (python3), at a path and at an abstract
// '@' address; and Debian's start-stop-daemon --notify-await as a real client of the foreground mode.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');
const { describe, it, after } = require('node:test');

const proc = require('./helpers/proc');
const { ROOT, Scratch, readPidfile, waitFor } = require('./helpers/harness');
const { runApp, startApp } = require('./fixtures/lib-run');
const { notifyReceiver } = require('./helpers/notify-receiver');
const { native } = require('../dist/native');

const scratch = new Scratch();
after(() => scratch.cleanup());

const receiver = (address) => notifyReceiver(scratch, address);

function abstractAddress() {
  return `@daemonize-test-${scratch.token()}`;
}

describe('notify (the addon\'s datagram)', () => {
  it('sends one datagram, byte for byte, to a path and to an abstract address', async () => {
    const socketPath = path.join(scratch.dir(), 'notify.sock');
    const abstract = abstractAddress();
    const [atPath, atAbstract] = [await receiver(socketPath), await receiver(abstract)];
    native.notify(socketPath, 'READY=1\nSTATUS=héllo');
    native.notify(abstract, 'STOPPING=1');
    await waitFor(() => atPath.messages.length && atAbstract.messages.length, 'both datagrams');
    assert.deepEqual(atPath.messages, ['READY=1\nSTATUS=héllo']);
    assert.deepEqual(atAbstract.messages, ['STOPPING=1']);
  });

  it('throws a system error when nobody listens', () => {
    assert.throws(() => native.notify(path.join(scratch.dir(), 'nobody.sock'), 'READY=1'),
      (error) => error.code === 'ENOENT' && error.syscall === 'sendto');
    assert.throws(() => native.notify(`/${'x'.repeat(200)}`, 'READY=1'), (error) => error.code === 'EINVAL');
  });
});

describe('the handle speaks sd_notify', () => {
  it('in the foreground: READY=1, RELOADING=1 and READY=1 around a reload, STOPPING=1 on shutdown', async () => {
    const address = abstractAddress();
    const seen = await receiver(address);
    const dir = scratch.dir();
    const env = { ...process.env, NOTIFY_SOCKET: address, DAEMONIZE_FOREGROUND: '1' };
    const app = startApp(scratch, 'lib-manual.js', { dir, options: { pidfile: path.join(dir, 'fg.pid') }, env });
    await waitFor(() => app.output.stderr.includes('warming up'), 'the app to start');
    assert.deepEqual(seen.messages, [], 'not ready before ready()');
    fs.writeFileSync(path.join(dir, 'go'), '');
    await waitFor(() => seen.messages.length === 1, 'READY=1');
    assert.deepEqual(seen.messages, ['READY=1']);
    process.kill(app.child.pid, 'SIGHUP');
    await waitFor(() => seen.messages.length === 3, 'the reload notifications');
    assert.match(seen.messages[1], /^RELOADING=1\nMONOTONIC_USEC=\d+$/);
    assert.equal(seen.messages[2], 'READY=1');
    process.kill(app.child.pid, 'SIGTERM');
    const result = await app.done;
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(seen.messages.slice(3), ['STOPPING=1']);
  });

  it('as a daemon: the launcher sends MAINPID and READY=1 for it', async () => {
    const socketPath = path.join(scratch.dir(), 'notify.sock');
    const seen = await receiver(socketPath);
    const dir = scratch.dir();
    const pidfile = path.join(dir, 'd.pid');
    const result = runApp(scratch, 'lib-app.js', { dir, options: { pidfile }, env: { ...process.env, NOTIFY_SOCKET: socketPath } });
    assert.equal(result.status, 0, result.stderr);
    const pid = scratch.track(readPidfile(pidfile));
    await waitFor(() => seen.messages.length === 1, 'the launcher\'s notification');
    assert.deepEqual(seen.messages, [`MAINPID=${pid}\nREADY=1`]);
    process.kill(pid, 'SIGTERM');
    await waitFor(() => seen.messages.length === 2, 'STOPPING=1');
    assert.equal(seen.messages[1], 'STOPPING=1');
  });
});

describe('start-stop-daemon --notify-await (a real sd_notify client)', () => {
  const ssd = spawnSync('sh', ['-c', 'command -v start-stop-daemon']).stdout.toString().trim();

  it('waits for ready() of a foreground app, then stops it by its pidfile', { skip: !ssd && 'no start-stop-daemon' }, async () => {
    const dir = scratch.dir();
    const pidfile = path.join(dir, 'ssd.pid');
    const token = scratch.token();
    const app = path.join(ROOT, 'test', 'fixtures', 'lib-manual.js');
    const starter = spawn(ssd, ['--start', '--background', '--notify-await', '--notify-timeout', '20', '--pidfile', pidfile,
      '--exec', process.execPath, '--', app, JSON.stringify({ dir, options: { pidfile } }), token],
    { env: { ...process.env, DAEMONIZE_FOREGROUND: '1' }, stdio: 'ignore' });
    scratch.track(starter.pid);
    const started = new Promise((resolve) => starter.on('close', resolve));
    await waitFor(() => fs.existsSync(pidfile) && readPidfile(pidfile), 'the app\'s pidfile');
    const pid = scratch.track(readPidfile(pidfile));
    assert.ok(proc.isAlive(starter.pid), 'start-stop-daemon waits for READY=1');
    fs.writeFileSync(path.join(dir, 'go'), '');
    assert.equal(await started, 0);
    assert.ok(proc.isAlive(pid));
    assert.ok(proc.cmdline(pid).includes(token), 'the pidfile names the app start-stop-daemon started');
    const stop = spawnSync(ssd, ['--stop', '--pidfile', pidfile, '--exec', process.execPath, '--retry', '10'], { encoding: 'utf8' });
    assert.equal(stop.status, 0, stop.stderr);
    await waitFor(() => !proc.isAlive(pid), `pid ${pid} to stop`);
    assert.ok(!fs.existsSync(pidfile), 'the app removed its pidfile on SIGTERM');
  });
});
