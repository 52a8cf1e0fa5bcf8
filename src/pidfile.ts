// The pidfile is a lock first and a number second: "running" means "someone holds its flock",
// never kill(pid, 0), which calls a zombie or a recycled pid alive.
import * as fs from 'node:fs';

import { DaemonizeError, unable } from './errors';
import { ExitCode } from './exit-codes';
import { native } from './native';

const { O_RDWR, O_RDONLY, O_CREAT, O_NOFOLLOW, O_NONBLOCK } = fs.constants;
/** Owner may write; group and others may only read. */
const PIDFILE_MODE = 0o644;
const WRITABLE_BY_OTHERS = 0o022;
/** A pidfile unlinked and recreated under us more often than this is a fight, not a race. */
const MAX_ATTEMPTS = 20;

function openPidfile(path: string, flags: number): number {
  try {
    // O_NOFOLLOW: a symlink planted at the pidfile's path must not redirect a root daemon's write.
    // O_NONBLOCK: a FIFO planted there must not hang the launcher.
    return fs.openSync(path, flags | O_NOFOLLOW | O_NONBLOCK, PIDFILE_MODE);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOOP') {
      throw new DaemonizeError(`unable to open pidfile ${path}: it is a symbolic link`, ExitCode.FAILURE, 'ELOOP');
    }
    throw unable(`open pidfile ${path}`, error);
  }
}

/** True when `fd` still names the file at `path` (nobody unlinked or replaced it after we opened it). */
function isCurrent(fd: number, path: string): boolean {
  const held = fs.fstatSync(fd);
  try {
    const now = fs.lstatSync(path);
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

/** Whether a live process holds the pidfile's lock, tested without taking it for longer than a probe. Throws when it cannot tell. */
export function isLocked(path: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch (error) {
    // No pidfile: nobody holds it. Anything else (a path through a file, no permission) is unknown.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw unable(`open pidfile ${path}`, error);
  }
  try {
    return !native.tryLock(fd, true);
  } finally {
    fs.closeSync(fd);
  }
}

/** A pidfile this process has created or taken over, and holds locked. */
export class Pidfile {
  private constructor(readonly path: string, readonly fd: number) {}

  /**
   * Creates (or takes over a stale) pidfile and locks it. Refuses with ALREADY_RUNNING when another
   * process holds the lock. The descriptor is close-on-exec; pass it in a spawn plan's keepFds to let the
   * daemon inherit the lock.
   */
  static acquire(path: string): Pidfile {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const fd = openPidfile(path, O_RDWR | O_CREAT);
      let keep = false;
      try {
        const stat = fs.fstatSync(fd);
        if (!stat.isFile()) {
          throw new DaemonizeError(`unable to use pidfile ${path}: it is not a regular file`);
        }
        if (!native.tryLock(fd, false)) {
          const pid = readPid(path);
          throw new DaemonizeError(
            `unable to lock pidfile ${path}: already running${pid !== null ? ` as pid ${pid}` : ''}`,
            ExitCode.ALREADY_RUNNING);
        }
        // The previous holder may have unlinked the file between our open and our lock; then we
        // hold a lock nobody else can see, and must start again on the file now at that path.
        if (!isCurrent(fd, path)) continue;
        if (stat.mode & WRITABLE_BY_OTHERS) fs.fchmodSync(fd, stat.mode & 0o7777 & ~WRITABLE_BY_OTHERS);
        keep = true;
        return new Pidfile(path, fd);
      } catch (error) {
        if (error instanceof DaemonizeError) throw error;
        throw unable(`lock pidfile ${path}`, error);
      } finally {
        if (!keep) fs.closeSync(fd);
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
    try {
      fs.ftruncateSync(this.fd, 0);
      fs.writeSync(this.fd, `${pid}\n`, 0);
    } catch (error) {
      throw unable(`write pidfile ${this.path}`, error);
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
    fs.closeSync(this.fd);
  }
}

