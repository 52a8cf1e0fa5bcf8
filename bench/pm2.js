'use strict';
// Section: pm2, installed by this script into a temporary directory for the run (npm install --prefix TMP),
// with its own PM2_HOME, also temporary, and its phoning home switched off. Measured like our own tools:
//   start:   `pm2 start` wall time against `node -e 0`, cold (no God daemon yet) and warm, interleaved pairs;
//   stop:    `pm2 stop` and `pm2 delete` wall time against `node -e 0`;
//   respawn: ms from SIGKILL of the app to the God daemon's exec of its successor (as bench/supervisor.js);
//   memory:  the God daemon's USS and RSS with one app, and its CPU, after the same window as supervisor.js;
//   behaviour: the observations of bench/behaviour.js, for a pm2 app.
// The app is /bin/sleep (pm2 runs a binary directly, without its Node wrapper). Skip with --no-pm2.
//
// Phoning home: pm2 7 sends no telemetry of its own unless linked to pm2.io (`pm2 link`, PM2_PUBLIC_KEY and
// PM2_SECRET_KEY, which are taken out of its environment here); what it does send is a version check to
// version.pm2.io carrying the OS, uptime, Node version and whether it runs in Docker: from the CLI on its
// first run in a PM2_HOME (no PM2_HOME/touch yet; lib/Client.js) and once a day from the God daemon unless
// PM2_DISABLE_VERSION_CHECK is set (lib/Worker.js). So: PM2_DISABLE_VERSION_CHECK=1, and PM2_HOME/touch
// made before the first command. (Checked with strace -f -e trace=connect on `pm2 start`: a DNS query
// without them, no AF_INET connection with them.)
const fs = require('node:fs');
const path = require('node:path');

const lib = require('./lib');
const { PM2_VERSION, install, makePm2 } = require('./pm2/tool');
const { startRows, stopRows, respawnRow } = require('./pm2/timings');
const { windowRows } = require('./pm2/window');
const { behaviourRows } = require('./pm2/behaviour');

module.exports = {
  id: 'pm2',
  title: 'pm2 (installed for this run)',
  async run(ctx) {
    const dir = lib.makeTmpDir('daemonize-bench-pm2-');
    const tokens = [];
    let pm2 = null;
    const rows = [];
    try {
      let installed;
      try {
        ctx.log(`pm2: npm install pm2@${PM2_VERSION} into ${dir}`);
        installed = install(path.join(dir, 'pkg'));
      } catch (error) {
        ctx.peers.pm2 = { name: 'pm2', path: null, version: `not available: ${error.message}` };
        return [{ measure: 'pm2', subject: 'pm2', compare: { line: 'launch', tool: 'pm2' }, status: 'not available', reason: error.message }];
      }
      ctx.peers.pm2 = {
        name: 'pm2',
        path: null,
        version: `${installed.version} (engines: node ${installed.engines}), from npm into a temporary directory for this run; `
          + 'PM2_HOME temporary; PM2_DISABLE_VERSION_CHECK=1 and PM2_HOME/touch made first, so it makes no call to version.pm2.io; '
          + 'not linked to pm2.io',
      };
      const node = lib.nodePath();
      const sleep = fs.existsSync('/bin/sleep') ? '/bin/sleep' : lib.commandPath('sleep');
      pm2 = makePm2(node, installed.bin, path.join(dir, 'home'), dir);
      rows.push(...await lib.rowsOrError('start', () => startRows(ctx, pm2, sleep, node, tokens), 'pm2'));
      rows.push(...await lib.rowsOrError('stop', () => stopRows(ctx, pm2, sleep, node, tokens), 'pm2'));
      rows.push(...await lib.rowsOrError('respawn', () => respawnRow(ctx, pm2, sleep, tokens), 'pm2'));
      rows.push(...await lib.rowsOrError('memory and cpu', () => windowRows(ctx, pm2, sleep, tokens), 'pm2'));
      rows.push(...await lib.rowsOrError('behaviour', () => behaviourRows(ctx, pm2, node, installed.bin, sleep, dir, tokens), 'pm2'));
      for (const row of rows) if (row.baseline === undefined) row.baseline = 'none';
      return rows;
    } finally {
      try {
        if (pm2) pm2.kill(tokens);
      } finally {
        for (const token of tokens) lib.reap({ token });
        lib.removeDir(dir);
      }
    }
  },
};
