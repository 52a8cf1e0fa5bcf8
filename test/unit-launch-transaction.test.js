'use strict';
// The launch transaction's bookkeeping and the process tree's membership, without starting daemons:
// undo order, a failing undo, what commit keeps, what every end closes, and who counts as "started".
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { describe, it, after } = require('node:test');

const { LaunchTransaction } = require('../dist/core/launch-transaction');
const { members } = require('../dist/core/process-tree');
const { descendants } = require('../dist/process-table');
const { DaemonizeError } = require('../dist/errors');
const { lockHolders } = require('./helpers/lock');
const { Scratch } = require('./helpers/harness');

const scratch = new Scratch();
after(() => scratch.cleanup());

function isOpen(fd) {
  try {
    fs.fstatSync(fd);
    return true;
  } catch {
    return false;
  }
}

describe('LaunchTransaction', () => {
  it('rolls back newest first, past an undo that fails, then closes what it opened', () => {
    const done = [];
    let pipe;
    assert.throws(() => LaunchTransaction.run((tx) => {
      pipe = tx.pipe('for a test');
      tx.onRollback(() => done.push('first'));
      tx.onRollback(() => {
        done.push('second');
        throw new Error('undo failed');
      });
      tx.onRollback(() => done.push('third'));
      throw new DaemonizeError('the step failed', 3);
    }), (error) => error instanceof DaemonizeError && error.message === 'the step failed' && error.exitCode === 3);
    assert.deepEqual(done, ['third', 'second', 'first']);
    assert.ok(!isOpen(pipe[0]) && !isOpen(pipe[1]), 'both ends closed');
  });

  it('commits: no undo runs, and its descriptors are closed all the same', () => {
    const done = [];
    let pipe;
    const result = LaunchTransaction.run((tx) => {
      pipe = tx.pipe('for a test');
      tx.onRollback(() => done.push('undo'));
      tx.closeNow(pipe[1]);
      return 42;
    });
    assert.equal(result, 42);
    assert.deepEqual(done, []);
    assert.ok(!isOpen(pipe[0]) && !isOpen(pipe[1]));
  });

  it('says which step failed, in the one message shape', () => {
    assert.throws(() => LaunchTransaction.run((tx) => tx.step('open /nowhere/x', () => fs.openSync('/dz-nowhere/x', 'r'))),
      (error) => error instanceof DaemonizeError && error.message === 'unable to open /nowhere/x: No such file or directory' && error.exitCode === 1);
    assert.throws(() => LaunchTransaction.run(() => fs.openSync('/dz-nowhere/x', 'r')),
      (error) => error instanceof DaemonizeError && error.message === 'unable to start the daemon: No such file or directory');
    // A bug is not a system error: it keeps its type and its stack.
    assert.throws(() => LaunchTransaction.run(() => undefined.x), TypeError);
  });

  it('a rolled-back pidfile is removed; a kept one stays locked after the commit', () => {
    const dir = scratch.dir();
    const failed = path.join(dir, 'failed.pid');
    assert.throws(() => LaunchTransaction.run((tx) => {
      tx.writePidfile(tx.lockPidfile({ pidfile: failed }), 1234);
      assert.equal(fs.readFileSync(failed, 'utf8'), '1234\n');
      throw new DaemonizeError('later step');
    }));
    assert.equal(fs.existsSync(failed), false);
    assert.deepEqual(lockHolders(failed), []);

    const kept = path.join(dir, 'kept.pid');
    const pidfile = LaunchTransaction.run((tx) => {
      const held = tx.lockPidfile({ pidfile: kept });
      tx.keepPidfile(held);
      return held;
    });
    assert.deepEqual(lockHolders(kept), [process.pid], 'this process still holds the lock');
    pidfile.close();
    assert.deepEqual(lockHolders(kept), []);

    const closed = path.join(dir, 'closed.pid');
    LaunchTransaction.run((tx) => tx.lockPidfile({ pidfile: closed }));
    assert.deepEqual(lockHolders(closed), [], 'not kept: the commit closed our descriptor (a daemon holds its own)');
  });

  it('files the start created go with a rollback; files that were there stay', () => {
    const dir = scratch.dir();
    const made = path.join(dir, 'made.log');
    const there = path.join(dir, 'there.log');
    fs.writeFileSync(there, 'kept\n');
    assert.throws(() => LaunchTransaction.run((tx) => {
      tx.openStdio(made, there);
      throw new DaemonizeError('later step');
    }));
    assert.deepEqual(fs.readdirSync(dir), ['there.log']);
    assert.equal(fs.readFileSync(there, 'utf8'), 'kept\n');
  });
});

describe('process tree members', () => {
  const entry = (pid, ppid, session) => ({ pid, ppid, session, pgrp: pid, state: 'S', startTicks: 0, exitStatus: null });
  // The daemon 100 in session 99 (its leader, the intermediate fork, is gone); 101 its child; 102 a
  // grandchild that called setsid; 103 left in the session by a dead parent; 200 a stranger.
  const table = [entry(1, 0, 1), entry(100, 1, 99), entry(101, 100, 99), entry(102, 101, 102), entry(103, 1, 99), entry(200, 1, 300)];

  it('are the descendants and the session\'s members', () => {
    assert.deepEqual(members({ root: 100, session: 99 }, table).sort(), [100, 101, 102, 103]);
  });

  it('after the root died: what is left in its session', () => {
    assert.deepEqual(members({ root: 100, session: 99 }, table.filter((e) => e.pid !== 100 && e.pid !== 101)), [103]);
  });

  it('never a session whose leader lives (its id was recycled), nor an unknown one', () => {
    assert.deepEqual(members({ root: 100, session: 99 }, [...table, entry(99, 1, 99)]).sort(), [100, 101, 102]);
    assert.deepEqual(members({ root: 100, session: null }, table).sort(), [100, 101, 102]);
  });
});

describe('descendants (the one walk by ppid)', () => {
  const entry = (pid, ppid) => ({ pid, ppid, session: 1, pgrp: pid, state: 'S', startTicks: 0, exitStatus: null });

  it('reach every depth whatever the order /proc lists them in, parents before their children', () => {
    // 13 is listed before its parent 12, and 12 before its parent 11 (pids recycled lower than their parents).
    const table = [entry(13, 12), entry(12, 11), entry(1, 0), entry(11, 10), entry(10, 1), entry(20, 1), entry(21, 20)];
    assert.deepEqual(descendants([10], table).map((e) => e.pid), [11, 12, 13]);
  });

  it('leave the roots out, and take several roots at once without repeating anyone', () => {
    const table = [entry(10, 1), entry(11, 10), entry(12, 11), entry(20, 1), entry(21, 20)];
    assert.deepEqual(descendants([10, 11, 20], table).map((e) => e.pid).sort(), [12, 21]);
    assert.deepEqual(descendants([99], table), []);
  });

  it('never loop on a table read while pids were recycled (a pid met as its own ancestor)', () => {
    const table = [entry(10, 11), entry(11, 10)];
    assert.deepEqual(descendants([10], table).map((e) => e.pid), [11]);
  });
});
