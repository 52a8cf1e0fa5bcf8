'use strict';
// The process table read in one addon call (src/process-table.ts, native/proc-table.cc) against what
// /proc shows file by file: same processes, same fields, zombies included and told apart.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { describe, it } = require('node:test');

const { native } = require('../dist/native');
const { liveProcesses, processTable, readEntry } = require('../dist/process-table');
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

  it('leaves out unread the pids it is told cannot matter, and reads every other', () => {
    const spawnSleep = () => native.spawn({ mode: 'child', file: '/bin/sleep', argv: ['sleep', '30'], env: [] });
    const pids = [spawnSleep(), spawnSleep(), spawnSleep()];
    try {
      const [kept, ...skipped] = pids;
      const table = processTable(Int32Array.from(skipped).sort());
      const listed = new Set(table.map((entry) => entry.pid));
      assert.equal(listed.has(kept), true);
      assert.equal(listed.has(process.pid), true);
      for (const pid of skipped) assert.equal(listed.has(pid), false, `pid ${pid} was read`);
      assert.deepEqual(table.find((entry) => entry.pid === kept), readEntry(kept));
      // liveProcesses passes them on; an empty list reads everything.
      assert.deepEqual(liveProcesses((entry) => pids.includes(entry.pid), Int32Array.of(skipped[0])).map((e) => e.pid).sort(),
        [kept, skipped[1]].sort());
      assert.equal(processTable(new Int32Array(0)).filter((entry) => pids.includes(entry.pid)).length, 3);
      // Anything but an Int32Array is a caller's mistake, not "read all".
      for (const bad of [skipped, Uint32Array.from(skipped), 'x']) assert.throws(() => native.procStats(bad), TypeError);
    } finally {
      for (const pid of pids) {
        process.kill(pid, 'SIGKILL');
        native.waitpid(pid, true);
      }
    }
  });
});
