'use strict';
// The process table read in one addon call (src/process-table.ts, native/proc-table.cc) against what
// /proc shows file by file: same processes, same fields, zombies included and told apart.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { describe, it } = require('node:test');

const { native } = require('../dist/native');
const { liveProcesses, processTable, readEntry } = require('../dist/process-table');
const { liveSince, noWrap, readTable } = require('../dist/process-snapshot');
const { waitFor } = require('./helpers/harness');

describe('processTable()', () => {
  it('lists every process /proc lists, with the fields its stat file shows', () => {
    const table = processTable();
    const own = table.find((entry) => entry.pid === process.pid);
    assert.deepEqual(own, readEntry(process.pid));
    assert.equal(own.ppid, process.ppid);
    // Every pid /proc still lists after the read was in it (a process may end between the two looks).
    const listed = new Set(table.map((entry) => entry.pid));
    const after = fs.readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map(Number);
    const missing = after.filter((pid) => !listed.has(pid) && readEntry(pid) !== null && readEntry(pid).startTicks <= own.startTicks);
    assert.deepEqual(missing, []);
  });

  it('shows an unreaped child as a zombie, and liveProcesses() leaves it out', async () => {
    const pid = native.spawn({ mode: 'child', file: '/bin/sleep', argv: ['sleep', '30'], env: [] });
    try {
      assert.equal(processTable().find((entry) => entry.pid === pid)?.ppid, process.pid);
      process.kill(pid, 'SIGKILL');
      await waitFor(() => processTable().find((entry) => entry.pid === pid)?.state === 'Z', 'the child to be a zombie');
      assert.equal(liveProcesses((entry) => entry.pid === pid).length, 0);
    } finally {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already dead
      }
      native.waitpid(pid, true);
    }
    assert.equal(processTable().find((entry) => entry.pid === pid), undefined);
  });

  it('reads a command name with spaces and parentheses', () => {
    // The kernel names a process after its program file: one called "a) (b c" shows as "(a) (b c)".
    const dir = fs.mkdtempSync('/tmp/daemonize-table-');
    const file = `${dir}/a) (b c`;
    fs.copyFileSync('/bin/sleep', file);
    fs.chmodSync(file, 0o755);
    const pid = native.spawn({ mode: 'child', file, argv: ['x', '30'], env: [] });
    try {
      const entry = processTable().find((e) => e.pid === pid);
      assert.deepEqual(entry, readEntry(pid));
      assert.equal(entry.ppid, process.pid);
      assert.match(fs.readFileSync(`/proc/${pid}/stat`, 'latin1'), /^\d+ \(a\) \(b c\) /);
    } finally {
      process.kill(pid, 'SIGKILL');
      native.waitpid(pid, true);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a table reading read again in part (src/process-snapshot.ts)', () => {
  const spawnSleep = () => native.spawn({ mode: 'child', file: '/bin/sleep', argv: ['sleep', '30'], env: [] });
  const end = (pid) => {
    process.kill(pid, 'SIGKILL');
    native.waitpid(pid, true);
  };

  it('finds a process started after the reading, though `keep` takes nothing of the reading', () => {
    const reading = readTable();
    assert.notEqual(reading.clock, null, 'this machine shows /proc/loadavg and /proc/stat');
    const pid = spawnSleep();
    try {
      assert.ok(pid > reading.clock.lastPid);
      assert.deepEqual(liveSince(reading, () => false, (entry) => entry.pid === pid).map((entry) => entry.pid), [pid]);
    } finally {
      end(pid);
    }
  });

  it('reads again the processes of the reading that `keep` takes, and only those of them', () => {
    const pid = spawnSleep();
    try {
      const reading = readTable();
      assert.deepEqual(liveSince(reading, (entry) => entry.pid === pid, (entry) => entry.pid === pid).map((entry) => entry.pid), [pid]);
      // Taken by `accept` but not kept: not read again (the caller's `keep` must cover `accept`).
      const left = liveSince(reading, () => false, () => true).map((entry) => entry.pid);
      assert.ok(!left.includes(pid));
      assert.ok(left.every((other) => other > reading.clock.lastPid && !reading.entries.some((entry) => entry.pid === other)), 'only the processes newer than the reading');
    } finally {
      end(pid);
    }
  });

  it('leaves out a process that ended, and the zombie it leaves', () => {
    const reading = readTable();
    const pid = spawnSleep();
    process.kill(pid, 'SIGKILL');
    try {
      assert.deepEqual(liveSince(reading, () => false, (entry) => entry.pid === pid), []);
    } finally {
      native.waitpid(pid, true);
    }
  });

  it('reads the whole table again when the pids may have wrapped', () => {
    const clock = { lastPid: 32000, forks: 1000, tasks: 100, pidMax: 32768 };
    assert.equal(noWrap(clock, { ...clock, lastPid: 32010, forks: 1010 }), true);
    // Fewer pids handed out now than then: they wrapped.
    assert.equal(noWrap(clock, { ...clock, lastPid: 400, forks: 1800 }), false);
    // Above the reading's last pid, 667 were free at least (767 above it, 100 tasks then): as many new
    // tasks may have gone round once and come back above it.
    assert.equal(noWrap(clock, { ...clock, lastPid: 32100, forks: 1666 }), true);
    assert.equal(noWrap(clock, { ...clock, lastPid: 32100, forks: 1667 }), false);
    // pid_max lowered under the last pid: the next pid wraps.
    assert.equal(noWrap(clock, { ...clock, lastPid: 32001, forks: 1001, pidMax: 4096 }), false);
  });
});
