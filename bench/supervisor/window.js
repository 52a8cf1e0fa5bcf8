'use strict';
// What a supervisor costs over a window (60 s; 15 s with --quick): CPU, idle and in a crash loop, and memory
// (USS, anonymous, RSS from /proc/PID/smaps_rollup).
const { round, sleepArgv, crashArgv, startDaemonize, startLibslack, privateNode, startForeground } = require('./daemons');
const lib = require('../lib');
const goals = require('../goals');
const { tick, readStat, readMemory, cpuSample, cpuPercent, ticksPerSecond } = require('../lib');

async function windowRows(ctx, dir, daemon) {
  const windowSeconds = ctx.quick ? 15 : 60;
  const rows = [];
  const handles = {};
  const started = [];
  const errors = [];
  const first = {};
  const tryStart = (key, start) => {
    try {
      handles[key] = start();
      started.push(handles[key]);
      // Each supervisor's window opens as soon as its launcher has returned, so a crash loop's first
      // burst of restarts falls inside it.
      first[key] = cpuSample(handles[key].supervisor);
    } catch (error) {
      errors.push(`${key}: ${error.message}`);
    }
  };
  try {
    ctx.log(`supervisor: starting supervisors for a ${windowSeconds} s CPU and memory window`);
    const copy = privateNode(dir);
    const idleToken = lib.uniqueToken();
    tryStart('idle', () => startDaemonize(dir, idleToken, sleepArgv(idleToken)));
    const crashToken = lib.uniqueToken();
    tryStart('crash', () => startDaemonize(dir, crashToken, crashArgv(crashToken)));
    const aloneToken = lib.uniqueToken();
    tryStart('alone', () => startDaemonize(dir, aloneToken, sleepArgv(aloneToken), { node: copy }));
    const fgToken = lib.uniqueToken();
    tryStart('fg', () => startForeground(dir, fgToken));
    if (daemon) {
      const lsIdle = lib.uniqueToken();
      tryStart('lsIdle', () => startLibslack(daemon, dir, lsIdle, sleepArgv(lsIdle)));
      const lsCrash = lib.uniqueToken();
      tryStart('lsCrash', () => startLibslack(daemon, dir, lsCrash, crashArgv(lsCrash)));
    }

    ctx.log(`supervisor: window of ${windowSeconds} s`);
    const deadline = lib.nowMs() + windowSeconds * 1000;
    while (lib.nowMs() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(1000, Math.max(1, deadline - lib.nowMs()))));
    }
    const last = {};
    const memory = {};
    for (const [key, h] of Object.entries(handles)) {
      last[key] = cpuSample(h.supervisor);
      memory[key] = readMemory(h.supervisor);
    }

    // d) CPU
    const tool = (key) => (key.startsWith('ls') ? 'libslack' : 'daemonize');
    const cpuRow = (key, subject, command, notes = []) => {
      const compare = { line: /crash/i.test(key) ? 'cpu-crash' : 'cpu-idle', tool: tool(key) };
      const row = { measure: `cpu: supervisor over ${windowSeconds} s`, subject, compare, command, unit: '%', goal: goals.cpu, notes };
      if (!handles[key]) {
        row.status = key.startsWith('ls') && !daemon ? 'not installed' : 'error';
        if (row.status === 'error') row.reason = errors.find((e) => e.startsWith(`${key}:`)) || 'did not start';
        return row;
      }
      if (!first[key] || !last[key]) return { ...row, status: 'error', reason: 'the supervisor died during the window' };
      const cpu = cpuPercent(first[key], last[key]);
      const resolution = 100 / ticksPerSecond() / cpu.windowSeconds;
      return {
        ...row,
        status: 'ok',
        resolutionPercent: round(resolution, 4),
        n: 1,
        median: cpu.self,
        childrenPercent: round(cpu.children, 3),
        lifetimePercent: round(cpu.lifetimeSelf, 3),
        lifetimeSeconds: round(cpu.lifetimeSeconds, 1),
        restarts: handles[key].restarts(),
        detail: `${cpu.windowSeconds.toFixed(1)} s from launcher exit: ${cpu.self.toFixed(3)}% (1 tick = ${resolution.toFixed(3)}%), `
          + `reaped children ${cpu.children.toFixed(3)}%; whole life incl. start-up ${cpu.lifetimeSelf.toFixed(3)}% of ${cpu.lifetimeSeconds.toFixed(1)} s`,
      };
    };
    const crash = cpuRow('crash', 'daemonize -r, crash loop', 'bin/daemonize -r -F P -- sh -c \'exit 1\'  (default policy: -a 10 -A 5 -L 60)');
    if (crash.status === 'ok') crash.notes.push(`daemonize -r crash loop: ${crash.restarts} restarts in the window (default policy pauses 60 s after 5 quick failures)`);
    rows.push(
      cpuRow('idle', 'daemonize -r, idle', 'bin/daemonize -r -F P -- sleep 1000.N'),
      crash,
      cpuRow('lsIdle', 'daemon (libslack), idle', 'daemon --respawn --pidfiles=D --name=N -- sleep 1000.N'),
      cpuRow('lsCrash', 'daemon (libslack), crash loop', 'daemon --respawn --pidfiles=D --name=N -- sh -c \'exit 1\'  (defaults: -a 300 -A 5 -L 300)'),
    );
    rows[rows.length - 4].notes.push('cpu: utime+stime of the supervisor from /proc/PID/stat over the window; reaped children\'s '
      + 'cutime+cstime separately; "whole life" also counts start-up (node boot for daemonize)');

    // b) memory
    const memRow = (key, subject, command, notes = []) => {
      const compare = key === 'fg' ? null : { line: 'uss', tool: tool(key), qualifier: key === 'alone' ? 'only Node' : undefined };
      const row = { measure: 'memory: supervisor USS', subject, compare, command, unit: 'MiB', goal: goals.uss, notes };
      if (!handles[key]) {
        row.status = key.startsWith('ls') && !daemon ? 'not installed' : 'error';
        if (row.status === 'error') row.reason = errors.find((e) => e.startsWith(`${key}:`)) || 'did not start';
        return row;
      }
      const m = memory[key];
      if (!m) return { ...row, status: 'error', reason: 'the supervisor died during the window' };
      return {
        ...row,
        status: 'ok',
        n: 1,
        median: m.uss,
        anonMiB: round(m.anon),
        rssMiB: round(m.rss),
        pssMiB: round(m.pss),
        threads: (readStat(handles[key].supervisor) || {}).threads,
        detail: `USS ${m.uss.toFixed(2)} MiB (anonymous ${m.anon.toFixed(2)}), RSS ${m.rss.toFixed(1)}, PSS ${m.pss.toFixed(1)} MiB`,
      };
    };
    rows.push(
      memRow('idle', 'daemonize -r', 'bin/daemonize -r -F P -- sleep 1000.N', [
        `memory: read from /proc/PID/smaps_rollup after the ${windowSeconds} s window; USS = Private_Clean + Private_Dirty + `
          + 'Private_Hugetlb. A page of the node binary is private only while no other process maps it: with any other Node '
          + 'process on the machine (this bench is one) most of node\'s text is shared and drops out of USS',
      ]),
      memRow('alone', 'daemonize -r, only Node on the machine', 'node-private bin/daemonize -r -F P -- sleep 1000.N', [
        'daemonize -r, only Node on the machine: the supervisor run from a private copy of the node binary, so every page of '
          + 'node it touches counts as its own (what it costs next to a non-Node program)',
      ]),
      memRow('fg', 'daemonize -f -r', 'bin/daemonize -f -r -F P -- sleep 1000.N', [
        'daemonize -f -r: the foreground supervisor is the CLI process itself (commander loaded, no heap flags)',
      ]),
      memRow('lsIdle', 'daemon (libslack)', 'daemon --respawn --pidfiles=D --name=N -- sleep 1000.N'),
    );
  } finally {
    for (const h of started) {
      try {
        if (h.kind === 'daemonize') {
          try {
            h.stop();
          } catch {
            // killed below
          }
        }
      } finally {
        h.kill();
      }
    }
  }
  return rows;
}

// b, experiment) V8 flags: the real supervisor (dist/supervisor/main.js, given its configuration the way the
// launcher gives it) and a bare `node -e` proxy, each from a private node binary so USS is not diluted.

module.exports = { windowRows };
