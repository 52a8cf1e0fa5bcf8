'use strict';
// Being woken when a process ends (src/process-exit.ts, the addon's pidfdOpen), and pollUntil's early end
// of a step (src/control/wait.ts): what --stop waits with. Each watch is checked against what the kernel
// shows: the descriptor it holds in /proc/self/fd, the process's state in /proc.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { describe, it } = require('node:test');
const { Worker } = require('node:worker_threads');

const { native } = require('../dist/native');
const { watchExit } = require('../dist/process-exit');
const { pollUntil } = require('../dist/control/wait');
const { readEntry } = require('../dist/process-table');
const { waitFor } = require('./helpers/harness');

/** A child `sleep 30` of this process, killed and reaped by `fn`'s end whatever happens. */
async function withSleeper(fn) {
  const pid = native.spawn({ mode: 'child', file: '/bin/sleep', argv: ['sleep', '30'], env: [] });
  try {
    return await fn(pid);
  } finally {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already dead
    }
    native.waitpid(pid, true);
  }
}

/** How many pidfds this process holds, as /proc/self/fd shows them. */
function pidfds() {
  return fs.readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return fs.readlinkSync(`/proc/self/fd/${fd}`) === 'anon_inode:[pidfd]';
    } catch {
      return false; // the directory's own descriptor, closed by now
    }
  }).length;
}

describe('watchExit()', () => {
  it('calls back once when the process ends (a zombie counts), and the watch closes its descriptor', async () => {
    await withSleeper(async (pid) => {
      let calls = 0;
      const fd = native.pidfdOpen(pid);
      assert.equal(fs.readlinkSync(`/proc/self/fd/${fd}`), 'anon_inode:[pidfd]');
      native.closeFile(fd);
      assert.equal(pidfds(), 0);
      const stop = watchExit(pid, () => {
        calls += 1;
      });
      assert.equal(typeof stop, 'function');
      assert.equal(pidfds(), 1);
      // Alive: no call while the process runs.
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(calls, 0);
      process.kill(pid, 'SIGKILL');
      await waitFor(() => calls === 1, 'the exit callback');
      assert.equal(readEntry(pid)?.state, 'Z');
      // Fired once, and its descriptor is closed.
      assert.equal(pidfds(), 0);
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(calls, 1);
      stop();
    });
  });

  it('stopped before the end: no call, and no descriptor left', async () => {
    await withSleeper(async (pid) => {
      let calls = 0;
      const stop = watchExit(pid, () => {
        calls += 1;
      });
      assert.equal(pidfds(), 1);
      stop();
      stop();
      assert.equal(pidfds(), 0);
      process.kill(pid, 'SIGKILL');
      await waitFor(() => readEntry(pid)?.state === 'Z', 'the sleeper to be a zombie');
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(calls, 0);
    });
  });

  it('is null for a process that does not exist, and in a worker thread (the caller then polls)', async () => {
    assert.equal(watchExit(0x7ffffffe, () => assert.fail('called')), null);
    assert.equal(native.pidfdOpen(-1), null);
    const worker = new Worker(`
      const { parentPort } = require('node:worker_threads');
      const fs = require('node:fs');
      const { watchExit } = require(${JSON.stringify(require.resolve('../dist/process-exit'))});
      const pidfds = () => fs.readdirSync('/proc/self/fd').filter((fd) => {
        try { return fs.readlinkSync('/proc/self/fd/' + fd) === 'anon_inode:[pidfd]'; } catch { return false; }
      }).length;
      const watch = watchExit(process.pid, () => {});
      parentPort.postMessage({ watch: watch === null ? null : typeof watch, leaked: pidfds() });
    `, { eval: true });
    const [answer] = await Promise.all([new Promise((resolve) => worker.once('message', resolve)), new Promise((resolve) => worker.once('exit', resolve))]);
    assert.deepEqual(answer, { watch: null, leaked: 0 });
  });
});

describe('pollUntil(..., wakeOn)', () => {
  it('looks at once when woken, not at the end of its step', async () => {
    let wake = null;
    let ready = false;
    const polled = pollUntil(() => ready, 60000, 60000, (endStep) => {
      wake = endStep;
    });
    // Past the first look and its turn of the event loop: now inside a 60 s step.
    await new Promise((resolve) => setTimeout(resolve, 20));
    ready = true;
    wake();
    const outcome = await Promise.race([polled, new Promise((resolve) => setTimeout(() => resolve('still in its step'), 10000).unref())]);
    assert.equal(outcome, true);
  });

  it('a wake between steps is harmless, and the steps go on after it', async () => {
    let wake = null;
    let looks = 0;
    const polled = pollUntil(() => ++looks >= 4, 60000, 5, (endStep) => {
      wake = endStep;
    });
    wake();
    assert.equal(await polled, true);
    assert.equal(looks, 4);
  });
});
