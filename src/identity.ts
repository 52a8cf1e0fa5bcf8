// Who "the daemon" is: the live processes that hold the pidfile's flock lock, never the number written in
// it. A stale pidfile (after a reboot, an OOM kill, pid reuse) can name anyone, init included; the lock
// cannot lie. Holders are found by the pidfile's (st_dev, st_ino) against what every process's
// /proc/PID/fd/N points at (stat, not readlink: /var/run/x.pid and /run/x.pid are one file), and a match
// counts only when the kernel lists a flock lock on that very descriptor (/proc/PID/fdinfo/N), so a
// process that merely has the file open (a reader, a launcher about to lock) is no holder. Nothing here
// takes the lock: a probe that did would make a start racing it fail with "already running".
import * as fs from 'node:fs';

import { DaemonizeError, unable } from './errors';
import { liveProcesses, readEntry, type ProcessEntry } from './process-table';

const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK } = fs.constants;

export interface FileId {
  dev: number;
  ino: number;
}

export interface PidfileIdentity {
  pidfile: string;
  /** The pidfile's device and inode, or null when there is no pidfile. */
  file: FileId | null;
  /** Live processes holding the lock, oldest first. */
  holders: number[];
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
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO planted at the path must not hang a --status.
    fd = fs.openSync(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    if (code === 'ELOOP') {
      throw new DaemonizeError(`unable to read pidfile ${path}: it is a symbolic link`, undefined, 'ELOOP');
    }
    throw unable(`read pidfile ${path}`, error);
  }
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) throw new DaemonizeError(`unable to read pidfile ${path}: it is not a regular file`, undefined, 'EINVAL');
    const buffer = Buffer.alloc(64);
    const length = fs.readSync(fd, buffer, 0, buffer.length, 0);
    const match = /^\s*(\d{1,10})\s*$/.exec(buffer.toString('latin1', 0, length));
    return { file: { dev: stat.dev, ino: stat.ino }, number: match ? Number(match[1]) : null };
  } catch (error) {
    if (error instanceof DaemonizeError) throw error;
    throw unable(`read pidfile ${path}`, error);
  } finally {
    fs.closeSync(fd);
  }
}

/** Whether descriptor `fd` of `pid` owns a flock lock (a waiter's "->" line is not one). */
function holdsFlock(pid: number, fd: string): boolean {
  try {
    const info = fs.readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'latin1');
    return /^lock:\s+\d+: FLOCK /m.test(info);
  } catch {
    return false;
  }
}

function sameFile(pid: number, fd: string, file: FileId): boolean {
  try {
    const stat = fs.statSync(`/proc/${pid}/fd/${fd}`);
    return stat.ino === file.ino && stat.dev === file.dev;
  } catch {
    // closed while we looked, or not ours to look at
    return false;
  }
}

/** Live processes holding the lock on `file`, and how many processes' descriptors we could not read. */
export function lockHolders(file: FileId): { holders: ProcessEntry[]; unreadable: number } {
  const holders: ProcessEntry[] = [];
  let unreadable = 0;
  for (const entry of liveProcesses(() => true)) {
    let fds: string[];
    try {
      fds = fs.readdirSync(`/proc/${entry.pid}/fd`);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') unreadable += 1;
      continue;
    }
    if (fds.some((fd) => sameFile(entry.pid, fd, file) && holdsFlock(entry.pid, fd))) holders.push(entry);
  }
  holders.sort((a, b) => a.startTicks - b.startTicks || a.pid - b.pid);
  return { holders, unreadable };
}

/** True when some ancestor of `entry` is in `pids`. */
function hasAncestorIn(entry: ProcessEntry, pids: Set<number>): boolean {
  let ppid = entry.ppid;
  for (let depth = 0; ppid > 1 && depth < 4096; depth++) {
    if (pids.has(ppid)) return true;
    ppid = readEntry(ppid)?.ppid ?? 0;
  }
  return false;
}

/**
 * Among several holders (a daemon whose children inherited the descriptor), the daemon is the one the
 * pidfile names if it is a holder, else the top of the holders' tree (the oldest, if several tops).
 */
export function chooseDaemon(holders: ProcessEntry[], number: number | null): number | null {
  if (holders.length === 0) return null;
  if (number !== null && holders.some((entry) => entry.pid === number)) return number;
  const pids = new Set(holders.map((entry) => entry.pid));
  const top = holders.find((entry) => !hasAncestorIn(entry, pids));
  return (top ?? holders[0]).pid;
}

/** /proc/locks writes a device as MAJOR:MINOR in hex; this is glibc's split of st_dev. */
function deviceText(dev: number): string {
  const major = Math.floor(dev / 256) & 0xfff;
  const minor = (dev & 0xff) | (Math.floor(dev / 4096) & 0xfff00);
  return `${major.toString(16).padStart(2, '0')}:${minor.toString(16).padStart(2, '0')}`;
}

/**
 * Whether /proc/locks lists a flock lock on `file`. Its pid column names the process that took the lock
 * (a launcher, long gone), so it says that the file is locked, never by whom.
 */
function lockListed(file: FileId): boolean {
  let text: string;
  try {
    text = fs.readFileSync('/proc/locks', 'latin1');
  } catch {
    return false;
  }
  const wanted = `${deviceText(file.dev)}:${file.ino}`;
  for (const match of text.matchAll(/^\d+: FLOCK\s+\S+\s+\S+\s+\d+\s+(\S+)\s/gm)) {
    if (match[1] === wanted) return true;
  }
  return false;
}

/** A live process whose descriptors this process may not read (another user's). */
function isOutOfSight(pid: number): boolean {
  try {
    fs.readdirSync(`/proc/${pid}/fd`);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EACCES' && readEntry(pid) !== null;
  }
}

/** Who holds `pidfile`'s lock. Throws a DaemonizeError when the pidfile cannot be read (or is a symlink). */
export function identify(pidfile: string): PidfileIdentity {
  const read = readPidfile(pidfile);
  if (read === null) return { pidfile, file: null, holders: [], daemon: null, named: null, hidden: null };
  const { holders, unreadable } = lockHolders(read.file);
  const daemon = chooseDaemon(holders, read.number);
  let hidden: PidfileIdentity['hidden'] = null;
  if (holders.length === 0 && unreadable > 0) {
    if (lockListed(read.file)) {
      hidden = { pid: read.number !== null && read.number > 0 && isOutOfSight(read.number) ? read.number : null };
    }
  }
  return {
    pidfile,
    file: read.file,
    holders: holders.map((entry) => entry.pid),
    daemon,
    named: daemon !== null && daemon === read.number ? daemon : null,
    hidden,
  };
}

/** Whether any live process still holds the lock on `file`. */
export function isHeld(file: FileId): boolean {
  return lockHolders(file).holders.length > 0;
}
