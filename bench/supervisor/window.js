'use strict';
// What a supervisor costs over a window (60 s; 15 s with --quick): CPU, idle and in a crash loop, and memory
// (USS, anonymous, RSS from /proc/PID/smaps_rollup), all supervisors side by side in the same window.
const goals = require('../goals');
const { sleepArgv, crashArgv, startDaemonize, startLibslack, startForeground, privateNode } = require('../lib/daemons');
const { cpuSample, windowWait, cpuFigures, memoryFigures } = require('../lib/supervision');

const CMD = 'bin/daemonize.cjs -r -F P -- sleep 1000.N';
const LS_CMD = 'daemon --respawn --pidfiles=D --name=N --';

async function windowRows(ctx, dir, daemon) {
  const seconds = ctx.quick ? 15 : 60;
  const copy = privateNode(dir);
  // [key, tool, start]: libslack's only where installed.
  const supervisors = [
    ['idle', 'daemonize', () => startDaemonize(dir, sleepArgv)],
    ['crash', 'daemonize', () => startDaemonize(dir, crashArgv)],
    ['alone', 'daemonize', () => startDaemonize(dir, sleepArgv, { node: copy })],
    ['fg', 'daemonize', () => startForeground(dir)],
    ['lsIdle', 'libslack', daemon && (() => startLibslack(daemon, dir, sleepArgv))],
    ['lsCrash', 'libslack', daemon && (() => startLibslack(daemon, dir, crashArgv))],
  ];
  const started = {};
  ctx.log(`supervisor: starting supervisors for a ${seconds} s CPU and memory window`);
  for (const [key, , start] of supervisors) {
    if (!start) continue;
    try {
      const h = start();
      // Each window opens as soon as its launcher has returned, so a crash loop's first burst of restarts falls inside it.
      started[key] = { h, first: cpuSample(h.supervisor) };
    } catch (error) {
      started[key] = { error };
    }
  }
  const rows = [];
  try {
    ctx.log(`supervisor: window of ${seconds} s`);
    await windowWait(seconds);
    const row = (key, fields, figures) => {
      const tool = supervisors.find(([k]) => k === key)[1];
      const r = { ...fields, compare: fields.compare === null ? null : { tool, ...fields.compare } };
      const s = started[key];
      if (!s) return { ...r, status: 'not installed' };
      if (s.error) return { ...r, status: 'error', reason: s.error.message };
      try {
        return { ...r, ...figures(s) };
      } catch (error) {
        return { ...r, status: 'error', reason: error.message };
      }
    };
    const cpu = (key, subject, command) => row(key, { measure: `cpu: supervisor over ${seconds} s`, subject, command, unit: '%',
      goal: goals.cpu, notes: [],
      compare: { line: key.endsWith('rash') ? 'cpu-crash' : 'cpu-idle' } }, (s) => ({
      ...cpuFigures(s.first, cpuSample(s.h.supervisor), 'launcher exit'), restarts: s.h.restarts() }));
    const memory = (key, subject, command, notes = []) => row(key, { measure: 'memory: supervisor USS', subject, command, unit: 'MiB',
      goal: goals.uss, notes,
      compare: key === 'fg' ? null : { line: 'uss', ...(key === 'alone' ? { qualifier: 'only Node' } : {}) } }, (s) => memoryFigures(s.h.supervisor));
    rows.push(
      cpu('idle', 'daemonize -r, idle', CMD),
      cpu('crash', 'daemonize -r, crash loop', 'bin/daemonize.cjs -r -F P -- sh -c \'exit 1\'  (default policy: -a 10 -A 5 -L 60)'),
      cpu('lsIdle', 'daemon (libslack), idle', `${LS_CMD} sleep 1000.N`),
      cpu('lsCrash', 'daemon (libslack), crash loop', `${LS_CMD} sh -c 'exit 1'  (defaults: -a 300 -A 5 -L 300)`),
      memory('idle', 'daemonize -r', CMD, [`memory: read from /proc/PID/smaps_rollup after the ${seconds} s window; USS = Private_Clean + `
        + 'Private_Dirty + Private_Hugetlb. A page of the node binary is private only while no other process maps it: with any other '
        + 'Node process on the machine (this bench is one) most of node\'s text is shared and drops out of USS']),
      memory('alone', 'daemonize -r, only Node on the machine', `node-private ${CMD}`, ['daemonize -r, only Node on the machine: the '
        + 'supervisor run from a private copy of the node binary, so every page of node it touches counts as its own']),
      memory('fg', 'daemonize -f -r', 'bin/daemonize.cjs -f -r -F P -- sleep 1000.N', ['daemonize -f -r: the foreground supervisor is the CLI '
        + 'process itself (commander loaded, no heap flags)']),
      memory('lsIdle', 'daemon (libslack)', `${LS_CMD} sleep 1000.N`),
    );
    rows[0].notes.push('cpu: utime+stime of the supervisor from /proc/PID/stat over the window; reaped children\'s cutime+cstime '
      + 'separately; "whole life" also counts start-up (node boot for daemonize)');
    if (rows[1].status === 'ok') {
      rows[1].notes.push(`daemonize -r crash loop: ${rows[1].restarts} restarts in the window (default policy pauses 60 s after 5 quick failures)`);
    }
  } finally {
    for (const { h } of Object.values(started)) if (h) h.end();
  }
  return rows;
}

module.exports = { windowRows };
