'use strict';
// Section: pm2, installed into a temporary directory for the run (lib/pm2.js), measured like our own tools:
// `pm2 start` (cold: no God daemon yet, and warm), `pm2 stop` and `pm2 delete` against `node -e 0` in
// interleaved pairs; the God daemon's respawn latency, USS and CPU as supervisor.js measures daemonize -r; and
// behaviour.js's observations for a pm2 app. The app is /bin/sleep (pm2 runs a binary directly, without its
// Node wrapper). Skip with --no-pm2.
const path = require('node:path');
const procfs = require('../tools/procfs');
const { waitFor, runPairs, measureInto, rowsOrError } = require('./lib/measure');
const { nodePath, sleepPath, checkExit, nodeBaselineOnce, nodeRow } = require('./lib/commands');
const { newToken, reap, makeTmpDir, removeDir } = require('./lib/cleanup');
const { PM2_VERSION, install, makePm2, startArgs } = require('./lib/pm2');
const { respawnFigures, cpuSample, windowWait, cpuFigures, memoryFigures } = require('./lib/supervision');
const { observeTool } = require('./lib/observe');

/** Starts app `name` running `sleep 1000.TOKEN`; returns its pid once it runs. */
function startApp(pm2, sleep, name, token, extra) {
  pm2.ok(startArgs(sleep, name, token, extra));
  const pid = waitFor(() => pm2.appRuns(name, token), 3000);
  if (!pid) throw new Error(`pm2 start: no ${name} running sleep after 3 s`);
  return pid;
}

async function cliRows(ctx, pm2, sleep, node, tokens) {
  const rows = [];
  for (const kind of ['cold', 'warm', 'stop', 'delete']) {
    const start = kind === 'cold' || kind === 'warm';
    const pairs = ctx.quick ? 5 : start ? 21 : 15;
    const row = nodeRow(node, start ? { measure: `pm2 start (${kind}): spawn -> CLI exit 0`, subject: `pm2 start (${kind})`,
      compare: { line: 'launch', tool: 'pm2', qualifier: kind },
      command: `pm2 start ${sleep} --name N -- 1000.N  (${kind === 'cold' ? 'no God daemon yet: it starts one; pm2 kill after each'
        : 'God daemon running; pm2 delete N after each'})` }
      : { measure: `pm2 ${kind}: wall time`, subject: `pm2 ${kind}`, compare: { line: 'stop', tool: 'pm2', qualifier: kind },
        command: `pm2 ${kind} N  (of pm2 start ${sleep} --name N -- 1000.N, God daemon running)` });
    rows.push(row);
    let count = 0; // start: the app's pid file named it when the CLI exited; stop: the app outlived the CLI
    ctx.log(`pm2: pm2 ${start ? `start (${kind})` : kind} vs node -e 0, ${pairs} pairs`);
    await measureInto(row, () => {
      if (kind !== 'cold') pm2.ensureGod();
      return runPairs({ pairs, warmup: start && !ctx.quick ? 2 : 1, baseline: () => nodeBaselineOnce(node), subject: (i, warm) => {
        const token = newToken(tokens);
        const name = `${kind}${token}`;
        try {
          if (!start) {
            const pid = startApp(pm2, sleep, name, token);
            const ms = pm2.ok([kind, name]);
            if (!warm && procfs.isAlive(pid)) count += 1;
            return ms;
          }
          if (kind === 'cold' && pm2.god() !== null) pm2.kill();
          const r = pm2.run(startArgs(sleep, name, token));
          const readyAtExit = pm2.appRuns(name, token) !== null;
          checkExit('pm2 start', r);
          if (!waitFor(() => pm2.appRuns(name, token), 3000)) throw new Error(`pm2 start: no ${name} running sleep after 3 s`);
          if (!warm && readyAtExit) count += 1;
          return r.ms;
        } finally {
          if (kind === 'cold') pm2.kill([token]);
          else if (kind !== 'delete') pm2.run(['delete', name]);
          reap({ token });
        }
      } });
    });
    if (start) row.pidfileReadyAtExit = { ready: count, of: pairs };
    row.notes.push(start
      ? `pm2 start (${kind}): its pid file (PM2_HOME/pids/NAME-ID.pid) named the exec'd program when the CLI exited in ${count}/${pairs} runs`
      : `pm2 ${kind}: the app was still alive right after it returned in ${count} of ${pairs} runs`);
  }
  return rows;
}

async function respawnRow(ctx, pm2, sleep, tokens) {
  const kills = ctx.quick ? 15 : 41;
  const row = { measure: 'respawn: SIGKILL of child -> successor exec\'d', subject: 'pm2 God daemon', compare: { line: 'respawn', tool: 'pm2' },
    command: `pm2 start ${sleep} --name N --max-restarts 1000000 -- 1000.N`, unit: 'ms', goal: null,
    notes: ['pm2 respawn: --max-restarts 1000000, or pm2 gives up after 16 restarts that each ran under its min_uptime (1 s); '
      + 'its restart_delay is 0 by default'] };
  const token = newToken(tokens);
  const name = `respawn${token}`;
  ctx.log(`pm2: respawn latency, ${kills} kills`);
  await measureInto(row, async () => {
    pm2.ensureGod();
    startApp(pm2, sleep, name, token, ['--max-restarts', '1000000']);
    const figures = await respawnFigures({ supervisor: pm2.god(), child: () => pm2.appRuns(name, token), token, kills,
      settle: (pid) => waitFor(() => pm2.appRuns(name, token) === pid, 2000) });
    pm2.run(['delete', name]);
    return figures;
  });
  reap({ token });
  return [row];
}

/** A fresh God daemon with one app, left alone for the same window as supervisor.js's; then USS, RSS and CPU. */
async function windowRows(ctx, pm2, sleep, tokens) {
  const seconds = ctx.quick ? 15 : 60;
  const command = `pm2 start ${sleep} --name N -- 1000.N  (one app, fresh God daemon)`;
  const memory = { measure: 'memory: supervisor USS', subject: 'pm2 God daemon', compare: { line: 'uss', tool: 'pm2' }, command, unit: 'MiB',
    goal: null,
    notes: [`pm2 God daemon: read from /proc/PID/smaps_rollup after ${seconds} s with one app (/bin/sleep), as for daemonize -r; `
      + 'a Node app under pm2 also runs inside pm2\'s wrapper (ProcessContainerFork), which this figure does not include'] };
  const cpu = { measure: `cpu: supervisor over ${seconds} s`, subject: 'pm2 God daemon, idle', compare: { line: 'cpu-idle', tool: 'pm2' },
    command, unit: '%', goal: null, notes: [] };
  await measureInto(cpu, async () => {
    if (pm2.god() !== null) pm2.kill();
    const token = newToken(tokens);
    startApp(pm2, sleep, `idle${token}`, token);
    const god = pm2.god();
    const first = cpuSample(god);
    ctx.log(`pm2: God daemon with one app, window of ${seconds} s`);
    await windowWait(seconds);
    const figures = cpuFigures(first, cpuSample(god), 'pm2 start returned');
    Object.assign(memory, memoryFigures(god));
    return figures;
  });
  if (cpu.status === 'error') Object.assign(memory, { status: 'error', reason: cpu.reason });
  return [memory, cpu];
}

/** behaviour.js's observations (lib/observe.js), for an app started by `pm2 start` with a fresh God daemon. */
function behaviourRows(ctx, pm2, node, sleep, dir) {
  ctx.log('pm2: observations');
  if (pm2.god() !== null) pm2.kill();
  return observeTool({
    tool: 'pm2',
    subject: 'pm2',
    argv: (args) => [node, pm2.bin, ...args],
    env: pm2.env,
    start: (name, program) => ['start', program[0], '--name', name, '--', ...program.slice(1)],
    pidfile: pm2.pidfileOf,
    lockDetail: 'PM2_HOME/pids/NAME-ID.pid',
    programPid: pm2.appPid,
    output: (name) => path.join(pm2.home, 'logs', `${name}-out.log`),
    stop: (name) => ['stop', name],
    stopCommand: 'pm2 stop N: SIGINT, then SIGKILL after kill_timeout (1600 ms by default)',
    noForeground: ['not measured', 'pm2-runtime is its foreground mode; not run here'],
  }, dir, sleep);
}

module.exports = {
  id: 'pm2',
  title: 'pm2 (installed for this run)',
  async run(ctx) {
    const dir = makeTmpDir('daemonize-bench-pm2-');
    const tokens = [];
    let pm2 = null;
    try {
      let installed;
      try {
        ctx.log(`pm2: npm install pm2@${PM2_VERSION} into ${dir}`);
        installed = install(path.join(dir, 'pkg'));
      } catch (error) {
        ctx.peers.pm2 = { name: 'pm2', path: null, version: `not available: ${error.message}` };
        return [{ measure: 'pm2', subject: 'pm2', compare: { line: 'launch', tool: 'pm2' }, status: 'not available', reason: error.message }];
      }
      ctx.peers.pm2 = { name: 'pm2', path: null, version: `${installed.version} (engines: node ${installed.engines}), from npm into a temporary `
        + 'directory for this run; PM2_HOME temporary; PM2_DISABLE_VERSION_CHECK=1 and PM2_HOME/touch made first, so it makes no call to '
        + 'version.pm2.io; not linked to pm2.io' };
      const node = nodePath();
      const sleep = sleepPath();
      pm2 = makePm2(node, installed.bin, dir);
      const rows = [
        ...await rowsOrError('start and stop', () => cliRows(ctx, pm2, sleep, node, tokens), 'pm2'),
        ...await rowsOrError('respawn', () => respawnRow(ctx, pm2, sleep, tokens), 'pm2'),
        ...await rowsOrError('memory and cpu', () => windowRows(ctx, pm2, sleep, tokens), 'pm2'),
        ...await rowsOrError('behaviour', () => behaviourRows(ctx, pm2, node, sleep, dir), 'pm2'),
      ];
      for (const row of rows) row.baseline ??= 'none';
      return rows;
    } finally {
      try {
        if (pm2) pm2.kill(tokens);
      } finally {
        for (const token of tokens) reap({ token });
        removeDir(dir);
      }
    }
  },
};
