'use strict';
// An experiment: the supervisor's memory under V8 and Node flags. The real supervisor (dist/supervisor/main.js,
// given its configuration the way the launcher gives it) and a bare `node -e` proxy, each run from a private copy
// of node so that USS counts every page of node it touches.
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const procfs = require('../../tools/procfs');
const { tick, sleepMs, waitFor } = require('../lib/measure');
const { ROOT, sleepPath } = require('../lib/commands');
const { newToken, reap } = require('../lib/cleanup');
const { readJson, privateNode, sleepArgv } = require('../lib/daemons');
const { fmtValue, round } = require('../lib/format');

/** The first set is the baseline, the second what the launcher uses. */
const LAUNCHER_FLAGS = ['--max-old-space-size=32', '--max-semi-space-size=1'];
const FLAG_SETS = [[], LAUNCHER_FLAGS, ...[['--jitless'], ['--jitless', '--no-expose-wasm'], ['--lite-mode'], ['--max-lazy'],
  ['--single-threaded'], ['--v8-pool-size=0'], ['--v8-pool-size=1'], ['--single-threaded-gc'], ['--optimize-for-size'], ['--no-opt'],
  ['--lite-mode', '--v8-pool-size=1', '--single-threaded-gc']].map((extra) => [...LAUNCHER_FLAGS, ...extra])];

const SUPERVISOR_MAIN = path.join(ROOT, 'dist', 'supervisor', 'main.js');

/** Spawns `node flags... args...` detached, tracked; returns its pid. */
function spawnNode(node, args, stdio) {
  const child = spawn(node, args, { stdio, detached: true });
  child.unref();
  return child.pid;
}

/** The supervisor with `flags`: it reads its configuration to EOF from fd 3 (a file does as well as the launcher's
 *  pipe) and reports on fd 4 (/dev/null here). */
function startSupervisor(node, flags, dir, token) {
  const statusFile = path.join(dir, `${token}.status`);
  const errlog = path.join(dir, `${token}.log`);
  const configFile = path.join(dir, `${token}.config`);
  fs.writeFileSync(configFile, JSON.stringify({ label: 'sleep', inheritStdio: false, stopTimeout: 5, statusFile, errlog,
    plan: { file: sleepPath(), argv: sleepArgv(token), env: [`PATH=${process.env.PATH}`], cwd: '/', umask: 0o22 },
    policy: { acceptable: 10, attempts: 5, delay: 60, limit: 0 } }));
  const pid = spawnNode(node, [...flags, SUPERVISOR_MAIN, '3', '4', token],
    ['ignore', 'ignore', fs.openSync(errlog, 'a'), fs.openSync(configFile, 'r'), fs.openSync('/dev/null', 'w')]);
  return { pid, errlog, child: () => ((readJson(statusFile) || {}).supervisor === pid ? readJson(statusFile).child : null) };
}

/** One supervisor with `flags`: checks it works (respawn after SIGKILL, clean SIGTERM) and measures it; then an
 *  idle proxy with the same flags. */
function tryFlags(node, flags, dir, settleMs) {
  const token = newToken();
  const sv = startSupervisor(node, flags, dir, token);
  const result = { flags: flags.join(' ') || '(none)', works: false, problem: null };
  try {
    const first = waitFor(() => sv.child(), 5000);
    if (!first) throw new Error('no child after 5 s');
    sleepMs(settleMs);
    const m = procfs.memory(sv.pid);
    const s = procfs.stat(sv.pid);
    if (!m || !s) throw new Error('supervisor died');
    Object.assign(result, { uss: round(m.uss), anon: round(m.anon), rss: round(m.rss, 1), threads: s.threads });
    process.kill(first, 'SIGKILL');
    const second = waitFor(() => {
      const c = sv.child();
      return c !== null && c !== first && procfs.isAlive(c) ? c : null;
    }, 5000);
    if (!second) throw new Error('no new child after SIGKILL');
    process.kill(sv.pid, 'SIGTERM');
    if (!waitFor(() => !procfs.isAlive(sv.pid) && !procfs.isAlive(second), 5000)) throw new Error('did not stop on SIGTERM');
    result.works = true;
  } catch (error) {
    result.problem = error.message;
  } finally {
    reap({ pids: [sv.pid], token });
    const log = fs.existsSync(sv.errlog) ? fs.readFileSync(sv.errlog, 'utf8') : '';
    const warnings = [...new Set(log.split('\n').filter((line) => /warning|error/i.test(line) && !/daemonize\[/.test(line)).map((w) => w.trim()))];
    if (warnings.length) result.warnings = warnings.join('; ');
  }
  const proxyToken = newToken();
  const proxy = spawnNode(node, [...flags, '-e', 'setInterval(() => {}, 1e9)', proxyToken], 'ignore');
  try {
    sleepMs(settleMs);
    const m = procfs.memory(proxy);
    if (m) Object.assign(result, { proxyUss: round(m.uss), proxyAnon: round(m.anon) });
  } finally {
    reap({ pids: [proxy], token: proxyToken });
  }
  return result;
}

async function flagRows(ctx, dir) {
  const settleMs = ctx.quick ? 1000 : 2500;
  const row = { measure: 'memory: V8 flags on the supervisor (experiment)', subject: 'node FLAGS dist/supervisor/main.js', unit: 'MiB', goal: null,
    command: 'node FLAGS dist/supervisor/main.js, configuration as the launcher passes it; proxy: node FLAGS -e \'setInterval(...)\'' };
  if (!fs.existsSync(SUPERVISOR_MAIN)) return [{ ...row, status: 'error', reason: `${SUPERVISOR_MAIN} missing: run npx tsc -p .` }];
  const copy = privateNode(dir);
  const results = [];
  ctx.log(`supervisor: V8 flags experiment, ${FLAG_SETS.length} flag sets`);
  for (const flags of FLAG_SETS) {
    await tick();
    results.push(tryFlags(copy, flags, dir, settleMs));
  }
  const best = results.filter((r) => r.works && typeof r.uss === 'number').sort((a, b) => a.uss - b.uss)[0];
  const mib = (value) => fmtValue(value, 'MiB');
  return [{
    ...row,
    status: 'ok',
    n: results.length,
    median: best ? best.uss : null,
    best: best ? best.flags : null,
    launcherFlagsUss: results[1].uss ?? null,
    detail: best ? `lowest USS with: ${best.flags}` : 'no flag set worked',
    results,
    table: {
      title: 'V8 flags on the supervisor (private node binary; MiB)',
      headers: ['flags', 'USS', 'anon', 'RSS', 'threads', 'proxy USS', 'proxy anon', 'works'],
      align: ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'l'],
      rows: results.map((r) => [r.flags, mib(r.uss), mib(r.anon), mib(r.rss), r.threads ?? '-', mib(r.proxyUss), mib(r.proxyAnon),
        r.works ? `yes${r.warnings ? ` (warns: ${r.warnings})` : ''}` : `NO: ${r.problem}`]),
    },
    notes: [`V8 flags: each set run in turn from a private copy of node (so USS counts the node pages it touches), settled ${settleMs} ms; `
      + '"works" = it started the child, started another after SIGKILL and stopped cleanly on SIGTERM'],
  }];
}

module.exports = { flagRows };
