'use strict';
// An experiment: the supervisor's memory under V8 and Node flags, each run from a private copy of node so that
// USS counts every page of node it touches.
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { alive, readJson, round, sleepArgv, privateNode } = require('./daemons');
const lib = require('../lib');
const { tick, readStat, readMemory } = require('../lib');

/** V8 and Node flags to try on the supervisor. The first two are the baseline and what the launcher uses. */
const LAUNCHER_FLAGS = ['--max-old-space-size=32', '--max-semi-space-size=1'];

const FLAG_SETS = [
  [],
  LAUNCHER_FLAGS,
  [...LAUNCHER_FLAGS, '--jitless'],
  [...LAUNCHER_FLAGS, '--jitless', '--no-expose-wasm'],
  [...LAUNCHER_FLAGS, '--lite-mode'],
  [...LAUNCHER_FLAGS, '--max-lazy'],
  [...LAUNCHER_FLAGS, '--single-threaded'],
  [...LAUNCHER_FLAGS, '--v8-pool-size=0'],
  [...LAUNCHER_FLAGS, '--v8-pool-size=1'],
  [...LAUNCHER_FLAGS, '--single-threaded-gc'],
  [...LAUNCHER_FLAGS, '--optimize-for-size'],
  [...LAUNCHER_FLAGS, '--no-opt'],
  [...LAUNCHER_FLAGS, '--lite-mode', '--v8-pool-size=1', '--single-threaded-gc'],
];

// /proc readers

const SUPERVISOR_MAIN = path.join(lib.ROOT, 'dist', 'supervisor', 'main.js');


function startRawSupervisor(node, flags, dir, token) {
  lib.trackToken(token);
  const statusFile = path.join(dir, `${token}.status`);
  const errlog = path.join(dir, `${token}.log`);
  const config = {
    label: 'sleep',
    plan: { file: fs.existsSync('/bin/sleep') ? '/bin/sleep' : lib.commandPath('sleep'), argv: sleepArgv(token), env: [`PATH=${process.env.PATH}`], cwd: '/', umask: 0o22 },
    inheritStdio: false,
    policy: { acceptable: 10, attempts: 5, delay: 60, limit: 0 },
    stopTimeout: 5,
    statusFile,
    errlog,
  };
  // The configuration is read to EOF from descriptor 3 (a file does as well as the launcher's pipe); the
  // report goes to descriptor 4, here /dev/null.
  const configFile = path.join(dir, `${token}.config`);
  fs.writeFileSync(configFile, JSON.stringify(config));
  const child = spawn(node, [...flags, SUPERVISOR_MAIN, '3', '4', token], {
    stdio: ['ignore', 'ignore', fs.openSync(errlog, 'a'), fs.openSync(configFile, 'r'), fs.openSync('/dev/null', 'w')],
    detached: true,
  });
  child.unref();
  lib.trackPid(child.pid);
  return {
    pid: child.pid,
    child: () => {
      const status = readJson(statusFile);
      return status && status.supervisor === child.pid ? status.child : null;
    },
    errlog,
  };
}

function startProxy(node, flags, token) {
  const child = spawn(node, [...flags, '-e', 'setInterval(() => {}, 1e9)', token], { stdio: 'ignore', detached: true });
  child.unref();
  lib.trackPid(child.pid);
  lib.trackToken(token);
  return child.pid;
}

/** Starts one supervisor with `flags`, checks it works (respawn after SIGKILL, clean SIGTERM), measures it. */
function tryFlags(node, flags, dir, settleMs) {
  const token = lib.uniqueToken();
  const sv = startRawSupervisor(node, flags, dir, token);
  const result = { flags: flags.join(' ') || '(none)', works: false, problem: null };
  try {
    const first = lib.waitFor(() => sv.child(), 5000);
    if (!first) throw new Error('no child after 5 s');
    lib.sleepMs(settleMs);
    const m = readMemory(sv.pid);
    const s = readStat(sv.pid);
    if (!m || !s) throw new Error('supervisor died');
    Object.assign(result, { uss: round(m.uss), anon: round(m.anon), rss: round(m.rss, 1), threads: s.threads });
    process.kill(first, 'SIGKILL');
    const second = lib.waitFor(() => {
      const c = sv.child();
      return c !== null && c !== first && alive(c) ? c : null;
    }, 5000);
    if (!second) throw new Error('no new child after SIGKILL');
    process.kill(sv.pid, 'SIGTERM');
    if (!lib.waitFor(() => lib.isGone(sv.pid) && lib.isGone(second), 5000)) throw new Error('did not stop on SIGTERM');
    result.works = true;
  } catch (error) {
    result.problem = error.message;
  } finally {
    lib.reap({ pids: [sv.pid], token });
    try {
      const log = fs.readFileSync(sv.errlog, 'utf8');
      const warnings = log.split('\n').filter((line) => /warning|error/i.test(line) && !/daemonize\[/.test(line));
      if (warnings.length) result.warnings = [...new Set(warnings.map((w) => w.trim()))].join('; ');
    } catch {
      // no log
    }
  }
  // The proxy: an idle `node -e` with the same flags.
  const proxyToken = lib.uniqueToken();
  const proxy = startProxy(node, flags, proxyToken);
  try {
    lib.sleepMs(settleMs);
    const m = readMemory(proxy);
    if (m) Object.assign(result, { proxyUss: round(m.uss), proxyAnon: round(m.anon) });
  } finally {
    lib.reap({ pids: [proxy], token: proxyToken });
  }
  return result;
}

async function flagRows(ctx, dir) {
  const settleMs = ctx.quick ? 1000 : 2500;
  const row = {
    measure: 'memory: V8 flags on the supervisor (experiment)',
    subject: 'node FLAGS dist/supervisor/main.js',
    command: 'node FLAGS dist/supervisor/main.js, configuration as the launcher passes it; proxy: node FLAGS -e \'setInterval(...)\'',
    unit: 'MiB',
    goal: null,
    notes: [],
  };
  if (!fs.existsSync(SUPERVISOR_MAIN)) return [{ ...row, status: 'error', reason: `${SUPERVISOR_MAIN} missing: run npx tsc -p .` }];
  const copy = privateNode(dir);
  const results = [];
  ctx.log(`supervisor: V8 flags experiment, ${FLAG_SETS.length} flag sets`);
  for (const flags of FLAG_SETS) {
    await tick();
    results.push(tryFlags(copy, flags, dir, settleMs));
  }
  const base = results[1];
  const best = results.filter((r) => r.works && typeof r.uss === 'number').sort((a, b) => a.uss - b.uss)[0];
  return [{
    ...row,
    status: 'ok',
    n: results.length,
    median: best ? best.uss : null,
    best: best ? best.flags : null,
    launcherFlagsUss: base ? base.uss : null,
    detail: best ? `lowest USS with: ${best.flags}` : 'no flag set worked',
    results,
    table: {
      title: 'V8 flags on the supervisor (private node binary; MiB)',
      headers: ['flags', 'USS', 'anon', 'RSS', 'threads', 'proxy USS', 'proxy anon', 'works'],
      align: ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'l'],
      rows: results.map((r) => [r.flags, lib.fmtValue(r.uss, 'MiB'), lib.fmtValue(r.anon, 'MiB'), lib.fmtValue(r.rss, 'MiB'),
        r.threads ?? '-', lib.fmtValue(r.proxyUss, 'MiB'), lib.fmtValue(r.proxyAnon, 'MiB'),
        r.works ? `yes${r.warnings ? ` (warns: ${r.warnings})` : ''}` : `NO: ${r.problem}`]),
    },
    notes: [
      'V8 flags: each set run in turn from a private copy of node (so USS counts the node pages it touches), settled '
        + `${settleMs} ms; "works" = it started the child, started another after SIGKILL and stopped cleanly on SIGTERM`,
    ],
  }];
}

// c) --stop wall time against `node -e 0`

module.exports = { LAUNCHER_FLAGS, FLAG_SETS, SUPERVISOR_MAIN, startRawSupervisor, startProxy, tryFlags, flagRows };
