'use strict';
// pm2, installed from npm into a temporary prefix for the run (npm install --prefix TMP), driven with its own
// temporary PM2_HOME and its phoning home switched off.
//
// pm2 7 sends no telemetry unless linked to pm2.io (`pm2 link`, PM2_PUBLIC_KEY/PM2_SECRET_KEY, taken out of its
// environment here). It does send a version check to version.pm2.io (OS, uptime, Node version, Docker or not):
// from the CLI on its first run in a PM2_HOME (no PM2_HOME/touch yet) and daily from the God daemon unless
// PM2_DISABLE_VERSION_CHECK is set. Both are switched off below (checked with strace -f -e trace=connect).
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const procfs = require('../../tools/procfs');
const { commandPath, timedSpawn, checkExit, readPid } = require('./commands');
const { reap, newToken, trackToken } = require('./cleanup');

/** pm2 7.0.4 declares engines { node: '>=18.0.0' }: it runs on this project's Node 20. */
const PM2_VERSION = '7.0.4';

/** npm install --prefix DIR pm2@VERSION. Returns { bin, version, engines } or throws with the reason. */
function install(prefix) {
  const npm = commandPath('npm');
  if (!npm) throw new Error('npm not found on PATH');
  const r = spawnSync(npm, ['install', '--prefix', prefix, `pm2@${PM2_VERSION}`, '--no-audit', '--no-fund', '--ignore-scripts',
    '--loglevel=error'], { encoding: 'utf8', timeout: 300000, stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.error) throw new Error(`npm install pm2@${PM2_VERSION}: ${r.error.message}`);
  if (r.status !== 0) {
    const why = `${r.stderr || ''}`.split('\n').filter((line) => line.trim() && !/Unknown user config/.test(line)).slice(0, 3).join(' ');
    throw new Error(`npm install pm2@${PM2_VERSION} exited ${r.status}: ${why || 'no message'}`);
  }
  const dir = path.join(prefix, 'node_modules', 'pm2');
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  return { bin: path.join(dir, 'bin', 'pm2'), version: pkg.version, engines: pkg.engines && pkg.engines.node };
}

/** A pm2 bound to one PM2_HOME under `dir`: its CLI (run with `node`, as its `#!/usr/bin/env node` would) and files. */
function makePm2(node, bin, dir) {
  const home = path.join(dir, 'home');
  fs.mkdirSync(home, { recursive: true });
  fs.writeFileSync(path.join(home, 'touch'), `${Date.now()}`); // no first-run version check
  const env = { PM2_HOME: home, PM2_DISABLE_VERSION_CHECK: '1' };
  for (const [key, value] of Object.entries(process.env)) if (!/^(PM2_|KEYMETRICS_)/.test(key)) env[key] = value;
  let errCount = 0;
  const pm2 = {
    home,
    env,
    bin,
    /** Runs `pm2 ARGS`; returns timedSpawn's result. */
    run: (args) => timedSpawn(node, [bin, ...args], { env, stderrFile: path.join(dir, `cli${errCount++}.err`) }),
    /** Runs `pm2 ARGS`, throws unless it exited 0; returns its wall time. */
    ok: (args) => {
      const r = pm2.run(args);
      checkExit(`pm2 ${args[0]}`, r);
      return r.ms;
    },
    /** The God daemon's pid while it runs (its command line names PM2_HOME), else null. */
    god: () => {
      const pid = readPid(path.join(home, 'pm2.pid'));
      return procfs.hasToken(pid, home) ? pid : null;
    },
    /** Starts the God daemon unless it runs. */
    ensureGod: () => pm2.god() ?? pm2.ok(['ping']),
    /** PM2_HOME/pids/NAME-ID.pid, or null. */
    pidfileOf: (name) => {
      const pids = path.join(home, 'pids');
      const file = fs.existsSync(pids) && fs.readdirSync(pids).find((f) => new RegExp(`^${name}-\\d+\\.pid$`).test(f));
      return file ? path.join(pids, file) : null;
    },
    /** The pid in pm2's pid file for `name`, or null. */
    appPid: (name) => (pm2.pidfileOf(name) ? readPid(pm2.pidfileOf(name)) : null),
    /** appPid() when it names a live `sleep` carrying `token`, else null. */
    appRuns: (name, token) => {
      const pid = pm2.appPid(name);
      return (procfs.stat(pid) || {}).comm === 'sleep' && procfs.hasToken(pid, token) ? pid : null;
    },
    /** `pm2 kill`, then makes sure the God daemon and every app marked by `tokens` are gone. */
    kill: (tokens = []) => {
      const god = pm2.god();
      pm2.run(['kill']);
      const survivors = reap({ pids: god === null ? [] : [god], token: home });
      trackToken(home); // the next start makes another God daemon
      for (const token of tokens) survivors.push(...reap({ token }));
      if (survivors.length) throw new Error(`could not kill ${survivors.join(', ')}`);
    },
  };
  trackToken(home); // the God daemon's command line names its PM2_HOME
  return pm2;
}

const startArgs = (sleep, name, token, extra = []) => ['start', sleep, '--name', name, ...extra, '--', `1000.${token}`];

module.exports = { PM2_VERSION, install, makePm2, startArgs, newToken };
