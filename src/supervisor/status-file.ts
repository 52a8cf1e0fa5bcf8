// The supervisor's status file, beside the pidfile: web.pid -> web.status. JSON, written to a
// temporary name and renamed, so a reader never sees half of it. The supervisor owns its shape; the
// control verbs read it, and treat a missing or unreadable record as "status unknown".
// Its directory is the pidfile's, which a root start has checked no other user can write (or is sticky,
// like /tmp, where another user can still plant a name but not remove or rename root's files).
import { closeSync, writeSync } from 'node:fs';

import { DaemonizeError, describe } from '../errors';
import { readText } from '../file-calls';
import type { LastExit } from './forensics';
import { besidePidfile } from '../pidfile-location';
import { openOperatorFile, removeLeftover, renameInDirectory } from '../safe-open';

export interface StatusRecord {
  /** The supervisor's pid (the one in the pidfile). */
  supervisor: number;
  /**
   * starting: a child is being started; running: `child` is alive; draining: the last child is going or
   * gone and the supervisor waits for everything it left before going on (`child` is the old one while it
   * lives); paused: a crash loop's pause, nothing runs; stopping: TERM or INT, everything is being stopped.
   */
  state: 'starting' | 'running' | 'draining' | 'paused' | 'stopping';
  /** The program the supervisor considers the service (its direct child, or a process that forked away), or null. */
  child: number | null;
  /** True when `child` is not the process the supervisor started but the one that program forked away as. */
  followed: boolean;
  /** When the supervisor and the current child started, in ms since the epoch. */
  started: number;
  childStarted: number | null;
  /** Starts after the first one. */
  restarts: number;
  /** Failures in a row (a run shorter than --acceptable, or a start that failed). */
  failures: number;
  /** While paused: when the next attempt is due, in ms since the epoch. */
  pausedUntil: number | null;
  /** Seconds from SIGTERM to SIGKILL. */
  stopTimeout: number;
  /** The supervisor's event log, or null when it logs to its own stderr. */
  log: string | null;
  /** How the last child ended (why it died), or null before any has. */
  lastExit: LastExit | null;
  /** The program and its arguments, as started. */
  command: string[];
  /** The program's --stdout and --stderr files (one path for --output), or null for /dev/null or the supervisor's own. */
  stdout: string | null;
  stderr: string | null;
  /** Seconds a new child has to be ready (--ready-timeout; 0 with --ready exec). */
  readyTimeout?: number;
  /** Overlapping restarts (--listen) begun; the last that failed, with why (the old child kept serving). */
  overlaps?: number;
  overlapFailure?: { attempt: number; message: string; stderrTail: readonly string[] } | null;
  /** How long the last restart without held sockets left no child serving, in seconds. */
  lastDowntime?: number | null;
  /** With --on-exit: seconds a stop may spend on hooks once the program is gone (a stop's wait adds them). */
  hookTimeout?: number | null;
}

export function statusFileFor(pidfile: string): string {
  return besidePidfile(pidfile, '.status');
}

/**
 * Writes the record to NAME.status.new, created afresh (O_EXCL, no link followed: a leftover, or a link
 * another user planted, is removed first), then renames it over NAME.status. When that fails (a full disk,
 * a name planted again in between) the old record is removed too, rather than left to tell a lie; the
 * error is thrown for the caller to log.
 */
export function writeStatus(path: string, record: StatusRecord): void {
  const temporary = `${path}.new`;
  try {
    removeLeftover(temporary);
    const { fd } = openOperatorFile(temporary, { access: 'write', create: 'exclusive', mode: 0o644, what: 'status file' });
    try {
      const text = `${JSON.stringify(record)}\n`;
      if (writeSync(fd, text) !== Buffer.byteLength(text)) throw new Error('short write');
    } finally {
      closeSync(fd);
    }
    renameInDirectory(temporary, path);
  } catch (error) {
    removeQuietly(temporary);
    removeQuietly(path);
    // "No space left on device", in the words of every other message (a refusal already has them).
    throw error instanceof DaemonizeError ? error : new Error(describe(error));
  }
}

function removeQuietly(path: string): void {
  try {
    removeLeftover(path);
  } catch {
    // Its directory is no longer ours to write: nothing more to do.
  }
}

/**
 * Larger than any record a supervisor writes: its command's argv is in it, which the kernel lets reach
 * several MB (a quarter of the stack limit), and JSON may escape each byte into six.
 */
const MAX_RECORD_BYTES = 64 * 1024 * 1024;

export function readStatus(path: string): StatusRecord | null {
  try {
    return JSON.parse(readText(path, MAX_RECORD_BYTES)) as StatusRecord;
  } catch {
    return null;
  }
}

export function removeStatus(path: string): void {
  removeQuietly(path);
}
