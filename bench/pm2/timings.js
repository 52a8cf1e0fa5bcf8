'use strict';
// pm2's CLI against `node -e 0` (start cold and warm, stop, delete), and the God daemon's respawn latency.
const { appRuns, startArgs, newToken } = require('./tool');
const lib = require('../lib');

/** A row for a pm2 command timed against `node -e 0`. */
function cliRow(node, measure, subject, compare, command) {
  return { measure, subject, compare, command, baseline: 'node -e 0', baselineCommand: `${node} -e 0`, unit: 'ms', goal: null, notes: [] };
}

async function startRows(ctx, pm2, sleep, node, tokens) {
  const pairs = ctx.quick ? 5 : 21;
  const warmup = ctx.quick ? 1 : 2;
  const rows = [];
  for (const kind of ['cold', 'warm']) {
    const row = cliRow(node, `pm2 start (${kind}): spawn -> CLI exit 0`, `pm2 start (${kind})`, { line: 'launch', tool: 'pm2', qualifier: kind },
      `pm2 start ${sleep} --name N -- 1000.N${kind === 'cold' ? '  (no God daemon yet: it starts one; pm2 kill after each)' : '  (God daemon running; pm2 delete N after each)'}`);
    rows.push(row);
    const stats = { runs: 0, ready: 0 };
    try {
      ctx.log(`pm2: pm2 start (${kind}) vs node -e 0, ${pairs} pairs`);
      if (kind === 'warm') pm2.ok(['ping']); // starts the God daemon
      Object.assign(row, { status: 'ok' }, await lib.runPairsAsync({
        pairs,
        warmup,
        baseline: () => lib.nodeBaselineOnce(node),
        subject: (i, isWarmup) => {
          const token = newToken(tokens);
          const name = `${kind}${token}`;
          if (kind === 'cold' && pm2.god() !== null) pm2.kill();
          const r = pm2.run(startArgs(sleep, name, token));
          const readyAtExit = appRuns(pm2, name, token) !== null;
          try {
            lib.checkExit('pm2 start', r);
            if (!lib.waitFor(() => appRuns(pm2, name, token), 3000)) throw new Error(`pm2 start: no ${name} running sleep after 3 s`);
            if (!isWarmup) {
              stats.runs += 1;
              if (readyAtExit) stats.ready += 1;
            }
          } finally {
            if (kind === 'cold') pm2.kill([token]);
            else {
              pm2.run(['delete', name]);
              lib.reap({ token });
            }
          }
          return r.ms;
        },
      }));
      row.pidfileReadyAtExit = { ready: stats.ready, of: stats.runs };
      row.notes.push(`pm2 start (${kind}): its pid file (PM2_HOME/pids/NAME-ID.pid) named the exec'd program when the CLI exited in `
        + `${stats.ready}/${stats.runs} runs`);
    } catch (error) {
      row.status = 'error';
      row.reason = error.message;
    }
  }
  return rows;
}

async function stopRows(ctx, pm2, sleep, node, tokens) {
  const pairs = ctx.quick ? 5 : 15;
  const rows = [];
  if (pm2.god() === null) pm2.ok(['ping']);
  for (const verb of ['stop', 'delete']) {
    const row = cliRow(node, `pm2 ${verb}: wall time`, `pm2 ${verb}`, { line: 'stop', tool: 'pm2', qualifier: verb },
      `pm2 ${verb} N  (of pm2 start ${sleep} --name N -- 1000.N, God daemon running)`);
    rows.push(row);
    let leftovers = 0;
    try {
      ctx.log(`pm2: pm2 ${verb} vs node -e 0, ${pairs} pairs`);
      Object.assign(row, { status: 'ok' }, await lib.runPairsAsync({
        pairs,
        warmup: 1,
        baseline: () => lib.nodeBaselineOnce(node),
        subject: () => {
          const token = newToken(tokens);
          const name = `${verb}${token}`;
          try {
            pm2.ok(startArgs(sleep, name, token));
            const pid = lib.waitFor(() => appRuns(pm2, name, token), 3000);
            if (!pid) throw new Error(`pm2 start: no ${name} running sleep after 3 s`);
            const ms = pm2.ok([verb, name]);
            if (!lib.isGone(pid)) leftovers += 1;
            return ms;
          } finally {
            if (verb === 'stop') pm2.run(['delete', name]);
            lib.reap({ token });
          }
        },
      }));
      row.notes.push(`pm2 ${verb}: the app was still alive right after it returned in ${leftovers} of ${pairs + 1} runs`);
    } catch (error) {
      row.status = 'error';
      row.reason = error.message;
    }
  }
  return rows;
}

async function respawnRow(ctx, pm2, sleep, tokens) {
  const kills = ctx.quick ? 15 : 41;
  const row = {
    measure: 'respawn: SIGKILL of child -> successor exec\'d',
    subject: 'pm2 God daemon',
    compare: { line: 'respawn', tool: 'pm2' },
    command: `pm2 start ${sleep} --name N --max-restarts 1000000 -- 1000.N`,
    unit: 'ms',
    goal: null,
    notes: ['pm2 respawn: --max-restarts 1000000, or pm2 gives up after 16 restarts that each ran under its min_uptime (1 s); '
      + 'its restart_delay is 0 by default'],
  };
  const token = newToken(tokens);
  const name = `respawn${token}`;
  try {
    ctx.log(`pm2: respawn latency, ${kills} kills`);
    if (pm2.god() === null) pm2.ok(['ping']);
    pm2.ok(startArgs(sleep, name, token, ['--max-restarts', '1000000']));
    const god = pm2.god();
    let victim = lib.waitFor(() => appRuns(pm2, name, token), 3000);
    if (!victim) throw new Error(`no ${name} running sleep after 3 s`);
    const samples = [];
    for (let i = 0; i < kills + 1; i++) {
      await lib.tick();
      const found = lib.killAndAwaitSuccessor(god, victim, 'sleep', token);
      if (i > 0) samples.push(found.ms); // the first kill warms up the restart path
      // Let the God daemon finish its bookkeeping (pid file, logs) and go idle before the next kill.
      lib.waitFor(() => pm2.appPid(name) === found.pid, 2000);
      lib.sleepMs(30);
      victim = found.pid;
    }
    Object.assign(row, { status: 'ok', n: samples.length, median: lib.median(samples), min: Math.min(...samples), max: Math.max(...samples), samples });
    pm2.run(['delete', name]);
  } catch (error) {
    row.status = 'error';
    row.reason = error.message;
  } finally {
    lib.reap({ token });
  }
  return [row];
}

module.exports = { cliRow, startRows, stopRows, respawnRow };
