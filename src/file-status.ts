// stat(2) and lstat(2) of a path through the addon (native/file-status.cc), for the questions every command
// asks before it does anything: is the pidfile's directory root's, is the pidfile a link, is there a
// profile. The first call of each of Node's fs functions in a process costs a few tenths of a millisecond
// of JavaScript (statSync alone about 0.4 ms here); the addon's costs a system call.
import { constants, type Stats } from 'node:fs';

import { native, type RawFileStatus } from './native';

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

/**
 * What is at `path`: stat(2) of it, or with `follow` false lstat(2) (a link itself). A failure (ENOENT
 * too) throws a system error (code, errno, syscall), as statSync does.
 */
export function statPath(path: string, follow = true): FileStatus {
  return new PathStatus(native.fileStatus(path, follow, false) as RawFileStatus);
}

/** As statPath, but undefined when nothing is at `path` (as statSync with throwIfNoEntry: false). */
export function statPathIfAny(path: string, follow = true): FileStatus | undefined {
  const raw = native.fileStatus(path, follow, true);
  return raw === null ? undefined : new PathStatus(raw);
}

/** Whether anything is at `path`, following links: false on any failure, as existsSync answers. */
export function pathExists(path: string): boolean {
  try {
    return native.fileStatus(path, true, true) !== null;
  } catch {
    return false;
  }
}
