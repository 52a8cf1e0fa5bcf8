'use strict';
// The supervisor's sd_notify socket is watched on the event loop (the addon's watchReadable), not polled:
// a message is delivered as it arrives, an idle supervisor does not wake at all, a closed channel leaves
// no descriptor and no handle, and a watch alone does not keep a process alive.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { describe, it, after } = require('node:test');

const proc = require('./helpers/proc');
const { Scratch, waitFor } = require('./helpers/harness');
const { supervise } = require('./helpers/supervised');
const { native } = require('../dist/native');
const { NotifyChannel } = require('../dist/supervisor/notify-channel');

const scratch = new Scratch();
after(() => scratch.cleanup());

/** The main thread's voluntary context switches (/proc/PID/status is its): each is a sleep it woke from. */
const wakeups = (pid) => Number(proc.status(pid).voluntary_ctxt_switches);

describe('the sd_notify socket, watched', () => {
  it('delivers each message from an accepted sender, tells the others, and closes its descriptor', async () => {
    const channel = new NotifyChannel();
    const fdsBefore = fs.readdirSync('/proc/self/fd').length;
    const delivered = [];
    const ignored = [];
    channel.listen((pid) => pid === process.pid, (pid, fields) => delivered.push([pid, fields]), (pid, message) => ignored.push([pid, message]));
    native.notify(channel.address, 'READY=1\nSTATUS=serving');
    await waitFor(() => delivered.length === 1, 'the message');
    assert.deepEqual(delivered, [[process.pid, { READY: '1', STATUS: 'serving' }]]);
    // From another process: not the accepted sender.
    const other = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(path.join(__dirname, '..', 'dist', 'native'))}).native.notify(${JSON.stringify(channel.address)}, 'READY=1')`]);
    assert.equal(other.status, 0, String(other.stderr));
    await waitFor(() => ignored.length === 1, 'the stranger\'s message');
    assert.equal(ignored[0][1], 'READY=1');
    channel.close();
    assert.equal(fs.readdirSync('/proc/self/fd').length, fdsBefore - 1, 'the socket is closed');
    assert.throws(() => native.notify(channel.address, 'READY=1', true), /ECONNREFUSED/);
  });

  it('is refused off the main thread (a worker\'s loop must be empty when it ends), and the worker ends cleanly', () => {
    const script = `const { Worker } = require('node:worker_threads');
      const w = new Worker(\`const { native } = require(${JSON.stringify(path.join(__dirname, '..', 'dist', 'native'))});
        const fd = native.notifySocket('@daemonize-test/' + process.pid + '/' + Math.random());
        try { native.watchReadable(fd, () => {}); console.log('watched'); } catch (error) { console.log(error.message); }\`, { eval: true });
      w.on('exit', (code) => console.log('worker exit', code));`;
    const result = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20000 });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, 'watchReadable: only on the main thread\nworker exit 0\n');
  });

  it('does not keep a process alive by itself', () => {
    const script = `const { NotifyChannel } = require(${JSON.stringify(path.join(__dirname, '..', 'dist', 'supervisor', 'notify-channel'))});
      new NotifyChannel().listen(() => true, () => {}, () => {}); console.log('listening');`;
    const result = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20000 });
    assert.equal(result.signal, null, 'it had to be killed');
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, 'listening\n');
  });

  it('an idle supervisor sleeps: no wake-up in a second with nothing to do (was ten, polling)', async () => {
    const d = supervise(scratch, [], ['sleep', `1000.${scratch.token()}`]);
    const child = await waitFor(() => d.readStatus()?.child, 'the child');
    scratch.track(child);
    // Settled: the start's own work done (the stop rehearsal runs once after it).
    await waitFor(() => proc.stat(child)?.comm === 'sleep', 'the exec');
    const before = wakeups(d.supervisor);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const woke = wakeups(d.supervisor) - before;
    assert.ok(woke <= 2, `the supervisor woke ${woke} times`);
  });
});
