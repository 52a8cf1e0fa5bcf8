// A reading of the process table that is cheap to read again: the second time, only the processes that
// could still matter and those started since are read. --stop reads the table right after SIGTERM (the
// daemon's tree) and again once the daemon is gone (is anything of it left?); on a machine running a
// thousand processes, each whole reading is a thousand files.
//
// Started since: the kernel hands out pids in increasing order, wrapping at pid_max. A process started
// after a reading has a pid above the last one handed out before it, unless the pids wrapped meanwhile.
// To wrap, the kernel must first use up every free pid above that last one, and it counts every task it
// makes (/proc/stat's "processes"): fewer new tasks than free pids means no wrap. Anything uncertain (no
// /proc/loadavg, a /proc of another pid namespace, pids that may have wrapped) reads the whole table.
import { readFileSync, readlinkSync } from 'node:fs';

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

function pidClock(): PidClock | null {
  try {
    // Our /proc must be our pid namespace's, the one /proc/loadavg's last pid speaks of.
    if (Number(readlinkSync('/proc/self')) !== process.pid) return null;
    // "0.38 0.51 0.57 1/75 13411": running/all tasks, then the last pid handed out.
    const load = readFileSync('/proc/loadavg', 'latin1').trim().split(' ');
    const clock = {
      lastPid: Number(load[4]),
      tasks: Number(load[3]?.split('/')[1]),
      forks: Number(/^processes (\d+)$/m.exec(readFileSync('/proc/stat', 'latin1'))?.[1]),
      pidMax: Number(readFileSync('/proc/sys/kernel/pid_max', 'latin1')),
    };
    return Object.values(clock).every(Number.isSafeInteger) ? clock : null;
  } catch {
    return null;
  }
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
  const table = then.clock !== null && now !== null && noWrap(then.clock, now)
    ? processTable({ above: then.clock.lastPid, also: then.entries.filter(keep).map((entry) => entry.pid) })
    : processTable();
  return table.filter((entry) => !isDead(entry) && accept(entry));
}
