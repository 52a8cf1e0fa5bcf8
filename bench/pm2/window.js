'use strict';
// The God daemon over a window, as supervisor/window.js measures daemonize -r: memory and CPU.
const { appRuns, startArgs, newToken } = require('./tool');
const lib = require('../lib');

/** A fresh God daemon with one app, left alone for the same window as supervisor.js's; then USS, RSS and CPU. */
async function windowRows(ctx, pm2, sleep, tokens) {
  const windowSeconds = ctx.quick ? 15 : 60;
  const memory = { measure: 'memory: supervisor USS', subject: 'pm2 God daemon', compare: { line: 'uss', tool: 'pm2' },
    command: `pm2 start ${sleep} --name N -- 1000.N  (one app, fresh God daemon)`, unit: 'MiB', goal: null, notes: [] };
  const cpu = { measure: `cpu: supervisor over ${windowSeconds} s`, subject: 'pm2 God daemon, idle', compare: { line: 'cpu-idle', tool: 'pm2' },
    command: memory.command, unit: '%', goal: null, notes: [] };
  try {
    if (pm2.god() !== null) pm2.kill();
    const token = newToken(tokens);
    const name = `idle${token}`;
    pm2.ok(startArgs(sleep, name, token));
    const god = pm2.god();
    if (!god || !lib.waitFor(() => appRuns(pm2, name, token), 3000)) throw new Error('pm2 start: no God daemon or no app');
    const first = lib.cpuSample(god);
    ctx.log(`pm2: God daemon with one app, window of ${windowSeconds} s`);
    const deadline = lib.nowMs() + windowSeconds * 1000;
    while (lib.nowMs() < deadline) await new Promise((resolve) => setTimeout(resolve, Math.min(1000, Math.max(1, deadline - lib.nowMs()))));
    const last = lib.cpuSample(god);
    const m = lib.readMemory(god);
    const stat = lib.readStat(god);
    if (!m || !last || !first) throw new Error('the God daemon died during the window');
    Object.assign(memory, {
      status: 'ok',
      n: 1,
      median: m.uss,
      anonMiB: Number(m.anon.toFixed(2)),
      rssMiB: Number(m.rss.toFixed(2)),
      pssMiB: Number(m.pss.toFixed(2)),
      threads: stat && stat.threads,
      detail: `USS ${m.uss.toFixed(2)} MiB (anonymous ${m.anon.toFixed(2)}), RSS ${m.rss.toFixed(1)}, PSS ${m.pss.toFixed(1)} MiB, `
        + `${stat ? stat.threads : '?'} threads`,
    });
    memory.notes.push(`pm2 God daemon: read from /proc/PID/smaps_rollup after ${windowSeconds} s with one app (/bin/sleep), as for `
      + 'daemonize -r; the node binary is shared with other Node processes here just as for daemonize -r\'s row. A Node app under '
      + 'pm2 also runs inside pm2\'s wrapper (ProcessContainerFork), which this figure does not include');
    const c = lib.cpuPercent(first, last);
    const resolution = 100 / lib.ticksPerSecond() / c.windowSeconds;
    Object.assign(cpu, {
      status: 'ok',
      n: 1,
      median: c.self,
      detail: `${c.windowSeconds.toFixed(1)} s after pm2 start returned: ${c.self.toFixed(3)}% (1 tick = ${resolution.toFixed(3)}%), `
        + `reaped children ${c.children.toFixed(3)}%`,
    });
  } catch (error) {
    for (const row of [memory, cpu]) Object.assign(row, { status: 'error', reason: error.message });
  }
  return [memory, cpu];
}

module.exports = { windowRows };
