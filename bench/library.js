'use strict';
// Section: library mode start-up. Wall time from spawning `node app.js`, an app whose first lines call
// daemonize({ pidfile }), until its launcher has exited 0 (the daemon is ready, the pidfile written),
// against the same app's own start in the foreground (DAEMONIZE_FOREGROUND=1: no fork, it exits once
// ready) plus `node -e 0`. The re-execution should cost at most one extra Node start: ratio <= 1.
const fs = require('node:fs');
const path = require('node:path');

const lib = require('./lib');

/** "At most one extra Node start", with the same allowance for noise as the launch section's goal. */
const goals = require('./goals');

/** The app: requires the package, daemonizes, idles as a daemon; in the foreground it exits once ready. */
function appSource() {
  return `'use strict';
const { daemonize } = require(${JSON.stringify(path.join(lib.ROOT, 'dist', 'index.js'))});
const d = daemonize({ pidfile: process.argv[2] });
if (!d.foreground) setInterval(() => {}, 1e6);
`;
}

function daemonOnce(node, app, dir) {
  const token = lib.uniqueToken();
  lib.trackToken(token);
  const pidfile = path.join(dir, `${token}.pid`);
  try {
    const r = lib.timedSpawn(node, [app, pidfile, token], { stderrFile: path.join(dir, `${token}.err`) });
    lib.checkExit('daemonize()', r);
    const pid = lib.readPid(pidfile);
    if (pid === null || !lib.pidsWithTokenIn([pid], token)) throw new Error(`daemonize(): exited 0 but ${pidfile} names no live daemon`);
    return r.ms;
  } finally {
    const survivors = lib.reap({ pids: [lib.readPid(pidfile)].filter((p) => p !== null), token });
    for (const name of fs.readdirSync(dir)) if (name.startsWith(token)) fs.rmSync(path.join(dir, name), { force: true });
    if (survivors.length) throw new Error(`could not kill ${survivors.join(', ')}`);
  }
}

/** One run that must exit 0; its wall time. */
function timedOk(label, file, args, options) {
  const r = lib.timedSpawn(file, args, options);
  lib.checkExit(label, r);
  return r.ms;
}

module.exports = {
  id: 'library',
  title: 'Library mode start-up',
  async run(ctx) {
    const pairs = ctx.quick ? 5 : 21;
    const warmup = ctx.quick ? 1 : 2;
    const node = lib.nodePath();
    const row = {
      measure: 'library: node app.js -> launcher exit 0 (daemon ready)',
      subject: 'daemonize()',
      command: 'node app.js (daemonize({ pidfile }) on its first lines)',
      baseline: 'app in foreground + node -e 0',
      baselineCommand: `DAEMONIZE_FOREGROUND=1 ${node} app.js; ${node} -e 0`,
      unit: 'ms',
      goal: goals.library,
      notes: [],
    };
    const dir = lib.makeTmpDir('daemonize-bench-library-');
    const app = path.join(dir, 'app.js');
    fs.writeFileSync(app, appSource());
    const env = { ...process.env, DAEMONIZE_FOREGROUND: '1' };
    const parts = { foreground: [], node: [] };
    try {
      ctx.log(`library: daemonize() vs the app in the foreground + node -e 0, ${pairs} pairs`);
      Object.assign(row, { status: 'ok' }, await lib.runPairsAsync({
        pairs,
        warmup,
        baseline: (i, warm) => {
          const foreground = timedOk('the app in the foreground', node, [app, path.join(dir, 'foreground.pid')],
            { env, stderrFile: path.join(dir, 'foreground.err') });
          const plain = lib.nodeBaselineOnce(node);
          if (!warm) {
            parts.foreground.push(foreground);
            parts.node.push(plain);
          }
          return foreground + plain;
        },
        subject: () => daemonOnce(node, app, dir),
      }));
      const foreground = lib.median(parts.foreground);
      const plain = lib.median(parts.node);
      row.foregroundMedian = foreground;
      row.nodeMedian = plain;
      row.notes.push(`library: medians: the app in the foreground ${lib.fmtMs(foreground)}, node -e 0 ${lib.fmtMs(plain)}; `
        + `the re-execution added ${lib.fmtMs(row.median - foreground)} to the app's own start`);
    } catch (error) {
      row.status = 'error';
      row.reason = error.message;
    } finally {
      lib.removeDir(dir);
    }
    return [row];
  },
};
