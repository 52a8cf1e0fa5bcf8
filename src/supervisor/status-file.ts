// The supervisor's status file, beside the pidfile: web.pid -> web.status. JSON, written to a
// temporary name and renamed, so a reader never sees half of it. It names the child's pid.
import { renameSync, rmSync, writeFileSync, readFileSync } from 'node:fs';

import { besidePidfile } from '../pidfile-location';

export interface StatusRecord {
  /** The supervisor's pid (the one in the pidfile). */
  supervisor: number;
  /** The program's current pid, or null while paused or stopping. */
  child: number | null;
  state: string;
  /** When the supervisor and the current child started, in ms since the epoch. */
  started: number;
  childStarted: number | null;
  restarts: number;
  /** The supervisor's event log, or null when it logs to its own stderr. */
  log: string | null;
}

export function statusFileFor(pidfile: string): string {
  return besidePidfile(pidfile, '.status');
}

export function writeStatus(path: string, record: StatusRecord): void {
  const temporary = `${path}.new`;
  writeFileSync(temporary, `${JSON.stringify(record)}\n`, { mode: 0o644 });
  renameSync(temporary, path);
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
