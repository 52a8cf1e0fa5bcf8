'use strict';
// The addon's look at a pidfile and at who holds its lock (native/lock-holder.cc), against flock(1):
// a holder, a waiter blocked on the lock, a process that only has the file open, a gone pid; and the
// pidfile read without following a link, bytes as they are.
const assert = require('node:assert/strict');
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { describe, it, after } = require('node:test');

const proc = require('./helpers/proc');
const { Scratch, waitFor } = require('./helpers/harness');
const { native } = require('../dist/native');

const scratch = new Scratch();
after(() => scratch.cleanup());

/** Starts `command` detached, and returns the pid of the process whose command name is `comm` and carries the token. */
async function start(argv, token, comm, what) {
  spawn(argv[0], argv.slice(1), { stdio: 'ignore', detached: true }).unref();
  return scratch.track(await waitFor(() => proc.findByToken(token).find((pid) => proc.stat(pid)?.comm === comm), what));
}

describe('holdsLock()', () => {
  it('is true for the holder only: not for a waiter blocked on the lock, nor for a process that merely has the file open', async () => {
    const file = path.join(scratch.dir(), 'locked.pid');
    fs.writeFileSync(file, '');
    const { dev, ino } = fs.statSync(file, { bigint: true });
    const held = scratch.token();
    const holder = await start(['flock', file, 'sleep', `1000.${held}`], held, 'flock', 'the holder');
    const waited = scratch.token();
    const waiter = await start(['flock', file, 'sleep', `1000.${waited}`], waited, 'flock', 'the waiter');
    // The waiter has the file open and is blocked in flock(2) ("->" in /proc/locks).
    await waitFor(() => proc.stat(waiter)?.state === 'S' && fs.readFileSync('/proc/locks', 'latin1').includes(`-> FLOCK  ADVISORY  WRITE ${waiter} `),
      'the waiter to block on the lock');
    const read = scratch.token();
    const reader = await start(['sh', '-c', `exec 7<'${file}'; exec sleep 1000.${read}`], read, 'sleep', 'the reader');
    assert.equal(fs.readlinkSync(`/proc/${reader}/fd/7`), file);
    assert.equal(native.holdsLock(holder, dev, ino), true);
    assert.equal(native.holdsLock(waiter, dev, ino), false);
    assert.equal(native.holdsLock(reader, dev, ino), false);
    assert.equal(native.holdsLock(holder, dev, ino + 1n), false, 'another file');
    process.kill(holder, 'SIGKILL');
    await waitFor(() => !proc.isAlive(holder), 'the holder to die');
    assert.equal(native.holdsLock(holder, dev, ino), false, 'a dead holder holds nothing');
  });
});

describe('readPidfile()', () => {
  it('reads the file as bytes, refuses a link at its last component, and says what is not a regular file (a FIFO without hanging)', () => {
    const dir = scratch.dir();
    const file = path.join(dir, 'x.pid');
    fs.writeFileSync(file, Buffer.from([0x31, 0x32, 0x0a, 0xff]));
    const read = native.readPidfile(file);
    const stat = fs.statSync(file, { bigint: true });
    assert.deepEqual(read, { dev: stat.dev, ino: stat.ino, regular: true, text: '12\n\xff' });
    fs.symlinkSync(file, path.join(dir, 'link.pid'));
    assert.throws(() => native.readPidfile(path.join(dir, 'link.pid')), { code: 'ELOOP' });
    assert.throws(() => native.readPidfile(path.join(dir, 'none.pid')), { code: 'ENOENT' });
    assert.equal(native.readPidfile(dir).regular, false);
    // A FIFO with no writer: opened without blocking, and not read.
    const fifo = path.join(dir, 'fifo.pid');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    assert.equal(native.readPidfile(fifo).regular, false);
  });
});
