'use strict';
// Section: what a restart costs a live HTTP service: daemonize -r with held sockets (--listen: the new child
// starts beside the old one), daemonize -r without them (stop, then start), libslack `daemon --restart` of a
// --respawn client, and `pm2 restart` of an app in fork mode. For each: one HTTP server (fixtures/restart-http.js,
// answering with its pid) on 127.0.0.1, a request loop back to back (new connection each, short timeout), N
// restarts one after another.
//   failed:  requests that did not get a 200 during the N restarts (refused, reset, timed out);
//   serving: ms from spawning the restart command to the first response from a pid never seen before.
// Alone: `npm run bench -- --only=restart`.
const http = require('node:http');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { freePort } = require('../tools/free-port');
const procfs = require('../tools/procfs');
const { nowMs, pause, stats, rowsOrError } = require('./lib/measure');
const { ROOT, DAEMONIZE, commandPath, nodePath } = require('./lib/commands');
const { newToken, reap, makeTmpDir, removeDir } = require('./lib/cleanup');
const { startDaemonize, libslackFastPolicy, startLibslack } = require('./lib/daemons');
const { PM2_VERSION, install, makePm2 } = require('./lib/pm2');

const FIXTURE = path.join(__dirname, 'fixtures', 'restart-http.js');
const REQUEST_TIMEOUT_MS = 1000;
/** After a failed request, this pause before the next: failures count the downtime in steps of about this. */
const RETRY_PAUSE_MS = 5;
/** Requests answered between two restarts, so each restart starts from a steady service. */
const STEADY_MS = 300;
/** A restart whose new child does not serve within this is an error for that tool. */
const SERVE_DEADLINE_MS = 15000;

/** One GET on a new connection to 127.0.0.1; resolves with the pid that served it, or rejects. */
function get(port) {
  return new Promise((resolve, reject) => {
    const request = http.get({ host: '127.0.0.1', port, path: '/', agent: false, timeout: REQUEST_TIMEOUT_MS }, (response) => {
      let body = '';
      response.on('data', (d) => { body += d; });
      response.on('end', () => (response.statusCode === 200 ? resolve(Number(body)) : reject(new Error(`status ${response.statusCode}`))));
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    request.on('error', reject);
  });
}

/** Runs a command without blocking the event loop (the request loop goes on); resolves { status, stderr } once it
 *  exits (not once its stderr closes: a daemon may hold it). */
function runAsync(file, args, env) {
  return new Promise((resolve) => {
    const child = spawn(file, args, { stdio: ['ignore', 'ignore', 'pipe'], env });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', (error) => resolve({ status: null, stderr: error.message }));
    child.on('exit', (code, signal) => resolve({ status: code ?? signal, stderr: stderr.trim() }));
  });
}

/** A request loop against one running service while `restart()` runs `restarts` times, each once the last one's
 *  new child served and STEADY_MS after it; returns the counts, the serving times and the pids that answered. */
async function measure(port, restarts, restart, label) {
  const seen = new Set();
  let watch = null;
  let first = null;
  const deadline = nowMs() + SERVE_DEADLINE_MS;
  while (first === null && nowMs() < deadline) first = await get(port).catch(() => pause(50).then(() => null));
  if (first === null) throw new Error(`${label}: no answer on 127.0.0.1:${port}`);
  seen.add(first);
  const counts = { ok: 0, failed: 0, errors: {} };
  let stopping = false;
  const loopEnd = nowMs() + restarts * (SERVE_DEADLINE_MS + STEADY_MS) + 5000;
  const loop = (async () => {
    while (!stopping && counts.ok + counts.failed < 500000 && nowMs() < loopEnd) {
      try {
        const pid = await get(port);
        counts.ok++;
        if (!seen.has(pid)) {
          seen.add(pid);
          if (watch && watch.at === null) watch.at = nowMs();
        }
      } catch (error) {
        counts.failed++;
        const key = error.code ?? error.message;
        counts.errors[key] = (counts.errors[key] ?? 0) + 1;
        await pause(RETRY_PAUSE_MS);
      }
    }
  })();
  const served = [];
  try {
    await pause(STEADY_MS);
    for (let i = 0; i < restarts; i++) {
      watch = { t0: nowMs(), at: null };
      const r = await restart();
      if (r.status !== 0) throw new Error(`${label}: restart ${i + 1} exited ${r.status}${r.stderr ? `: ${r.stderr.split('\n')[0]}` : ''}`);
      const serveBy = nowMs() + SERVE_DEADLINE_MS;
      while (watch.at === null && nowMs() < serveBy) await pause(2);
      if (watch.at === null) throw new Error(`${label}: no new child served within ${SERVE_DEADLINE_MS / 1000} s of restart ${i + 1}`);
      served.push(watch.at - watch.t0);
      await pause(STEADY_MS);
    }
  } finally {
    stopping = true;
    await loop;
  }
  return { counts, served, pids: [...seen] };
}

/** The two rows of one tool, measured by `run(port, token)` (which returns measure()'s result) or with why not. */
async function restartRows(ctx, restarts, { subject, tool, qualifier, command, notes = [], run }) {
  const compare = (line) => ({ line, tool, ...(qualifier ? { qualifier } : {}) });
  const failed = { measure: `restart: requests failed during ${restarts} restarts`, subject, compare: compare('restart-failed'), command,
    unit: 'failed', goal: null, baseline: 'none', notes };
  const serving = { measure: 'restart: command issued -> new child serving', subject, compare: compare('restart-serving'), command,
    unit: 'ms', goal: null, baseline: 'none', notes: [] };
  if (typeof run === 'string') {
    for (const row of [failed, serving]) Object.assign(row, { status: 'not measured', reason: run });
    return [failed, serving];
  }
  const token = newToken();
  let pids = [];
  try {
    ctx.log(`restart: ${subject}, ${restarts} restarts`);
    const result = await run(await freePort(), token);
    pids = result.pids;
    const { ok, failed: n, errors } = result.counts;
    const kinds = Object.entries(errors).map(([k, v]) => `${k} ${v}`).join(', ');
    Object.assign(failed, { status: 'ok', n: 1, median: n, served: ok, errors, detail: `${ok} served, ${n} failed${kinds ? ` (${kinds})` : ''}` });
    Object.assign(serving, stats(result.served));
  } catch (error) {
    Object.assign(failed, { status: 'error', reason: error.message });
    serving.status = 'error';
  } finally {
    // The servers that answered, checked by their command line: ours, under any of the tools.
    const ours = (word) => word.includes(token) || word.includes('restart-http') || word.includes('ProcessContainerFork');
    reap({ pids: pids.filter((pid) => procfs.cmdline(pid).some(ours)), token });
  }
  return [failed, serving];
}

module.exports = {
  id: 'restart',
  title: 'Restarts of a live HTTP service: daemonize -r (with and without --listen), libslack daemon, pm2',
  async run(ctx) {
    const restarts = ctx.quick ? 5 : 10;
    const node = nodePath();
    const fixture = path.relative(ROOT, FIXTURE);
    const dir = makeTmpDir('daemonize-bench-restart-');
    const daemonize = (listen) => ({
      subject: `daemonize -r ${listen ? '--listen' : 'without --listen'}`, tool: 'daemonize', qualifier: listen ? '--listen' : 'without',
      command: `bin/daemonize.cjs -r -F P --ready notify ${listen ? '--listen 127.0.0.1:PORT ' : ''}-- node ${fixture} PORT; `
        + 'restart: bin/daemonize.cjs -F P --restart',
      run: async (port) => {
        const extra = ['--ready', 'notify', ...(listen ? ['--listen', `127.0.0.1:${port}`] : [])];
        const h = startDaemonize(dir, (token) => [node, FIXTURE, String(port), token], { extra });
        try {
          return await measure(port, restarts, () => runAsync(DAEMONIZE, ['-F', h.pidfile, '--restart']), 'daemonize --restart');
        } finally {
          h.end();
        }
      },
    });
    const daemon = commandPath('daemon');
    const policy = libslackFastPolicy();
    const libslack = {
      subject: 'daemon (libslack) --restart', tool: 'libslack', notes: [policy.note],
      command: `daemon --respawn ${policy.args.join(' ')} --pidfiles=D --name=N -- node ${fixture} PORT; `
        + 'restart: daemon --pidfiles=D --name=N --restart',
      run: !daemon ? 'not installed: apt-get install daemon' : async (port) => {
        const h = startLibslack(daemon, dir, (token) => [node, FIXTURE, String(port), token], policy.args);
        try {
          return await measure(port, restarts, () => runAsync(daemon, [...h.where, '--restart']), 'daemon --restart');
        } finally {
          h.end();
        }
      },
    };
    const pm2 = { subject: 'pm2 restart (fork mode)', tool: 'pm2', notes: [],
      command: `pm2 start ${fixture} --name N -- PORT  (fork mode, one instance); restart: pm2 restart N`,
      run: async (port, token) => {
        const cli = makePm2(node, pm2.installed.bin, dir);
        try {
          cli.ok(['start', FIXTURE, '--name', `web${token}`, '--interpreter', node, '--', String(port), token]);
          return await measure(port, restarts, () => runAsync(node, [cli.bin, 'restart', `web${token}`], cli.env), 'pm2 restart');
        } finally {
          cli.kill();
        }
      } };
    const rows = [];
    try {
      for (const listen of [true, false]) {
        rows.push(...await rowsOrError(`daemonize ${listen ? '--listen' : 'without --listen'}`, () => restartRows(ctx, restarts, daemonize(listen))));
      }
      rows.push(...await rowsOrError('libslack', () => restartRows(ctx, restarts, libslack)));
      try {
        ctx.log(`restart: npm install pm2@${PM2_VERSION} into ${dir}`);
        pm2.installed = install(path.join(dir, 'pkg'));
        ctx.peers.pm2 ??= { name: 'pm2', path: null, version: `${pm2.installed.version}, from npm into a temporary directory for this run `
          + '(restart section); PM2_HOME temporary; PM2_DISABLE_VERSION_CHECK=1' };
        pm2.notes.push('pm2 restart: fork mode (pm2\'s default for one instance); pm2 stops the app with SIGINT, then starts it again; '
          + 'its zero-downtime `pm2 reload` exists only in cluster mode');
      } catch (error) {
        pm2.run = `pm2 could not be installed: ${error.message}`;
      }
      rows.push(...await rowsOrError('pm2', () => restartRows(ctx, restarts, pm2), 'pm2'));
    } finally {
      removeDir(dir);
    }
    rows[0].notes.push(`restart: one HTTP server (${fixture}, answers with its pid) on 127.0.0.1 per tool; a request loop on a new `
      + `connection each, one after another, ${REQUEST_TIMEOUT_MS} ms timeout, ${RETRY_PAUSE_MS} ms pause after a failure (so failures `
      + `count roughly the downtime in steps of a few ms); ${restarts} restarts, each once the last one's new child served and ${STEADY_MS} ms `
      + 'of steady requests after it. "new child serving": from spawning the restart command to the first response from a pid not seen '
      + 'before; the command\'s own start-up (a Node CLI for daemonize and pm2, a C program for libslack) is included');
    return rows;
  },
};
