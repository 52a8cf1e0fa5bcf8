'use strict';
// The probes' counting and timing (src/supervisor/probes.ts) with a fake clock, fake checks and fake
// memory figures; the real thing is tested end to end in cli-supervisor-probes.test.js.
const assert = require('node:assert/strict');
const { describe, it } = require('node:test');

const { Probes, MEMORY_SAMPLE_MS, OUTPUT_GRACE_MS, describeOutput } = require('../dist/supervisor/probes');
const { initialContext } = require('../dist/supervisor/machine');
const { parseSize, describeSize, settleProbes } = require('../dist/supervisor/probe-options');

function fakeWorld() {
  const world = {
    clock: 0, timers: [], nextPid: 500, checks: [], kills: [], closed: [], lines: [], memory: { bytes: 0, processes: 1 },
    skipped: [], failStart: false,
    now: () => world.clock,
    setTimer: (callback, ms) => {
      const timer = { at: world.clock + ms, callback };
      world.timers.push(timer);
      return timer;
    },
    clearTimer: (timer) => { world.timers = world.timers.filter((t) => t !== timer); },
    startCheck: (command, output, ended) => {
      if (world.failStart) throw new Error('unable to run sh: Resource temporarily unavailable');
      const pid = world.nextPid++;
      world.checks.push({ pid, command, output, ended });
      return pid;
    },
    closeOutput: (pid) => world.closed.push(pid),
    kill: (pid, signal) => world.kills.push(`${pid}:${signal}`),
    treeMemory: (skip) => {
      world.skipped.push([...skip]);
      return world.memory;
    },
    log: (line) => world.lines.push(line),
    /** Runs every timer due within `ms`, in order. */
    advance(ms) {
      const end = world.clock + ms;
      for (;;) {
        const due = world.timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
        if (!due) break;
        world.timers = world.timers.filter((t) => t !== due);
        world.clock = due.at;
        due.callback();
      }
      world.clock = end;
    },
  };
  return world;
}

function probes(settings) {
  const world = fakeWorld();
  const events = [];
  const p = new Probes(settings, world, (event) => events.push(event));
  return { p, world, events };
}

const running = (child = 100, childStarted = 1) => ({ ...initialContext(), state: 'running', child, childStarted, first: false });
const HEALTH = { command: 'curl -f localhost', interval: 10, timeout: 5, retries: 3 };

/** The check just started ends: output, then its exit reaped, then EOF on its output. */
function endCheck(t, code, text = '') {
  const check = t.world.checks.at(-1);
  if (text) check.output(Buffer.from(text));
  assert.equal(t.p.reaped(check.pid, code, null), true);
  check.ended();
  return check;
}

describe('health checks', () => {
  it('start only while the service runs, the first an interval after it became ready', () => {
    const t = probes({ health: HEALTH });
    t.p.observe({ ...initialContext(), state: 'starting' });
    t.world.advance(60000);
    assert.equal(t.world.checks.length, 0);
    t.p.observe(running());
    t.world.advance(9999);
    assert.equal(t.world.checks.length, 0);
    t.world.advance(1);
    assert.deepEqual(t.world.checks.map((c) => c.command), ['curl -f localhost']);
  });

  it('restart the program (one event) after --health-retries failures in a row; a success resets the count', () => {
    const t = probes({ health: HEALTH });
    t.p.observe(running());
    t.world.advance(10000);
    endCheck(t, 1, 'HTTP 503\n');
    assert.deepEqual(t.world.lines, ['health check failed (1 of 3): exited with status 1, output "HTTP 503"']);
    t.world.advance(10000);
    endCheck(t, 0);
    assert.equal(t.world.lines.at(-1), 'health check passed after 1 failed');
    for (let i = 0; i < 2; i++) {
      t.world.advance(10000);
      endCheck(t, 7, `line ${i}\n`);
    }
    assert.deepEqual(t.events, []);
    t.world.advance(10000);
    endCheck(t, 7, Array.from({ length: 30 }, (_, n) => `row ${n}`).join('\n'));
    assert.equal(t.events.length, 1);
    assert.equal(t.events[0].type, 'unhealthy');
    assert.equal(t.events[0].reason, 'failed 3 health checks in a row');
    // The last 10 lines of its output, no more.
    assert.equal(t.events[0].detail, `the last exited with status 7, output ${JSON.stringify(Array.from({ length: 10 }, (_, n) => `row ${n + 20}`).join('\n'))}`);
    // Nothing more for this start, even if the machine is slow to act.
    t.world.advance(100000);
    assert.equal(t.world.checks.length, 5);
  });

  it('never run two at once, and kill a stuck one with its group at --health-timeout (a failure)', () => {
    const t = probes({ health: { ...HEALTH, retries: 1 } });
    t.p.observe(running());
    t.world.advance(10000);
    const stuck = t.world.checks[0];
    t.world.advance(4999);
    assert.deepEqual(t.world.kills, []);
    t.world.advance(1);
    assert.deepEqual(t.world.kills, [`-${stuck.pid}:SIGKILL`]);
    // Until its exit is reaped, no other check starts.
    t.world.advance(60000);
    assert.equal(t.world.checks.length, 1);
    stuck.output(Buffer.from('waiting for db'));
    t.p.reaped(stuck.pid, null, 9);
    // EOF does not come (a grandchild in another group holds the pipe): the grace ends it.
    t.world.advance(OUTPUT_GRACE_MS);
    assert.deepEqual(t.world.closed, [stuck.pid]);
    assert.deepEqual(t.events, [{ type: 'unhealthy', reason: 'failed 1 health check in a row', detail: 'the last timed out after 5 s (killed), output "waiting for db"' }]);
  });

  it('kill a running check when the service leaves `running`, and claim its exit later', () => {
    const t = probes({ health: HEALTH });
    t.p.observe(running());
    t.world.advance(10000);
    const check = t.world.checks[0];
    assert.deepEqual(t.p.checkGroups(), [check.pid]);
    t.p.observe({ ...running(), state: 'draining' });
    assert.deepEqual(t.world.kills, [`-${check.pid}:SIGKILL`]);
    assert.deepEqual(t.p.checkGroups(), [check.pid], 'still not the program\'s until reaped');
    assert.equal(t.p.reaped(check.pid, null, 9), true);
    assert.deepEqual(t.p.checkGroups(), []);
    assert.equal(t.p.reaped(100, 0, null), false, 'the program\'s exit is the driver\'s');
    t.world.advance(100000);
    assert.equal(t.world.checks.length, 1);
    assert.deepEqual(t.world.lines, []);
  });

  it('start afresh, counts reset, for each start of the program', () => {
    const t = probes({ health: { ...HEALTH, retries: 2 } });
    t.p.observe(running(100, 1));
    t.world.advance(10000);
    endCheck(t, 1);
    t.p.observe(running(200, 50000));
    t.world.advance(10000);
    endCheck(t, 1);
    assert.deepEqual(t.events, [], 'one failure for each program');
    assert.equal(t.world.lines.length, 2);
  });

  it('count a check that cannot start as failed', () => {
    const t = probes({ health: { ...HEALTH, retries: 1 } });
    t.p.observe(running());
    t.world.failStart = true;
    t.world.advance(10000);
    assert.equal(t.events[0].detail, 'the last could not start: unable to run sh: Resource temporarily unavailable, no output');
  });
});

describe('the memory limit', () => {
  it('restarts after 3 samples in a row over the limit, a dip resetting the count, with the figure', () => {
    const limit = 512 * 1024 ** 2;
    const t = probes({ maxMemory: limit });
    t.p.observe(running());
    t.world.memory = { bytes: limit + 1, processes: 3 };
    t.world.advance(2 * MEMORY_SAMPLE_MS);
    t.world.memory = { bytes: limit, processes: 3 };
    t.world.advance(MEMORY_SAMPLE_MS);
    t.world.memory = { bytes: 600 * 1024 ** 2, processes: 3 };
    t.world.advance(2 * MEMORY_SAMPLE_MS);
    assert.deepEqual(t.events, []);
    t.world.advance(MEMORY_SAMPLE_MS);
    assert.deepEqual(t.events, [{ type: 'unhealthy', reason: 'was over --max-memory 512 MiB for 3 samples in a row',
      detail: 'its tree used 600 MiB of resident memory (629145600 bytes, 3 processes)' }]);
    t.world.advance(10 * MEMORY_SAMPLE_MS);
    assert.equal(t.events.length, 1);
  });

  it('leaves a running health check out of the program\'s tree', () => {
    const t = probes({ maxMemory: 1024 ** 3, health: { ...HEALTH, interval: 0.5 } });
    t.p.observe(running());
    t.world.advance(MEMORY_SAMPLE_MS);
    assert.deepEqual(t.world.skipped.at(-1), [500]);
  });
});

describe('the memory limit during an overlapping restart', () => {
  it('leaves replaced children, still finishing their requests, out of the new one\'s tree', () => {
    const t = probes({ maxMemory: 1024 ** 3 });
    t.p.observe({ ...running(300, 5), retiring: [{ pid: 100, until: 99999 }] });
    t.world.advance(MEMORY_SAMPLE_MS);
    assert.deepEqual(t.world.skipped.at(-1), [100]);
    t.p.observe({ ...running(300, 5), retiring: [] });
    t.world.advance(MEMORY_SAMPLE_MS);
    assert.deepEqual(t.world.skipped.at(-1), []);
  });
});

describe('the watchdog', () => {
  it('fires when no WATCHDOG=1 comes within the interval; each one re-arms it', () => {
    const t = probes({ watchdog: 2 });
    t.p.observe({ ...initialContext(), state: 'starting', child: 100 });
    t.world.advance(5000);
    assert.deepEqual(t.events, [], 'not before the service runs');
    t.p.observe(running());
    t.world.advance(1500);
    t.p.notified({ WATCHDOG: '1' });
    t.world.advance(1999);
    assert.deepEqual(t.events, []);
    t.world.advance(1);
    assert.deepEqual(t.events, [{ type: 'watchdog', reason: 'sent no WATCHDOG=1 for 2 s' }]);
  });

  it('takes WATCHDOG_USEC= as a new interval, and WATCHDOG=trigger as a failure now', () => {
    const t = probes({ watchdog: 2 });
    t.p.observe(running());
    t.p.notified({ WATCHDOG_USEC: '30000000' });
    t.world.advance(29999);
    assert.deepEqual(t.events, []);
    t.p.notified({ WATCHDOG: 'trigger' });
    assert.deepEqual(t.events, [{ type: 'watchdog', reason: 'asked for its watchdog to fire (WATCHDOG=trigger)' }]);
  });

  it('ignores watchdog messages without --watchdog, and stops when the service stops', () => {
    const none = probes({});
    none.p.observe(running());
    none.p.notified({ WATCHDOG: 'trigger' });
    assert.deepEqual(none.events, []);
    assert.equal(none.world.timers.length, 0, 'no timer at all without an option');
    const t = probes({ watchdog: 1 });
    t.p.observe(running());
    t.p.observe({ ...running(), state: 'stopping' });
    t.world.advance(10000);
    assert.deepEqual(t.events, []);
  });
});

describe('probe options', () => {
  it('reads sizes in powers of 1024', () => {
    assert.equal(parseSize('--max-memory', '512M'), 512 * 1024 ** 2);
    assert.equal(parseSize('--max-memory', '2G'), 2 * 1024 ** 3);
    assert.equal(parseSize('--max-memory', '1.5g'), 1.5 * 1024 ** 3);
    assert.equal(parseSize('--max-memory', '2048K'), 2 * 1024 ** 2);
    assert.equal(parseSize('--max-memory', '256MiB'), 256 * 1024 ** 2);
    assert.equal(parseSize('--max-memory', '1048576'), 1024 ** 2);
    for (const bad of ['', 'M', '1X', '1.2.3M', '0', '1023K', '2T', '-1G', '1e9']) {
      assert.throws(() => parseSize('--max-memory', bad), (error) => error.exitCode === 2, bad);
    }
    assert.equal(describeSize(1536 * 1024 ** 2), '1.5 GiB');
  });

  it('has the documented defaults', () => {
    assert.deepEqual(settleProbes({ healthCmd: 'true' }), { health: { command: 'true', interval: 10, timeout: 5, retries: 3 } });
    assert.deepEqual(settleProbes({}), {});
  });

  it('keeps the log to one line', () => {
    assert.equal(describeOutput(Buffer.from('a\n"b"\n\n')), 'output "a\\n\\"b\\""');
    assert.equal(describeOutput(Buffer.alloc(0)), 'no output');
  });
});
