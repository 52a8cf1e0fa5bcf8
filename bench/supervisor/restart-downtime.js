'use strict';
// Section: what a restart costs a live HTTP service, four ways side by side: daemonize -r with held sockets
// (--listen: the new child starts beside the old one), daemonize -r without them (stop, then start), libslack
// `daemon --restart` of a --respawn client, and `pm2 restart` of an app in fork mode (pm2 installed for the run,
// as bench/pm2.js does). For each: one HTTP server (bench/fixtures/restart-http.js, answering with its pid) on
// 127.0.0.1, a request loop back to back (new connection each, short timeout), N restarts one after another.
//   failed:  requests that did not get a 200 during the N restarts (refused, reset, timed out);
//   serving: ms from spawning the restart command to the first response from a pid never seen before.
// The loop is bounded in requests and in time, and stops by itself. Alone: `npm run bench -- --only=restart`.
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const path = require('node:path');
const { spawn } = require('node:child_process');
const lib = require('../lib');
const { libslackFastPolicy, startLibslack } = require('./daemons');
const { PM2_VERSION, install, makePm2, newToken } = require('../pm2/tool');

const FIXTURE = path.join(__dirname, '..', 'fixtures', 'restart-http.js');

const REQUEST_TIMEOUT_MS = 1000;

/** After a failed request, this pause before the next: the failure count is about the downtime / (this + a try). */
const RETRY_PAUSE_MS = 5;

/** Requests answered between two restarts, so each restart starts from a steady service. */
const STEADY_MS = 300;

/** A restart whose new child does not serve within this is an error for that tool. */
const SERVE_DEADLINE_MS = 15000;

const MAX_REQUESTS = 500000;

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

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

/** Requests one after another until stop(), `maxRequests` or `ms` elapse; every success reports its pid. */
function requestLoop(port, { ms, maxRequests = MAX_REQUESTS, onServed }) {
  let stopping = false;
  const counts = { ok: 0, failed: 0, errors: {} };
  const deadline = lib.nowMs() + ms;
  const done = (async () => {
    while (!stopping && counts.ok + counts.failed < maxRequests && lib.nowMs() < deadline) {
      try {
        const pid = await get(port);
        counts.ok++;
        onServed(pid, lib.nowMs());
      } catch (error) {
        counts.failed++;
        const key = error.code ?? error.message;
        counts.errors[key] = (counts.errors[key] ?? 0) + 1;
        await pause(RETRY_PAUSE_MS);
      }
    }
    return counts;
  })();
  return { stop: () => { stopping = true; return done; } };
}

/** Runs a command without blocking the event loop (the request loop goes on); resolves { status, stderr }. */
function runAsync(file, args, { env, errFile }) {
  return new Promise((resolve) => {
    const errFd = fs.openSync(errFile, 'w');
    const child = spawn(file, args, { stdio: ['ignore', 'ignore', errFd], env });
    fs.closeSync(errFd);
    const finish = (status, error) => {
      let stderr = '';
      try {
        stderr = fs.readFileSync(errFile, 'utf8').trim();
      } catch {
        // nothing written
      }
      resolve({ status, stderr: error ? error.message : stderr });
    };
    child.on('error', (error) => finish(null, error));
    child.on('exit', (code, signal) => finish(code === null ? signal : code));
  });
}

/** Polls until `check()` is truthy or `ms` pass, letting the event loop run between tries. */
async function until(check, ms) {
  const deadline = lib.nowMs() + ms;
  for (;;) {
    const value = check();
    if (value) return value;
    if (lib.nowMs() > deadline) return null;
    await pause(2);
  }
}

/** The loop and the N restarts against one running service; returns the counts and the serving times. */
async function measure(ctx, port, restarts, restart, label) {
  const seen = new Set();
  let watch = null;
  const onServed = (pid, at) => {
    if (!seen.has(pid)) {
      seen.add(pid);
      if (watch && watch.at === null && at >= watch.t0) Object.assign(watch, { at, pid });
    }
  };
  let first = null;
  const deadline = lib.nowMs() + SERVE_DEADLINE_MS;
  while (first === null && lib.nowMs() < deadline) first = await get(port).catch(() => pause(50).then(() => null));
  if (first === null) throw new Error(`${label}: no answer on 127.0.0.1:${port}`);
  seen.add(first);
  const served = [];
  const budget = restarts * (SERVE_DEADLINE_MS + STEADY_MS) + 5000;
  const loop = requestLoop(port, { ms: budget, onServed });
  let counts;
  try {
    await pause(STEADY_MS);
    for (let i = 0; i < restarts; i++) {
      watch = { t0: lib.nowMs(), at: null, pid: null };
      const r = await restart(i);
      if (r.status !== 0) throw new Error(`${label}: restart ${i + 1} exited ${r.status}${r.stderr ? `: ${r.stderr.split('\n')[0]}` : ''}`);
      if (!await until(() => watch.at !== null, SERVE_DEADLINE_MS)) throw new Error(`${label}: no new child served within ${SERVE_DEADLINE_MS / 1000} s of restart ${i + 1}`);
      served.push(watch.at - watch.t0);
      await pause(STEADY_MS);
    }
  } finally {
    counts = await loop.stop();
  }
  return { counts, served, pids: [...seen] };
}

/** The two rows of one tool, filled from `measure`'s result or with why it could not be measured. */
function rowsFor(subject, tool, qualifier, command, restarts) {
  const compare = (line) => ({ line, tool, ...(qualifier ? { qualifier } : {}) });
  return {
    failed: { measure: `restart: requests failed during ${restarts} restarts`, subject, compare: compare('restart-failed'), command,
      unit: 'failed', goal: null, baseline: 'none', notes: [] },
    serving: { measure: 'restart: command issued -> new child serving', subject, compare: compare('restart-serving'), command,
      unit: 'ms', goal: null, baseline: 'none', notes: [] },
  };
}

function fill(rows, result) {
  const { ok, failed, errors } = result.counts;
  const kinds = Object.entries(errors).map(([k, v]) => `${k} ${v}`).join(', ');
  Object.assign(rows.failed, { status: 'ok', n: 1, median: failed, served: ok, errors,
    detail: `${ok} served, ${failed} failed${kinds ? ` (${kinds})` : ''}` });
  const s = result.served;
  Object.assign(rows.serving, { status: 'ok', n: s.length, median: lib.median(s), min: Math.min(...s), max: Math.max(...s), samples: s });
}

function failedWith(rows, error) {
  Object.assign(rows.failed, { status: 'error', reason: error.message });
  Object.assign(rows.serving, { status: 'error' });
}

function notMeasured(rows, why) {
  for (const row of [rows.failed, rows.serving]) Object.assign(row, { status: 'not measured', reason: why });
}

/** Kills the servers that answered (checked by their command line: ours, under any of the tools) and `token`'s. */
function reapServers(pids, token) {
  const ours = pids.filter((pid) => {
    const argv = lib.cmdlineOf(pid);
    return argv !== null && argv.some((w) => w.includes(token) || w.includes('restart-http') || w.includes('ProcessContainerFork'));
  });
  return lib.reap({ pids: ours, token });
}

async function daemonizeRows(ctx, dir, node, restarts, listen) {
  const token = lib.uniqueToken();
  lib.trackToken(token);
  const port = await freePort();
  const pidfile = path.join(dir, `${token}.pid`);
  const extra = listen ? ['--listen', `127.0.0.1:${port}`] : [];
  const args = ['-r', '-F', pidfile, '-l', path.join(dir, `${token}.log`), '--ready', 'notify', ...extra, '--', node, FIXTURE, String(port), token];
  const rows = rowsFor(`daemonize -r ${listen ? '--listen' : 'without --listen'}`, 'daemonize', listen ? '--listen' : 'without',
    `bin/daemonize -r -F P --ready notify ${listen ? '--listen 127.0.0.1:PORT ' : ''}-- node ${path.relative(lib.ROOT, FIXTURE)} PORT; restart: bin/daemonize -F P --restart`,
    restarts);
  let pids = [];
  try {
    ctx.log(`restart: daemonize -r ${listen ? 'with' : 'without'} --listen, ${restarts} restarts`);
    const r = lib.timedSpawn(lib.DAEMONIZE, args, { stderrFile: path.join(dir, `${token}.err`) });
    lib.trackPid(lib.readPid(pidfile));
    lib.checkExit('daemonize -r', r);
    const result = await measure(ctx, port, restarts,
      (i) => runAsync(lib.DAEMONIZE, ['-F', pidfile, '--restart'], { errFile: path.join(dir, `${token}.r${i}.err`) }), 'daemonize --restart');
    pids = result.pids;
    fill(rows, result);
  } catch (error) {
    failedWith(rows, error);
  } finally {
    const supervisor = lib.readPid(pidfile);
    lib.timedSpawn(lib.DAEMONIZE, ['-F', pidfile, '--stop', '--stop-timeout', '5'], { stderrFile: path.join(dir, `${token}.stop.err`) });
    reapServers(pids, token);
    if (supervisor !== null) lib.reap({ pids: lib.pidsWithTokenIn([supervisor], token) ? [supervisor] : [] });
  }
  return [rows.failed, rows.serving];
}

async function libslackRows(ctx, dir, node, restarts) {
  const daemon = lib.commandPath('daemon');
  const policy = libslackFastPolicy();
  const rows = rowsFor('daemon (libslack) --restart', 'libslack', null,
    `daemon --respawn ${policy.args.join(' ')} --pidfiles=D --name=N -- node ${path.relative(lib.ROOT, FIXTURE)} PORT; restart: daemon --pidfiles=D --name=N --restart`,
    restarts);
  rows.failed.notes.push(policy.note);
  if (!daemon) {
    notMeasured(rows, 'not installed: apt-get install daemon');
    return [rows.failed, rows.serving];
  }
  const token = lib.uniqueToken();
  const port = await freePort();
  let handle = null;
  let pids = [];
  try {
    ctx.log(`restart: daemon (libslack) --restart, ${restarts} restarts`);
    handle = startLibslack(daemon, dir, token, [node, FIXTURE, String(port), token], policy.args);
    const where = [`--pidfiles=${dir}`, `--name=sv${token}`];
    const result = await measure(ctx, port, restarts,
      (i) => runAsync(daemon, [...where, '--restart'], { errFile: path.join(dir, `${token}.r${i}.err`) }), 'daemon --restart');
    pids = result.pids;
    fill(rows, result);
  } catch (error) {
    failedWith(rows, error);
  } finally {
    if (handle) handle.kill();
    reapServers(pids, token);
  }
  return [rows.failed, rows.serving];
}

async function pm2Rows(ctx, dir, node, restarts) {
  const rows = rowsFor('pm2 restart (fork mode)', 'pm2', null,
    `pm2 start ${path.relative(lib.ROOT, FIXTURE)} --name N -- PORT  (fork mode, one instance); restart: pm2 restart N`, restarts);
  let installed;
  try {
    ctx.log(`restart: npm install pm2@${PM2_VERSION} into ${dir}`);
    installed = install(path.join(dir, 'pkg'));
  } catch (error) {
    notMeasured(rows, `pm2 could not be installed: ${error.message}`);
    return [rows.failed, rows.serving];
  }
  if (!ctx.peers.pm2) {
    ctx.peers.pm2 = { name: 'pm2', path: null, version: `${installed.version}, from npm into a temporary directory for this run (restart section); `
      + 'PM2_HOME temporary; PM2_DISABLE_VERSION_CHECK=1' };
  }
  const tokens = [];
  const pm2 = makePm2(node, installed.bin, path.join(dir, 'home'), dir);
  const token = newToken(tokens);
  const name = `web${token}`;
  const port = await freePort();
  let pids = [];
  try {
    ctx.log(`restart: pm2 restart (fork mode), ${restarts} restarts`);
    pm2.ok(['start', FIXTURE, '--name', name, '--interpreter', node, '--', String(port), token]);
    const result = await measure(ctx, port, restarts,
      (i) => runAsync(node, [installed.bin, 'restart', name], { env: pm2.env, errFile: path.join(dir, `${token}.r${i}.err`) }), 'pm2 restart');
    pids = result.pids;
    fill(rows, result);
    rows.failed.notes.push('pm2 restart: fork mode (pm2\'s default for one instance); pm2 stops the app with SIGINT, then '
      + 'starts it again; its zero-downtime `pm2 reload` exists only in cluster mode');
  } catch (error) {
    failedWith(rows, error);
  } finally {
    try {
      pm2.kill(tokens);
    } finally {
      reapServers(pids, token);
    }
  }
  return [rows.failed, rows.serving];
}

module.exports = {
  id: 'restart',
  title: 'Restarts of a live HTTP service: daemonize -r (with and without --listen), libslack daemon, pm2',
  async run(ctx) {
    const restarts = ctx.quick ? 5 : 10;
    const node = lib.nodePath();
    const rows = [];
    const dir = lib.makeTmpDir('daemonize-bench-restart-');
    try {
      rows.push(...await lib.rowsOrError('daemonize --listen', () => daemonizeRows(ctx, dir, node, restarts, true)));
      rows.push(...await lib.rowsOrError('daemonize without --listen', () => daemonizeRows(ctx, dir, node, restarts, false)));
      rows.push(...await lib.rowsOrError('libslack', () => libslackRows(ctx, dir, node, restarts)));
      rows.push(...await lib.rowsOrError('pm2', () => pm2Rows(ctx, dir, node, restarts), 'pm2'));
    } finally {
      lib.removeDir(dir);
    }
    rows[0].notes = rows[0].notes || [];
    rows[0].notes.push(`restart: one HTTP server (${path.relative(lib.ROOT, FIXTURE)}, answers with its pid) on 127.0.0.1 per tool; `
      + `a request loop on a new connection each, one after another, ${REQUEST_TIMEOUT_MS} ms timeout, ${RETRY_PAUSE_MS} ms pause after a failure `
      + `(so failures count roughly the downtime in steps of a few ms); ${restarts} restarts, each once the last one's new child served `
      + `and ${STEADY_MS} ms of steady requests after it. "new child serving": from spawning the restart command to the first response `
      + 'from a pid not seen before; the command\'s own start-up (a Node CLI for daemonize and pm2, a C program for libslack) is included');
    return rows;
  },
};
