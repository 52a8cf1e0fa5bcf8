'use strict';
// Section: the respawn supervisor (`daemonize -r`), side by side with libslack daemon(1) --respawn.
//   respawn: ms from SIGKILL of the supervised child to its successor's exec (seen in /proc);
//   memory:  what the supervisor costs: USS (Private_Clean + Private_Dirty + Private_Hugetlb of
//            /proc/PID/smaps_rollup), its anonymous part, RSS; plus an experiment with V8 flags;
//   stop:    `--stop` wall time against `node -e 0`, interleaved pairs;
//   cpu:     supervisor CPU over a window (60 s; 15 s with --quick), idle and in a crash loop.
// Runs alone too: `node bench/supervisor.js [--quick] [--json]` is `node bench/run.js --only=supervisor ...`.
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');

const lib = require('./lib');

const { tick, readStat, readMemory, killAndAwaitSuccessor, cpuSample, cpuPercent, ticksPerSecond } = lib;
/** Interleaved pairs, yielding to the event loop between runs so Ctrl-C reaches run.js's cleanup. */
const runPairs = lib.runPairsAsync;

const GOALS = {
  respawn: { max: 5, unit: 'ms', absolute: true },
  uss: { max: 8, unit: 'MiB', absolute: true },
  stop: { max: 1.3 },
  cpu: { max: 1, unit: '%', absolute: true },
};

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

// ---------------------------------------------------------------------------------------------
// /proc readers

function alive(pid) {
  return pid !== null && !lib.isGone(pid);
}

/** Live direct children of `pid`. */
function childrenOf(pid) {
  const found = [];
  for (const other of lib.pidSet()) {
    const s = readStat(other);
    if (s && s.ppid === pid && s.state !== 'Z' && s.state !== 'X') found.push(s);
  }
  return found;
}

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

function round(value, digits = 2) {
  return value === null || value === undefined || Number.isNaN(value) ? null : Number(value.toFixed(digits));
}

// ---------------------------------------------------------------------------------------------
// The two supervisors. Each start returns a handle { kind, supervisor, child(), stop(), kill() }.

function sleepArgv(token) {
  return ['sleep', `1000.${token}`];
}

/** `sh -c 'exit 1' crash-TOKEN`: ends at once with status 1; its $0 carries the token. */
function crashArgv(token) {
  return ['sh', '-c', 'exit 1', `crash-${token}`];
}

function isRoot() {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/**
 * daemonize -r. `options.policy` are extra CLI args (-a -A ...), `options.node` a node binary to run the
 * CLI with (the supervisor is started with the launcher's own node). Returns once the launcher exited 0.
 */
function startDaemonize(dir, token, argv, options = {}) {
  lib.trackToken(token);
  const pidfile = path.join(dir, `${token}.pid`);
  const statusFile = path.join(dir, `${token}.status`);
  const args = ['-r', ...(options.policy || []), '-F', pidfile, '-l', path.join(dir, `${token}.log`), '--', ...argv];
  const r = options.node
    ? lib.timedSpawn(options.node, [lib.DAEMONIZE, ...args], { stderrFile: path.join(dir, `${token}.err`) })
    : lib.timedSpawn(lib.DAEMONIZE, args, { stderrFile: path.join(dir, `${token}.err`) });
  const supervisor = lib.readPid(pidfile);
  lib.trackPid(supervisor);
  const handle = {
    kind: 'daemonize',
    token,
    pidfile,
    statusFile,
    supervisor,
    child: () => {
      const status = readJson(statusFile);
      return status && status.supervisor === supervisor ? status.child : null;
    },
    restarts: () => {
      const status = readJson(statusFile);
      return status ? status.restarts : null;
    },
    /** --stop; returns its wall time in ms. */
    stop: () => {
      const s = lib.timedSpawn(lib.DAEMONIZE, ['-F', pidfile, '--stop', '--stop-timeout', '5'],
        { stderrFile: path.join(dir, `${token}.stop.err`) });
      lib.checkExit('daemonize --stop', s);
      return s.ms;
    },
    kill: () => lib.reap({ pids: [supervisor, handle.child()].filter((p) => p !== null), token }),
  };
  try {
    lib.checkExit(`daemonize -r ${argv.join(' ')}`, r);
    if (supervisor === null) throw new Error('daemonize -r exited 0 but its pidfile names no pid');
  } catch (error) {
    handle.kill();
    throw error;
  }
  return handle;
}

/** libslack's flags for a respawn policy that never throttles (root only: --idiot lifts its limits). */
function libslackFastPolicy() {
  if (isRoot()) {
    return {
      args: ['--idiot', '--acceptable=0', '--attempts=1000000', '--delay=0'],
      note: 'daemon (libslack): refuses --acceptable and --delay under 10 s and --attempts over 100 unless root gives '
        + '--idiot first; this run (as root) used --idiot --acceptable=0 --attempts=1000000 --delay=0',
    };
  }
  return {
    args: ['--acceptable=10', '--attempts=100', '--delay=10'],
    note: 'daemon (libslack): refuses --acceptable and --delay under 10 s and --attempts over 100 unless root gives '
      + '--idiot; not root here, so --acceptable=10 --attempts=100 --delay=10 (every kill counts as a failure)',
  };
}

/** daemon --respawn [policy] --pidfiles=DIR --name=NAME -- argv. Returns once supervisor and client are up. */
function startLibslack(daemon, dir, token, argv, policy = []) {
  lib.trackToken(token);
  const name = `sv${token}`;
  const where = [`--pidfiles=${dir}`, `--name=${name}`];
  const pidfile = path.join(dir, `${name}.pid`);
  // --idiot, when given, leads `policy`: libslack wants it before the options whose limits it lifts.
  const r = lib.timedSpawn(daemon, ['--respawn', ...policy, ...where, '--', ...argv], { stderrFile: path.join(dir, `${token}.err`) });
  let supervisor = null;
  const handle = {
    kind: 'libslack',
    token,
    pidfile,
    get supervisor() {
      return supervisor;
    },
    // libslack's pidfile holds the supervisor; its client is found as the supervisor's child.
    child: () => {
      if (supervisor === null) return null;
      const kids = childrenOf(supervisor);
      return kids.length > 0 ? kids[0].pid : null;
    },
    restarts: () => null,
    /** --stop, which only sends SIGTERM and returns; returns { ms, goneMs } (goneMs: until all is gone). */
    stop: () => {
      const pids = [supervisor, handle.child()].filter((p) => p !== null);
      const t0 = lib.nowMs();
      const s = lib.timedSpawn(daemon, [...where, '--stop'], { stderrFile: path.join(dir, `${token}.stop.err`) });
      lib.checkExit('daemon --stop', s);
      const gone = lib.waitFor(() => pids.every((p) => lib.isGone(p)) && lib.nowMs(), 10000, 0.1);
      if (!gone) throw new Error('daemon --stop: supervisor or client still alive after 10 s');
      const left = lib.pidsWithToken(token);
      if (left.length > 0) throw new Error(`daemon --stop: left ${left.join(', ')} running`);
      return { ms: s.ms, goneMs: gone - t0 };
    },
    kill: () => lib.reap({ pids: [supervisor, handle.child()].filter((p) => p !== null), token }),
  };
  try {
    lib.checkExit(`daemon --respawn ${argv.join(' ')}`, r);
    supervisor = lib.waitFor(() => lib.readPid(pidfile), 5000);
    if (!supervisor) throw new Error('daemon --respawn: no pidfile after 5 s');
    lib.trackPid(supervisor);
  } catch (error) {
    handle.kill();
    throw error;
  }
  return handle;
}

// ---------------------------------------------------------------------------------------------
// a) respawn latency

async function measureRespawn(handle, kills, settle) {
  const samples = [];
  let scans = 0;
  let victim = lib.waitFor(() => {
    const c = handle.child();
    return c !== null && readStat(c) && readStat(c).comm === 'sleep' ? c : null;
  }, 5000);
  if (!victim) throw new Error(`${handle.kind}: no child running sleep`);
  for (let i = 0; i < kills + 1; i++) {
    await tick();
    const found = killAndAwaitSuccessor(handle.supervisor, victim, 'sleep', handle.token);
    if (i > 0) samples.push(found.ms); // the first kill warms up the supervisor's restart path
    scans += found.scans;
    // Let the supervisor finish its bookkeeping (status file, log) and go idle before the next kill.
    settle(found.pid);
    victim = found.pid;
  }
  return { samples, scansPerKill: scans / (kills + 1) };
}

async function respawnRows(ctx, dir, daemon) {
  const kills = ctx.quick ? 15 : 41;
  const rows = [];
  const base = { measure: 'respawn: SIGKILL of child -> successor exec\'d', unit: 'ms', goal: GOALS.respawn };
  const summarize = (row, samples) => Object.assign(row, {
    status: 'ok',
    n: samples.length,
    median: lib.median(samples),
    min: Math.min(...samples),
    max: Math.max(...samples),
    samples,
  });

  {
    const row = {
      ...base,
      subject: 'daemonize -r',
      compare: { line: 'respawn', tool: 'daemonize' },
      command: 'bin/daemonize -r -a 0 -A 1000000 -F P -- sleep 1000.N',
      notes: [],
    };
    rows.push(row);
    const token = lib.uniqueToken();
    let handle = null;
    try {
      ctx.log(`supervisor: respawn latency, daemonize -r, ${kills} kills`);
      handle = startDaemonize(dir, token, sleepArgv(token), { policy: ['-a', '0', '-A', '1000000'] });
      const result = await measureRespawn(handle, kills, (pid) => {
        lib.waitFor(() => handle.child() === pid, 2000);
        lib.sleepMs(30);
      });
      summarize(row, result.samples);
      row.restarts = handle.restarts();
    } catch (error) {
      row.status = 'error';
      row.reason = error.message;
    } finally {
      if (handle) handle.kill();
    }
  }

  {
    const policy = libslackFastPolicy();
    const row = {
      ...base,
      subject: 'daemon (libslack)',
      compare: { line: 'respawn', tool: 'libslack' },
      command: `daemon --respawn ${policy.args.join(' ')} --pidfiles=D --name=N -- sleep 1000.N`,
      notes: [policy.note],
    };
    rows.push(row);
    if (!daemon) {
      row.status = 'not installed';
    } else {
      const token = lib.uniqueToken();
      let handle = null;
      try {
        ctx.log(`supervisor: respawn latency, daemon (libslack), ${kills} kills`);
        handle = startLibslack(daemon, dir, token, sleepArgv(token), policy.args);
        const result = await measureRespawn(handle, kills, () => lib.sleepMs(30));
        summarize(row, result.samples);
      } catch (error) {
        row.status = 'error';
        row.reason = error.message;
      } finally {
        if (handle) handle.kill();
      }
    }
  }
  const cost = lib.scanCostMs();
  rows[0].notes.push(`respawn: timed from just before kill(2) to the first /proc scan that shows the successor with comm `
    + `'sleep' (exec'd); one scan of /proc takes ~${cost.toFixed(3)} ms here, the resolution of these figures`);
  return rows;
}

// ---------------------------------------------------------------------------------------------
// b) memory and d) CPU: long-running supervisors side by side over one window

/** A private copy of the node binary: pages of it count as private to the one process that maps it. */
function privateNode(dir) {
  const copy = path.join(dir, 'node-private');
  if (fs.existsSync(copy)) return copy;
  fs.copyFileSync(process.execPath, copy);
  fs.chmodSync(copy, 0o755);
  const fd = fs.openSync(copy, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  return copy;
}

/** `daemonize -f -r` as a service manager runs it: in the foreground, a child of the bench. */
function startForeground(dir, token) {
  lib.trackToken(token);
  const pidfile = path.join(dir, `${token}.pid`);
  const child = spawn(process.execPath, [lib.DAEMONIZE, '-f', '-r', '-F', pidfile, '--', ...sleepArgv(token)], {
    stdio: 'ignore',
    detached: true,
  });
  child.unref();
  lib.trackPid(child.pid);
  const supervisor = child.pid;
  const statusFile = path.join(dir, `${token}.status`);
  const handle = {
    kind: 'daemonize-fg',
    token,
    supervisor,
    child: () => {
      const status = readJson(statusFile);
      return status ? status.child : null;
    },
    restarts: () => null,
    kill: () => lib.reap({ pids: [supervisor, handle.child()].filter((p) => p !== null), token }),
  };
  if (!lib.waitFor(() => handle.child(), 5000)) {
    handle.kill();
    throw new Error('daemonize -f -r: no child after 5 s');
  }
  return handle;
}

async function windowRows(ctx, dir, daemon) {
  const windowSeconds = ctx.quick ? 15 : 60;
  const rows = [];
  const handles = {};
  const started = [];
  const errors = [];
  const first = {};
  const tryStart = (key, start) => {
    try {
      handles[key] = start();
      started.push(handles[key]);
      // Each supervisor's window opens as soon as its launcher has returned, so a crash loop's first
      // burst of restarts falls inside it.
      first[key] = cpuSample(handles[key].supervisor);
    } catch (error) {
      errors.push(`${key}: ${error.message}`);
    }
  };
  try {
    ctx.log(`supervisor: starting supervisors for a ${windowSeconds} s CPU and memory window`);
    const copy = privateNode(dir);
    const idleToken = lib.uniqueToken();
    tryStart('idle', () => startDaemonize(dir, idleToken, sleepArgv(idleToken)));
    const crashToken = lib.uniqueToken();
    tryStart('crash', () => startDaemonize(dir, crashToken, crashArgv(crashToken)));
    const aloneToken = lib.uniqueToken();
    tryStart('alone', () => startDaemonize(dir, aloneToken, sleepArgv(aloneToken), { node: copy }));
    const fgToken = lib.uniqueToken();
    tryStart('fg', () => startForeground(dir, fgToken));
    if (daemon) {
      const lsIdle = lib.uniqueToken();
      tryStart('lsIdle', () => startLibslack(daemon, dir, lsIdle, sleepArgv(lsIdle)));
      const lsCrash = lib.uniqueToken();
      tryStart('lsCrash', () => startLibslack(daemon, dir, lsCrash, crashArgv(lsCrash)));
    }

    ctx.log(`supervisor: window of ${windowSeconds} s`);
    const deadline = lib.nowMs() + windowSeconds * 1000;
    while (lib.nowMs() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(1000, Math.max(1, deadline - lib.nowMs()))));
    }
    const last = {};
    const memory = {};
    for (const [key, h] of Object.entries(handles)) {
      last[key] = cpuSample(h.supervisor);
      memory[key] = readMemory(h.supervisor);
    }

    // d) CPU
    const tool = (key) => (key.startsWith('ls') ? 'libslack' : 'daemonize');
    const cpuRow = (key, subject, command, notes = []) => {
      const compare = { line: /crash/i.test(key) ? 'cpu-crash' : 'cpu-idle', tool: tool(key) };
      const row = { measure: `cpu: supervisor over ${windowSeconds} s`, subject, compare, command, unit: '%', goal: GOALS.cpu, notes };
      if (!handles[key]) {
        row.status = key.startsWith('ls') && !daemon ? 'not installed' : 'error';
        if (row.status === 'error') row.reason = errors.find((e) => e.startsWith(`${key}:`)) || 'did not start';
        return row;
      }
      if (!first[key] || !last[key]) return { ...row, status: 'error', reason: 'the supervisor died during the window' };
      const cpu = cpuPercent(first[key], last[key]);
      const resolution = 100 / ticksPerSecond() / cpu.windowSeconds;
      return {
        ...row,
        status: 'ok',
        resolutionPercent: round(resolution, 4),
        n: 1,
        median: cpu.self,
        childrenPercent: round(cpu.children, 3),
        lifetimePercent: round(cpu.lifetimeSelf, 3),
        lifetimeSeconds: round(cpu.lifetimeSeconds, 1),
        restarts: handles[key].restarts(),
        detail: `${cpu.windowSeconds.toFixed(1)} s from launcher exit: ${cpu.self.toFixed(3)}% (1 tick = ${resolution.toFixed(3)}%), `
          + `reaped children ${cpu.children.toFixed(3)}%; whole life incl. start-up ${cpu.lifetimeSelf.toFixed(3)}% of ${cpu.lifetimeSeconds.toFixed(1)} s`,
      };
    };
    const crash = cpuRow('crash', 'daemonize -r, crash loop', 'bin/daemonize -r -F P -- sh -c \'exit 1\'  (default policy: -a 10 -A 5 -L 60)');
    if (crash.status === 'ok') crash.notes.push(`daemonize -r crash loop: ${crash.restarts} restarts in the window (default policy pauses 60 s after 5 quick failures)`);
    rows.push(
      cpuRow('idle', 'daemonize -r, idle', 'bin/daemonize -r -F P -- sleep 1000.N'),
      crash,
      cpuRow('lsIdle', 'daemon (libslack), idle', 'daemon --respawn --pidfiles=D --name=N -- sleep 1000.N'),
      cpuRow('lsCrash', 'daemon (libslack), crash loop', 'daemon --respawn --pidfiles=D --name=N -- sh -c \'exit 1\'  (defaults: -a 300 -A 5 -L 300)'),
    );
    rows[rows.length - 4].notes.push('cpu: utime+stime of the supervisor from /proc/PID/stat over the window; reaped children\'s '
      + 'cutime+cstime separately; "whole life" also counts start-up (node boot for daemonize)');

    // b) memory
    const memRow = (key, subject, command, notes = []) => {
      const compare = key === 'fg' ? null : { line: 'uss', tool: tool(key), qualifier: key === 'alone' ? 'only Node' : undefined };
      const row = { measure: 'memory: supervisor USS', subject, compare, command, unit: 'MiB', goal: GOALS.uss, notes };
      if (!handles[key]) {
        row.status = key.startsWith('ls') && !daemon ? 'not installed' : 'error';
        if (row.status === 'error') row.reason = errors.find((e) => e.startsWith(`${key}:`)) || 'did not start';
        return row;
      }
      const m = memory[key];
      if (!m) return { ...row, status: 'error', reason: 'the supervisor died during the window' };
      return {
        ...row,
        status: 'ok',
        n: 1,
        median: m.uss,
        anonMiB: round(m.anon),
        rssMiB: round(m.rss),
        pssMiB: round(m.pss),
        threads: (readStat(handles[key].supervisor) || {}).threads,
        detail: `USS ${m.uss.toFixed(2)} MiB (anonymous ${m.anon.toFixed(2)}), RSS ${m.rss.toFixed(1)}, PSS ${m.pss.toFixed(1)} MiB`,
      };
    };
    rows.push(
      memRow('idle', 'daemonize -r', 'bin/daemonize -r -F P -- sleep 1000.N', [
        `memory: read from /proc/PID/smaps_rollup after the ${windowSeconds} s window; USS = Private_Clean + Private_Dirty + `
          + 'Private_Hugetlb. A page of the node binary is private only while no other process maps it: with any other Node '
          + 'process on the machine (this bench is one) most of node\'s text is shared and drops out of USS',
      ]),
      memRow('alone', 'daemonize -r, only Node on the machine', 'node-private bin/daemonize -r -F P -- sleep 1000.N', [
        'daemonize -r, only Node on the machine: the supervisor run from a private copy of the node binary, so every page of '
          + 'node it touches counts as its own (what it costs next to a non-Node program)',
      ]),
      memRow('fg', 'daemonize -f -r', 'bin/daemonize -f -r -F P -- sleep 1000.N', [
        'daemonize -f -r: the foreground supervisor is the CLI process itself (commander loaded, no heap flags)',
      ]),
      memRow('lsIdle', 'daemon (libslack)', 'daemon --respawn --pidfiles=D --name=N -- sleep 1000.N'),
    );
  } finally {
    for (const h of started) {
      try {
        if (h.kind === 'daemonize') {
          try {
            h.stop();
          } catch {
            // killed below
          }
        }
      } finally {
        h.kill();
      }
    }
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// b, experiment) V8 flags: the real supervisor (dist/supervisor/main.js, given its configuration the way the
// launcher gives it) and a bare `node -e` proxy, each from a private node binary so USS is not diluted.

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

// ---------------------------------------------------------------------------------------------
// c) --stop wall time against `node -e 0`

async function stopRows(ctx, dir, daemon) {
  const pairs = ctx.quick ? 9 : 15;
  const node = lib.nodePath();
  const baselineOnce = () => lib.nodeBaselineOnce(node);
  const rows = [];
  const base = { measure: '--stop: wall time', baseline: 'node -e 0', baselineCommand: `${node} -e 0`, unit: 'ms' };

  {
    const row = { ...base, subject: 'daemonize -r --stop', compare: { line: 'stop', tool: 'daemonize' }, command: 'bin/daemonize -F P --stop  (of daemonize -r -F P -- sleep 1000.N)', goal: GOALS.stop, notes: [] };
    rows.push(row);
    let leftovers = 0;
    try {
      ctx.log(`supervisor: daemonize --stop vs node -e 0, ${pairs} pairs`);
      Object.assign(row, { status: 'ok' }, await runPairs({
        pairs,
        warmup: 1,
        baseline: baselineOnce,
        subject: () => {
          const token = lib.uniqueToken();
          const h = startDaemonize(dir, token, sleepArgv(token));
          try {
            const child = lib.waitFor(() => h.child(), 5000);
            const ms = h.stop();
            // --stop returns once everything is gone: check at once, no grace.
            if (alive(h.supervisor) || alive(child) || lib.pidsWithToken(token).length > 0) leftovers += 1;
            return ms;
          } finally {
            h.kill();
          }
        },
      }));
      row.notes.push(`daemonize -r --stop: returns once supervisor and child are gone; found something alive right after it returned in ${leftovers} of ${pairs + 1} runs`);
    } catch (error) {
      row.status = 'error';
      row.reason = error.message;
    }
  }

  const lsRow = { ...base, subject: 'daemon (libslack) --stop', compare: { line: 'stop', tool: 'libslack', qualifier: 'returns' }, command: 'daemon --pidfiles=D --name=N --stop', goal: null, notes: [] };
  const lsGoneRow = { ...base, subject: 'daemon (libslack) --stop, until gone', compare: { line: 'stop', tool: 'libslack', qualifier: 'gone' }, command: 'daemon ... --stop, then poll /proc until supervisor and client are gone', goal: null, notes: [] };
  rows.push(lsRow, lsGoneRow);
  if (!daemon) {
    lsRow.status = 'not installed';
    lsGoneRow.status = 'not installed';
    return rows;
  }
  try {
    ctx.log(`supervisor: daemon (libslack) --stop vs node -e 0, ${pairs} pairs`);
    const gone = [];
    const result = await runPairs({
      pairs,
      warmup: 1,
      baseline: baselineOnce,
      subject: (i, warmup) => {
        const token = lib.uniqueToken();
        const h = startLibslack(daemon, dir, token, sleepArgv(token));
        try {
          lib.waitFor(() => h.child(), 5000);
          const t = h.stop();
          if (!warmup) gone.push({ goneMs: t.goneMs, ms: t.ms });
          return t.ms;
        } finally {
          h.kill();
        }
      },
      onPair: () => undefined,
    });
    Object.assign(lsRow, { status: 'ok' }, result);
    const goneMs = gone.map((g) => g.goneMs);
    const ratios = goneMs.map((ms, i) => ms / result.samples.baseline[i]);
    Object.assign(lsGoneRow, {
      status: 'ok',
      n: goneMs.length,
      median: lib.median(goneMs),
      baselineMedian: result.baselineMedian,
      ratio: lib.median(ratios),
      samples: { subject: goneMs, baseline: result.samples.baseline, ratio: ratios },
    });
    lsRow.notes.push('daemon (libslack) --stop: sends SIGTERM and returns at once, without waiting for the daemon to go; '
      + 'the "until gone" row adds the time until supervisor and client are gone (polled every 0.1 ms)');
  } catch (error) {
    lsRow.status = 'error';
    lsRow.reason = error.message;
    lsGoneRow.status = 'error';
    lsGoneRow.reason = error.message;
  }
  return rows;
}

/** The supervisor's own shutdown, without any CLI: SIGTERM to it, until it and its child are gone. */
async function sigtermRows(ctx, dir, daemon) {
  const runs = ctx.quick ? 9 : 15;
  const measure = 'stop: SIGTERM to supervisor -> it and child gone';
  const once = (start) => {
    const h = start();
    try {
      const child = lib.waitFor(() => h.child(), 5000);
      if (!child) throw new Error('no child');
      const t0 = lib.nowMs();
      process.kill(h.supervisor, 'SIGTERM');
      const done = lib.waitFor(() => lib.isGone(h.supervisor) && lib.isGone(child) && lib.nowMs(), 10000, 0.1);
      if (!done) throw new Error('still alive 10 s after SIGTERM');
      return done - t0;
    } finally {
      h.kill();
    }
  };
  const subjects = [
    { subject: 'daemonize -r', start: () => {
      const token = lib.uniqueToken();
      return startDaemonize(dir, token, sleepArgv(token));
    } },
    { subject: 'daemon (libslack)', start: daemon && (() => {
      const token = lib.uniqueToken();
      return startLibslack(daemon, dir, token, sleepArgv(token));
    }) },
  ];
  const rows = [];
  for (const { subject, start } of subjects) {
    const row = { measure, subject, unit: 'ms', goal: null, notes: [] };
    rows.push(row);
    if (!start) {
      row.status = 'not installed';
      continue;
    }
    try {
      ctx.log(`supervisor: SIGTERM -> gone, ${subject}, ${runs} runs`);
      const samples = [];
      for (let i = 0; i < runs + 1; i++) {
        await tick();
        const ms = once(start);
        if (i > 0) samples.push(ms);
      }
      Object.assign(row, { status: 'ok', n: samples.length, median: lib.median(samples), min: Math.min(...samples), max: Math.max(...samples), samples });
    } catch (error) {
      row.status = 'error';
      row.reason = error.message;
    }
  }
  rows[0].notes.push('stop: SIGTERM -> gone: the supervisor\'s own share of a stop (no CLI start-up), polled every 0.1 ms');
  return rows;
}

// ---------------------------------------------------------------------------------------------

module.exports = {
  id: 'supervisor',
  title: 'Respawn supervisor (daemonize -r) vs libslack daemon',
  async run(ctx) {
    const daemon = lib.commandPath('daemon');
    const dir = lib.makeTmpDir('daemonize-bench-supervisor-');
    const rows = [];
    try {
      rows.push(...await lib.rowsOrError('respawn', () => respawnRows(ctx, dir, daemon)));
      rows.push(...await lib.rowsOrError('stop', () => stopRows(ctx, dir, daemon)));
      rows.push(...await lib.rowsOrError('sigterm', () => sigtermRows(ctx, dir, daemon)));
      rows.push(...await lib.rowsOrError('memory and cpu', () => windowRows(ctx, dir, daemon)));
      rows.push(...await lib.rowsOrError('V8 flags', () => flagRows(ctx, dir)));
    } finally {
      lib.removeDir(dir);
    }
    for (const row of rows) {
      if (row.baseline === undefined) row.baseline = 'none';
      // The goals are daemonize's own; libslack's rows are there to compare with, not to be judged.
      if (row.compare && row.compare.tool !== 'daemonize') row.goal = null;
      if (!daemon && row.subject && row.subject.startsWith('daemon (libslack)')) row.reason = 'not installed: apt-get install daemon';
    }
    return rows;
  },
  // For poking at one part by hand: node -e "require('./bench/supervisor')._internal..."
  _internal: { startDaemonize, startLibslack, libslackFastPolicy, measureRespawn },
};

// Standalone: node bench/supervisor.js [--quick] [--json] [--markdown[=PATH]] is run.js with only this section.
if (require.main === module) {
  require('./run').main(['--only=supervisor', ...process.argv.slice(2)]).then((code) => {
    process.exitCode = code;
  });
}
