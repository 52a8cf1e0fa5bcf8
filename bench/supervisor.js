'use strict';
// Section: the respawn supervisor (`daemonize -r`), side by side with libslack daemon(1) --respawn.
//   respawn: ms from SIGKILL of the supervised child to its successor's exec (seen in /proc);
//   memory:  what the supervisor costs: USS (Private_Clean + Private_Dirty + Private_Hugetlb of
//            /proc/PID/smaps_rollup), its anonymous part, RSS; plus an experiment with V8 flags;
//   stop:    `--stop` wall time against `node -e 0`, interleaved pairs;
//   cpu:     supervisor CPU over a window (60 s; 15 s with --quick), idle and in a crash loop.
// Runs alone too: `node bench/supervisor.js [--quick] [--json]` prints its rows with their own units.
const fs = require('node:fs');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');

const lib = require('./lib');

/** Lets the event loop run between measurements, so Ctrl-C reaches run.js's cleanup. */
const tick = lib.tick || (() => new Promise((resolve) => setImmediate(resolve)));
/** Interleaved pairs, yielding to the event loop between runs where lib offers that. */
const runPairs = lib.runPairsAsync || lib.runPairs;

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

const PM2_NOTE = 'pm2 God daemon: 55-59 MiB, the figure this comparison was given (pm2 not installed, not measured here); '
  + 'pm2 issues #3132 and #4064 report ~48-50 MB at start';

// ---------------------------------------------------------------------------------------------
// /proc readers

let clockTicks = null;
function ticksPerSecond() {
  if (clockTicks === null) {
    const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    clockTicks = r.status === 0 && Number(r.stdout.trim()) > 0 ? Number(r.stdout.trim()) : 100;
  }
  return clockTicks;
}

/** The fields of /proc/PID/stat this section uses, or null when the process is gone. */
function readStat(pid) {
  let text;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return null;
  }
  const close = text.lastIndexOf(')');
  const f = text.slice(close + 2).split(' ');
  return {
    pid,
    comm: text.slice(text.indexOf('(') + 1, close),
    state: f[0],
    ppid: Number(f[1]),
    utime: Number(f[11]),
    stime: Number(f[12]),
    cutime: Number(f[13]),
    cstime: Number(f[14]),
    threads: Number(f[17]),
    starttime: Number(f[19]),
  };
}

/** /proc/PID/smaps_rollup in MiB: { uss, anon, rss, pss }, or null when the process is gone. */
function readMemory(pid) {
  let text;
  try {
    text = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  } catch {
    return null;
  }
  const kb = (key) => {
    const match = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text);
    return match ? Number(match[1]) : 0;
  };
  const mib = (value) => value / 1024;
  return {
    uss: mib(kb('Private_Clean') + kb('Private_Dirty') + kb('Private_Hugetlb')),
    anon: mib(kb('Anonymous')),
    rss: mib(kb('Rss')),
    pss: mib(kb('Pss')),
  };
}

function uptimeSeconds() {
  return Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
}

function alive(pid) {
  return pid !== null && !lib.isGone(pid);
}

/** Live direct children of `pid`. */
function childrenOf(pid) {
  const found = [];
  for (const name of fs.readdirSync('/proc')) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    const s = readStat(Number(name));
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

/** Every pid now in /proc. */
function pidSet() {
  const set = new Set();
  for (const name of fs.readdirSync('/proc')) {
    const c = name.charCodeAt(0);
    if (c >= 48 && c <= 57) set.add(Number(name));
  }
  return set;
}

/**
 * SIGKILLs `victim` and spins on /proc until a new child of `supervisor` shows comm `comm` (it has exec'd:
 * before exec it still has its parent's name) and the token in its argv. Returns { ms, pid, scans }.
 */
function killAndAwaitSuccessor(supervisor, victim, comm, token, timeoutMs = 5000) {
  const known = pidSet();
  known.delete(victim);
  let scans = 0;
  const t0 = lib.nowMs();
  process.kill(victim, 'SIGKILL');
  for (;;) {
    scans += 1;
    for (const name of fs.readdirSync('/proc')) {
      const c = name.charCodeAt(0);
      if (c < 48 || c > 57) continue;
      const pid = Number(name);
      if (known.has(pid) || pid === victim) continue;
      const s = readStat(pid);
      if (s === null) continue;
      if (s.ppid !== supervisor) {
        known.add(pid); // a stranger cannot become the supervisor's child later
        continue;
      }
      if (s.comm !== comm || s.state === 'Z') continue; // forked, not exec'd yet: look again next scan
      const t1 = lib.nowMs();
      // The kernel names the process before it has set up the new argv: /proc/PID/cmdline can read empty
      // for a moment after comm changes. The exec is committed by then; the token only confirms it is ours.
      const ours = lib.waitFor(() => {
        try {
          return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(token);
        } catch {
          return true; // gone already: judged by the next scan
        }
      }, 1000, 0.1);
      if (!ours || lib.isGone(pid)) continue;
      lib.trackPid(pid);
      return { ms: t1 - t0, pid, scans };
    }
    if (lib.nowMs() - t0 > timeoutMs) throw new Error(`no successor of pid ${victim} after ${timeoutMs} ms`);
  }
}

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

/** Time of one empty scan of /proc as this loop does it: the resolution of the respawn figure. */
function scanCostMs() {
  const t0 = lib.nowMs();
  const n = 50;
  for (let i = 0; i < n; i++) {
    for (const name of fs.readdirSync('/proc')) {
      const c = name.charCodeAt(0);
      if (c < 48 || c > 57) continue;
    }
  }
  return (lib.nowMs() - t0) / n;
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
  const cost = scanCostMs();
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

function cpuSample(pid) {
  const s = readStat(pid);
  if (s === null) return null;
  return { t: lib.nowMs(), up: uptimeSeconds(), self: s.utime + s.stime, children: s.cutime + s.cstime, starttime: s.starttime };
}

/** CPU % of the window between two samples, and over the process's whole life up to `b`. */
function cpuPercent(a, b) {
  const hz = ticksPerSecond();
  const wall = (b.t - a.t) / 1000;
  const life = b.up - b.starttime / hz;
  return {
    windowSeconds: wall,
    self: ((b.self - a.self) / hz / wall) * 100,
    children: ((b.children - a.children) / hz / wall) * 100,
    lifetimeSelf: (b.self / hz / life) * 100,
    lifetimeSeconds: life,
  };
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
    const cpuRow = (key, subject, command, notes = []) => {
      const row = { measure: `cpu: supervisor over ${windowSeconds} s`, subject, command, unit: '%', goal: GOALS.cpu, notes };
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
      const row = { measure: 'memory: supervisor USS', subject, command, unit: 'MiB', goal: GOALS.uss, notes };
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
      { measure: 'memory: supervisor USS', subject: 'pm2 God daemon (reference)', command: 'pm2 start ...', unit: 'MiB',
        status: 'reference', goal: GOALS.uss, reference: '55-59 MiB', notes: [PM2_NOTE] },
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
const SUPERVISOR_CONFIG_ENV = 'DAEMONIZE_SUPERVISOR_CONFIG';

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
  const child = spawn(node, [...flags, SUPERVISOR_MAIN, token], {
    env: { ...process.env, [SUPERVISOR_CONFIG_ENV]: JSON.stringify(config) },
    stdio: ['ignore', 'ignore', fs.openSync(errlog, 'a')],
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
    results,
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
  const node = lib.commandPath('node') || process.execPath;
  const baselineOnce = () => {
    const r = lib.timedSpawn(node, ['-e', '0']);
    lib.checkExit('node -e 0', r);
    return r.ms;
  };
  const rows = [];
  const base = { measure: '--stop: wall time', baseline: 'node -e 0', baselineCommand: `${node} -e 0`, unit: 'ms' };

  {
    const row = { ...base, subject: 'daemonize -r --stop', command: 'bin/daemonize -F P --stop  (of daemonize -r -F P -- sleep 1000.N)', goal: GOALS.stop, notes: [] };
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

  const lsRow = { ...base, subject: 'daemon (libslack) --stop', command: 'daemon --pidfiles=D --name=N --stop', goal: null, notes: [] };
  const lsGoneRow = { ...base, subject: 'daemon (libslack) --stop, until gone', command: 'daemon ... --stop, then poll /proc until supervisor and client are gone', goal: null, notes: [] };
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

function verdictOf(row) {
  if (row.status !== 'ok' || !row.goal) return null;
  const value = row.goal.absolute ? row.median : row.ratio;
  if (typeof value !== 'number') return null;
  return value <= row.goal.max ? 'met' : 'missed';
}

module.exports = {
  id: 'supervisor',
  title: 'Respawn supervisor (daemonize -r) vs libslack daemon',
  async run(ctx) {
    const daemon = lib.commandPath('daemon');
    const dir = lib.makeTmpDir('daemonize-bench-supervisor-');
    const rows = [];
    const section = async (name, fn) => {
      try {
        rows.push(...await fn());
      } catch (error) {
        rows.push({ measure: name, subject: '-', status: 'error', reason: error.stack || error.message });
      }
    };
    try {
      await section('respawn', () => respawnRows(ctx, dir, daemon));
      await section('stop', () => stopRows(ctx, dir, daemon));
      await section('sigterm', () => sigtermRows(ctx, dir, daemon));
      await section('memory and cpu', () => windowRows(ctx, dir, daemon));
      await section('V8 flags', () => flagRows(ctx, dir));
    } finally {
      lib.removeDir(dir);
    }
    for (const row of rows) {
      if (row.baseline === undefined) row.baseline = 'none';
      row.goalVerdict = verdictOf(row);
      if (!daemon && row.subject && row.subject.startsWith('daemon (libslack)')) row.reason = 'not installed: apt-get install daemon';
    }
    return rows;
  },
  verdictOf,
  // For poking at one part by hand: node -e "require('./bench/supervisor')._internal..."
  _internal: { startDaemonize, startLibslack, libslackFastPolicy, measureRespawn, killAndAwaitSuccessor, readMemory, readStat },
};

// ---------------------------------------------------------------------------------------------
// Standalone: node bench/supervisor.js [--quick] [--json]

function fmtValue(value, unit) {
  if (value === null || value === undefined || Number.isNaN(value)) return '-';
  if (unit === 'ms') return lib.fmtMs(value);
  if (unit === '%') return `${value.toFixed(3)} %`;
  if (unit === 'MiB') return `${value.toFixed(2)} MiB`;
  return String(value);
}

function renderStandalone(rows) {
  const headers = ['measure', 'subject', 'value', 'baseline', 'ratio', 'goal', 'detail'];
  const body = rows.map((row) => {
    const ok = row.status === 'ok';
    const goal = !row.goal ? '-' : row.goal.absolute ? `<= ${row.goal.max} ${row.goal.unit}` : `<= ${row.goal.max}x`;
    let detail = row.detail || '';
    if (ok && row.unit === 'ms' && row.min !== undefined) detail = `min ${lib.fmtMs(row.min)}, max ${lib.fmtMs(row.max)}`;
    if (row.status === 'reference') detail = row.reference;
    if (ok && row.results) detail = `best: ${row.best}`;
    return [
      row.measure,
      row.subject,
      ok ? `${fmtValue(row.median, row.unit)}${row.n ? ` (n=${row.n})` : ''}` : row.status,
      ok && row.baselineMedian !== undefined ? `${lib.fmtMs(row.baselineMedian)} ${row.baseline}` : '-',
      ok && typeof row.ratio === 'number' ? lib.fmtRatio(row.ratio) : '-',
      `${goal}${row.goalVerdict ? ` ${row.goalVerdict}` : ''}`,
      detail,
    ];
  });
  const out = [lib.table(headers, body, ['l', 'l', 'r', 'l', 'l', 'l', 'l'])];
  const flags = rows.find((row) => row.results);
  if (flags) {
    out.push('', 'V8 flags on the supervisor (private node binary; MiB):');
    out.push(lib.table(['flags', 'USS', 'anon', 'RSS', 'threads', 'proxy USS', 'proxy anon', 'works'],
      flags.results.map((r) => [r.flags, fmtValue(r.uss, 'MiB'), fmtValue(r.anon, 'MiB'), fmtValue(r.rss, 'MiB'),
        r.threads ?? '-', fmtValue(r.proxyUss, 'MiB'), fmtValue(r.proxyAnon, 'MiB'),
        r.works ? 'yes' : `NO: ${r.problem}`]), ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'l']));
    const warned = flags.results.filter((r) => r.warnings);
    for (const r of warned) out.push(`  ${r.flags}: ${r.warnings}`);
  }
  const notes = [];
  for (const row of rows) {
    if (row.reason) notes.push(`${row.subject}, ${row.measure}: ${row.status}: ${row.reason}`);
    for (const note of row.notes || []) if (!notes.includes(note)) notes.push(note);
  }
  if (notes.length) out.push('', 'notes:', ...notes.map((n) => `  - ${n}`));
  return `${out.join('\n')}\n`;
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  lib.installCleanup();
  const quick = argv.includes('--quick');
  const log = (message) => process.stderr.write(`bench: ${message}\n`);
  const machine = lib.machineInfo();
  (async () => {
    let rows;
    try {
      rows = await module.exports.run({ quick, log });
    } finally {
      lib.cleanupAll();
    }
    if (argv.includes('--json')) {
      process.stdout.write(`${JSON.stringify({ machine, quick, rows }, null, 2)}\n`);
    } else {
      process.stdout.write(`${machine.cpu}, ${machine.cores} cores; kernel ${machine.kernel}; Node ${machine.node}; `
        + `load ${machine.loadavg.join(' ')}; ${quick ? 'quick' : 'full'}\n\n${renderStandalone(rows)}`);
    }
    process.exitCode = rows.some((row) => row.status === 'error') ? 1 : 0;
  })();
}
