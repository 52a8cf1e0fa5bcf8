'use strict';
// Respawn latency: SIGKILL of the supervised program to its successor's exec, seen in /proc.
const { sleepArgv, startDaemonize, libslackFastPolicy, startLibslack } = require('./daemons');
const lib = require('../lib');
const goals = require('../goals');
const { tick, readStat, killAndAwaitSuccessor } = require('../lib');

async function measureRespawn(handle, kills, settle) {
  const samples = [];
  let scans = 0;
  let victim = lib.waitFor(() => {
    const c = handle.child();
    return c !== null && readStat(c) && readStat(c).comm === 'sleep' ? c : null;
  }, 5000);
  if (!victim) throw new Error(`${handle.kind}: no child running sleep`);
  for (let i = 0; i < kills + 1; i++) {
    await tick();
    const found = killAndAwaitSuccessor(handle.supervisor, victim, 'sleep', handle.token);
    if (i > 0) samples.push(found.ms); // the first kill warms up the supervisor's restart path
    scans += found.scans;
    // Let the supervisor finish its bookkeeping (status file, log) and go idle before the next kill.
    settle(found.pid);
    victim = found.pid;
  }
  return { samples, scansPerKill: scans / (kills + 1) };
}

async function respawnRows(ctx, dir, daemon) {
  const kills = ctx.quick ? 15 : 41;
  const rows = [];
  const base = { measure: 'respawn: SIGKILL of child -> successor exec\'d', unit: 'ms', goal: goals.respawn };
  const summarize = (row, samples) => Object.assign(row, {
    status: 'ok',
    n: samples.length,
    median: lib.median(samples),
    min: Math.min(...samples),
    max: Math.max(...samples),
    samples,
  });

  {
    const row = {
      ...base,
      subject: 'daemonize -r',
      compare: { line: 'respawn', tool: 'daemonize' },
      command: 'bin/daemonize -r -a 0 -A 1000000 -F P -- sleep 1000.N',
      notes: [],
    };
    rows.push(row);
    const token = lib.uniqueToken();
    let handle = null;
    try {
      ctx.log(`supervisor: respawn latency, daemonize -r, ${kills} kills`);
      handle = startDaemonize(dir, token, sleepArgv(token), { policy: ['-a', '0', '-A', '1000000'] });
      const result = await measureRespawn(handle, kills, (pid) => {
        lib.waitFor(() => handle.child() === pid, 2000);
        lib.sleepMs(30);
      });
      summarize(row, result.samples);
      row.restarts = handle.restarts();
    } catch (error) {
      row.status = 'error';
      row.reason = error.message;
    } finally {
      if (handle) handle.kill();
    }
  }

  {
    const policy = libslackFastPolicy();
    const row = {
      ...base,
      subject: 'daemon (libslack)',
      compare: { line: 'respawn', tool: 'libslack' },
      command: `daemon --respawn ${policy.args.join(' ')} --pidfiles=D --name=N -- sleep 1000.N`,
      notes: [policy.note],
    };
    rows.push(row);
    if (!daemon) {
      row.status = 'not installed';
    } else {
      const token = lib.uniqueToken();
      let handle = null;
      try {
        ctx.log(`supervisor: respawn latency, daemon (libslack), ${kills} kills`);
        handle = startLibslack(daemon, dir, token, sleepArgv(token), policy.args);
        const result = await measureRespawn(handle, kills, () => lib.sleepMs(30));
        summarize(row, result.samples);
      } catch (error) {
        row.status = 'error';
        row.reason = error.message;
      } finally {
        if (handle) handle.kill();
      }
    }
  }
  const cost = lib.scanCostMs();
  rows[0].notes.push(`respawn: timed from just before kill(2) to the first /proc scan that shows the successor with comm `
    + `'sleep' (exec'd); one scan of /proc takes ~${cost.toFixed(3)} ms here, the resolution of these figures`);
  return rows;
}

// b) memory and d) CPU: long-running supervisors side by side over one window

module.exports = { measureRespawn, respawnRows };
