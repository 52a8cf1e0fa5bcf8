// --stop: returns only when the daemon and everything it started are gone. SIGTERM to the daemon;
// after --stop-timeout, SIGKILL to every process left in its session (all of a daemon's descendants
// live there unless they made sessions of their own), so nothing survives to hold its port.
import { DaemonizeError } from '../errors';
import { isLocked, Pidfile, readPid } from '../pidfile';
import { isAlive, liveProcesses, processesHolding, readEntry, signalQuietly, type ProcessEntry } from '../process-table';
import { pollUntil } from './wait';

/** Extra time allowed for SIGKILL to take effect before --stop reports failure. */
const KILL_GRACE_MS = 5000;

/** Who to wait for: the daemon's session, or narrower when that session is also ours (a foreground run). */
function scopeOf(pids: number[]): (entry: ProcessEntry) => boolean {
  const self = readEntry(process.pid);
  const sessions = new Set<number>();
  const groups = new Set<number>();
  for (const pid of pids) {
    const entry = readEntry(pid);
    if (entry === null) continue;
    if (entry.session !== self?.session && entry.session !== 0) sessions.add(entry.session);
    else if (entry.pgrp !== self?.pgrp) groups.add(entry.pgrp);
  }
  const named = new Set(pids);
  return (entry) => entry.pid !== process.pid &&
    (sessions.has(entry.session) || groups.has(entry.pgrp) || named.has(entry.pid));
}

function signalAll(pids: Iterable<number>, signal: NodeJS.Signals): void {
  for (const pid of pids) signalQuietly(pid, signal);
}

/** Stops the daemon whose pidfile is `pidfile`; `timeoutSeconds` before SIGKILL. */
export function stopDaemon(pidfile: string, timeoutSeconds: number): { pid: number | null; killed: boolean } {
  const pid = readPid(pidfile);
  // The pidfile's pid normally holds the lock; if it does not (it forked and exited), the holders do.
  const targets = pid !== null && isAlive(pid) ? [pid] : processesHolding(pidfile);
  if (targets.length === 0 && !isLocked(pidfile)) {
    throw new DaemonizeError(`unable to stop ${pidfile}: not running`);
  }
  const inScope = scopeOf(targets);
  const gone = (): boolean => !isLocked(pidfile) && liveProcesses(inScope).length === 0;
  signalAll(targets, 'SIGTERM');
  let killed = false;
  if (!pollUntil(gone, timeoutSeconds * 1000)) {
    killed = true;
    signalAll(liveProcesses(inScope).map((entry) => entry.pid), 'SIGKILL');
    signalAll(processesHolding(pidfile), 'SIGKILL');
    if (!pollUntil(gone, KILL_GRACE_MS)) throw new DaemonizeError(`unable to stop ${pidfile}: still running after SIGKILL`);
  }
  removeStalePidfile(pidfile);
  return { pid, killed };
}

/** A program that knows nothing of its pidfile leaves it behind; take it, so no race with a new start. */
function removeStalePidfile(pidfile: string): void {
  let taken: Pidfile | undefined;
  try {
    taken = Pidfile.acquire(pidfile);
    taken.remove();
  } catch {
    // Already gone, or a new instance holds it now: either way it is not ours to remove.
  } finally {
    taken?.close();
  }
}
