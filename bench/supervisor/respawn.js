'use strict';
// Respawn latency: SIGKILL of the supervised program to its successor's exec, seen in /proc.
const goals = require('../goals');
const { waitFor, measureInto } = require('../lib/measure');
const { sleepArgv, startDaemonize, libslackFastPolicy, startLibslack } = require('../lib/daemons');
const { respawnFigures, scanCostMs } = require('../lib/supervision');

async function respawnRows(ctx, dir, daemon) {
  const kills = ctx.quick ? 15 : 41;
  const policy = libslackFastPolicy();
  const measure = 'respawn: SIGKILL of child -> successor exec\'d';
  const subjects = [
    { subject: 'daemonize -r', tool: 'daemonize', command: 'bin/daemonize.cjs -r -a 0 -A 1000000 -F P -- sleep 1000.N', notes: [],
      start: () => startDaemonize(dir, sleepArgv, { policy: ['-a', '0', '-A', '1000000'] }) },
    { subject: 'daemon (libslack)', tool: 'libslack', command: `daemon --respawn ${policy.args.join(' ')} --pidfiles=D --name=N -- sleep 1000.N`,
      notes: [policy.note], start: daemon && (() => startLibslack(daemon, dir, sleepArgv, policy.args)) },
  ];
  const rows = [];
  for (const { subject, tool, command, notes, start } of subjects) {
    const row = { measure, subject, compare: { line: 'respawn', tool }, command, unit: 'ms', goal: goals.respawn, notes };
    rows.push(row);
    if (!start) {
      row.status = 'not installed';
      continue;
    }
    ctx.log(`supervisor: respawn latency, ${subject}, ${kills} kills`);
    let h = null;
    await measureInto(row, async () => {
      h = start();
      const settle = (pid) => h.kind === 'daemonize' && waitFor(() => h.child() === pid, 2000);
      const figures = await respawnFigures({ supervisor: h.supervisor, child: h.child, token: h.token, kills, settle });
      return { ...figures, restarts: h.restarts() ?? undefined };
    });
    if (h) h.kill();
  }
  rows[0].notes.push(`respawn: timed from just before kill(2) to the first /proc scan that shows the successor with comm 'sleep' `
    + `(exec'd); one scan of /proc takes ~${scanCostMs().toFixed(3)} ms here, the resolution of these figures`);
  return rows;
}

module.exports = { respawnRows };
