'use strict';
// pm2 itself: installed from npm into a temporary prefix for the run, and driven with its own PM2_HOME and
// its phoning home switched off (see ../pm2.js).
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const lib = require('../lib');

/** pm2 7.0.4 declares engines { node: '>=18.0.0' }: it runs on this project's Node 20. */
const PM2_VERSION = '7.0.4';

const INSTALL_TIMEOUT_MS = 300000;

const CLI_TIMEOUT_MS = 30000;

/** npm install --prefix DIR pm2@VERSION. Returns { bin, version, engines } or throws with the reason. */
function install(prefix) {
  const npm = lib.commandPath('npm');
  if (!npm) throw new Error('npm not found on PATH');
  const r = spawnSync(npm, ['install', '--prefix', prefix, `pm2@${PM2_VERSION}`, '--no-audit', '--no-fund', '--ignore-scripts',
    '--loglevel=error'], { encoding: 'utf8', timeout: INSTALL_TIMEOUT_MS, stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.error) throw new Error(`npm install pm2@${PM2_VERSION}: ${r.error.message}`);
  if (r.status !== 0) {
    const why = `${r.stderr || ''}`.split('\n').filter((line) => line.trim() && !/Unknown user config/.test(line)).slice(0, 3).join(' ');
    throw new Error(`npm install pm2@${PM2_VERSION} exited ${r.status}: ${why || 'no message'}`);
  }
  const dir = path.join(prefix, 'node_modules', 'pm2');
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  return { bin: path.join(dir, 'bin', 'pm2'), version: pkg.version, engines: pkg.engines && pkg.engines.node };
}

/** The environment pm2 runs in: ours, less anything that would configure or link pm2, plus its switches. */
function pm2Env(home) {
  const env = {};
  for (const [key, value] of Object.entries(process.env)) if (!/^(PM2_|KEYMETRICS_)/.test(key)) env[key] = value;
  return { ...env, PM2_HOME: home, PM2_DISABLE_VERSION_CHECK: '1' };
}

/** A pm2 bound to one PM2_HOME: its CLI (run with our node, as its `#!/usr/bin/env node` would) and its files. */
function makePm2(node, bin, home, dir) {
  fs.mkdirSync(home, { recursive: true });
  fs.writeFileSync(path.join(home, 'touch'), `${Date.now()}`); // no first-run version check
  const env = pm2Env(home);
  let errCount = 0;
  const pm2 = {
    home,
    env,
    /** Runs `pm2 ARGS`; returns timedSpawn's result ({ ms, status, stderr, ... }). */
    run: (args) => lib.timedSpawn(node, [bin, ...args], { env, timeout: CLI_TIMEOUT_MS, stderrFile: path.join(dir, `cli${errCount++}.err`) }),
    /** Runs `pm2 ARGS`, throws unless it exited 0; returns its wall time. */
    ok: (args) => {
      const r = pm2.run(args);
      lib.checkExit(`pm2 ${args[0]}`, r);
      return r.ms;
    },
    /** The God daemon's pid while it runs, else null. */
    god: () => {
      const pid = lib.readPid(path.join(home, 'pm2.pid'));
      return pid !== null && lib.pidsWithTokenIn([pid], home) ? pid : null;
    },
    /** The pid in PM2_HOME/pids/NAME-ID.pid, or null. */
    appPid: (name) => {
      let files;
      try {
        files = fs.readdirSync(path.join(home, 'pids'));
      } catch {
        return null;
      }
      const file = files.find((f) => new RegExp(`^${name}-\\d+\\.pid$`).test(f));
      return file ? lib.readPid(path.join(home, 'pids', file)) : null;
    },
    pidfileOf: (name) => {
      try {
        const file = fs.readdirSync(path.join(home, 'pids')).find((f) => new RegExp(`^${name}-\\d+\\.pid$`).test(f));
        return file ? path.join(home, 'pids', file) : null;
      } catch {
        return null;
      }
    },
    /** `pm2 kill`, then makes sure the God daemon and every app marked by `tokens` are gone. */
    kill: (tokens = []) => {
      const god = pm2.god();
      pm2.run(['kill']);
      const survivors = lib.reap({ pids: god === null ? [] : [god], token: home });
      lib.trackToken(home); // reap stopped tracking it; the next start makes another God daemon
      for (const token of tokens) survivors.push(...lib.reap({ token }));
      if (survivors.length) throw new Error(`could not kill ${survivors.join(', ')}`);
    },
  };
  lib.trackToken(home); // the God daemon's command line names its PM2_HOME
  return pm2;
}

/** True once pm2's pid file for `name` names a live `sleep` carrying `token`. */
function appRuns(pm2, name, token) {
  const pid = pm2.appPid(name);
  return pid !== null && lib.procName(pid) === 'sleep' && lib.pidsWithTokenIn([pid], token) ? pid : null;
}

function startArgs(sleep, name, token, extra = []) {
  return ['start', sleep, '--name', name, ...extra, '--', `1000.${token}`];
}

function newToken(tokens) {
  const token = lib.uniqueToken();
  lib.trackToken(token);
  tokens.push(token);
  return token;
}

module.exports = { PM2_VERSION, INSTALL_TIMEOUT_MS, CLI_TIMEOUT_MS, install, pm2Env, makePm2, appRuns, startArgs, newToken };
