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
const { spawnSync } = require('node:child_process');

const lib = require('./lib');
const { OBS, observeDaemon, caller, lockOn, exitText, said, stubbornProgram } = require('./behaviour');

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

// ---------------------------------------------------------------------------------------------

/** A row for a pm2 command timed against `node -e 0`. */
function cliRow(node, measure, subject, compare, command) {
  return { measure, subject, compare, command, baseline: 'node -e 0', baselineCommand: `${node} -e 0`, unit: 'ms', goal: null, notes: [] };
}

async function startRows(ctx, pm2, sleep, node, tokens) {
  const pairs = ctx.quick ? 5 : 21;
  const warmup = ctx.quick ? 1 : 2;
  const rows = [];
  for (const kind of ['cold', 'warm']) {
    const row = cliRow(node, `pm2 start (${kind}): spawn -> CLI exit 0`, `pm2 start (${kind})`, { line: 'launch', tool: 'pm2', qualifier: kind },
      `pm2 start ${sleep} --name N -- 1000.N${kind === 'cold' ? '  (no God daemon yet: it starts one; pm2 kill after each)' : '  (God daemon running; pm2 delete N after each)'}`);
    rows.push(row);
    const stats = { runs: 0, ready: 0 };
    try {
      ctx.log(`pm2: pm2 start (${kind}) vs node -e 0, ${pairs} pairs`);
      if (kind === 'warm') pm2.ok(['ping']); // starts the God daemon
      Object.assign(row, { status: 'ok' }, await lib.runPairsAsync({
        pairs,
        warmup,
        baseline: () => lib.nodeBaselineOnce(node),
        subject: (i, isWarmup) => {
          const token = newToken(tokens);
          const name = `${kind}${token}`;
          if (kind === 'cold' && pm2.god() !== null) pm2.kill();
          const r = pm2.run(startArgs(sleep, name, token));
          const readyAtExit = appRuns(pm2, name, token) !== null;
          try {
            lib.checkExit('pm2 start', r);
            if (!lib.waitFor(() => appRuns(pm2, name, token), 3000)) throw new Error(`pm2 start: no ${name} running sleep after 3 s`);
            if (!isWarmup) {
              stats.runs += 1;
              if (readyAtExit) stats.ready += 1;
            }
          } finally {
            if (kind === 'cold') pm2.kill([token]);
            else {
              pm2.run(['delete', name]);
              lib.reap({ token });
            }
          }
          return r.ms;
        },
      }));
      row.pidfileReadyAtExit = { ready: stats.ready, of: stats.runs };
      row.notes.push(`pm2 start (${kind}): its pid file (PM2_HOME/pids/NAME-ID.pid) named the exec'd program when the CLI exited in `
        + `${stats.ready}/${stats.runs} runs`);
    } catch (error) {
      row.status = 'error';
      row.reason = error.message;
    }
  }
  return rows;
}

async function stopRows(ctx, pm2, sleep, node, tokens) {
  const pairs = ctx.quick ? 5 : 15;
  const rows = [];
  if (pm2.god() === null) pm2.ok(['ping']);
  for (const verb of ['stop', 'delete']) {
    const row = cliRow(node, `pm2 ${verb}: wall time`, `pm2 ${verb}`, { line: 'stop', tool: 'pm2', qualifier: verb },
      `pm2 ${verb} N  (of pm2 start ${sleep} --name N -- 1000.N, God daemon running)`);
    rows.push(row);
    let leftovers = 0;
    try {
      ctx.log(`pm2: pm2 ${verb} vs node -e 0, ${pairs} pairs`);
      Object.assign(row, { status: 'ok' }, await lib.runPairsAsync({
        pairs,
        warmup: 1,
        baseline: () => lib.nodeBaselineOnce(node),
        subject: () => {
          const token = newToken(tokens);
          const name = `${verb}${token}`;
          try {
            pm2.ok(startArgs(sleep, name, token));
            const pid = lib.waitFor(() => appRuns(pm2, name, token), 3000);
            if (!pid) throw new Error(`pm2 start: no ${name} running sleep after 3 s`);
            const ms = pm2.ok([verb, name]);
            if (!lib.isGone(pid)) leftovers += 1;
            return ms;
          } finally {
            if (verb === 'stop') pm2.run(['delete', name]);
            lib.reap({ token });
          }
        },
      }));
      row.notes.push(`pm2 ${verb}: the app was still alive right after it returned in ${leftovers} of ${pairs + 1} runs`);
    } catch (error) {
      row.status = 'error';
      row.reason = error.message;
    }
  }
  return rows;
}

async function respawnRow(ctx, pm2, sleep, tokens) {
  const kills = ctx.quick ? 15 : 41;
  const row = {
    measure: 'respawn: SIGKILL of child -> successor exec\'d',
    subject: 'pm2 God daemon',
    compare: { line: 'respawn', tool: 'pm2' },
    command: `pm2 start ${sleep} --name N --max-restarts 1000000 -- 1000.N`,
    unit: 'ms',
    goal: null,
    notes: ['pm2 respawn: --max-restarts 1000000, or pm2 gives up after 16 restarts that each ran under its min_uptime (1 s); '
      + 'its restart_delay is 0 by default'],
  };
  const token = newToken(tokens);
  const name = `respawn${token}`;
  try {
    ctx.log(`pm2: respawn latency, ${kills} kills`);
    if (pm2.god() === null) pm2.ok(['ping']);
    pm2.ok(startArgs(sleep, name, token, ['--max-restarts', '1000000']));
    const god = pm2.god();
    let victim = lib.waitFor(() => appRuns(pm2, name, token), 3000);
    if (!victim) throw new Error(`no ${name} running sleep after 3 s`);
    const samples = [];
    for (let i = 0; i < kills + 1; i++) {
      await lib.tick();
      const found = lib.killAndAwaitSuccessor(god, victim, 'sleep', token);
      if (i > 0) samples.push(found.ms); // the first kill warms up the restart path
      // Let the God daemon finish its bookkeeping (pid file, logs) and go idle before the next kill.
      lib.waitFor(() => pm2.appPid(name) === found.pid, 2000);
      lib.sleepMs(30);
      victim = found.pid;
    }
    Object.assign(row, { status: 'ok', n: samples.length, median: lib.median(samples), min: Math.min(...samples), max: Math.max(...samples), samples });
    pm2.run(['delete', name]);
  } catch (error) {
    row.status = 'error';
    row.reason = error.message;
  } finally {
    lib.reap({ token });
  }
  return [row];
}

/** A fresh God daemon with one app, left alone for the same window as supervisor.js's; then USS, RSS and CPU. */
async function windowRows(ctx, pm2, sleep, tokens) {
  const windowSeconds = ctx.quick ? 15 : 60;
  const memory = { measure: 'memory: supervisor USS', subject: 'pm2 God daemon', compare: { line: 'uss', tool: 'pm2' },
    command: `pm2 start ${sleep} --name N -- 1000.N  (one app, fresh God daemon)`, unit: 'MiB', goal: null, notes: [] };
  const cpu = { measure: `cpu: supervisor over ${windowSeconds} s`, subject: 'pm2 God daemon, idle', compare: { line: 'cpu-idle', tool: 'pm2' },
    command: memory.command, unit: '%', goal: null, notes: [] };
  try {
    if (pm2.god() !== null) pm2.kill();
    const token = newToken(tokens);
    const name = `idle${token}`;
    pm2.ok(startArgs(sleep, name, token));
    const god = pm2.god();
    if (!god || !lib.waitFor(() => appRuns(pm2, name, token), 3000)) throw new Error('pm2 start: no God daemon or no app');
    const first = lib.cpuSample(god);
    ctx.log(`pm2: God daemon with one app, window of ${windowSeconds} s`);
    const deadline = lib.nowMs() + windowSeconds * 1000;
    while (lib.nowMs() < deadline) await new Promise((resolve) => setTimeout(resolve, Math.min(1000, Math.max(1, deadline - lib.nowMs()))));
    const last = lib.cpuSample(god);
    const m = lib.readMemory(god);
    const stat = lib.readStat(god);
    if (!m || !last || !first) throw new Error('the God daemon died during the window');
    Object.assign(memory, {
      status: 'ok',
      n: 1,
      median: m.uss,
      anonMiB: Number(m.anon.toFixed(2)),
      rssMiB: Number(m.rss.toFixed(2)),
      pssMiB: Number(m.pss.toFixed(2)),
      threads: stat && stat.threads,
      detail: `USS ${m.uss.toFixed(2)} MiB (anonymous ${m.anon.toFixed(2)}), RSS ${m.rss.toFixed(1)}, PSS ${m.pss.toFixed(1)} MiB, `
        + `${stat ? stat.threads : '?'} threads`,
    });
    memory.notes.push(`pm2 God daemon: read from /proc/PID/smaps_rollup after ${windowSeconds} s with one app (/bin/sleep), as for `
      + 'daemonize -r; the node binary is shared with other Node processes here just as for daemonize -r\'s row. A Node app under '
      + 'pm2 also runs inside pm2\'s wrapper (ProcessContainerFork), which this figure does not include');
    const c = lib.cpuPercent(first, last);
    const resolution = 100 / lib.ticksPerSecond() / c.windowSeconds;
    Object.assign(cpu, {
      status: 'ok',
      n: 1,
      median: c.self,
      detail: `${c.windowSeconds.toFixed(1)} s after pm2 start returned: ${c.self.toFixed(3)}% (1 tick = ${resolution.toFixed(3)}%), `
        + `reaped children ${c.children.toFixed(3)}%`,
    });
  } catch (error) {
    for (const row of [memory, cpu]) Object.assign(row, { status: 'error', reason: error.message });
  }
  return [memory, cpu];
}

/** bench/behaviour.js's observations, for an app started by `pm2 start` (cold) from the same marked caller. */
async function behaviourRows(ctx, pm2, node, bin, sleep, dir, tokens) {
  const base = { subject: 'pm2', compare: { tool: 'pm2' }, unit: null };
  const rows = [];
  const row = (measure, value, detail) => rows.push({ ...base, measure, status: 'observed', value, detail });
  try {
    ctx.log('pm2: observations');
    if (pm2.god() !== null) pm2.kill();
    const marker = path.join(dir, 'marker');
    fs.writeFileSync(marker, 'the caller\'s extra descriptors\n');
    const token = newToken(tokens);
    const name = `obs${token}`;
    const r = lib.timedSpawn(...caller(marker, [node, bin, ...startArgs(sleep, name, token)]),
      { env: pm2.env, stderrFile: path.join(dir, 'obs.err') });
    lib.checkExit('pm2 start', r);
    const pid = lib.waitFor(() => appRuns(pm2, name, token), 3000);
    if (!pid) throw new Error('pm2 start: the app did not start');
    const log = path.join(pm2.home, 'logs', `${name}-out.log`);
    rows.push(...observeDaemon(pid, { marker, output: log, pidfile: pm2.pidfileOf(name), base }));
    const lock = pm2.pidfileOf(name) && lockOn(pm2.pidfileOf(name));
    row(OBS.lock, lock ? 'yes' : 'no', 'PM2_HOME/pids/NAME-ID.pid');

    const second = newToken(tokens);
    const again = pm2.run(startArgs(sleep, name, second));
    const twin = lib.waitFor(() => lib.pidsWithToken(second).length > 0, 500) !== null;
    row(OBS.second, twin ? `second instance started, ${exitText(again)}` : `refused, ${exitText(again)}`,
      `same --name; first app ${lib.isGone(pid) ? 'gone' : 'still running'} afterwards${said(again) ? `; said: ${said(again)}` : ''}`);

    const missing = newToken(tokens);
    const gone = pm2.run(['start', `/nonexistent/daemonize-bench-${missing}`, '--name', `m${missing}`]);
    row(OBS.missing, exitText(gone), said(gone) ? `said: ${said(gone)}` : undefined);

    const stubborn = newToken(tokens);
    const stubName = `stub${stubborn}`;
    const [shell, ...shellArgs] = stubbornProgram(sleep, stubborn);
    pm2.ok(['start', shell, '--name', stubName, '--', ...shellArgs]);
    const stub = lib.waitFor(() => appRuns(pm2, stubName, stubborn), 3000);
    if (!stub) {
      row(OBS.stop, 'could not start the program');
    } else {
      const s = pm2.run(['stop', stubName]);
      row(OBS.stop, lib.isGone(stub) ? `waits: gone when it returns (${exitText(s)} after ${lib.fmtMs(s.ms)})`
        : `returns (${exitText(s)} after ${lib.fmtMs(s.ms)}) before the program is gone`, 'pm2 stop N: SIGINT, then SIGKILL after kill_timeout (1600 ms by default)');
    }
    row(OBS.foreground, 'not measured', 'pm2-runtime is its foreground mode; not run here');
  } catch (error) {
    rows.push({ ...base, measure: 'observations', status: 'error', reason: error.message });
  }
  return rows;
}

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
