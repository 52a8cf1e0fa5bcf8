// Reads a small file the operator named for daemonize to obey (a profile, an env file). As root, what
// such a file says becomes root's action, so root reads only a file that nobody else could have written:
// owned by an allowed uid (root; for an env file also the --user), not writable by group or others
// (a group of gid 0 aside), in a directory owned likewise that others cannot write to unless it is sticky.
// Links are followed (/etc/daemonize.conf may be managed as one); the checks are on what was opened.
import * as fs from 'node:fs';
import { dirname } from 'node:path';

import { DaemonizeError, unable } from './errors';
import { ExitCode } from './exit-codes';
import { pathExists, statPath, type FileStatus } from './file-status';
import { UNTRUSTED } from './safe-open';

/** Bytes read at most: these are hand-written text files, not data. */
const MAX_BYTES = 1 << 20;

const STICKY = 0o1000;

function mode(stat: FileStatus): string {
  return (stat.mode & 0o7777).toString(8).padStart(4, '0');
}

function owners(allowedUids: readonly number[]): string {
  return allowedUids.length > 1 ? `uid ${allowedUids.join(' or ')}` : 'root';
}

function othersMayWrite(stat: FileStatus): boolean {
  return (stat.mode & 0o002) !== 0 || ((stat.mode & 0o020) !== 0 && stat.gid !== 0);
}

function untrustedReason(stat: FileStatus, dir: string, allowedUids: readonly number[]): string | null {
  if (!stat.isFile()) return 'it is not a regular file';
  if (!allowedUids.includes(stat.uid)) return `it is owned by uid ${stat.uid}, not by ${owners(allowedUids)}`;
  if (othersMayWrite(stat)) return `it is writable by other users (mode ${mode(stat)})`;
  // In a directory others may write to (and not sticky), the file could be swapped for theirs at any time.
  const parent = statPath(dir);
  if (!allowedUids.includes(parent.uid)) return `its directory ${dir} is owned by uid ${parent.uid}, not by ${owners(allowedUids)}`;
  if (othersMayWrite(parent) && (parent.mode & STICKY) === 0) {
    return `its directory ${dir} is writable by other users and not sticky (mode ${mode(parent)})`;
  }
  return null;
}

/** Errors that mean an optional file is not there for this user: absent, or in a place it may not enter. */
const NOT_THERE = new Set(['ENOENT', 'ENOTDIR', 'EACCES']);

/**
 * The file's text, or null when `optional` and it does not exist or this user may not read it (root's
 * private /etc/daemonize.conf, a HOME inherited from another user under setpriv or sudo). `what` names it in messages
 * ('profile', 'env file'); `allowedUids` are the owners root accepts (other users accept any owner).
 */
export function readTrustedText(path: string, what: string, allowedUids: readonly number[], optional = false): string | null {
  // Asked first without an exception: every command looks for profile files that are mostly not there,
  // and each thrown ENOENT costs more than the system call.
  if (optional && !pathExists(path)) return null;
  let fd: number;
  try {
    fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (error) {
    if (optional && NOT_THERE.has((error as NodeJS.ErrnoException).code ?? '')) return null;
    throw unable(`read ${what} ${path}`, error);
  }
  try {
    const stat = fs.fstatSync(fd);
    const root = (process.geteuid?.() ?? 0) === 0;
    const reason = root ? untrustedReason(stat, dirname(path), allowedUids) : stat.isFile() ? null : 'it is not a regular file';
    if (reason !== null) throw new DaemonizeError(`unable to read ${what} ${path}: ${reason}`, ExitCode.FAILURE, UNTRUSTED);
    if (stat.size > MAX_BYTES) throw new DaemonizeError(`unable to read ${what} ${path}: larger than ${MAX_BYTES} bytes`);
    const buffer = Buffer.alloc(stat.size);
    let length = 0;
    while (length < buffer.length) {
      const n = fs.readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
    }
    return buffer.subarray(0, length).toString('utf8');
  } catch (error) {
    throw error instanceof DaemonizeError ? error : unable(`read ${what} ${path}`, error);
  } finally {
    fs.closeSync(fd);
  }
}
