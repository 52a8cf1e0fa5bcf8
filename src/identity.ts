// Who "the daemon" is: the live processes that hold the pidfile's flock lock, never the number written in
// it. A stale pidfile (after a reboot, an OOM kill, pid reuse) can name anyone, init included; the lock
// cannot lie. Holders are found by the pidfile's (st_dev, st_ino) against what every process's
// /proc/PID/fd/N points at (stat, not readlink: /var/run/x.pid and /run/x.pid are one file), and a match
// counts only when the kernel lists a flock lock on that very descriptor (/proc/PID/fdinfo/N), so a
// process that merely has the file open (a reader, a launcher about to lock) is no holder. /proc/locks
// only rules out a file nobody holds, more cheaply than that walk, though each read of it costs an RCU
// grace period. Nothing here takes the lock: a probe that did would make a start racing it fail with
// "already running".
import * as fs from 'node:fs';

import { DaemonizeError, unable } from './errors';
import { native } from './native';
import { hasAncestor, readEntry, type ProcessEntry } from './process-table';

/** Exact device and inode numbers (bigint: 64-bit inode numbers do not fit a double). */
export interface FileId {
  dev: bigint;
  ino: bigint;
}

export interface PidfileIdentity {
  pidfile: string;
  /** The pidfile's device and inode, or null when there is no pidfile. */
  file: FileId | null;
  /** Live processes holding the lock, oldest first (only the named one when not `complete`). */
  holders: number[];
  /** Whether `holders` is every holder, or only the one the pidfile names (enough to answer a status). */
  complete: boolean;
  /** The one holder to signal (see chooseDaemon), or null: not running. */
  daemon: number | null;
  /** The number written in the pidfile, only when it names a holder. */
  named: number | null;
  /**
   * Set when no holder is visible but the kernel lists a flock lock on the file while some processes'
   * descriptors could not be read (another user's daemon): it runs, and we may not tell or signal whom.
   * `pid` is the number in the pidfile, only when it names a live process whose descriptors we may not read
   * either: plausibly the holder, named in a message, never signalled.
   */
  hidden: { pid: number | null } | null;
}

/** The pidfile's identity and the number written in it, without following a link at its last component. */
function readPidfile(path: string): { file: FileId; number: number | null } | null {
  let read: ReturnType<typeof native.readPidfile>;
  try {
    read = native.readPidfile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    if (code === 'ELOOP') {
      throw new DaemonizeError(`unable to read pidfile ${path}: it is a symbolic link`, undefined, 'ELOOP');
    }
    throw unable(`read pidfile ${path}`, error);
  }
  if (!read.regular) throw new DaemonizeError(`unable to read pidfile ${path}: it is not a regular file`, undefined, 'EINVAL');
  const match = /^\s*(\d{1,10})\s*$/.exec(read.text);
  return { file: { dev: read.dev, ino: read.ino }, number: match ? Number(match[1]) : null };
}

/** The descriptors of `pid`: 'gone', or 'hidden' when we may not read them (another user's process). */
function descriptorsOf(pid: number): string[] | 'gone' | 'hidden' {
  try {
    return fs.readdirSync(`/proc/${pid}/fd`);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'gone' : 'hidden';
  }
}

/**
 * Whether `pid` holds the lock on `file`: one of its descriptors is that file (stat, highest first) and
 * its fdinfo shows a granted flock lock (a waiter's "->" line is not one). Null when its descriptors may
 * not be read. The addon looks (native/lock-holder.cc): every verb asks this first.
 */
function holds(pid: number, file: FileId): boolean | null {
  return native.holdsLock(pid, file.dev, file.ino);
}

/**
 * The inode numbers /proc/locks lists with a granted flock lock, or null when it cannot be read. Each read
 * costs an RCU grace period (the kernel takes its file-lock rwsem for writing): ask it only when the
 * alternative is walking every process's descriptors. Its device
 * column is not compared (btrfs subvolumes show another device in stat than here) nor its pid column (the
 * process that took the lock, maybe long gone): it only tells which files no one can be holding.
 */
function flockedInodes(): Set<string> | null {
  let text: string;
  try {
    text = fs.readFileSync('/proc/locks', 'latin1');
  } catch {
    return null;
  }
  const inodes = new Set<string>();
  for (const match of text.matchAll(/^\d+: FLOCK\s+\S+\s+\S+\s+-?\d+\s+[0-9a-f]+:[0-9a-f]+:(\d+)\s/gm)) inodes.add(match[1]);
  return inodes;
}

/** Whether the kernel may list a flock lock on `file` (true when /proc/locks cannot tell). */
function mayBeLocked(file: FileId): boolean {
  return flockedInodes()?.has(String(file.ino)) ?? true;
}

/** Live processes holding the lock on `file`, oldest first, and how many processes we could not look into. */
export function lockHolders(file: FileId): { holders: ProcessEntry[]; unreadable: number } {
  if (!mayBeLocked(file)) return { holders: [], unreadable: 0 };
  const holders: ProcessEntry[] = [];
  let unreadable = 0;
  for (const name of fs.readdirSync('/proc')) {
    if (name.charCodeAt(0) < 48 || name.charCodeAt(0) > 57) continue;
    const pid = Number(name);
    const held = holds(pid, file);
    if (held === null) unreadable += 1;
    if (!held) continue;
    // A zombie has no descriptors; one that died since we looked is not a holder either.
    const entry = readEntry(pid);
    if (entry !== null && entry.state !== 'Z' && entry.state !== 'X') holders.push(entry);
  }
  holders.sort((a, b) => a.startTicks - b.startTicks || a.pid - b.pid);
  return { holders, unreadable };
}

/**
 * Among several holders (a daemon whose children inherited the descriptor), the daemon is the one the
 * pidfile names if it is a holder, else the top of the holders' tree (the oldest, if several tops).
 */
export function chooseDaemon(holders: ProcessEntry[], number: number | null): number | null {
  if (holders.length === 0) return null;
  if (number !== null && holders.some((entry) => entry.pid === number)) return number;
  const pids = new Set(holders.map((entry) => entry.pid));
  const top = holders.find((entry) => !hasAncestor(entry, (pid) => pids.has(pid)));
  return (top ?? holders[0]).pid;
}

/** A live process whose descriptors this process may not read (another user's). */
function isOutOfSight(pid: number): boolean {
  return descriptorsOf(pid) === 'hidden' && readEntry(pid) !== null;
}

/**
 * Who holds `pidfile`'s lock. With `complete` false, a holder the pidfile names is enough (a status, a
 * signal: it is the daemon whoever else holds the lock); --stop needs every holder. Throws a DaemonizeError
 * when the pidfile cannot be read, or is a symbolic link.
 */
export function identify(pidfile: string, complete = true): PidfileIdentity {
  const read = readPidfile(pidfile);
  if (read === null) return { pidfile, file: null, holders: [], complete: true, daemon: null, named: null, hidden: null };
  const { file, number } = read;
  // The named process's own descriptors first: /proc/locks is no cheap look (reading it takes the kernel's
  // file-lock rwsem for writing, an RCU grace period of some milliseconds, and holds up flock() meanwhile).
  if (!complete && number !== null && number > 0 && holds(number, file)) {
    const entry = readEntry(number);
    if (entry !== null && entry.state !== 'Z' && entry.state !== 'X') {
      return { pidfile, file, holders: [number], complete: false, daemon: number, named: number, hidden: null };
    }
  }
  const { holders, unreadable } = lockHolders(file);
  const daemon = chooseDaemon(holders, number);
  // Nobody we can see holds it, yet the kernel lists a lock: a process we may not look into does.
  const hidden = holders.length === 0 && unreadable > 0 && mayBeLocked(file)
    ? { pid: number !== null && number > 0 && isOutOfSight(number) ? number : null } : null;
  return {
    pidfile,
    file,
    holders: holders.map((entry) => entry.pid),
    complete: true,
    daemon,
    named: daemon !== null && daemon === number ? daemon : null,
    hidden,
  };
}

/** Whether any live process still holds the lock on `file`. */
export function isHeld(file: FileId): boolean {
  return lockHolders(file).holders.length > 0;
}
