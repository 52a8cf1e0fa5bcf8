'use strict';
// What any supervisor (daemonize -r, libslack's daemon, pm2's God daemon) is measured by, from outside through
// /proc: respawn latency after a SIGKILL of its program, and its CPU and memory over a window.
const fs = require('node:fs');
const { spawnSync } = require('node:child_process');
const procfs = require('../../tools/procfs');
const { nowMs, sleepMs, tick, pause, waitFor, stats } = require('./measure');
const { round } = require('./format');

/** SIGKILLs `victim` and scans /proc until a new child of `supervisor` shows comm `comm` (it has exec'd: before
 *  exec it still has its parent's name) with `token` in its argv. Returns { ms, pid }. */
function killAndAwaitSuccessor(supervisor, victim, comm, token, timeoutMs = 5000) {
  const known = new Set(procfs.pids());
  const t0 = nowMs();
  process.kill(victim, 'SIGKILL');
  for (;;) {
    for (const name of fs.readdirSync('/proc')) {
      const pid = Number(name);
      if (!(pid > 0) || known.has(pid)) continue;
      const s = procfs.stat(pid);
      if (s === null) continue;
      if (s.ppid !== supervisor) {
        known.add(pid); // a stranger cannot become the supervisor's child later
        continue;
      }
      if (s.comm !== comm || s.state === 'Z') continue; // forked, not exec'd yet: look again next scan
      const t1 = nowMs();
      // /proc/PID/cmdline can read empty for a moment after comm changes; the exec is committed by then, the
      // token only confirms it is ours.
      if (!waitFor(() => fs.existsSync(`/proc/${pid}`) === false || procfs.cmdline(pid).some((w) => w.includes(token)), 1000, 0.1)
        || !procfs.isAlive(pid)) continue;
      return { ms: t1 - t0, pid };
    }
    if (nowMs() - t0 > timeoutMs) throw new Error(`no successor of pid ${victim} after ${timeoutMs} ms`);
  }
}

/** `kills` respawns (after one unmeasured that warms up the restart path) of a `sleep 1000.TOKEN` program;
 *  `settle(pid)` lets the supervisor finish its bookkeeping and go idle before the next kill. */
async function respawnFigures({ supervisor, child, token, kills, settle }) {
  let victim = waitFor(() => {
    const pid = child();
    return pid && (procfs.stat(pid) || {}).comm === 'sleep' ? pid : null;
  }, 5000);
  if (!victim) throw new Error('no child running sleep');
  const samples = [];
  for (let i = 0; i <= kills; i++) {
    await tick();
    const found = killAndAwaitSuccessor(supervisor, victim, 'sleep', token);
    if (i > 0) samples.push(found.ms);
    settle(found.pid);
    sleepMs(30);
    victim = found.pid;
  }
  return stats(samples);
}

/** Time of one scan of /proc as killAndAwaitSuccessor does it: the resolution of a respawn figure. */
function scanCostMs() {
  const t0 = nowMs();
  for (let i = 0; i < 50; i++) fs.readdirSync('/proc').forEach(Number);
  return (nowMs() - t0) / 50;
}

const HZ = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;

/** A CPU-time sample of `pid` (ticks of its own and of its reaped children), or null when it is gone. */
function cpuSample(pid) {
  const s = procfs.stat(pid);
  const up = Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  return s && { t: nowMs(), up, self: s.utime + s.stime, children: s.cutime + s.cstime, starttime: s.starttime };
}

/** Waits `seconds`, letting the event loop run. */
async function windowWait(seconds) {
  const deadline = nowMs() + seconds * 1000;
  while (nowMs() < deadline) await pause(Math.min(1000, Math.max(1, deadline - nowMs())));
}

/** A CPU row's figures from two samples: % of the window, reaped children's, and over the whole life. */
function cpuFigures(a, b, since) {
  if (!a || !b) throw new Error('the supervisor died during the window');
  const wall = (b.t - a.t) / 1000;
  const life = b.up - b.starttime / HZ;
  const self = ((b.self - a.self) / HZ / wall) * 100;
  const children = ((b.children - a.children) / HZ / wall) * 100;
  const lifetime = (b.self / HZ / life) * 100;
  const resolution = 100 / HZ / wall;
  return {
    status: 'ok',
    n: 1,
    median: self,
    resolutionPercent: round(resolution, 4),
    childrenPercent: round(children, 3),
    lifetimePercent: round(lifetime, 3),
    lifetimeSeconds: round(life, 1),
    detail: `${wall.toFixed(1)} s from ${since}: ${self.toFixed(3)}% (1 tick = ${resolution.toFixed(3)}%), reaped children `
      + `${children.toFixed(3)}%; whole life incl. start-up ${lifetime.toFixed(3)}% of ${life.toFixed(1)} s`,
  };
}

/** A memory row's figures for `pid` now (see procfs.memory). */
function memoryFigures(pid) {
  const m = procfs.memory(pid);
  if (!m) throw new Error('the supervisor died during the window');
  const threads = (procfs.stat(pid) || {}).threads;
  return {
    status: 'ok',
    n: 1,
    median: m.uss,
    anonMiB: round(m.anon),
    rssMiB: round(m.rss),
    pssMiB: round(m.pss),
    threads,
    detail: `USS ${m.uss.toFixed(2)} MiB (anonymous ${m.anon.toFixed(2)}), RSS ${m.rss.toFixed(1)}, PSS ${m.pss.toFixed(1)} MiB, ${threads} threads`,
  };
}

module.exports = { respawnFigures, scanCostMs, cpuSample, windowWait, cpuFigures, memoryFigures };
