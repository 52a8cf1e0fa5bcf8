// stat(2) and lstat(2) of a path through the addon (native/file-status.cc), for the questions every command
// asks before it does anything: is the pidfile's directory root's, is the pidfile a link, is there a
// profile. The first call of each of Node's fs functions in a process costs a few tenths of a millisecond
// of JavaScript (statSync alone about 0.4 ms here); the addon's costs a system call.
// A path is what Node's fs would take: a string is encoded as Node encodes it, so the file stat'ed is the
// one Node's open of the same string opens next; a Buffer (fsPath) names exact bytes.
// Where the addon cannot load, or predates fileStatus (a working tree built before it), Node's fs answers:
// a --systemd-unit or a PATH search never needed the addon, and must not fail for want of it.
import { constants, fstatSync, lstatSync, statSync, type Stats } from 'node:fs';

import { addonFunction, isSystemError, type RawFileStatus } from './native';

const { S_IFMT, S_IFREG, S_IFDIR, S_IFLNK } = constants;

/** The part of fs.Stats this code reads: fs.Stats (from an fstat) is one too. */
export type FileStatus = Pick<Stats, 'dev' | 'ino' | 'mode' | 'nlink' | 'uid' | 'gid' | 'size' | 'mtimeMs' | 'isFile' | 'isDirectory'
  | 'isSymbolicLink'>;

class PathStatus implements FileStatus {
  readonly dev: number;
  readonly ino: number;
  readonly mode: number;
  readonly nlink: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  readonly mtimeMs: number;

  constructor(raw: RawFileStatus) {
    this.dev = raw.dev;
    this.ino = raw.ino;
    this.mode = raw.mode;
    this.nlink = raw.nlink;
    this.uid = raw.uid;
    this.gid = raw.gid;
    this.size = raw.size;
    this.mtimeMs = raw.mtimeMs;
  }

  isFile(): boolean {
    return (this.mode & S_IFMT) === S_IFREG;
  }

  isDirectory(): boolean {
    return (this.mode & S_IFMT) === S_IFDIR;
  }

  isSymbolicLink(): boolean {
    return (this.mode & S_IFMT) === S_IFLNK;
  }
}

function fileStatus(path: string | Buffer, follow: boolean, nullIfMissing: boolean): FileStatus | undefined {
  const addonStat = addonFunction('fileStatus');
  if (addonStat === null) {
    const options = { throwIfNoEntry: !nullIfMissing };
    return (follow ? statSync(path, options) : lstatSync(path, options)) ?? undefined;
  }
  const raw = addonStat(path, follow, nullIfMissing);
  return raw === null ? undefined : new PathStatus(raw);
}

/**
 * What is at `path`: stat(2) of it, or with `follow` false lstat(2) (a link itself). A failure (ENOENT
 * too) throws a system error (code, errno, syscall), as statSync does.
 */
export function statPath(path: string | Buffer, follow = true): FileStatus {
  return fileStatus(path, follow, false) as FileStatus;
}

/** As statPath, but undefined when nothing is at `path` (as statSync with throwIfNoEntry: false). */
export function statPathIfAny(path: string | Buffer, follow = true): FileStatus | undefined {
  return fileStatus(path, follow, true);
}

/** fstat(2) of a descriptor, as fstatSync gives it. */
export function statFd(fd: number): FileStatus {
  const addonFdStat = addonFunction('fdStatus');
  return addonFdStat === null ? fstatSync(fd) : new PathStatus(addonFdStat(fd));
}

/** Whether anything is at `path`, following links: false where a system call fails, as existsSync answers. */
export function pathExists(path: string | Buffer): boolean {
  try {
    return fileStatus(path, true, true) !== undefined;
  } catch (error) {
    if (isSystemError(error)) return false;
    throw error;
  }
}
