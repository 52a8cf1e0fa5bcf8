'use strict';
// Section: the respawn supervisor (`daemonize -r`), side by side with libslack daemon(1) --respawn.
//   respawn: ms from SIGKILL of the supervised child to its successor's exec (seen in /proc);
//   memory:  what the supervisor costs: USS (Private_Clean + Private_Dirty + Private_Hugetlb of
//            /proc/PID/smaps_rollup), its anonymous part, RSS; plus an experiment with V8 flags;
//   stop:    `--stop` (and `--status`, `--running`) wall time against `node -e 0`, interleaved pairs;
//   cpu:     supervisor CPU over a window (60 s; 15 s with --quick), idle and in a crash loop.
// Alone: `npm run bench -- --only=supervisor`. Each part is a file under supervisor/.
const lib = require('./lib');
const { flagRows } = require('./supervisor/v8-flags');
const { respawnRows } = require('./supervisor/respawn');
const { queryRows, sigtermRows, stopRows } = require('./supervisor/stop');
const { windowRows } = require('./supervisor/window');

module.exports = {
  id: 'supervisor',
  title: 'Respawn supervisor (daemonize -r) vs libslack daemon',
  async run(ctx) {
    const daemon = lib.commandPath('daemon');
    const dir = lib.makeTmpDir('daemonize-bench-supervisor-');
    const rows = [];
    try {
      rows.push(...await lib.rowsOrError('respawn', () => respawnRows(ctx, dir, daemon)));
      rows.push(...await lib.rowsOrError('status and running', () => queryRows(ctx, dir)));
      rows.push(...await lib.rowsOrError('stop', () => stopRows(ctx, dir, daemon)));
      rows.push(...await lib.rowsOrError('sigterm', () => sigtermRows(ctx, dir, daemon)));
      rows.push(...await lib.rowsOrError('memory and cpu', () => windowRows(ctx, dir, daemon)));
      rows.push(...await lib.rowsOrError('V8 flags', () => flagRows(ctx, dir)));
    } finally {
      lib.removeDir(dir);
    }
    for (const row of rows) {
      if (row.baseline === undefined) row.baseline = 'none';
      // The goals are daemonize's own; libslack's rows are there to compare with, not to be judged.
      if (row.compare && row.compare.tool !== 'daemonize') row.goal = null;
      if (!daemon && row.subject && row.subject.startsWith('daemon (libslack)')) row.reason = 'not installed: apt-get install daemon';
    }
    return rows;
  },
};
