'use strict';
// The supervisor's logic with a fake world: no real processes, signals or clock.
const assert = require('node:assert/strict');
const { describe, it } = require('node:test');

const { RestartPolicy } = require('../dist/supervisor/restart-policy');
const { Supervisor } = require('../dist/supervisor/supervisor');
const { describeExit, describeDuration } = require('../dist/supervisor/exit-description');

const POLICY = { acceptable: 10, attempts: 3, delay: 30, limit: 2 };

describe('RestartPolicy', () => {
  it('restarts failures at once until attempts, then pauses, then gives up after limit pauses', () => {
    const policy = new RestartPolicy(POLICY);
    const actions = [];
    for (let i = 0; i < 9; i++) {
      const d = policy.afterExit(1);
      actions.push(d.action === 'pause' ? `pause${d.pause}` : d.action === 'restart' ? `r${d.failures}` : d.action);
    }
    assert.deepEqual(actions, ['r1', 'r2', 'pause1', 'r1', 'r2', 'pause2', 'r1', 'r2', 'give-up']);
  });

  it('never gives up with limit 0', () => {
    const policy = new RestartPolicy({ ...POLICY, limit: 0 });
    for (let i = 0; i < 100; i++) assert.notEqual(policy.afterExit(0).action, 'give-up');
  });

  it('resets the failure count and the pauses after a run of at least `acceptable` seconds', () => {
    const policy = new RestartPolicy(POLICY);
    policy.afterExit(1);
    policy.afterExit(1);
    assert.deepEqual(policy.afterExit(10), { action: 'restart', failures: 0 });
    assert.deepEqual(policy.afterExit(1), { action: 'restart', failures: 1 });
  });
});

describe('exit descriptions', () => {
  it('reads like a person wrote it', () => {
    assert.equal(describeExit(null, 11), 'killed by signal 11 (SIGSEGV)');
    assert.equal(describeExit(7, null), 'exited with status 7');
    assert.equal(describeDuration(3.21), '3.2 s');
    assert.equal(describeDuration(250), '4 min 10 s');
    assert.equal(describeDuration(7500), '2 h 5 min');
  });
});

/** A world where children are numbers, time is a variable and timers run when the test says. */
function fakeWorld({ failSpawns = 0 } = {}) {
  const world = {
    time: 0,
    nextPid: 100,
    failSpawns,
    spawned: [],
    killed: [],
    alive: new Set(),
    timers: [],
    lines: [],
    statuses: [],
    finished: null,
    spawnChild() {
      if (this.failSpawns > 0) {
        this.failSpawns -= 1;
        throw new Error('unable to chdir to /gone: No such file or directory');
      }
      const pid = this.nextPid++;
      this.spawned.push(pid);
      this.alive.add(pid);
      return pid;
    },
    kill(pid, signal) { this.killed.push([pid, signal]); },
    groupAlive(pgid) { return this.alive.has(pgid); },
    now() { return this.time; },
    setTimer(callback, ms) { const t = { callback, at: this.time + ms }; this.timers.push(t); return t; },
    clearTimer(t) { this.timers = this.timers.filter((x) => x !== t); },
    log(line) { this.lines.push(line); },
    onStatus(s) { this.statuses.push(s); },
    reopenLog() { this.lines.push('(reopened)'); },
    finish(code) { this.finished = code; },
    /** Advances the clock, running due timers in order. */
    advance(ms) {
      const end = this.time + ms;
      for (;;) {
        this.timers.sort((a, b) => a.at - b.at);
        const next = this.timers[0];
        if (!next || next.at > end) break;
        this.timers.shift();
        this.time = next.at;
        next.callback();
      }
      this.time = end;
    },
  };
  return world;
}

function makeSupervisor(world, policy = POLICY) {
  return new Supervisor(world, { label: 'app', policy, stopTimeout: 5 });
}

/** The child dies: its group empties and the supervisor hears of it. */
function die(world, supervisor, pid, code = 1, signal = null) {
  world.alive.delete(pid);
  supervisor.childExited(pid, code, signal);
}

describe('Supervisor', () => {
  it('starts again at once after a healthy run, with a log line that says why', () => {
    const world = fakeWorld();
    const s = makeSupervisor(world);
    const first = s.start();
    world.advance(60000);
    die(world, s, first, null, 11);
    assert.equal(world.spawned.length, 2);
    assert.ok(world.lines.includes('app (pid 100) killed by signal 11 (SIGSEGV) after 1 min 0 s; restarting'), world.lines.join('\n'));
    assert.equal(s.status().restarts, 1);
  });

  it('throttles a crash loop: attempts, then a pause of `delay`, then gives up after `limit` pauses', () => {
    const world = fakeWorld();
    const s = makeSupervisor(world);
    s.start();
    const crash = () => die(world, s, world.spawned[world.spawned.length - 1], 3);
    crash();
    crash();
    assert.equal(world.spawned.length, 3);
    assert.match(world.lines.at(-2), /exited with status 3 after 0\.0 s; restarting \(failure 2 of 3\)/);
    crash();
    assert.match(world.lines.at(-1), /failure 3 of 3: pausing 30 s before restarting \(pause 1 of 2\)/);
    assert.equal(world.spawned.length, 3, 'nothing starts during the pause');
    world.advance(29999);
    assert.equal(world.spawned.length, 3);
    world.advance(1);
    assert.equal(world.spawned.length, 4);
    crash(); crash(); crash();
    world.advance(30000);
    crash(); crash(); crash();
    assert.equal(world.finished, 1);
    assert.match(world.lines.at(-1), /failure 3 of 3 after 2 pauses: giving up/);
  });

  it('stops: SIGTERM to the process group, SIGKILL after the stop timeout, finish once the group is empty', () => {
    const world = fakeWorld();
    const s = makeSupervisor(world);
    const pid = s.start();
    s.signal('SIGTERM');
    assert.deepEqual(world.killed, [[-pid, 'SIGTERM']]);
    world.advance(5000);
    assert.deepEqual(world.killed.at(-1), [-pid, 'SIGKILL']);
    // The child is gone but something it forked is still in its group: wait for that too.
    s.childExited(pid, null, 9);
    assert.equal(world.finished, null);
    world.alive.delete(pid);
    world.advance(20);
    assert.equal(world.finished, 0);
    assert.equal(world.spawned.length, 1, 'no restart while stopping');
  });

  it('restarts on SIGUSR1 without counting a failure, and passes HUP and other signals on', () => {
    const world = fakeWorld();
    const s = makeSupervisor(world);
    const pid = s.start();
    s.signal('SIGHUP');
    s.signal('SIGUSR2');
    assert.deepEqual(world.killed, [[pid, 'SIGHUP'], [pid, 'SIGUSR2']]);
    assert.ok(world.lines.includes('(reopened)'));
    s.signal('SIGUSR1');
    assert.deepEqual(world.killed.at(-1), [-pid, 'SIGTERM']);
    die(world, s, pid, null, 15);
    assert.equal(world.spawned.length, 2);
    assert.equal(s.status().state, 'running');
    assert.equal(s.status().restarts, 1);
  });

  it('ends at once when stopped during a pause', () => {
    const world = fakeWorld();
    const s = makeSupervisor(world, { ...POLICY, attempts: 1 });
    die(world, s, s.start(), 1);
    assert.equal(s.status().state, 'paused');
    s.signal('SIGINT');
    assert.equal(world.finished, 0);
  });

  it('treats a child that cannot be started again as a failure, without recursing', () => {
    const world = fakeWorld({ failSpawns: 0 });
    const s = makeSupervisor(world);
    const pid = s.start();
    world.failSpawns = 100;
    die(world, s, pid, 1);
    world.advance(0);
    world.advance(0);
    assert.ok(world.lines.some((l) => /unable to start app: unable to chdir/.test(l)), world.lines.join('\n'));
    assert.ok(world.lines.some((l) => /pausing 30 s/.test(l)));
  });

  it('ignores the exit of a process that is not its child (an orphan reparented to it)', () => {
    const world = fakeWorld();
    const s = makeSupervisor(world);
    s.start();
    s.childExited(4242, 0, null);
    assert.equal(world.spawned.length, 1);
    assert.equal(world.lines.length, 1);
  });
});
