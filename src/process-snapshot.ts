// A reading of the process table that is cheap to read again: the second time, only the processes that
// could still matter and those started since are read, by pid, without listing /proc. --stop reads the
// table right after SIGTERM (the daemon's tree) and again once the daemon is gone (is anything of it
// left?); on a machine running a thousand processes, each whole reading is a thousand files.
//
// Started since: the kernel hands out pids in increasing order, wrapping at pid_max. A process started
// after a reading has a pid between the last one handed out before it and the last one handed out now,
// unless the pids wrapped meanwhile. To wrap, the kernel must first use up every free pid above that
// last one, and it counts every task it makes (/proc/stat's "processes"): fewer new tasks than free pids
// means no wrap. Anything uncertain (no /proc/loadavg, a /proc of another pid namespace, pids that may
// have wrapped, too many new ones) reads the whole table.
import { native } from './native';
import { isDead, processTable, type ProcessEntry } from './process-table';

/** Where the kernel's pid allocation stood at one moment. */
interface PidClock {
  /** The last pid handed out in this pid namespace. */
  lastPid: number;
  /** Tasks made since boot, threads included, in every namespace. */
  forks: number;
  /** Tasks then, threads included: at most this many pids above lastPid were taken. */
  tasks: number;
  pidMax: number;
}

export interface TableReading {
  /** Every process then, zombies included. */
  entries: ProcessEntry[];
  clock: PidClock | null;
}

/** More pids handed out since a reading than this, and the whole table is read again instead. */
const MAX_NEW_PIDS = 512;

/** Read by the addon in one call (four small /proc files); null when any of it is missing. */
function pidClock(): PidClock | null {
  const [self, lastPid, tasks, forks, pidMax] = native.pidClock();
  // Our /proc must be our pid namespace's, the one /proc/loadavg's last pid speaks of.
  if (self !== process.pid) return null;
  const clock = { lastPid, tasks, forks, pidMax };
  return Object.values(clock).every((value) => Number.isSafeInteger(value) && value >= 0) ? clock : null;
}

/** Whether no pid at or below `then.lastPid` can have been handed out again by the time of `now`. */
export function noWrap(then: PidClock, now: PidClock): boolean {
  const freeAbove = Math.min(then.pidMax, now.pidMax) - 1 - then.lastPid - then.tasks;
  return now.lastPid >= then.lastPid && now.forks - then.forks < freeAbove;
}

/** The whole table, and where pid allocation stood just before it was read. */
export function readTable(): TableReading {
  const clock = pidClock();
  return { entries: processTable(), clock };
}

/**
 * The live processes `accept` takes now. Of those in `then`, only the ones `keep` takes are read again:
 * `keep` must take every process of `then` that `accept` could take later (a process can leave a session,
 * never join one: a session's members then are all it can have, but for those started since).
 */
export function liveSince(then: TableReading, keep: (entry: ProcessEntry) => boolean,
  accept: (entry: ProcessEntry) => boolean): ProcessEntry[] {
  const now = then.clock === null ? null : pidClock();
  let table: ProcessEntry[];
  if (then.clock !== null && now !== null && noWrap(then.clock, now) && now.lastPid - then.clock.lastPid <= MAX_NEW_PIDS) {
    const known = new Set(then.entries.map((entry) => entry.pid));
    const pids = then.entries.filter(keep).map((entry) => entry.pid);
    for (let pid = then.clock.lastPid + 1; pid <= now.lastPid; pid++) if (!known.has(pid)) pids.push(pid);
    table = processTable(pids);
  } else {
    table = processTable();
  }
  return table.filter((entry) => !isDead(entry) && accept(entry));
}
