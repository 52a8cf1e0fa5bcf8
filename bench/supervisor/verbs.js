'use strict';
// The control verbs' wall time against `node -e 0`: `--status` and `--running` of a running daemon, `--stop`
// until it is gone; and the supervisor's own share of a stop (SIGTERM to gone, no CLI).
const path = require('node:path');
const goals = require('../goals');
const procfs = require('../../tools/procfs');
const { nowMs, tick, waitFor, median, stats, runPairs, measureInto } = require('../lib/measure');
const { DAEMONIZE, nodePath, timedOk, nodeBaselineOnce, nodeRow } = require('../lib/commands');
const { sleepArgv, startDaemonize, startLibslack } = require('../lib/daemons');

/** Starts a daemon with `start`, waits for its child, runs `fn(handle, child)`, kills what is left. */
function withDaemon(start, fn) {
  const h = start();
  try {
    return fn(h, waitFor(() => h.child(), 5000));
  } finally {
    h.kill();
  }
}

/** `--status` and `--running` of one running `daemonize -r` daemon, each in its own pairs. */
async function queryRows(ctx, dir) {
  const pairs = ctx.quick ? 9 : goals.pairs.judged;
  const node = nodePath();
  const h = startDaemonize(dir, sleepArgv);
  const rows = [];
  try {
    waitFor(() => h.child(), 5000);
    for (const verb of ['--status', '--running']) {
      const row = nodeRow(node, { measure: `${verb}: wall time`, subject: `daemonize ${verb}`,
        compare: { line: 'query', tool: 'daemonize', qualifier: verb },
        goal: goals.status, command: `bin/daemonize.cjs -F P ${verb}  (of daemonize -r -F P -- sleep 1000.N)` });
      rows.push(row);
      ctx.log(`supervisor: daemonize ${verb} vs node -e 0, ${pairs} pairs`);
      Object.assign(row, await runPairs({ pairs, baseline: () => nodeBaselineOnce(node),
        subject: () => timedOk(`daemonize ${verb}`, DAEMONIZE, ['-F', h.pidfile, verb], { stderrFile: path.join(dir, `${h.token}.verb.err`) }) }));
    }
  } finally {
    h.kill();
  }
  return rows;
}

async function stopRows(ctx, dir, daemon) {
  const pairs = ctx.quick ? 9 : 15;
  const judgedPairs = ctx.quick ? 9 : goals.pairs.judged;
  const node = nodePath();
  const row = (fields) => nodeRow(node, { measure: '--stop: wall time', ...fields });
  const ours = row({ subject: 'daemonize -r --stop', compare: { line: 'stop', tool: 'daemonize' }, goal: goals.stop,
    command: 'bin/daemonize.cjs -F P --stop  (of daemonize -r -F P -- sleep 1000.N)' });
  let leftovers = 0;
  ctx.log(`supervisor: daemonize --stop vs node -e 0, ${judgedPairs} pairs`);
  await measureInto(ours, () => runPairs({ pairs: judgedPairs, baseline: () => nodeBaselineOnce(node),
    subject: () => withDaemon(() => startDaemonize(dir, sleepArgv), (h, child) => {
      const ms = h.stop();
      // --stop returns once everything is gone: check at once, no grace.
      if (procfs.isAlive(h.supervisor) || (child && procfs.isAlive(child)) || procfs.findByToken(h.token).length > 0) leftovers += 1;
      return ms;
    }) }));
  if (ours.status === 'ok') {
    ours.notes.push('daemonize -r --stop: returns once supervisor and child are gone; found something alive right after it returned in '
      + `${leftovers} of ${judgedPairs + 1} runs`);
  }

  const returns = row({ subject: 'daemon (libslack) --stop', compare: { line: 'stop', tool: 'libslack', qualifier: 'returns' },
    command: 'daemon --pidfiles=D --name=N --stop' });
  const gone = row({ subject: 'daemon (libslack) --stop, until gone', compare: { line: 'stop', tool: 'libslack', qualifier: 'gone' },
    command: 'daemon ... --stop, then poll /proc until supervisor and client are gone' });
  if (!daemon) return [ours, Object.assign(returns, { status: 'not installed' }), Object.assign(gone, { status: 'not installed' })];
  ctx.log(`supervisor: daemon (libslack) --stop vs node -e 0, ${pairs} pairs`);
  const goneMs = [];
  await measureInto(returns, () => runPairs({ pairs, baseline: () => nodeBaselineOnce(node),
    subject: (i, warm) => withDaemon(() => startLibslack(daemon, dir, sleepArgv), (h) => {
      const t = h.stop();
      if (!warm) goneMs.push(t.goneMs);
      return t.ms;
    }) }));
  if (returns.status === 'ok') {
    const ratio = goneMs.map((ms, i) => ms / returns.samples.baseline[i]);
    Object.assign(gone, { status: 'ok', n: goneMs.length, median: median(goneMs), baselineMedian: returns.baselineMedian, ratio: median(ratio),
      samples: { subject: goneMs, baseline: returns.samples.baseline, ratio } });
    returns.notes.push('daemon (libslack) --stop: sends SIGTERM and returns at once, without waiting for the daemon to go; '
      + 'the "until gone" row adds the time until supervisor and client are gone (polled every 0.1 ms)');
  } else Object.assign(gone, { status: 'error', reason: returns.reason });
  return [ours, returns, gone];
}

/** The supervisor's own shutdown, without any CLI: SIGTERM to it, until it and its child are gone. */
async function sigtermRows(ctx, dir, daemon) {
  const runs = ctx.quick ? 9 : 15;
  const once = (start) => withDaemon(start, (h, child) => {
    if (!child) throw new Error('no child');
    const t0 = nowMs();
    process.kill(h.supervisor, 'SIGTERM');
    const done = waitFor(() => !procfs.isAlive(h.supervisor) && !procfs.isAlive(child) && nowMs(), 10000, 0.1);
    if (!done) throw new Error('still alive 10 s after SIGTERM');
    return done - t0;
  });
  const subjects = [
    ['daemonize -r', () => startDaemonize(dir, sleepArgv)],
    ['daemon (libslack)', daemon && (() => startLibslack(daemon, dir, sleepArgv))],
  ];
  const rows = [];
  for (const [subject, start] of subjects) {
    const row = { measure: 'stop: SIGTERM to supervisor -> it and child gone', subject, unit: 'ms', goal: null, notes: [] };
    rows.push(row);
    if (!start) {
      row.status = 'not installed';
      continue;
    }
    ctx.log(`supervisor: SIGTERM -> gone, ${subject}, ${runs} runs`);
    await measureInto(row, async () => {
      const samples = [];
      for (let i = 0; i <= runs; i++) {
        await tick();
        const ms = once(start);
        if (i > 0) samples.push(ms);
      }
      return stats(samples);
    });
  }
  rows[0].notes.push('stop: SIGTERM -> gone: the supervisor\'s own share of a stop (no CLI start-up), polled every 0.1 ms');
  return rows;
}

module.exports = { queryRows, stopRows, sigtermRows };
