'use strict';
// Pure pieces of the verbs: the human status line, the LSB code, how long --stop waits.
const assert = require('node:assert/strict');
const { describe, it } = require('node:test');

const { describeInspection, statusCode } = require('../dist/control/describe');
const { stopTimeoutFor, SUPERVISOR_MARGIN_SECONDS } = require('../dist/control/stop');
const { checkSeconds, MAX_SECONDS } = require('../dist/durations');

const NOW = 1_800_000_000_000;

function record(fields) {
  return { supervisor: 40, state: 'running', child: null, childStarted: null, started: NOW - 65_000, restarts: 2,
    failures: null, pausedUntil: null, stopTimeout: null, log: '/var/log/web.log', lastExit: null, ...fields };
}

function found(fields) {
  return { name: 'web', pidfile: '/run/web.pid', identity: { daemon: 40 }, state: 'running', running: true, pid: 40,
    supervised: true, record: null, child: null, childSource: null, ...fields };
}

describe('the --status line', () => {
  it('says a paused supervisor is paused, after how many failures, and when it tries again; LSB 3', () => {
    const paused = found({ state: 'paused', running: false, record: record({ state: 'paused', failures: 5, pausedUntil: NOW + 27_000 }) });
    assert.equal(describeInspection(paused, NOW),
      'web: paused after 5 failures; next attempt in 27.0 s (supervisor pid 40, up 1 min 5 s, 2 restarts, log /var/log/web.log)');
    assert.equal(statusCode(paused), 3);
  });

  it('names a child found in /proc when the record is missing', () => {
    const line = describeInspection(found({ child: 41, childSource: 'proc' }), NOW);
    assert.match(line, /^web: running as pid 40 \(supervisor\), child pid 41, .*status record missing: read from \/proc$/);
  });

  it('gives 0 running, 1 dead with a pidfile, 3 stopped', () => {
    assert.equal(statusCode(found({})), 0);
    assert.equal(statusCode(found({ state: 'dead', running: false })), 1);
    assert.equal(describeInspection(found({ state: 'dead', running: false })), 'web: dead, pidfile /run/web.pid remains');
    assert.equal(statusCode(found({ state: 'stopped', running: false })), 3);
  });
});

describe('how long --stop waits before SIGKILL', () => {
  it('as given; else the supervisor\'s own --stop-timeout plus a margin; else 10 s for a plain daemon', () => {
    assert.equal(stopTimeoutFor(found({ record: record({ stopTimeout: 30 }) }), 2), 2);
    assert.equal(stopTimeoutFor(found({ record: record({ stopTimeout: 30 }) }), undefined), 30 + SUPERVISOR_MARGIN_SECONDS);
    assert.equal(stopTimeoutFor(found({ record: null }), undefined), 10 + SUPERVISOR_MARGIN_SECONDS);
    assert.equal(stopTimeoutFor(found({ supervised: false }), undefined), 10);
  });

  it('bounds a duration at 2^31-1 ms, what a Node timer holds', () => {
    assert.equal(MAX_SECONDS * 1000 <= 2 ** 31 - 1, true);
    assert.equal(checkSeconds('--x', '2147483', 0), 2147483);
    assert.throws(() => checkSeconds('--x', '2147483.5', 0), /expected a number of seconds from 0 to 2147483/);
    assert.throws(() => checkSeconds('--x', 'nan', 0), /bad --x/);
  });
});

describe('which lock holder is the daemon', () => {
  const { chooseDaemon } = require('../dist/identity');
  const entry = (pid, ppid, startTicks) => ({ pid, ppid, pgrp: pid, session: pid, state: 'S', startTicks, exitStatus: null });
  const holders = [entry(100, 1, 5), entry(101, 100, 6), entry(102, 101, 7)];

  it('the holder the pidfile names; else the top of the holders\' tree; none without holders', () => {
    assert.equal(chooseDaemon(holders, 102), 102);
    assert.equal(chooseDaemon(holders, 7), 100, 'a number that names no holder is ignored');
    assert.equal(chooseDaemon(holders, null), 100);
    assert.equal(chooseDaemon([entry(101, 100, 6), entry(102, 101, 7)], 0), 101);
    assert.equal(chooseDaemon([], 1), null);
  });
});
