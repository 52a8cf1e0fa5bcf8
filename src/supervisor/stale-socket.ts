// A Unix --listen path left behind by a supervisor that was SIGKILLed (its close() never ran to unlink it)
// makes the next bind fail with EADDRINUSE. Such a leftover is removed, but only when it certainly is one:
// a socket (lstat: a link is never followed), that nobody listens on (a connect is refused), owned by root
// or the daemon's user, in a directory root may trust (safe-open's rule for the files the operator names:
// there another user cannot swap the name between the look and the unlink). Anything else at the path is
// refused and left where it is.
import { lstatSync, unlinkSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';

import { DaemonizeError, describe } from '../errors';
import { ExitCode } from '../exit-codes';
import { native } from '../native';
import { untrustedDirectoryReason } from '../safe-open';

function refuse(path: string, why: string, code = 'EUNTRUSTED'): DaemonizeError {
  return new DaemonizeError(`unable to listen on ${path}: ${why}; it is left in place`, ExitCode.FAILURE, code);
}

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new DaemonizeError(`unable to listen on ${path}: ${describe(error)}`, ExitCode.FAILURE, (error as NodeJS.ErrnoException).code);
  }
}

/** Why root must not unlink this socket file, or null (only root asks: another user can hurt only its own). */
function untrustedSocketReason(path: string, stat: Stats, user: { uid: number } | undefined): string | null {
  const dirReason = untrustedDirectoryReason(dirname(path));
  if (dirReason !== null) return dirReason;
  if ((process.geteuid?.() ?? 0) !== 0 || stat.uid === 0 || stat.uid === user?.uid) return null;
  return `it is owned by uid ${stat.uid}, not by root${user ? ` or the daemon's user (uid ${user.uid})` : ''}`;
}

/**
 * Makes room to bind a Unix socket at `path`: nothing there, or a dead socket, which is removed. Throws
 * (exit 1) for a live socket, a link, any other file, or one root must not touch; those stay in place.
 */
export function clearStaleSocket(path: string, user?: { uid: number }): void {
  const stat = lstatOrNull(path);
  if (stat === null) return;
  if (stat.isSymbolicLink()) throw refuse(path, 'it is a symbolic link');
  if (!stat.isSocket()) throw refuse(path, `it is ${stat.isFile() ? 'a regular file' : 'not a socket'}`);
  const untrusted = untrustedSocketReason(path, stat, user);
  if (untrusted !== null) throw refuse(path, untrusted);
  try {
    native.connectUnix(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ECONNREFUSED') {
      // EAGAIN: a live server whose backlog is full; anything else: not known to be dead.
      throw refuse(path, code === 'EAGAIN' ? 'a process is listening on it' : `connecting to it failed: ${describe(error)}`,
        code === 'EAGAIN' ? 'EADDRINUSE' : code);
    }
    // Refused: nobody listens. Removed only if it is still the very socket looked at.
    const now = lstatOrNull(path);
    if (now === null) return;
    if (now.dev !== stat.dev || now.ino !== stat.ino) throw refuse(path, 'it was replaced while it was checked');
    try {
      unlinkSync(path);
    } catch (failure) {
      throw new DaemonizeError(`unable to remove the stale socket ${path}: ${describe(failure)}`, ExitCode.FAILURE, (failure as NodeJS.ErrnoException).code);
    }
    return;
  }
  throw refuse(path, 'a process is listening on it', 'EADDRINUSE');
}
