// Removing a pidfile nobody holds. The lock is taken for the moment of the unlink only, and only on the
// file that was found stale (same device and inode): a daemon that started since owns its own file.
import * as fs from 'node:fs';

import { pathExists } from '../file-status';
import type { FileId } from '../identity';
import { native } from '../native';

const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK } = fs.constants;

function same(a: fs.BigIntStats, b: FileId): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}

/** Unlinks `path` if it is still `expected` and still unlocked; returns whether it did. */
export function removeStalePidfile(path: string, expected: FileId): boolean {
  // Mostly gone already (a supervisor removes its own at its end): asked without a thrown ENOENT, which
  // costs more than the system call at the very end of a --stop.
  if (!pathExists(path)) return false;
  let fd: number;
  try {
    fd = fs.openSync(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch {
    return false;
  }
  try {
    if (!same(fs.fstatSync(fd, { bigint: true }), expected)) return false;
    // flock works on a read-only descriptor; held only until the close below.
    if (!native.tryLock(fd, false)) return false;
    if (!same(fs.lstatSync(path, { bigint: true }), expected)) return false;
    fs.unlinkSync(path);
    return true;
  } catch {
    // Gone already, or its directory is not ours to write: nothing we may clean.
    return false;
  } finally {
    fs.closeSync(fd);
  }
}
