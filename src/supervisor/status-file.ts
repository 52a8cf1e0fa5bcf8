// The supervisor's status record, beside the pidfile: web.pid -> web.status. JSON, written to a
// temporary name and renamed, so a reader never sees half of it. The supervisor owns its shape; the
// control verbs read it, and treat a missing or unreadable record as "status unknown".
import { renameSync, rmSync, writeFileSync, readFileSync } from 'node:fs';

import { besidePidfile } from '../pidfile-location';

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
}

export function statusFileFor(pidfile: string): string {
  return besidePidfile(pidfile, '.status');
}

/** Writes the record whole or not at all (a full disk leaves no half-written temporary behind). */
export function writeStatus(path: string, record: StatusRecord): void {
  const temporary = `${path}.new`;
  try {
    writeFileSync(temporary, `${JSON.stringify(record)}\n`, { mode: 0o644 });
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

export function readStatus(path: string): StatusRecord | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as StatusRecord;
  } catch {
    return null;
  }
}

export function removeStatus(path: string): void {
  rmSync(path, { force: true });
}
