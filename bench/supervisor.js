'use strict';
// Section: the respawn supervisor (`daemonize -r`), side by side with libslack daemon(1) --respawn: respawn
// latency, the control verbs' wall time, the supervisor's CPU and memory over a window, and an experiment with
// V8 flags on its memory. Each part is a file under supervisor/. Alone: `npm run bench -- --only=supervisor`.
const { rowsOrError } = require('./lib/measure');
const { commandPath } = require('./lib/commands');
const { makeTmpDir, removeDir } = require('./lib/cleanup');
const { respawnRows } = require('./supervisor/respawn');
const { queryRows, stopRows, sigtermRows } = require('./supervisor/verbs');
const { windowRows } = require('./supervisor/window');
const { flagRows } = require('./supervisor/v8-flags');

module.exports = {
  id: 'supervisor',
  title: 'Respawn supervisor (daemonize -r) vs libslack daemon',
  async run(ctx) {
    const daemon = commandPath('daemon');
    const dir = makeTmpDir('daemonize-bench-supervisor-');
    const rows = [];
    try {
      rows.push(...await rowsOrError('respawn', () => respawnRows(ctx, dir, daemon)));
      rows.push(...await rowsOrError('status and running', () => queryRows(ctx, dir)));
      rows.push(...await rowsOrError('stop', () => stopRows(ctx, dir, daemon)));
      rows.push(...await rowsOrError('sigterm', () => sigtermRows(ctx, dir, daemon)));
      rows.push(...await rowsOrError('memory and cpu', () => windowRows(ctx, dir, daemon)));
      rows.push(...await rowsOrError('V8 flags', () => flagRows(ctx, dir)));
    } finally {
      removeDir(dir);
    }
    for (const row of rows) {
      row.baseline ??= 'none';
      // The goals are daemonize's own; libslack's rows are there to compare with, not to be judged.
      if (row.compare && row.compare.tool !== 'daemonize') row.goal = null;
      if (!daemon && row.subject && row.subject.startsWith('daemon (libslack)')) row.reason = 'not installed: apt-get install daemon';
    }
    return rows;
  },
};
