// --stop: returns only when the daemon and everything it started are gone. SIGTERM to the daemon (the
// lock holder, never the number in the file); after the timeout, SIGKILL to every holder and every process
// in the holders' sessions (all of a daemon's descendants live there unless they made sessions of their
// own), so nothing survives to hold its port. No holder: nothing is signalled, ever.
import { DEFAULT_STOP_TIMEOUT } from '../durations';
import { DaemonizeError, unable } from '../errors';
import { ExitCode } from '../exit-codes';
import { members } from '../core/process-tree';
import { identify, isHeld, lockHolders, type FileId, type PidfileIdentity } from '../identity';
import { watchExit } from '../process-exit';
import { isAlive, lastPid, liveProcesses, readEntry, type ProcessEntry } from '../process-table';
import { inspectIdentified, looksLikeSupervisor, nameOf, readRecord, type Inspection } from './inspect';
import { permissionDenied, send } from './send';
import { removeStalePidfile } from './stale-pidfile';
import { pollUntil } from './wait';

/** Extra time a supervisor gets beyond its own --stop-timeout: to SIGKILL its group, reap it and exit. */
export const SUPERVISOR_MARGIN_SECONDS = 5;
/** Extra time allowed for SIGKILL to take effect before --stop reports failure. */
const KILL_GRACE_MS = 5000;
/**
 * How often --stop looks whether the daemon is gone. A supervisor with one program ends a few
 * milliseconds after SIGTERM, and --stop returns on the first look after: a short step is most of the
 * difference between --stop and `kill`. While the holders live, a look is one /proc/PID/stat read each.
 */
const LOOK_MS = 1;

export interface StopResult {
  name: string;
  pidfile: string;
  /** The daemon that was sent SIGTERM. */
  pid: number;
  /** Whether anything had to be killed with SIGKILL. */
  killed: boolean;
}

/** Who --stop waits for, and kills after the timeout. */
interface Scope {
  has(entry: ProcessEntry): boolean;
  /**
   * Pids of the first look that can never come into scope, ascending: outside it then, and in no session of
   * anyone in it. A process leaves its session only for a new one of its own (setsid) and changes group
   * only within its session, so a later look reads only the scope's sessions and the pids new since: on a
   * busy machine the rest is most of a look. Valid only while none of those pids can have been handed out
   * again (stillUnread): then READ_ALL, for good.
   */
  unread: Int32Array;
  /** The namespace's last pid, read before the first look and at every look since (lastPid). */
  lastPid: number | null;
}

/** A scope whose every look reads the whole table. */
const READ_ALL = new Int32Array(0);

/**
 * Who to wait for, and kill after the timeout: the holders, their descendants (even those that left the
 * session with setsid), and everyone in the holders' sessions; narrower when a session is also ours (a
 * foreground run): then the holder's process group. Never this process.
 */
function scopeOf(pids: number[]): Scope {
  const self = readEntry(process.pid);
  const sessions = new Set<number>();
  const groups = new Set<number>();
  for (const pid of pids) {
    const entry = readEntry(pid);
    if (entry === null) continue;
    if (entry.session !== self?.session && entry.session !== 0) sessions.add(entry.session);
    else if (entry.pgrp !== self?.pgrp) groups.add(entry.pgrp);
  }
  const last = lastPid();
  const table = pids.length > 0 ? liveProcesses(() => true) : [];
  const family = new Set(pids.flatMap((pid) => members({ root: pid, session: null }, table)));
  const has = (entry: ProcessEntry): boolean => entry.pid !== process.pid &&
    (sessions.has(entry.session) || groups.has(entry.pgrp) || family.has(entry.pid));
  const theirSessions = new Set(table.filter(has).map((entry) => entry.session));
  const unread = table.filter((entry) => !has(entry) && !theirSessions.has(entry.session)).map((entry) => entry.pid);
  return { has, unread: Int32Array.from(unread).sort(), lastPid: last };
}

/**
 * The scope's `unread`, while no pid of it can belong to another process by now: the kernel hands pids out
 * in turn, so one comes back only after the namespace's last pid has gone round to the bottom, which a
 * look every millisecond sees as a smaller number (a stop may last long enough, with a daemon that forks
 * in a loop as it ends). Then, or where the number cannot be read, every look reads everything.
 */
function stillUnread(scope: Scope): Int32Array {
  if (scope.unread.length === 0) return scope.unread;
  const last = lastPid();
  if (last === null || scope.lastPid === null || last < scope.lastPid) scope.unread = READ_ALL;
  else scope.lastPid = last;
  return scope.unread;
}

/**
 * Seconds from SIGTERM to SIGKILL: as given, else the daemon's own --stop-timeout (from its supervisor's
 * record) plus a margin, since the supervisor escalates on its own first, plus the time its --on-exit
 * hooks may take after the program; a plain daemon gets the default.
 */
export function stopTimeoutFor(found: Pick<Inspection, 'supervised' | 'record'>, given: number | undefined): number {
  if (given !== undefined) return given;
  if (!found.supervised) return DEFAULT_STOP_TIMEOUT;
  return (found.record?.stopTimeout ?? DEFAULT_STOP_TIMEOUT) + (found.record?.hookTimeout ?? 0) + SUPERVISOR_MARGIN_SECONDS;
}

/** What a stop needs to know of its daemon. */
type StopSubject = Pick<Inspection, 'name' | 'pidfile' | 'identity'> & { supervised: boolean };

/** A stale pidfile (nobody holds its lock): removed when still the same file and unlocked; never signalled. */
export function notRunning(found: Pick<Inspection, 'name' | 'pidfile' | 'identity'>, verb: string): DaemonizeError {
  const { file } = found.identity;
  let why = '';
  if (file !== null) {
    why = removeStalePidfile(found.pidfile, file)
      ? `; removed its stale pidfile ${found.pidfile}` : `; its stale pidfile ${found.pidfile} remains`;
  }
  return new DaemonizeError(`unable to ${verb} ${found.name}: not running${why}`, ExitCode.FAILURE, 'ENOTRUNNING');
}

/** Stops the daemon `found` describes; `timeoutSeconds` (see stopTimeoutFor) before SIGKILL. */
export async function stopInspected(found: Inspection, timeoutSeconds?: number): Promise<StopResult> {
  return stopSubject({ ...found, supervised: found.supervised === true }, () => stopTimeoutFor(found, timeoutSeconds));
}

/**
 * Stops the daemon `pidfile` names. A holder whose title says it is our supervisor gets SIGTERM as soon as
 * it is identified: its record, which only sets the deadline, is read while it stops. Any other holder is
 * inspected whole first.
 */
export async function stopPidfile(pidfile: string, timeoutSeconds?: number): Promise<StopResult> {
  const identity: PidfileIdentity = identify(pidfile, false);
  const daemon = identity.daemon;
  if (daemon === null || !looksLikeSupervisor(daemon)) return stopInspected(inspectIdentified(pidfile, identity), timeoutSeconds);
  // A record already removed (the supervisor ended in the meantime, or could not write it) gives the defaults.
  return stopSubject({ name: nameOf(pidfile), pidfile, identity, supervised: true },
    () => stopTimeoutFor({ supervised: true, record: readRecord(pidfile, daemon) }, timeoutSeconds));
}

/**
 * The stop itself: `deadline()`, asked right after SIGTERM, gives the seconds before SIGKILL. A look that
 * fails (no descriptor left for /proc) ends it as this stop's failure, never as "gone".
 */
async function stopSubject(found: StopSubject, deadline: () => number): Promise<StopResult> {
  try {
    return await stopAndWait(found, deadline);
  } catch (error) {
    throw error instanceof DaemonizeError ? error : unable(`stop ${found.name}`, error);
  }
}

async function stopAndWait(found: StopSubject, deadline: () => number): Promise<StopResult> {
  const { identity } = found;
  const what = `stop ${found.name}`;
  if (identity.daemon === null && identity.hidden !== null) throw permissionDenied(what, identity.hidden.pid);
  if (identity.daemon === null || identity.file === null) throw notRunning(found, 'stop');
  const file: FileId = identity.file;
  // The holder the pidfile names is the daemon (identify): it gets SIGTERM at once. Every other holder is
  // looked for (a walk of every process's descriptors, the slowest part of a --stop) only if the daemon
  // outlives the timeout; until then the wait is for the lock to be free, whoever else holds it.
  let holders = identity.holders;
  // A plain daemon's tree is taken before SIGTERM: once it dies, what it started is reparented out of
  // sight. A supervisor outlives its tree (it is the subreaper its descendants come back to, and at its
  // very end it SIGKILLs and reaps whatever is left, killOwnTree), so its tree is taken after SIGTERM,
  // while it stops: the table read no longer delays the signal.
  const plainScope = found.supervised ? null : scopeOf(holders);
  send(identity.daemon, 'SIGTERM', what);
  let scope = plainScope ?? scopeOf(holders);
  // The cheap checks first. A plain daemon's children inherit its lock, and one that left its tree before
  // the stop may hold it still: only the kernel's list tells (/proc/locks, an RCU grace period to read).
  // A supervisor gives its descriptor to no child (they start with stdio and held sockets only), so once
  // it and its tree are gone, so is its lock.
  const lockFree = found.supervised ? () => true : () => !isHeld(file);
  const gone = (): boolean => {
    const unread = stillUnread(scope);
    return holders.every((pid) => !isAlive(pid)) && liveProcesses(scope.has, unread).length === 0 && lockFree();
  };
  let killed = false;
  // Woken as the daemon ends, where the kernel can tell, rather than at the next look.
  let endStep: (() => void) | null = null;
  const unwatch = watchExit(identity.daemon, () => endStep?.());
  let inTime: boolean;
  try {
    inTime = await pollUntil(gone, deadline() * 1000, LOOK_MS, (wake) => {
      endStep = wake;
    });
  } finally {
    unwatch?.();
  }
  if (!inTime) {
    killed = true;
    // Every holder now, with their sessions and descendants: all of them are SIGKILLed.
    const more = lockHolders(file).holders.map((entry) => entry.pid).filter((pid) => !holders.includes(pid));
    // Added to what was in scope before SIGTERM: a descendant the daemon's death reparented to init is
    // no longer found under it. Every look from now on reads the whole table.
    const before = scope.has;
    const theirs = scopeOf(more).has;
    scope = { has: (entry) => before(entry) || theirs(entry), unread: READ_ALL, lastPid: null };
    holders = [...holders, ...more];
    const left = new Set([...liveProcesses(scope.has).map((entry) => entry.pid), ...holders.filter(isAlive)]);
    // Every one of them, even when one may not be killed (EPERM): that one is reported after.
    let refused: unknown = null;
    for (const pid of left) {
      try {
        send(pid, 'SIGKILL', what);
      } catch (error) {
        refused ??= error;
      }
    }
    if (refused !== null) throw refused;
    if (!(await pollUntil(gone, KILL_GRACE_MS, LOOK_MS))) {
      throw new DaemonizeError(`unable to stop ${found.name}: still running after SIGKILL`, ExitCode.FAILURE, 'ETIMEDOUT');
    }
  }
  // A program that knows nothing of its pidfile leaves it behind.
  removeStalePidfile(found.pidfile, file);
  return { name: found.name, pidfile: found.pidfile, pid: identity.daemon, killed };
}
