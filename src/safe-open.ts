// The one way to open a file the operator named: the pidfile, the program's log files, the supervisor's
// event log and status file. A root daemonize writes these in directories a service user may control
// (its log directory, /tmp), so a name there must not steer root's write elsewhere:
// - never through a symbolic link (O_NOFOLLOW), never a FIFO, socket or device: a regular file only;
// - as root, only a file owned by root or by the --user the daemon runs as, and never a root-owned file
//   with a second hard link (a link the user made to a file it could not otherwise write);
// - a file it creates is created with O_EXCL, so a name planted between the check and the open fails.
import * as fs from 'node:fs';
import { basename, dirname } from 'node:path';

import { DaemonizeError, unable } from './errors';
import { ExitCode } from './exit-codes';
import { closeFile, openFile } from './file-calls';
import { statFd, statPath, type FileStatus } from './file-status';

const { O_RDONLY, O_WRONLY, O_APPEND, O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK, O_DIRECTORY } = fs.constants;

/** The sticky bit (S_ISVTX): in such a directory only a file's owner may remove or rename it. */
const STICKY = 0o1000;

/** DaemonizeError.code of a refusal: the file is there, but it is not one root may write. */
export const UNTRUSTED = 'EUNTRUSTED';

/** Times the "create, else open the existing one" step is retried when the file vanishes in between. */
const MAX_ATTEMPTS = 10;

export interface FileOwner {
  uid: number;
  gid: number;
}

export interface SafeOpenOptions {
  /** 'read' for a descriptor that only holds a lock, 'write' to rewrite, 'append' for logs. */
  access: 'read' | 'write' | 'append';
  /** 'never': it must exist; 'missing': created when absent; 'exclusive': it must not exist yet. */
  create: 'never' | 'missing' | 'exclusive';
  /** Mode of a file created here (before the umask). */
  mode?: number;
  /** The --user the daemon runs as: root also accepts files it owns. */
  user?: FileOwner;
  /** Give a created file to `user` (so a daemon can reopen its own log after a rotation). */
  giveToUser?: boolean;
  /** The file must be this very one (device and inode): a second descriptor on a file already held. */
  sameAs?: Pick<FileStatus, 'dev' | 'ino'>;
  /** What the file is, for messages ('pidfile'); empty: the path says enough (a log file). */
  what: string;
}

export interface SafeFile {
  fd: number;
  /** True when this call created the file (the caller removes it if the launch fails). */
  created: boolean;
}

function isRoot(): boolean {
  return (process.geteuid?.() ?? 0) === 0;
}

/** "pidfile /run/x.pid", or just the path when `what` is empty. */
function named(what: string, path: string): string {
  return what === '' ? path : `${what} ${path}`;
}

/** A refusal, in the shape of every message: "unable to open pidfile /run/x.pid: it is a symbolic link". */
export function refuse(what: string, path: string, why: string): DaemonizeError {
  return new DaemonizeError(`unable to open ${named(what, path)}: ${why}`, ExitCode.FAILURE, UNTRUSTED);
}

/** Why root must not write this existing file, or null when it may. `stat` is an fstat or lstat of it. */
export function untrustedReason(stat: FileStatus, user?: FileOwner): string | null {
  if (stat.isSymbolicLink()) return 'it is a symbolic link';
  if (!stat.isFile()) return 'it is not a regular file';
  if (!isRoot()) return null;
  if (stat.uid !== 0 && stat.uid !== user?.uid) {
    return `it is owned by uid ${stat.uid}, not by root${user ? ` or the daemon's user (uid ${user.uid})` : ''}`;
  }
  if (stat.uid === 0 && stat.nlink > 1) return `it is owned by root and has ${stat.nlink} hard links`;
  return null;
}

/**
 * Why root must not keep a pidfile (or a file beside it) in `dir`, or null when it may: the directory must
 * belong to root and be writable by nobody else, unless it is sticky like /tmp (others cannot then remove
 * or rename root's files). Only root's daemonize asks; another user can only hurt what it already owns.
 */
export function untrustedDirectoryReason(dir: string): string | null {
  if (!isRoot()) return null;
  const stat = statPath(dir);
  if (stat.uid !== 0) return `its directory ${dir} is owned by uid ${stat.uid}, not by root`;
  const othersWrite = (stat.mode & 0o002) !== 0 || ((stat.mode & 0o020) !== 0 && stat.gid !== 0);
  if (othersWrite && (stat.mode & STICKY) === 0) {
    return `its directory ${dir} is writable by other users and not sticky (mode ${(stat.mode & 0o7777).toString(8).padStart(4, '0')})`;
  }
  return null;
}

/** Throws a refusal when root must not use `path`'s directory for files it names after the pidfile. */
export function checkDirectoryTrust(path: string, what: string): void {
  let reason: string | null;
  try {
    reason = untrustedDirectoryReason(dirname(path));
  } catch (error) {
    // A missing directory is for the open to report, in its own words.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw unable(`use ${named(what, path)}`, error);
  }
  if (reason !== null) throw new DaemonizeError(`unable to use ${named(what, path)}: ${reason}`, ExitCode.FAILURE, UNTRUSTED);
}

function accessFlags(access: SafeOpenOptions['access']): number {
  if (access === 'read') return O_RDONLY;
  if (access === 'write') return O_WRONLY;
  return O_WRONLY | O_APPEND;
}

/** Opens an existing file without following a link, then checks what it opened (not the name, which may change). */
function openExisting(name: string, path: string, options: SafeOpenOptions): number {
  // O_NONBLOCK: a FIFO planted at the name must not hang the open; regular files ignore the flag.
  const fd = openFile(name, accessFlags(options.access) | O_NOFOLLOW | O_NONBLOCK);
  try {
    const stat = statFd(fd);
    const reason = untrustedReason(stat, options.user);
    if (reason !== null) throw refuse(options.what, path, reason);
    if (options.sameAs && (stat.dev !== options.sameAs.dev || stat.ino !== options.sameAs.ino)) {
      throw refuse(options.what, path, 'it was replaced by another file');
    }
    return fd;
  } catch (error) {
    closeFile(fd);
    throw error;
  }
}

function createNew(name: string, options: SafeOpenOptions): number {
  const fd = openFile(name, accessFlags(options.access) | O_CREAT | O_EXCL | O_NOFOLLOW | O_NONBLOCK, options.mode ?? 0o600);
  try {
    if (options.giveToUser && options.user && isRoot()) fs.fchownSync(fd, options.user.uid, options.user.gid);
    return fd;
  } catch (error) {
    closeFile(fd);
    fs.rmSync(name, { force: true });
    throw error;
  }
}

/** Says what went wrong in the shape every message has, naming a planted link as such. */
function explain(name: string, path: string, options: SafeOpenOptions, error: unknown): DaemonizeError {
  if (error instanceof DaemonizeError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  // ELOOP: a link (O_NOFOLLOW); EEXIST: a link or anything else where a new file was due; ENXIO: a FIFO
  // with no reader (O_NONBLOCK). Say what is there rather than what the open stumbled on.
  if (code === 'ELOOP' || code === 'EEXIST' || code === 'ENXIO') {
    try {
      const stat = statPath(name, false);
      if (stat.isSymbolicLink()) return refuse(options.what, path, 'it is a symbolic link');
      if (!stat.isFile()) return refuse(options.what, path, 'it is not a regular file');
    } catch {
      // Gone again: report the original error.
    }
  }
  return unable(`open ${named(options.what, path)}`, error);
}

/** Opens `path` as `options` say, or throws a DaemonizeError (code UNTRUSTED for a refusal). */
export function openOperatorFile(path: string, options: SafeOpenOptions): SafeFile {
  return inPinnedDirectory(path, options.what, (name) => {
    try {
      if (options.create === 'exclusive') return { fd: createNew(name, options), created: true };
      if (options.create === 'never') return { fd: openExisting(name, path, options), created: false };
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        try {
          return { fd: createNew(name, options), created: true };
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        }
        try {
          return { fd: openExisting(name, path, options), created: false };
        } catch (error) {
          // Removed between the two opens (a rotation): try creating it again.
          if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        }
      }
      throw new DaemonizeError(`unable to open ${named(options.what, path)}: it keeps being replaced`);
    } catch (error) {
      throw explain(name, path, options, error);
    }
  });
}

/** The directories a long-lived root process (the supervisor) opens files in, as they were when it started. */
const pinned = new Map<string, { dev: number; ino: number }>();

/**
 * Remembers the directories of `paths` as they are now (device and inode). Every later open of a file in
 * one of them, through this module, happens in that very directory, or is refused: a service user who owns
 * a directory *above* its log directory (its home) could otherwise swap the log directory for a link to
 * any other, and have root write there. The supervisor pins its files' directories before its first child.
 */
export function pinDirectories(paths: readonly (string | undefined)[]): void {
  for (const path of paths) {
    if (path === undefined) continue;
    try {
      const stat = statPath(dirname(path));
      pinned.set(dirname(path), { dev: stat.dev, ino: stat.ino });
    } catch {
      // Missing: the open says so in its own words when it comes.
    }
  }
}

/**
 * Runs `use` with a name for `path` that resolves inside its pinned directory (through the directory's own
 * descriptor, /proc/self/fd/N/NAME, like openat), or with `path` itself when its directory is not pinned.
 */
export function inPinnedDirectory<T>(path: string, what: string, use: (name: string) => T): T {
  const pin = pinned.get(dirname(path));
  if (pin === undefined) return use(path);
  let dirFd: number;
  try {
    dirFd = openFile(dirname(path), O_RDONLY | O_DIRECTORY);
  } catch (error) {
    throw unable(`open ${named(what, path)}`, error);
  }
  try {
    const stat = statFd(dirFd);
    if (stat.dev !== pin.dev || stat.ino !== pin.ino) {
      throw refuse(what, path, `its directory ${dirname(path)} is no longer the one it was when the supervisor started`);
    }
    return use(`/proc/self/fd/${dirFd}/${basename(path)}`);
  } finally {
    closeFile(dirFd);
  }
}

/** Removes a leftover at `path` without following it (unlink removes a link, not its target). */
export function removeLeftover(path: string): void {
  inPinnedDirectory(path, '', (name) => {
    try {
      fs.unlinkSync(name);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  });
}

/** Renames `from` to `to`, both in one directory (a status file's .new over the old one), within its pin. */
export function renameInDirectory(from: string, to: string): void {
  inPinnedDirectory(from, '', (name) => fs.renameSync(name, `${dirname(name)}/${basename(to)}`));
}
