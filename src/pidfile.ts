// The pidfile is a lock first and a number second: "running" means "someone holds its flock",
// never kill(pid, 0), which calls a zombie or a recycled pid alive.
import * as fs from 'node:fs';

import { DaemonizeError, unable } from './errors';
import { ExitCode } from './exit-codes';
import { closeFile, writeAt } from './file-calls';
import { statFd, statPath, statPathIfAny, type FileStatus } from './file-status';
import { identify } from './identity';
import { native } from './native';
import { checkDirectoryTrust, openOperatorFile, refuse, untrustedReason } from './safe-open';

const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK } = fs.constants;
/** Owner may write; group and others may only read. */
const PIDFILE_MODE = 0o644;
const WRITABLE_BY_OTHERS = 0o022;
/** A pidfile unlinked and recreated under us more often than this is a fight, not a race. */
const MAX_ATTEMPTS = 20;

/**
 * Throws when root must not trust the pidfile at `path`: one that exists but is owned by another user, is a
 * link or not a regular file, or that sits in a directory other users can write and is not sticky. Another
 * user could otherwise name any pid in it, or swap it, and have root signal that process. Start and the
 * control verbs call it; for a non-root caller it accepts everything (it can only hurt what it owns).
 */
export function checkPidfileTrust(path: string): void {
  checkDirectoryTrust(path, 'pidfile');
  let stat: FileStatus | undefined;
  try {
    // No pidfile yet (a start): answered without a thrown ENOENT, which costs more than the lstat.
    stat = statPathIfAny(path, false);
  } catch (error) {
    throw unable(`use pidfile ${path}`, error);
  }
  if (stat === undefined) return;
  const reason = untrustedReason(stat);
  if (reason !== null) throw refuse('pidfile', path, reason);
}

/**
 * The pidfile opened read-only: enough to hold its flock, never enough to change the pid in it. `created`:
 * this call made it, empty and with our mode, so there is nothing in it to empty or tighten.
 */
function openForLock(path: string): { fd: number; created: boolean } {
  return openOperatorFile(path, { access: 'read', create: 'missing', mode: PIDFILE_MODE, what: 'pidfile' });
}

/** A short-lived write descriptor on the very file `lockFd` holds (same device and inode), for truncating and writing. */
function openWriter(path: string, lockFd: number): number {
  return openOperatorFile(path, { access: 'write', create: 'never', sameAs: statFd(lockFd), what: 'pidfile' }).fd;
}

/** Empties a pidfile that could not be written whole; a failure here leaves the first one to report. */
function emptyQuietly(writer: number): void {
  try {
    fs.ftruncateSync(writer, 0);
  } catch {
    // The write's own error is the one to report.
  }
}

/** True when `fd` still names the file at `path` (nobody unlinked or replaced it after we opened it). */
function isCurrent(fd: number, path: string): boolean {
  const held = statFd(fd);
  try {
    const now = statPath(path, false);
    return now.ino === held.ino && now.dev === held.dev;
  } catch {
    return false;
  }
}

/** The pid a pidfile names, or null when it is missing, empty or not a number. */
export function readPid(path: string): number | null {
  let text: string;
  try {
    const fd = fs.openSync(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
    try {
      text = fs.readFileSync(fd, 'utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return null;
  }
  const match = /^\s*(\d+)\s*$/.exec(text);
  return match ? Number(match[1]) : null;
}

/** The pid the pidfile names when that process holds its lock; null otherwise, or when it cannot tell. */
function holderNamedIn(path: string): number | null {
  try {
    return identify(path, false).named;
  } catch {
    return null;
  }
}

/**
 * A pidfile this process has created or taken over, and holds locked. The lock is held on a read-only
 * descriptor, the one a daemon inherits: flock works on it, and a daemon running as another user cannot
 * write a stranger's pid through it for root to signal later.
 */
export class Pidfile {
  private constructor(readonly path: string, readonly fd: number) {}

  /**
   * Creates (or takes over a stale) pidfile, locks it and empties it, so a locked pidfile never names the
   * previous run's pid. Refuses with ALREADY_RUNNING when another process holds the lock, and (as root)
   * a pidfile that checkPidfileTrust() refuses. The descriptor is close-on-exec; pass it in a spawn
   * plan's keepFds to let the daemon inherit the lock.
   */
  static acquire(path: string): Pidfile {
    checkPidfileTrust(path);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const { fd, created } = openForLock(path);
      let keep = false;
      try {
        if (!native.tryLock(fd, false)) {
          // The number in the file names the daemon only if that process holds the lock.
          const pid = holderNamedIn(path);
          throw new DaemonizeError(
            `unable to lock pidfile ${path}: already running${pid !== null ? ` as pid ${pid}` : ''}`,
            ExitCode.ALREADY_RUNNING);
        }
        // The previous holder may have unlinked the file between our open and our lock; then we
        // hold a lock nobody else can see, and must start again on the file now at that path.
        if (!isCurrent(fd, path)) continue;
        const pidfile = new Pidfile(path, fd);
        if (!created) pidfile.rewrite('', true);
        keep = true;
        return pidfile;
      } catch (error) {
        if (error instanceof DaemonizeError) throw error;
        throw unable(`lock pidfile ${path}`, error);
      } finally {
        if (!keep) closeFile(fd);
      }
    }
    throw new DaemonizeError(`unable to lock pidfile ${path}: it keeps being replaced`);
  }

  /** Wraps a descriptor inherited from a launcher that locked it (a daemonized supervisor's). */
  static adopt(path: string, fd: number): Pidfile {
    return new Pidfile(path, fd);
  }

  /** Replaces the contents with "PID\n". */
  write(pid: number): void {
    this.rewrite(`${pid}\n`, false);
  }

  /**
   * Replaces the contents through a write descriptor opened for this alone and closed at once, so no
   * process ever inherits one. On a full disk the file is left empty, never half a number. The text is
   * written over the old one and the file cut to its length only when the old one was longer: the usual
   * file is new or was emptied when its lock was taken, and an ftruncate is a metadata update that costs
   * about a millisecond of every start.
   */
  private rewrite(text: string, tighten: boolean): void {
    let writer: number | undefined;
    try {
      writer = openWriter(this.path, this.fd);
      const { mode, size } = statFd(writer);
      // Group and others may read the pid, never write it (a file left group-writable by someone else).
      if (tighten && mode & WRITABLE_BY_OTHERS) fs.fchmodSync(writer, mode & 0o7777 & ~WRITABLE_BY_OTHERS);
      const length = Buffer.byteLength(text);
      if (text !== '' && writeAt(writer, text, 0) !== length) throw new DaemonizeError(`unable to write pidfile ${this.path}: short write`);
      if (size > length) fs.ftruncateSync(writer, length);
    } catch (error) {
      if (writer !== undefined) emptyQuietly(writer);
      if (error instanceof DaemonizeError) throw error;
      throw unable(`write pidfile ${this.path}`, error);
    } finally {
      if (writer !== undefined) closeFile(writer);
    }
  }

  /** Unlinks the pidfile, but only while the path still names the file we hold. */
  remove(): void {
    try {
      if (isCurrent(this.fd, this.path)) fs.unlinkSync(this.path);
    } catch {
      // Already gone, or its directory is no longer ours to write: nothing left to clean.
    }
  }

  /** Closes our descriptor; the lock lives on in any process that inherited it. */
  close(): void {
    closeFile(this.fd);
  }
}
