// Who is alive, read from /proc. A zombie counts as dead: it runs nothing, holds no lock, and on
// machines whose PID 1 reaps nothing it may never go away.
import { readFileSync } from 'node:fs';

import { readText } from './file-calls';
import { native } from './native';

export interface ProcessEntry {
  pid: number;
  ppid: number;
  pgrp: number;
  session: number;
  state: string;
  /** Start time in clock ticks after boot. */
  startTicks: number;
  /** A zombie's wait status (waitpid's encoding), or null where the kernel does not show it (before 3.5). */
  exitStatus: number | null;
}

/** Linux's USER_HZ: /proc counts process start times in these. */
const TICKS_PER_SECOND = 100;

/** One /proc/PID/stat line as an entry. */
function parseStat(text: string): ProcessEntry {
  // The command name may hold spaces and parentheses: the fields start after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return {
    pid: Number(text.slice(0, text.indexOf(' '))), state: fields[0], ppid: Number(fields[1]), pgrp: Number(fields[2]),
    session: Number(fields[3]), startTicks: Number(fields[19]),
    // stat's 52nd field; fields[0] is its 3rd.
    exitStatus: fields.length > 49 ? Number(fields[49]) : null,
  };
}

export function readEntry(pid: number): ProcessEntry | null {
  // Through the addon: readFileSync's way for a file whose size the stat does not tell costs a first look
  // at a daemon (--status) more than a millisecond.
  const text = native.procStat(pid);
  return text === null ? null : parseStat(text);
}

const isLive = (entry: ProcessEntry): boolean => entry.state !== 'Z' && entry.state !== 'X';

/** Whether an entry is a zombie (or dying): it runs nothing, though its parent may still have to reap it. */
export const isDead = (entry: ProcessEntry): boolean => !isLive(entry);

export function isAlive(pid: number): boolean {
  const entry = readEntry(pid);
  return entry !== null && isLive(entry);
}

/**
 * Every process /proc lists, zombies included, read in one call to the addon: the whole table is read
 * several times while a daemon stops, and file by file from here it costs several times as much.
 * `unread`: pids, ascending, the caller knows cannot concern it; they may be left out (the kernel composing
 * each line is most of the cost), though an addon built before this reads them too.
 */
export function processTable(unread?: Int32Array): ProcessEntry[] {
  const records = native.procStats(unread).toString('latin1').split('\0');
  records.pop();
  return records.map(parseStat);
}

/**
 * The last pid handed out in this pid namespace (/proc/sys/kernel/ns_last_pid), or null where the kernel
 * does not say. It only grows until pids come round again from the bottom: a caller that keeps pids it
 * read earlier learns so from a smaller number.
 */
export function lastPid(): number | null {
  try {
    const text = readText('/proc/sys/kernel/ns_last_pid', 64).trim();
    return /^\d+$/.test(text) ? Number(text) : null;
  } catch {
    return null;
  }
}

/** Every live process the predicate accepts; `unread` as for processTable. */
export function liveProcesses(accept: (entry: ProcessEntry) => boolean, unread?: Int32Array): ProcessEntry[] {
  return processTable(unread).filter((entry) => isLive(entry) && accept(entry));
}

/**
 * The entries of `table` descended from any of `roots` by ppid (children, their children... to a fixed
 * point), parents before their children; the roots themselves are left out.
 * The kernels here have no task children files, so this one walk over a /proc reading is how everything
 * finds what a process started; callers choose the table (live only, or with the zombies still to reap).
 */
export function descendants(roots: Iterable<number>, table: readonly ProcessEntry[]): ProcessEntry[] {
  const children = new Map<number, ProcessEntry[]>();
  for (const entry of table) {
    const siblings = children.get(entry.ppid);
    if (siblings) siblings.push(entry);
    else children.set(entry.ppid, [entry]);
  }
  const starts = [...roots];
  const seen = new Set<number>(starts);
  const found: ProcessEntry[] = [];
  const visit = (parent: number): void => {
    for (const entry of children.get(parent) ?? []) {
      // A pid can only be met twice in a table read while pids were recycled: never walk it twice.
      if (seen.has(entry.pid)) continue;
      seen.add(entry.pid);
      found.push(entry);
    }
  };
  for (const root of starts) visit(root);
  for (let i = 0; i < found.length; i++) visit(found[i].pid);
  return found;
}

/** When a process started, in ms since the epoch, or null when it is gone. */
export function startedAt(pid: number): number | null {
  const entry = readEntry(pid);
  if (entry === null) return null;
  const boot = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'latin1'));
  return boot ? Number(boot[1]) * 1000 + (entry.startTicks * 1000) / TICKS_PER_SECOND : null;
}

/** Live children of `pid`, found by their ppid (the kernels here have no task children files). */
export function childrenOf(pid: number): ProcessEntry[] {
  return liveProcesses((entry) => entry.ppid === pid);
}

/** Whether some ancestor of a process (its parent, grandparent...; never init) satisfies `test`. */
export function hasAncestor(process: ProcessEntry | number, test: (ancestor: number) => boolean): boolean {
  let ppid = (typeof process === 'number' ? readEntry(process)?.ppid : process.ppid) ?? 0;
  for (let depth = 0; ppid > 1 && depth < 4096; depth++) {
    if (test(ppid)) return true;
    ppid = readEntry(ppid)?.ppid ?? 0;
  }
  return false;
}

/** The real uid a process runs as, or null when it is gone. */
export function ownerOf(pid: number): number | null {
  try {
    const match = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

/** The most /proc/PID/cmdline is read of: the addon's limit, far past any argv the kernel allows by default (ARG_MAX). */
const MAX_COMMAND_BYTES = 64 * 1024 * 1024;

/** Its argv, or null when it is gone or shows none (a kernel thread, a zombie). */
export function commandOf(pid: number): string[] | null {
  try {
    const words = readText(`/proc/${pid}/cmdline`, MAX_COMMAND_BYTES).split('\0');
    if (words[words.length - 1] === '') words.pop();
    return words.length > 0 ? words : null;
  } catch {
    return null;
  }
}

/** Bytes resident in a process (VmRSS, which the kernel counts in kB), or null when it is gone. */
export function residentBytes(pid: number): number | null {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return null;
  }
}

/** kill(2) that counts "already gone" (ESRCH) as done; a negative pid names a process group. */
export function signalQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Gone already, which is what a signal meant to end it wanted.
  }
}
