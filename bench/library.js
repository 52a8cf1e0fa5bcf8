'use strict';
// Section: library mode start-up. Wall time from spawning `node app.js`, an app whose first lines call
// daemonize({ pidfile }), until its launcher has exited 0 (the daemon is ready, the pidfile written), against
// the same app's own start in the foreground (DAEMONIZE_FOREGROUND=1: no fork, it exits once ready) plus
// `node -e 0`. The re-execution should cost at most one extra Node start.
const fs = require('node:fs');
const path = require('node:path');
const goals = require('./goals');
const procfs = require('../tools/procfs');
const { median, runPairs, measureInto } = require('./lib/measure');
const { ROOT, nodePath, timedOk, nodeBaselineOnce, nodeRow, readPid } = require('./lib/commands');
const { newToken, makeTmpDir, removeDir, endRun } = require('./lib/cleanup');
const { fmtMs } = require('./lib/format');

/** The app: requires the package, daemonizes, idles as a daemon; in the foreground it exits once ready. */
const APP = `'use strict';
const { daemonize } = require(${JSON.stringify(path.join(ROOT, 'dist', 'index.js'))});
const d = daemonize({ pidfile: process.argv[2] });
if (!d.foreground) setInterval(() => {}, 1e6);
`;

function daemonOnce(node, app, dir) {
  const token = newToken();
  const pidfile = path.join(dir, `${token}.pid`);
  try {
    const ms = timedOk('daemonize()', node, [app, pidfile, token], { stderrFile: path.join(dir, `${token}.err`) });
    if (!procfs.hasToken(readPid(pidfile), token)) throw new Error(`daemonize(): exited 0 but ${pidfile} names no live daemon`);
    return ms;
  } finally {
    endRun(dir, token, [readPid(pidfile)]);
  }
}

module.exports = {
  id: 'library',
  title: 'Library mode start-up',
  async run(ctx) {
    const pairs = ctx.quick ? goals.pairs.quick : goals.pairs.judged;
    const node = nodePath();
    const row = nodeRow(node, { measure: 'library: node app.js -> launcher exit 0 (daemon ready)', subject: 'daemonize()',
      command: 'node app.js (daemonize({ pidfile }) on its first lines)', baseline: 'app in foreground + node -e 0',
      baselineCommand: `DAEMONIZE_FOREGROUND=1 ${node} app.js; ${node} -e 0`, goal: goals.library });
    const dir = makeTmpDir('daemonize-bench-library-');
    const app = path.join(dir, 'app.js');
    fs.writeFileSync(app, APP);
    const env = { ...process.env, DAEMONIZE_FOREGROUND: '1' };
    const parts = { foreground: [], node: [] };
    ctx.log(`library: daemonize() vs the app in the foreground + node -e 0, ${pairs} pairs`);
    await measureInto(row, async () => {
      const result = await runPairs({
        pairs,
        warmup: ctx.quick ? 1 : 2,
        baseline: (i, warm) => {
          const foreground = timedOk('the app in the foreground', node, [app, path.join(dir, 'foreground.pid')],
            { env, stderrFile: path.join(dir, 'foreground.err') });
          const plain = nodeBaselineOnce(node);
          if (!warm) {
            parts.foreground.push(foreground);
            parts.node.push(plain);
          }
          return foreground + plain;
        },
        subject: () => daemonOnce(node, app, dir),
      });
      const foregroundMedian = median(parts.foreground);
      const nodeMedian = median(parts.node);
      row.notes.push(`library: medians: the app in the foreground ${fmtMs(foregroundMedian)}, node -e 0 ${fmtMs(nodeMedian)}; `
        + `the re-execution added ${fmtMs(result.median - foregroundMedian)} to the app's own start`);
      return { ...result, foregroundMedian, nodeMedian };
    });
    removeDir(dir);
    return [row];
  },
};
