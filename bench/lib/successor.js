'use strict';
// A respawn, timed from outside: kill the supervised program, watch /proc for its successor's exec.
const fs = require('node:fs');
const { trackPid } = require('./cleanup');
const { nowMs, waitFor } = require('./clock');
const { readStat, isPidName, pidSet, isGone } = require('./procfs');

/**
 * SIGKILLs `victim` and spins on /proc until a new child of `supervisor` shows comm `comm` (it has exec'd:
 * before exec it still has its parent's name) and the token in its argv. Returns { ms, pid, scans }.
 */
function killAndAwaitSuccessor(supervisor, victim, comm, token, timeoutMs = 5000) {
  const known = pidSet();
  known.delete(victim);
  let scans = 0;
  const t0 = nowMs();
  process.kill(victim, 'SIGKILL');
  for (;;) {
    scans += 1;
    for (const name of fs.readdirSync('/proc')) {
      if (!isPidName(name)) continue;
      const pid = Number(name);
      if (known.has(pid) || pid === victim) continue;
      const s = readStat(pid);
      if (s === null) continue;
      if (s.ppid !== supervisor) {
        known.add(pid); // a stranger cannot become the supervisor's child later
        continue;
      }
      if (s.comm !== comm || s.state === 'Z') continue; // forked, not exec'd yet: look again next scan
      const t1 = nowMs();
      // The kernel names the process before it has set up the new argv: /proc/PID/cmdline can read empty
      // for a moment after comm changes. The exec is committed by then; the token only confirms it is ours.
      const ours = waitFor(() => {
        try {
          return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(token);
        } catch {
          return true; // gone already: judged by the next scan
        }
      }, 1000, 0.1);
      if (!ours || isGone(pid)) continue;
      trackPid(pid);
      return { ms: t1 - t0, pid, scans };
    }
    if (nowMs() - t0 > timeoutMs) throw new Error(`no successor of pid ${victim} after ${timeoutMs} ms`);
  }
}

module.exports = { killAndAwaitSuccessor };
