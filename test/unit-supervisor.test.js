'use strict';
// The supervisor's logic with fakes: no real processes, signals or clock. Every (state, event) cell of
// the machine's table has a test here, found by walking the table itself: a new state or event without
// its cells fails the walk. Then the driver, with a fake process tree and clock, replays the races that
// hurt real users (USR1 or TERM while a dead child's processes drain, a program that forks away).
const assert = require('node:assert/strict');
const { describe, it } = require('node:test');

const { RestartPolicy, decideRestart, NO_FAILURES } = require('../dist/supervisor/restart-policy');
const { TABLE, STATES, EVENT_TYPES, KILL_AGAIN_MS, initialContext, step } = require('../dist/supervisor/machine');
const { SupervisorDriver, FOLLOW_SENSOR_MS } = require('../dist/supervisor/driver');
const { describeExit, describeDuration } = require('../dist/supervisor/exit-description');
const { endSentence } = require('../dist/supervisor/child-end');

const POLICY = { acceptable: 10, attempts: 3, delay: 30, limit: 2 };
const SETTINGS = { label: 'app', policy: POLICY, stopTimeout: 5 };

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

  it('counts failures in a row across pauses, and a start that failed even with acceptable 0', () => {
    let counts = NO_FAILURES;
    for (let i = 0; i < 4; i++) counts = decideRestart(POLICY, counts, 0).counts;
    assert.deepEqual(counts, { inRow: 4, sincePause: 1, pauses: 1 });
    const { decision } = decideRestart({ ...POLICY, acceptable: 0 }, NO_FAILURES, 0, true);
    assert.deepEqual(decision, { action: 'restart', failures: 1 });
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

// ---- the table, cell by cell ----

const NOW = 1_000_000;
const ctx = (over) => ({ ...initialContext(), first: false, ...over });
const restartAfterDrain = { kind: 'decision', decision: { action: 'restart', failures: 1 } };
const C = {
  starting: ctx({ state: 'starting' }),
  firstStart: ctx({ state: 'starting', first: true }),
  running: ctx({ state: 'running', child: 100, childStarted: NOW - 60000 }),
  followed: ctx({ state: 'running', child: 812, direct: false, childStarted: NOW - 60000 }),
  // The child crashed; what it left is being stopped.
  draining: ctx({ state: 'draining', after: restartAfterDrain, deadline: NOW + 5000 }),
  // USR1: the old child was told to go and is still alive.
  drainingOld: ctx({ state: 'draining', child: 100, childStarted: NOW - 1000, after: { kind: 'restart', why: 'restarting' }, deadline: NOW + 5000,
    cause: 'restarted by SIGUSR1 to the supervisor (--restart)' }),
  paused: ctx({ state: 'paused', deadline: NOW + 30000, pausedUntil: NOW + 30000, counts: { inRow: 3, sincePause: 0, pauses: 1 } }),
  stopping: ctx({ state: 'stopping', child: 100, childStarted: NOW - 1000, deadline: NOW + 5000, cause: 'stopped by SIGTERM to the supervisor (--stop)' }),
  stoppingLeft: ctx({ state: 'stopping', deadline: NOW + 5000 }),
  finished: ctx({ state: 'finished' }),
};
const E = {
  spawned: { type: 'spawned', pid: 300 },
  spawnFailed: { type: 'spawn-failed', error: new Error('boom'), message: 'unable to chdir to /gone: No such file or directory' },
  exit: (pid, code = 1, more = {}) => ({ type: 'exit', pid, code, signal: null, known: true, heirs: [], named: null, ...more }),
  empty: { type: 'empty' },
  deadline: { type: 'deadline' },
  stop: { type: 'stop', signal: 'SIGTERM' },
  hup: { type: 'hup' },
  restart: { type: 'restart' },
  forward: { type: 'forward', signal: 'SIGUSR2' },
  pidfile: (pid) => ({ type: 'pidfile', pid }),
  ready: { type: 'ready' },
  watchdog: { type: 'watchdog', reason: 'sent no WATCHDOG=1 for 10 s' },
  unhealthy: { type: 'unhealthy', reason: 'failed 3 health checks in a row', detail: 'last output: "503"' },
  notify: { type: 'notify', pid: 100, fields: { STATUS: 'serving', WATCHDOG: '1' } },
};
/** --ready notify|tcp: a child is running only once it says so. */
const WAIT = { ...SETTINGS, readiness: 'wait', readyTimeout: 20 };

function run(context, event) {
  const result = step(context, event, NOW, SETTINGS);
  const does = result.actions.map((a) => a.do);
  // The end of the service is a sentence too (the world may add to it: child-end.ts).
  const lines = result.actions.filter((a) => a.do === 'log' || a.do === 'ended').map((a) => (a.do === 'ended' ? endSentence(a.end) : a.line));
  const signals = result.actions.filter((a) => a.do === 'signal' || a.do === 'signal-all')
    .map((a) => (a.do === 'signal-all' ? `all:${a.signal}` : `${a.group ? -a.pid : a.pid}:${a.signal}`));
  return { ...result, next: result.context, does, lines, signals };
}

/** The cell changes nothing and does nothing. */
function inert(context, event) {
  const r = run(context, event);
  assert.deepEqual(r.actions, []);
  assert.deepEqual(r.next, context);
}

/** A child that should never have started is killed, whatever the state. */
function killsStray(context) {
  const r = run(context, E.spawned);
  assert.equal(r.next.state, context.state);
  assert.deepEqual(r.signals, ['-300:SIGKILL']);
  assert.match(r.lines[0], /app \(pid 300\) started while \w+: killing it/);
}

const CELLS = {
  starting: {
    spawned: () => {
      const r = run(C.starting, E.spawned);
      assert.equal(r.next.state, 'running');
      assert.equal(r.next.child, 300);
      assert.equal(r.next.childStarted, NOW);
      assert.equal(r.next.restarts, 1);
      assert.deepEqual(r.lines, ['started app (pid 300)']);
      assert.equal(r.next.cause, null, 'nobody has told the new child to go');
      assert.equal(run({ ...C.starting, cause: 'restarted by SIGUSR1 to the supervisor (--restart)' }, E.spawned).next.cause, null);
      assert.equal(run(C.firstStart, E.spawned).next.restarts, 0, 'the first start is not a restart');
    },
    'spawn-failed': () => {
      const first = run(C.firstStart, E.spawnFailed);
      assert.equal(first.next.state, 'finished');
      assert.equal(first.actions[0].error, E.spawnFailed.error, 'the first failure goes to the launcher');
      const later = run(C.starting, E.spawnFailed);
      assert.equal(later.next.state, 'starting');
      assert.deepEqual(later.does, ['log', 'spawn']);
      assert.equal(later.lines[0], 'unable to start app: unable to chdir to /gone: No such file or directory; restarting (failure 1 of 3)');
      const third = run({ ...C.starting, counts: { inRow: 2, sincePause: 2, pauses: 0 } }, E.spawnFailed);
      assert.equal(third.next.state, 'paused');
      assert.equal(third.next.deadline, NOW + 30000);
    },
    exit: () => {
      inert(C.starting, E.exit(100));
      // Room for readiness: a child that dies before it is ready is a crash like any other.
      const r = run({ ...C.starting, child: 100, childStarted: NOW }, E.exit(100));
      assert.equal(r.next.state, 'draining');
    },
    empty: () => inert(C.starting, E.empty),
    deadline: () => inert(C.starting, E.deadline),
    stop: () => {
      const r = run(C.starting, E.stop);
      assert.equal(r.next.state, 'finished');
      assert.deepEqual(r.actions, [{ do: 'finish', code: 0, error: undefined }]);
      const withChild = run({ ...C.starting, child: 100 }, E.stop);
      assert.equal(withChild.next.state, 'stopping');
      assert.deepEqual(withChild.signals, ['-100:SIGTERM']);
    },
    hup: () => assert.deepEqual(run(C.starting, E.hup).does, ['reopen-log']),
    restart: () => {
      inert(C.starting, E.restart);
      const r = run({ ...C.starting, child: 100 }, E.restart);
      assert.equal(r.next.state, 'draining');
      assert.deepEqual(r.next.after, { kind: 'restart', why: 'restarting' });
      assert.equal(r.next.cause, 'restarted by SIGUSR1 to the supervisor (--restart)');
    },
    forward: () => {
      inert(C.starting, E.forward);
      assert.deepEqual(run({ ...C.starting, child: 100 }, E.forward).signals, ['100:SIGUSR2']);
    },
    pidfile: () => inert(C.starting, E.pidfile(5)),
    ready: () => {
      inert(C.starting, E.ready);
      assert.equal(run({ ...C.starting, child: 100 }, E.ready).next.state, 'running');
    },
    watchdog: () => inert(C.starting, E.watchdog),
    unhealthy: () => inert(C.starting, E.unhealthy),
    notify: () => {
      inert(C.starting, E.notify);
      inert({ ...C.starting, child: 100 }, E.notify);
      // EXTEND_TIMEOUT_USEC moves a waiting child's ready deadline later, never earlier.
      const waiting = { ...C.starting, child: 100, deadline: NOW + 5000 };
      const extend = (usec) => run(waiting, { type: 'notify', pid: 100, fields: { EXTEND_TIMEOUT_USEC: usec } });
      assert.equal(extend('30000000').next.deadline, NOW + 30000);
      assert.equal(extend('30000000').lines[0], 'app (pid 100) asked for 30.0 s more to be ready');
      inert(waiting, { type: 'notify', pid: 100, fields: { EXTEND_TIMEOUT_USEC: '1000' } });
      inert(waiting, { type: 'notify', pid: 100, fields: { EXTEND_TIMEOUT_USEC: 'soon' } });
    },
  },

  running: {
    spawned: () => killsStray(C.running),
    'spawn-failed': () => inert(C.running, E.spawnFailed),
    exit: () => {
      inert(C.running, E.exit(4242), 'an orphan reaped: not the service');
      const crash = run(C.running, { ...E.exit(100, null), signal: 11 });
      assert.equal(crash.next.state, 'draining');
      assert.equal(crash.next.child, null);
      assert.equal(crash.next.deadline, NOW + 5000);
      assert.deepEqual(crash.next.after, { kind: 'decision', decision: { action: 'restart', failures: 0 } });
      // Logged at the crash, before the drain.
      assert.equal(crash.lines[0], 'app (pid 100) killed by signal 11 (SIGSEGV) after 1 min 0 s; restarting');
      assert.deepEqual(crash.does, ['ended', 'signal-all', 'check-empty']);
      const quick = run({ ...C.running, childStarted: NOW - 100 }, E.exit(100, 3));
      assert.equal(quick.lines[0], 'app (pid 100) exited with status 3 after 0.1 s; restarting (failure 1 of 3)');
      // Forked away: exit 0 leaving a process reparented to us.
      const away = run(C.running, E.exit(100, 0, { heirs: [812, 900] }));
      assert.equal(away.next.state, 'running');
      assert.equal(away.next.child, 812);
      assert.equal(away.next.direct, false);
      assert.equal(away.next.childStarted, C.running.childStarted);
      assert.match(away.lines[0], /^app \(pid 100\) forked away as pid 812; following it; app run in the foreground/);
      assert.deepEqual(away.actions.at(-1), { do: 'follow', pid: 812 });
      const named = run(C.running, E.exit(100, 0, { heirs: [812], named: 813 }));
      assert.equal(named.next.child, 813);
      assert.match(named.lines[0], /forked away as pid 813 \(named by its pidfile\)/);
      const nginx = step(C.running, E.exit(100, 0, { heirs: [812] }), NOW, { ...SETTINGS, label: 'nginx' });
      assert.match(nginx.actions[0].line, /nginx \(pid 100\) forked away as pid 812; following it; nginx's `daemon off;` gives a direct child/);
      // A non-zero exit that leaves processes behind is a crash: they are leftovers, not the service.
      assert.equal(run(C.running, E.exit(100, 1, { heirs: [812] })).next.state, 'draining');
      // The followed service ending, its status unknown.
      const gone = run(C.followed, { ...E.exit(812, null), known: false });
      assert.match(gone.lines[0], /app \(pid 812\) ended \(its exit status went to its own parent\) after 1 min 0 s; restarting/);
    },
    empty: () => inert(C.running, E.empty),
    deadline: () => inert(C.running, E.deadline),
    stop: () => {
      const r = run(C.running, E.stop);
      assert.equal(r.next.state, 'stopping');
      assert.equal(r.next.deadline, NOW + 5000);
      assert.deepEqual(r.signals, ['-100:SIGTERM']);
      assert.equal(r.lines[0], 'SIGTERM received: stopping app (pid 100)');
      assert.deepEqual(r.does, ['signal', 'log', 'check-empty'], 'the program hears of its stop before the line is written');
      assert.deepEqual(run(C.followed, E.stop).signals, ['812:SIGTERM'], 'a followed daemon stops its own workers');
    },
    hup: () => {
      const r = run(C.running, E.hup);
      assert.deepEqual(r.does, ['reopen-log', 'signal']);
      assert.deepEqual(r.signals, ['100:SIGHUP']);
      assert.equal(r.next, r.context);
    },
    restart: () => {
      const r = run(C.running, E.restart);
      assert.equal(r.next.state, 'draining');
      assert.equal(r.next.child, 100, 'the old child is tracked until it is gone');
      assert.deepEqual(r.next.after, { kind: 'restart', why: 'restarting' });
      assert.equal(r.next.cause, 'restarted by SIGUSR1 to the supervisor (--restart)', 'the end\'s sentence says who');
      assert.deepEqual(r.signals, ['-100:SIGTERM']);
      assert.ok(!r.does.includes('spawn'));
    },
    forward: () => assert.deepEqual(run(C.running, E.forward).signals, ['100:SIGUSR2']),
    pidfile: () => {
      inert(C.running, E.pidfile(555));
      inert(C.followed, E.pidfile(812));
      const r = run(C.followed, E.pidfile(813));
      assert.equal(r.next.child, 813);
      assert.deepEqual(r.actions.at(-1), { do: 'follow', pid: 813 });
    },
    ready: () => inert(C.running, E.ready),
    notify: () => inert(C.running, E.notify),
    watchdog: () => {
      const r = run(C.running, E.watchdog);
      assert.equal(r.next.state, 'draining');
      assert.deepEqual(r.signals, ['100:SIGABRT']);
    },
    unhealthy: () => {
      // The same graceful restart as USR1 (TERM to the group, the kill deadline), with the reason logged once.
      const r = run(C.running, E.unhealthy);
      assert.equal(r.next.state, 'draining');
      assert.equal(r.next.child, 100, 'the old child is tracked until it is gone');
      assert.equal(r.next.deadline, NOW + 5000);
      assert.deepEqual(r.next.after, { kind: 'restart', why: 'restarting' });
      assert.equal(r.next.cause, 'restarted: failed 3 health checks in a row', 'the end\'s sentence says which probe');
      assert.deepEqual(r.signals, ['-100:SIGTERM']);
      assert.deepEqual(r.lines, ['app (pid 100) failed 3 health checks in a row: restarting it; last output: "503"']);
      assert.deepEqual(r.next.counts, C.running.counts, 'not counted as a crash');
      assert.ok(!r.does.includes('spawn'));
      // A followed daemon gets TERM itself (it manages its own workers), as on USR1.
      assert.deepEqual(run(C.followed, E.unhealthy).signals, ['812:SIGTERM']);
    },
  },

  draining: {
    spawned: () => killsStray(C.draining),
    'spawn-failed': () => inert(C.draining, E.spawnFailed),
    exit: () => {
      inert(C.draining, E.exit(4242));
      const r = run(C.drainingOld, { ...E.exit(100, null), signal: 15 });
      assert.equal(r.next.state, 'draining');
      assert.equal(r.next.child, null);
      assert.equal(r.lines[0], 'app (pid 100) killed by signal 15 (SIGTERM) after 1.0 s: restarted by SIGUSR1 to the supervisor (--restart); restarting');
      assert.deepEqual(r.does, ['ended', 'signal-all', 'check-empty']);
    },
    empty: () => {
      const restart = run(C.draining, E.empty);
      assert.equal(restart.next.state, 'starting');
      assert.deepEqual(restart.does, ['spawn']);
      assert.equal(restart.next.deadline, null);
      const pause = run({ ...C.draining, after: { kind: 'decision', decision: { action: 'pause', failures: 3, seconds: 30, pause: 1 } } }, E.empty);
      assert.equal(pause.next.state, 'paused');
      assert.equal(pause.next.pausedUntil, NOW + 30000);
      const giveUp = run({ ...C.draining, after: { kind: 'decision', decision: { action: 'give-up', failures: 3, pauses: 2 } } }, E.empty);
      assert.equal(giveUp.next.state, 'finished');
      assert.deepEqual(giveUp.actions, [{ do: 'finish', code: 1, error: undefined }]);
      inert(C.drainingOld, E.empty);
    },
    deadline: () => {
      const r = run(C.draining, E.deadline);
      assert.equal(r.next.state, 'draining');
      assert.equal(r.next.killed, true);
      assert.equal(r.next.deadline, NOW + KILL_AGAIN_MS);
      assert.deepEqual(r.signals, ['all:SIGKILL']);
      assert.equal(r.lines[0], 'processes app left still running after 5 s: sending SIGKILL');
      assert.deepEqual(run(r.next, E.deadline).lines, [], 'said once');
    },
    stop: () => {
      const r = run(C.draining, E.stop);
      assert.equal(r.next.state, 'stopping');
      assert.equal(r.next.deadline, NOW + 5000);
      assert.deepEqual(r.does, ['log', 'check-empty'], 'no spawn, no exit: it waits for what is left');
      assert.equal(run({ ...C.draining, killed: true }, E.stop).next.deadline, NOW + KILL_AGAIN_MS);
    },
    hup: () => {
      assert.deepEqual(run(C.draining, E.hup).does, ['reopen-log']);
      assert.deepEqual(run(C.drainingOld, E.hup).signals, ['100:SIGHUP']);
    },
    restart: () => {
      const r = run(C.draining, E.restart);
      assert.equal(r.next.state, 'draining');
      assert.ok(!r.does.includes('spawn'), 'no second copy beside what drains');
      assert.deepEqual(r.next.after, { kind: 'restart', why: 'restarting' });
      assert.equal(r.next.deadline, C.draining.deadline);
      inert(C.drainingOld, E.restart);
    },
    forward: () => {
      inert(C.draining, E.forward);
      assert.deepEqual(run(C.drainingOld, E.forward).signals, ['100:SIGUSR2']);
    },
    pidfile: () => inert(C.draining, E.pidfile(5)),
    ready: () => inert(C.draining, E.ready),
    watchdog: () => inert(C.drainingOld, E.watchdog),
    unhealthy: () => inert(C.drainingOld, E.unhealthy),
    notify: () => inert(C.drainingOld, E.notify),
  },

  paused: {
    spawned: () => killsStray(C.paused),
    'spawn-failed': () => inert(C.paused, E.spawnFailed),
    exit: () => inert(C.paused, E.exit(4242)),
    empty: () => inert(C.paused, E.empty),
    deadline: () => {
      const r = run(C.paused, E.deadline);
      assert.equal(r.next.state, 'starting');
      assert.equal(r.next.pausedUntil, null);
      assert.deepEqual(r.does, ['log', 'spawn']);
    },
    stop: () => {
      const r = run(C.paused, E.stop);
      assert.equal(r.next.state, 'stopping');
      assert.deepEqual(r.does, ['signal-all', 'log', 'check-empty'], 'the signals go before the line is written');
    },
    hup: () => assert.deepEqual(run(C.paused, E.hup).does, ['reopen-log']),
    restart: () => {
      const r = run(C.paused, E.restart);
      assert.equal(r.next.state, 'starting');
      assert.equal(r.next.deadline, null);
      assert.deepEqual(r.does, ['log', 'spawn']);
    },
    forward: () => inert(C.paused, E.forward),
    pidfile: () => inert(C.paused, E.pidfile(5)),
    ready: () => inert(C.paused, E.ready),
    watchdog: () => inert(C.paused, E.watchdog),
    unhealthy: () => inert(C.paused, E.unhealthy),
    notify: () => inert(C.paused, E.notify),
  },

  stopping: {
    spawned: () => killsStray(C.stopping),
    'spawn-failed': () => inert(C.stopping, E.spawnFailed),
    exit: () => {
      inert(C.stopping, E.exit(4242));
      const r = run(C.stopping, E.exit(100, 0));
      assert.equal(r.next.state, 'stopping');
      assert.equal(r.next.child, null);
      assert.equal(r.lines[0], 'app (pid 100) exited with status 0 after 1.0 s: stopped by SIGTERM to the supervisor (--stop); stopping');
      assert.deepEqual(r.does, ['ended', 'signal-all', 'check-empty'], 'what it left gets TERM at once');
    },
    empty: () => {
      inert(C.stopping, E.empty);
      const r = run(C.stoppingLeft, E.empty);
      assert.equal(r.next.state, 'finished');
      assert.deepEqual(r.actions, [{ do: 'finish', code: 0, error: undefined }]);
    },
    deadline: () => {
      const r = run(C.stopping, E.deadline);
      assert.deepEqual(r.signals, ['all:SIGKILL']);
      assert.equal(r.lines[0], 'app (pid 100) still running after 5 s: sending SIGKILL');
    },
    stop: () => inert(C.stopping, E.stop),
    hup: () => assert.deepEqual(run(C.stopping, E.hup).does, ['reopen-log']),
    restart: () => {
      const r = run(C.stopping, E.restart);
      assert.deepEqual(r.does, ['log']);
      assert.equal(r.next, r.context);
    },
    forward: () => assert.deepEqual(run(C.stopping, E.forward).signals, ['100:SIGUSR2']),
    pidfile: () => inert(C.stopping, E.pidfile(5)),
    ready: () => inert(C.stopping, E.ready),
    watchdog: () => inert(C.stopping, E.watchdog),
    unhealthy: () => inert(C.stopping, E.unhealthy),
    notify: () => inert(C.stopping, E.notify),
  },

  finished: {
    spawned: () => killsStray(C.finished),
    'spawn-failed': () => inert(C.finished, E.spawnFailed),
    exit: () => inert(C.finished, E.exit(100)),
    empty: () => inert(C.finished, E.empty),
    deadline: () => inert(C.finished, E.deadline),
    stop: () => inert(C.finished, E.stop),
    hup: () => inert(C.finished, E.hup),
    restart: () => inert(C.finished, E.restart),
    forward: () => inert(C.finished, E.forward),
    pidfile: () => inert(C.finished, E.pidfile(5)),
    ready: () => inert(C.finished, E.ready),
    watchdog: () => inert(C.finished, E.watchdog),
    unhealthy: () => inert(C.finished, E.unhealthy),
    notify: () => inert(C.finished, E.notify),
  },
};

describe('the state table, cell by cell', () => {
  it('has a cell for every (state, event), and this file a test for every cell', () => {
    assert.deepEqual(Object.keys(TABLE).sort(), [...STATES].sort());
    for (const state of STATES) {
      assert.deepEqual(Object.keys(TABLE[state]).sort(), [...EVENT_TYPES].sort(), `TABLE.${state}`);
      assert.deepEqual(Object.keys(CELLS[state] ?? {}).sort(), [...EVENT_TYPES].sort(), `tests for ${state}`);
    }
  });
  for (const state of STATES) {
    for (const event of EVENT_TYPES) {
      it(`${state} x ${event}`, () => {
        assert.equal(typeof CELLS[state]?.[event], 'function', `no test for the cell ${state} x ${event}`);
        CELLS[state][event]();
      });
    }
  }
  it('arms no deadline in a state that owns none (running, finished)', () => {
    const samples = [E.spawned, E.spawnFailed, E.exit(100), E.exit(100, 0, { heirs: [812] }), E.empty, E.deadline, E.stop,
      E.hup, E.restart, E.forward, E.pidfile(813), E.ready, E.watchdog, E.unhealthy];
    for (const context of Object.values(C)) {
      for (const event of samples) {
        const { context: next } = step(context, event, NOW, SETTINGS);
        if (next.state === 'running' || next.state === 'finished') assert.equal(next.deadline, null, `${context.state} x ${event.type}`);
      }
    }
  });
});

// ---- the driver, with a fake process tree and a fake clock ----

const SUPERVISOR = 1;

/**
 * Processes are entries { ppid, pgid, session, alive, ignoresTerm }. A process that does not ignore TERM
 * dies of it (or of KILL) at once; the test reaps what died (the supervisor learns of deaths by waitpid).
 */
function fakeWorld({ failSpawns = 0 } = {}) {
  const world = {
    time: NOW,
    nextPid: 100,
    failSpawns,
    procs: new Map(),
    spawned: [],
    killed: [],
    timers: [],
    lines: [],
    statuses: [],
    finished: null,
    reopened: 0,
    named: null,
    add(pid, ppid, more = {}) {
      this.procs.set(pid, { ppid, pgid: more.pgid ?? pid, session: more.session ?? pid, alive: true, ignoresTerm: false, ...more });
      return pid;
    },
    spawnChild() {
      if (this.failSpawns > 0) {
        this.failSpawns -= 1;
        throw new Error('unable to chdir to /gone: No such file or directory');
      }
      const pid = this.nextPid++;
      this.spawned.push(pid);
      return this.add(pid, SUPERVISOR);
    },
    kill(pid, signal) {
      this.killed.push([pid, signal]);
      const targets = pid < 0 ? [...this.procs].filter(([, p]) => p.pgid === -pid).map(([q]) => q) : [pid];
      for (const target of targets) {
        const p = this.procs.get(target);
        if (p && p.alive && (signal === 'SIGKILL' || (signal === 'SIGTERM' && !p.ignoresTerm))) {
          this.die(target);
          p.killedBy = signal === 'SIGKILL' ? 9 : 15;
        }
      }
    },
    /** A process dies: its children go to the supervisor (a subreaper); it waits to be reaped. */
    die(pid) {
      const p = this.procs.get(pid);
      p.alive = false;
      p.zombie = true;
      for (const q of this.procs.values()) if (q.ppid === pid && q.alive) q.ppid = SUPERVISOR;
    },
    /** Live descendants, and dead children not yet reaped (their waitpid is still to come). */
    descendants() {
      const found = [...this.procs].filter(([, p]) => p.zombie && p.ppid === SUPERVISOR).map(([pid]) => pid);
      const walk = (parent) => {
        for (const [pid, p] of this.procs) if (p.alive && p.ppid === parent) { found.push(pid); walk(pid); }
      };
      walk(SUPERVISOR);
      return found;
    },
    heirs() { return [...this.procs].filter(([, p]) => p.alive && p.ppid === SUPERVISOR).map(([pid]) => pid); },
    namedChild() { return this.named !== null && this.descendants().includes(this.named) ? this.named : null; },
    identify(pid) { return this.procs.get(pid)?.alive ? `t${pid}` : null; },
    endedElsewhere(pid) {
      const p = this.procs.get(pid);
      return !p || (!p.alive && p.ppid !== SUPERVISOR);
    },
    now() { return this.time; },
    setTimer(callback, ms) { const t = { callback, at: this.time + ms, ms }; this.timers.push(t); return t; },
    clearTimer(t) { this.timers = this.timers.filter((x) => x !== t); },
    log(line) { this.lines.push(line); },
    reopenLog() { this.reopened += 1; },
    status(s) { this.statuses.push(s); },
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

/** waitpid for the supervisor's own zombies, as run.ts's SIGCHLD handler does. */
function reap(world, driver, codes = {}) {
  for (const [pid, p] of world.procs) {
    if (p.zombie && p.ppid === SUPERVISOR) {
      world.procs.delete(pid);
      const code = pid in codes ? codes[pid] : p.killedBy ? null : 1;
      driver.reaped(pid, code, code === null ? p.killedBy ?? 9 : null);
    }
  }
  driver.reapedAll();
}

function makeDriver(world, settings = SETTINGS) {
  return new SupervisorDriver(world, settings);
}

/** A child that crashed leaving a TERM-ignoring process in its group: the risky start of a drain. */
function crashLeavingStubborn(world, d) {
  const child = d.start();
  world.add(child + 1000, child, { pgid: child, ignoresTerm: true });
  world.advance(60000);
  world.die(child);
  reap(world, d);
  return { child, left: child + 1000 };
}

describe('SupervisorDriver', () => {
  it('USR1 while a dead child\'s processes drain starts one copy, once they are gone', () => {
    const world = fakeWorld();
    const d = makeDriver(world);
    const { child, left } = crashLeavingStubborn(world, d);
    assert.match(world.lines.at(-1), new RegExp(`app \\(pid ${child}\\) exited with status 1 after 1 min 0 s; restarting`));
    assert.equal(d.state.state, 'draining');
    d.signal('SIGUSR1');
    assert.deepEqual(world.spawned, [child], 'nothing starts beside what drains');
    world.advance(4999);
    assert.deepEqual(world.spawned, [child]);
    world.advance(1);
    assert.deepEqual(world.killed.at(-1), [left, 'SIGKILL']);
    reap(world, d);
    assert.equal(world.spawned.length, 2, 'exactly one new copy');
    assert.equal(d.state.child, world.spawned[1]);
    assert.equal(d.statusRecord().state, 'running');
    world.advance(60000);
    assert.equal(world.spawned.length, 2);
  });

  it('TERM while a dead child\'s processes drain waits for them, SIGKILLs them at --stop-timeout, then ends', () => {
    const world = fakeWorld();
    const d = makeDriver(world);
    const { left } = crashLeavingStubborn(world, d);
    d.signal('SIGTERM');
    assert.equal(d.state.state, 'stopping');
    assert.equal(world.finished, null, 'not while something is left');
    world.advance(5000);
    assert.deepEqual(world.killed.at(-1), [left, 'SIGKILL']);
    assert.equal(world.finished, null, 'not before it is reaped');
    reap(world, d);
    assert.equal(world.finished, 0);
    assert.equal(world.spawned.length, 1);
    assert.deepEqual(world.timers, [], 'no timer outlives the supervisor');
  });

  it('rehearses a stop without acting: no signal, spawn, line, record, timer or state changes, running or draining', () => {
    const world = fakeWorld();
    const d = makeDriver(world);
    const seen = () => JSON.stringify({ state: d.state, record: d.statusRecord(), killed: world.killed, spawned: world.spawned,
      lines: world.lines, statuses: world.statuses, timers: world.timers.map((t) => [t.at, t.ms]), finished: world.finished });
    const child = d.start();
    const running = seen();
    d.rehearseStop();
    assert.equal(seen(), running);
    // Draining: a dead child's stubborn leftover, with the drain's deadline armed.
    world.add(child + 1000, child, { pgid: child, ignoresTerm: true });
    world.die(child);
    reap(world, d);
    assert.equal(d.state.state, 'draining');
    const draining = seen();
    d.rehearseStop();
    assert.equal(seen(), draining);
    // And the real stop still does everything.
    d.signal('SIGTERM');
    world.advance(5000);
    reap(world, d);
    assert.equal(world.finished, 0);
  });

  it('leaves no timer behind after a stop, and kills nothing afterwards', () => {
    const world = fakeWorld();
    const d = makeDriver(world);
    const pid = d.start();
    world.procs.get(pid).ignoresTerm = true;
    d.signal('SIGTERM');
    assert.deepEqual(world.killed, [[-pid, 'SIGTERM']]);
    world.advance(5000);
    assert.deepEqual(world.killed.at(-1), [pid, 'SIGKILL']);
    reap(world, d, { [pid]: null });
    assert.equal(world.finished, 0);
    assert.deepEqual(world.timers, []);
    const kills = world.killed.length;
    world.advance(10 * 60000);
    assert.equal(world.killed.length, kills);
  });

  it('TERM during a USR1 restart keeps one kill deadline: none fires after the end', () => {
    const world = fakeWorld();
    const d = makeDriver(world);
    const pid = d.start();
    world.procs.get(pid).ignoresTerm = true;
    d.signal('SIGUSR1');
    world.advance(2000);
    d.signal('SIGTERM');
    assert.equal(d.state.state, 'stopping');
    assert.equal(world.timers.filter((t) => t.ms >= 1000).length, 1, 'one deadline, the stop\'s');
    world.advance(5000);
    reap(world, d);
    assert.equal(world.finished, 0);
    assert.deepEqual(world.timers, []);
    const kills = world.killed.length;
    world.advance(60000);
    assert.equal(world.killed.length, kills, 'no SIGKILL to a process group that may be someone else\'s by now');
    assert.equal(world.spawned.length, 1);
  });

  it('stops a setsid grandchild too: TERM to what the program left once it is gone', () => {
    const world = fakeWorld();
    const d = makeDriver(world);
    const pid = d.start();
    const grandchild = world.add(pid + 1, pid, { pgid: pid + 1, session: pid + 1 });
    d.signal('SIGINT');
    assert.equal(world.procs.get(grandchild).alive, true, 'its own session: the group TERM missed it');
    reap(world, d);
    assert.deepEqual(world.killed.at(-1), [grandchild, 'SIGTERM']);
    reap(world, d);
    assert.equal(world.finished, 0);
  });

  it('follows a program that forks away, starts no second copy while it lives, restarts when it dies', () => {
    const world = fakeWorld();
    const d = makeDriver(world);
    const pid = d.start();
    const daemon = world.add(pid + 1, pid, { session: pid + 1 });
    world.add(pid + 2, daemon, { pgid: daemon });
    world.die(pid);
    reap(world, d, { [pid]: 0 });
    assert.equal(d.state.state, 'running');
    assert.equal(d.state.child, daemon);
    assert.deepEqual(d.statusRecord(), {
      state: 'running', child: daemon, followed: true, childStarted: NOW, restarts: 0, failures: 0, pausedUntil: null, stopTimeout: 5, readyTimeout: 0, overlaps: 0, overlapFailure: null, lastDowntime: null,
    });
    assert.match(world.lines.at(-1), new RegExp(`forked away as pid ${daemon}; following it`));
    world.advance(60000);
    assert.deepEqual(world.spawned, [pid]);
    world.die(daemon);
    reap(world, d, { [daemon]: null });
    assert.deepEqual(world.killed, [[pid + 2, 'SIGTERM']], 'its worker, left behind, got TERM');
    assert.equal(world.procs.has(pid + 2), false, 'and was reaped before the successor started');
    assert.equal(world.spawned.length, 2);
    assert.equal(d.statusRecord().followed, false);
  });

  it('follows the pid --child-pidfile names, also when the file is written after the program forked away', () => {
    const world = fakeWorld();
    const d = makeDriver(world);
    const pid = d.start();
    const first = world.add(pid + 1, pid);
    const real = world.add(pid + 2, first);
    world.die(pid);
    reap(world, d, { [pid]: 0 });
    assert.equal(d.state.child, first);
    world.named = real;
    world.advance(FOLLOW_SENSOR_MS);
    assert.equal(d.state.child, real);
    assert.match(world.lines.at(-1), new RegExp(`pidfile names pid ${real}: following it instead of pid ${first}`));
    // Not our child (its parent lives): its end is seen by looking, not by waitpid.
    world.procs.get(real).alive = false;
    world.advance(FOLLOW_SENSOR_MS);
    assert.match(world.lines.find((l) => l.includes(`pid ${real}) ended`)), /its exit status went to its own parent/);
  });

  it('writes paused, failures and the next attempt into the record, and no child', () => {
    const world = fakeWorld();
    const d = makeDriver(world);
    d.start();
    for (let i = 0; i < 3; i++) {
      world.die(d.state.child);
      reap(world, d, {});
    }
    assert.deepEqual(d.statusRecord(), {
      state: 'paused', child: null, followed: false, childStarted: null, restarts: 2, failures: 3, pausedUntil: NOW + 30000, stopTimeout: 5, readyTimeout: 0, overlaps: 0, overlapFailure: null, lastDowntime: null,
    });
    assert.equal(world.statuses.at(-1).state, 'paused');
    assert.deepEqual(world.timers.map((t) => t.ms), [30000], 'one deadline: the pause');
    world.advance(30000);
    assert.equal(world.spawned.length, 4);
    assert.equal(d.statusRecord().failures, 3, 'still in a row until a run proves healthy');
  });

  it('ends at once when stopped during a pause', () => {
    const world = fakeWorld();
    const d = makeDriver(world, { ...SETTINGS, policy: { ...POLICY, attempts: 1 } });
    world.die(d.start());
    reap(world, d);
    assert.equal(d.state.state, 'paused');
    d.signal('SIGINT');
    assert.equal(world.finished, 0);
    assert.deepEqual(world.timers, []);
  });

  it('treats a child that cannot be started again as a failure, without recursing, even with --acceptable 0', () => {
    const world = fakeWorld();
    const d = makeDriver(world, { ...SETTINGS, policy: { ...POLICY, acceptable: 0 } });
    const pid = d.start();
    world.failSpawns = 100;
    world.die(pid);
    reap(world, d);
    assert.ok(world.lines.some((l) => /unable to start app: unable to chdir/.test(l)), world.lines.join('\n'));
    assert.ok(world.lines.some((l) => /pausing 30 s/.test(l)));
    assert.equal(d.state.state, 'paused');
  });

  it('throws the first start\'s failure to its caller, and leaves no timer', () => {
    const world = fakeWorld({ failSpawns: 1 });
    const d = makeDriver(world);
    assert.throws(() => d.start(), /unable to chdir to \/gone/);
    assert.deepEqual(world.timers, []);
    assert.equal(world.finished, null);
  });

  it('passes HUP and other signals on to the child, and reopens its log', () => {
    const world = fakeWorld();
    const d = makeDriver(world);
    const pid = d.start();
    d.signal('SIGHUP');
    d.signal('SIGUSR2');
    assert.deepEqual(world.killed, [[pid, 'SIGHUP'], [pid, 'SIGUSR2']]);
    assert.equal(world.reopened, 1);
  });

  it('reaches a deadline longer than a Node timer holds in several hops', () => {
    const world = fakeWorld();
    const month = 30 * 86400;
    const d = makeDriver(world, { ...SETTINGS, policy: { ...POLICY, attempts: 1, delay: month } });
    world.die(d.start());
    reap(world, d);
    assert.ok(world.timers.every((t) => t.ms <= 2 ** 31 - 1));
    world.advance(month * 1000 - 1);
    assert.equal(world.spawned.length, 1);
    world.advance(1);
    assert.equal(world.spawned.length, 2);
  });
});

// ---- readiness (--ready notify|tcp:...): the cells of `starting` with a child not ready yet ----

describe('readiness in the state table', () => {
  const waiting = ctx({ state: 'starting', first: true, child: 300, childStarted: NOW - 2000, deadline: NOW + 18000 });
  const go = (context, event) => {
    const result = step(context, event, NOW, WAIT);
    return { next: result.context, actions: result.actions, lines: result.actions.filter((a) => a.do === 'log').map((a) => a.line) };
  };

  it('keeps a spawned child starting, with --ready-timeout as the deadline, and no ready yet', () => {
    const r = go(C.firstStart, E.spawned);
    assert.equal(r.next.state, 'starting');
    assert.equal(r.next.child, 300);
    assert.equal(r.next.deadline, NOW + 20000);
    assert.equal(r.next.cause, null, 'nobody has told the new child to go');
    assert.equal(go({ ...C.starting, cause: 'restarted by SIGUSR1 to the supervisor (--restart)' }, E.spawned).next.cause, null);
    assert.equal(r.next.first, true, 'the launcher still waits');
    assert.deepEqual(r.lines, ['started app (pid 300); waiting up to 20 s for it to be ready']);
    assert.ok(!r.actions.some((a) => a.do === 'ready'));
  });

  it('says ready once, to the launcher for the first child, and drops the deadline', () => {
    const r = go(waiting, E.ready);
    assert.equal(r.next.state, 'running');
    assert.equal(r.next.deadline, null);
    assert.equal(r.next.first, false);
    assert.deepEqual(r.actions.at(-1), { do: 'ready', pid: 300, first: true });
    assert.equal(r.lines[0], 'app (pid 300) is ready after 2.0 s');
    const later = go({ ...waiting, first: false }, E.ready);
    assert.deepEqual(later.actions.at(-1), { do: 'ready', pid: 300, first: false });
  });

  it('a first child that exits before ready: stop what it left, then end with exit 4 and the reason', () => {
    const r = go(waiting, E.exit(300, 3));
    assert.equal(r.next.state, 'stopping');
    assert.equal(r.next.child, null);
    assert.equal(r.next.notReady, 'app (pid 300) exited with status 3 after 2.0 s before it was ready');
    const end = go(r.next, E.empty);
    assert.equal(end.next.state, 'finished');
    assert.equal(end.actions[0].code, 4);
    assert.equal(end.actions[0].error.exitCode, 4);
    assert.equal(end.actions[0].error.message, r.next.notReady);
  });

  it('a first child not ready in time is stopped with the stop signal, and the start fails (exit 4)', () => {
    const r = step(waiting, E.deadline, NOW, { ...WAIT, stopSignal: 'SIGQUIT' });
    assert.equal(r.context.state, 'stopping');
    assert.equal(r.context.notReady, 'app (pid 300) was not ready within 20 s');
    assert.equal(r.context.cause, 'not ready within 20 s (--ready-timeout)', 'its end\'s sentence says why it was stopped');
    assert.deepEqual(r.actions.filter((a) => a.do === 'signal'), [{ do: 'signal', pid: 300, group: true, signal: 'SIGQUIT' }]);
  });

  it('a later child not ready in time is a failed start: drained, then the policy decides', () => {
    const r = go({ ...waiting, first: false }, E.deadline);
    assert.equal(r.next.state, 'draining');
    assert.equal(r.next.counts.inRow, 1);
    assert.match(r.lines[0], /was not ready within 20 s; restarting \(failure 1 of 3\)/);
  });

  it('--stop-signal replaces SIGTERM for a stop and a restart', () => {
    const settings = { ...SETTINGS, stopSignal: 'SIGQUIT' };
    const stop = step(C.running, E.stop, NOW, settings);
    assert.deepEqual(stop.actions.filter((a) => a.do === 'signal'), [{ do: 'signal', pid: 100, group: true, signal: 'SIGQUIT' }]);
    assert.equal(stop.context.cause, 'stopped by SIGTERM to the supervisor (--stop)', 'the cause names the signal the supervisor got');
    const restart = step(C.running, E.restart, NOW, settings);
    assert.deepEqual(restart.actions.filter((a) => a.do === 'signal'), [{ do: 'signal', pid: 100, group: true, signal: 'SIGQUIT' }]);
    assert.equal(restart.context.cause, 'restarted by SIGUSR1 to the supervisor (--restart)');
  });
});

describe('notification messages', () => {
  const { parseNotify } = require('../dist/supervisor/notify-channel');
  const { parseReadyMode } = require('../dist/supervisor/readiness');
  const { parseListen } = require('../dist/supervisor/held-sockets');
  it('listenFd and serverListenOptions take the sockets only when LISTEN_PID is this process', () => {
    const { listenFd, serverListenOptions } = require('../dist/library/listen-fds');
    const env = { LISTEN_PID: String(process.pid), LISTEN_FDS: '2', LISTEN_FDNAMES: 'http:admin' };
    assert.equal(listenFd(undefined, env), 3);
    assert.equal(listenFd('admin', env), 4);
    assert.equal(listenFd('other', env), null);
    assert.equal(listenFd(undefined, { ...env, LISTEN_PID: String(process.pid + 1) }), null, 'a parent\'s sockets are not ours');
    assert.deepEqual(serverListenOptions(8080), { port: 8080 }, 'not supervised: the fallback');
    assert.deepEqual(serverListenOptions('/run/app.sock'), { path: '/run/app.sock' });
  });

  it('parses sd_notify lines, the last value winning', () => {
    assert.deepEqual(parseNotify('READY=1\nSTATUS=a=b\nnonsense\nSTATUS=c\n'), { READY: '1', STATUS: 'c' });
  });
  it('parses --ready and --listen', () => {
    assert.deepEqual(parseReadyMode('tcp:[::1]:8080'), { kind: 'tcp', host: '::1', port: 8080 });
    assert.deepEqual(parseReadyMode('tcp::81'), { kind: 'tcp', host: '127.0.0.1', port: 81 });
    assert.throws(() => parseReadyMode('tcp:host'), /bad --ready/);
    assert.deepEqual(parseListen('web=127.0.0.1:80'), { name: 'web', host: '127.0.0.1', port: 80 });
    assert.deepEqual(parseListen(':80'), { name: 'listen', host: '0.0.0.0', port: 80 });
    assert.deepEqual(parseListen('[::1]:80'), { name: 'listen', host: '::1', port: 80 });
    assert.deepEqual(parseListen('/run/app.sock'), { name: 'listen', path: '/run/app.sock' });
    assert.throws(() => parseListen('example.com:80'), /bad --listen/);
    assert.throws(() => parseListen('1.2.3.4:70000'), /bad --listen/);
  });
});

// ---- overlapping restarts (--listen): the old child serves until the new one is ready ----

describe('overlapping restarts in the state table', () => {
  const OVERLAP = { ...WAIT, overlap: true };
  const go = (context, event, now = NOW) => {
    const result = step(context, event, now, OVERLAP);
    return { next: result.context, actions: result.actions, signals: result.actions.filter((a) => a.do === 'signal').map((a) => `${a.group ? -a.pid : a.pid}:${a.signal}`) };
  };

  it('USR1 starts the new child beside the old one, signals nobody; the old one stops once the new one is ready', () => {
    const begin = go(C.running, E.restart);
    assert.equal(begin.next.state, 'starting');
    assert.deepEqual(begin.next.old, { pid: 100, started: C.running.childStarted, cause: 'restarted by SIGUSR1 to the supervisor (--restart)' });
    assert.equal(begin.next.overlaps, 1);
    assert.deepEqual(begin.signals, []);
    assert.deepEqual(begin.actions.map((a) => a.do), ['log', 'spawn']);
    const spawned = go(begin.next, E.spawned);
    assert.equal(spawned.next.state, 'starting');
    assert.equal(spawned.next.child, 300);
    const ready = go(spawned.next, E.ready);
    assert.equal(ready.next.state, 'running');
    assert.equal(ready.next.child, 300);
    assert.equal(ready.next.old, null);
    assert.deepEqual(ready.signals, ['-100:SIGTERM']);
    assert.deepEqual(ready.next.retiring, [{ pid: 100, started: C.running.childStarted, cause: 'restarted by SIGUSR1 to the supervisor (--restart)', next: 'replaced by pid 300', until: NOW + 5000, killed: false }]);
    assert.equal(ready.next.deadline, NOW + 5000, 'SIGKILL for the old one after --stop-timeout');
    // The old one finishes its requests and exits: its end told like any other (log, lastExit, --on-exit),
    // then forgotten, no deadline left; the service is untouched.
    const gone = go(ready.next, E.exit(100, 0), C.running.childStarted + 61000);
    assert.deepEqual(gone.actions.map((a) => a.do), ['ended']);
    const end = gone.actions[0].end;
    assert.equal(endSentence(end), 'app (pid 100) exited with status 0 after 1 min 1 s: restarted by SIGUSR1 to the supervisor (--restart); replaced by pid 300');
    assert.equal(end.killedBySupervisor, false);
    assert.deepEqual(gone.next.retiring, []);
    assert.equal(gone.next.deadline, null);
    assert.equal(gone.next.child, 300);
    assert.equal(gone.next.state, 'running');
  });

  it('with readiness at exec (the default), the old child is told to go at its successor\'s exec', () => {
    const EXEC = { ...SETTINGS, overlap: true };
    const begin = step(C.running, E.restart, NOW, EXEC);
    assert.equal(begin.context.state, 'starting');
    assert.equal(begin.context.old.pid, 100);
    const spawned = step(begin.context, E.spawned, NOW + 10, EXEC);
    assert.equal(spawned.context.state, 'running');
    assert.equal(spawned.context.child, 300);
    assert.equal(spawned.context.old, null);
    assert.deepEqual(spawned.actions.filter((a) => a.do === 'signal').map((a) => `${a.group ? -a.pid : a.pid}:${a.signal}`), ['-100:SIGTERM']);
    assert.deepEqual(spawned.context.retiring.map((r) => [r.pid, r.next, r.until]), [[100, 'replaced by pid 300', NOW + 10 + 5000]]);
    assert.equal(spawned.context.deadline, NOW + 10 + 5000);
    assert.deepEqual(spawned.actions.filter((a) => a.do === 'log').map((a) => a.line),
      ['started app (pid 300)', 'app (pid 300) is ready after 0.0 s: stopping pid 100 with SIGTERM']);
    assert.ok(spawned.actions.some((a) => a.do === 'ready' && a.pid === 300));
  });

  it('a failing health check or the memory limit overlaps too: the new copy starts beside the unhealthy one', () => {
    const begin = go(C.running, E.unhealthy);
    assert.equal(begin.next.state, 'starting');
    assert.deepEqual(begin.next.old, { pid: 100, started: C.running.childStarted, cause: 'restarted: failed 3 health checks in a row' });
    assert.deepEqual(begin.signals, []);
    assert.deepEqual(begin.actions, [
      { do: 'log', line: 'app (pid 100) failed 3 health checks in a row; last output: "503": starting a new app beside pid 100, which serves until it is ready' },
      { do: 'spawn' }]);
    // A followed daemon is not ours to overlap: the plain graceful restart.
    assert.equal(go(C.followed, E.unhealthy).next.state, 'draining');
  });

  it('an old child past --stop-timeout gets SIGKILL, and its end says so', () => {
    const retiring = { pid: 100, started: NOW - 9000, cause: 'restarted by SIGUSR1 to the supervisor (--restart)', next: 'replaced by pid 300', until: NOW, killed: false };
    const context = ctx({ state: 'running', child: 300, childStarted: NOW, retiring: [retiring], deadline: NOW });
    const r = go(context, E.deadline);
    assert.deepEqual(r.signals, ['-100:SIGKILL']);
    assert.deepEqual(r.next.retiring.map((x) => [x.pid, x.until, x.killed]), [[100, null, true]], 'kept until reaped, with no deadline');
    assert.equal(r.next.deadline, null);
    const gone = go(r.next, E.exit(100, null, { signal: 9 }), NOW + 1000);
    assert.equal(endSentence(gone.actions[0].end),
      'app (pid 100) killed by signal 9 (SIGKILL) after 10.0 s: restarted by SIGUSR1 to the supervisor (--restart), then SIGKILL when --stop-timeout (5 s) was up; replaced by pid 300');
    assert.equal(gone.actions[0].end.killedBySupervisor, true);
    assert.deepEqual(gone.next.retiring, []);
  });

  it('a new child that exits or times out before ready: the old one serves on, and the failure is recorded', () => {
    const starting = ctx({ state: 'starting', child: 300, childStarted: NOW - 1000, deadline: NOW + 19000, old: { pid: 100, started: NOW - 60000 }, overlaps: 4 });
    const died = go(starting, E.exit(300, 3));
    assert.equal(died.next.state, 'running');
    assert.equal(died.next.child, 100);
    assert.equal(died.next.childStarted, NOW - 60000);
    assert.deepEqual(died.next.overlapFailure, { attempt: 4, message: 'app (pid 300) exited with status 3 after 1.0 s before it was ready', pid: 300 });
    assert.deepEqual(died.signals, [], 'the old child is not touched');
    // Its end is told like any other: the sentence (with its last words in the world), lastExit, --on-exit.
    assert.deepEqual(died.actions.map((a) => a.do), ['ended']);
    assert.equal(endSentence(died.actions[0].end), 'app (pid 300) exited with status 3 after 1.0 s before it was ready; pid 100 goes on serving');
    const late = go(starting, E.deadline);
    assert.equal(late.next.child, 100);
    assert.deepEqual(late.signals, ['-300:SIGKILL']);
    assert.match(late.next.overlapFailure.message, /was not ready within 20 s/);
    assert.equal(late.next.overlapFailure.pid, 300);
    // Its end, when reaped, is told too.
    const reaped = go(late.next, E.exit(300, null, { signal: 9 }), NOW + 1);
    assert.equal(endSentence(reaped.actions[0].end), 'app (pid 300) killed by signal 9 (SIGKILL) after 1.0 s: not ready within 20 s (--ready-timeout); pid 100 goes on serving');
    assert.equal(reaped.next.child, 100);
    assert.deepEqual(reaped.next.retiring, []);
  });

  it('the old child dying while the new one starts is told and forgotten; USR1 meanwhile is ignored; TERM stops both, and tells both ends', () => {
    const starting = ctx({ state: 'starting', child: 300, childStarted: NOW, deadline: NOW + 20000, old: { pid: 100, started: NOW - 60000 }, overlaps: 1 });
    const oldGone = go(starting, E.exit(100, null));
    assert.equal(oldGone.next.old, null);
    assert.deepEqual(oldGone.actions.map((a) => a.do), ['ended']);
    assert.match(endSentence(oldGone.actions[0].end), /^app \(pid 100\) .* after 1 min 0 s; its successor \(pid 300\) is starting$/, 'nobody here told it to go');
    assert.equal(oldGone.next.state, 'starting');
    assert.equal(oldGone.next.deadline, NOW + 20000, 'the ready deadline stays');
    const again = go(starting, E.restart);
    assert.deepEqual(again.next, starting);
    const stop = go(starting, E.stop);
    assert.equal(stop.next.state, 'stopping');
    assert.deepEqual(stop.signals.sort(), ['-100:SIGTERM', '-300:SIGTERM']);
    // Both ends are told: the old child's as one the stop ended, the new one's as the service's.
    const oldStopped = go(stop.next, E.exit(100, 0), NOW + 1000);
    assert.equal(endSentence(oldStopped.actions[0].end), 'app (pid 100) exited with status 0 after 1 min 1 s: stopped by SIGTERM to the supervisor (--stop); stopping');
    assert.equal(oldStopped.next.child, 300);
    const killed = go({ ...oldStopped.next, retiring: stop.next.retiring, killed: true }, E.exit(100, null, { signal: 9 }), NOW + 1000);
    assert.match(endSentence(killed.actions[0].end), /: stopped by SIGTERM to the supervisor \(--stop\), then SIGKILL when --stop-timeout \(5 s\) was up; stopping$/);
    assert.equal(killed.actions[0].end.killedBySupervisor, true);
    const newStopped = go(oldStopped.next, E.exit(300, 0), NOW + 1000);
    assert.equal(newStopped.actions[0].do, 'ended');
    assert.equal(newStopped.actions[0].end.pid, 300);
  });

  it('without held sockets a restart drains first, as before, and the ready line says how long nothing served', () => {
    const drain = step(C.running, E.restart, NOW, WAIT).context;
    assert.equal(drain.state, 'draining');
    assert.equal(drain.downSince, NOW);
    const starting = step(drain, E.exit(100, 0), NOW + 100, WAIT).context;
    const spawned = step(step(starting, E.empty, NOW + 200, WAIT).context, E.spawned, NOW + 300, WAIT).context;
    const ready = step(spawned, E.ready, NOW + 1500, WAIT);
    assert.equal(ready.context.state, 'running');
    assert.equal(ready.context.lastDowntime, 1.5);
    assert.equal(ready.context.downSince, null);
    assert.match(ready.actions[0].line, /is ready after 1\.2 s; the service was down 1\.5 s \(no --listen\)$/);
  });
});

describe('the driver and readiness', () => {
  it('tells the launcher a child is ready only once the status record names it (a launcher that returns finds it)', () => {
    for (const readiness of ['exec', 'wait']) {
      const world = fakeWorld();
      const order = [];
      const status = world.status.bind(world);
      world.status = (record) => { order.push(`status ${record.state} ${record.child}`); status(record); };
      world.ready = (pid, first) => order.push(`ready ${pid} ${first}`);
      const driver = new SupervisorDriver(world, { ...SETTINGS, readiness });
      const child = driver.start();
      if (readiness === 'wait') {
        assert.deepEqual(order, ['status starting 100'], 'nothing said before READY=1');
        driver.post({ type: 'ready' });
      }
      assert.equal(child, 100);
      assert.deepEqual(order.slice(-2), ['status running 100', 'ready 100 true']);
    }
  });
});
