'use strict';
// The control verbs' wall time against `node -e 0`: `--status` and `--running` of a running daemon, `--stop`
// until it is gone; and the supervisor's own share of a stop (SIGTERM to gone).
const path = require('node:path');
const { alive, sleepArgv, startDaemonize, startLibslack } = require('./daemons');
const lib = require('../lib');
const goals = require('../goals');
const { tick } = require('../lib');

async function stopRows(ctx, dir, daemon) {
  const pairs = ctx.quick ? 9 : 15;
  const node = lib.nodePath();
  const baselineOnce = () => lib.nodeBaselineOnce(node);
  const rows = [];
  const base = { measure: '--stop: wall time', baseline: 'node -e 0', baselineCommand: `${node} -e 0`, unit: 'ms' };

  {
    const row = { ...base, subject: 'daemonize -r --stop', compare: { line: 'stop', tool: 'daemonize' }, command: 'bin/daemonize -F P --stop  (of daemonize -r -F P -- sleep 1000.N)', goal: goals.stop, notes: [] };
    rows.push(row);
    let leftovers = 0;
    try {
      ctx.log(`supervisor: daemonize --stop vs node -e 0, ${pairs} pairs`);
      Object.assign(row, { status: 'ok' }, await lib.runPairsAsync({
        pairs,
        warmup: 1,
        baseline: baselineOnce,
        subject: () => {
          const token = lib.uniqueToken();
          const h = startDaemonize(dir, token, sleepArgv(token));
          try {
            const child = lib.waitFor(() => h.child(), 5000);
            const ms = h.stop();
            // --stop returns once everything is gone: check at once, no grace.
            if (alive(h.supervisor) || alive(child) || lib.pidsWithToken(token).length > 0) leftovers += 1;
            return ms;
          } finally {
            h.kill();
          }
        },
      }));
      row.notes.push(`daemonize -r --stop: returns once supervisor and child are gone; found something alive right after it returned in ${leftovers} of ${pairs + 1} runs`);
    } catch (error) {
      row.status = 'error';
      row.reason = error.message;
    }
  }

  const lsRow = { ...base, subject: 'daemon (libslack) --stop', compare: { line: 'stop', tool: 'libslack', qualifier: 'returns' }, command: 'daemon --pidfiles=D --name=N --stop', goal: null, notes: [] };
  const lsGoneRow = { ...base, subject: 'daemon (libslack) --stop, until gone', compare: { line: 'stop', tool: 'libslack', qualifier: 'gone' }, command: 'daemon ... --stop, then poll /proc until supervisor and client are gone', goal: null, notes: [] };
  rows.push(lsRow, lsGoneRow);
  if (!daemon) {
    lsRow.status = 'not installed';
    lsGoneRow.status = 'not installed';
    return rows;
  }
  try {
    ctx.log(`supervisor: daemon (libslack) --stop vs node -e 0, ${pairs} pairs`);
    const gone = [];
    const result = await lib.runPairsAsync({
      pairs,
      warmup: 1,
      baseline: baselineOnce,
      subject: (i, warmup) => {
        const token = lib.uniqueToken();
        const h = startLibslack(daemon, dir, token, sleepArgv(token));
        try {
          lib.waitFor(() => h.child(), 5000);
          const t = h.stop();
          if (!warmup) gone.push({ goneMs: t.goneMs, ms: t.ms });
          return t.ms;
        } finally {
          h.kill();
        }
      },
      onPair: () => undefined,
    });
    Object.assign(lsRow, { status: 'ok' }, result);
    const goneMs = gone.map((g) => g.goneMs);
    const ratios = goneMs.map((ms, i) => ms / result.samples.baseline[i]);
    Object.assign(lsGoneRow, {
      status: 'ok',
      n: goneMs.length,
      median: lib.median(goneMs),
      baselineMedian: result.baselineMedian,
      ratio: lib.median(ratios),
      samples: { subject: goneMs, baseline: result.samples.baseline, ratio: ratios },
    });
    lsRow.notes.push('daemon (libslack) --stop: sends SIGTERM and returns at once, without waiting for the daemon to go; '
      + 'the "until gone" row adds the time until supervisor and client are gone (polled every 0.1 ms)');
  } catch (error) {
    lsRow.status = 'error';
    lsRow.reason = error.message;
    lsGoneRow.status = 'error';
    lsGoneRow.reason = error.message;
  }
  return rows;
}

/** The supervisor's own shutdown, without any CLI: SIGTERM to it, until it and its child are gone. */
async function sigtermRows(ctx, dir, daemon) {
  const runs = ctx.quick ? 9 : 15;
  const measure = 'stop: SIGTERM to supervisor -> it and child gone';
  const once = (start) => {
    const h = start();
    try {
      const child = lib.waitFor(() => h.child(), 5000);
      if (!child) throw new Error('no child');
      const t0 = lib.nowMs();
      process.kill(h.supervisor, 'SIGTERM');
      const done = lib.waitFor(() => lib.isGone(h.supervisor) && lib.isGone(child) && lib.nowMs(), 10000, 0.1);
      if (!done) throw new Error('still alive 10 s after SIGTERM');
      return done - t0;
    } finally {
      h.kill();
    }
  };
  const subjects = [
    { subject: 'daemonize -r', start: () => {
      const token = lib.uniqueToken();
      return startDaemonize(dir, token, sleepArgv(token));
    } },
    { subject: 'daemon (libslack)', start: daemon && (() => {
      const token = lib.uniqueToken();
      return startLibslack(daemon, dir, token, sleepArgv(token));
    }) },
  ];
  const rows = [];
  for (const { subject, start } of subjects) {
    const row = { measure, subject, unit: 'ms', goal: null, notes: [] };
    rows.push(row);
    if (!start) {
      row.status = 'not installed';
      continue;
    }
    try {
      ctx.log(`supervisor: SIGTERM -> gone, ${subject}, ${runs} runs`);
      const samples = [];
      for (let i = 0; i < runs + 1; i++) {
        await tick();
        const ms = once(start);
        if (i > 0) samples.push(ms);
      }
      Object.assign(row, { status: 'ok', n: samples.length, median: lib.median(samples), min: Math.min(...samples), max: Math.max(...samples), samples });
    } catch (error) {
      row.status = 'error';
      row.reason = error.message;
    }
  }
  rows[0].notes.push('stop: SIGTERM -> gone: the supervisor\'s own share of a stop (no CLI start-up), polled every 0.1 ms');
  return rows;
}

/** `--status` and `--running` of one running `daemonize -r` daemon, each in its own pairs. */
async function queryRows(ctx, dir) {
  const pairs = ctx.quick ? 9 : 21;
  const node = lib.nodePath();
  const token = lib.uniqueToken();
  const h = startDaemonize(dir, token, sleepArgv(token));
  const rows = [];
  try {
    lib.waitFor(() => h.child(), 5000);
    for (const verb of ['--status', '--running']) {
      const row = { measure: `${verb}: wall time`, subject: `daemonize ${verb}`, baseline: 'node -e 0', baselineCommand: `${node} -e 0`,
        unit: 'ms', compare: { line: 'query', tool: 'daemonize', qualifier: verb }, goal: goals.status,
        command: `bin/daemonize -F P ${verb}  (of daemonize -r -F P -- sleep 1000.N)`, notes: [] };
      rows.push(row);
      ctx.log(`supervisor: daemonize ${verb} vs node -e 0, ${pairs} pairs`);
      Object.assign(row, { status: 'ok' }, await lib.runPairsAsync({
        pairs,
        warmup: 1,
        baseline: () => lib.nodeBaselineOnce(node),
        subject: () => {
          const r = lib.timedSpawn(lib.DAEMONIZE, ['-F', h.pidfile, verb], { stderrFile: path.join(dir, `${token}.verb.err`) });
          lib.checkExit(`daemonize ${verb}`, r);
          return r.ms;
        },
      }));
    }
  } finally {
    h.kill();
  }
  return rows;
}

module.exports = { queryRows, stopRows, sigtermRows };
