// The readiness pipe's protocol: the daemon writes exactly one JSON line and closes its end. EOF with no
// line means the daemon died (a signal, or something closed the pipe) before it could say anything.
import { writeSync } from 'node:fs';

export type ReadyReport =
  | { ok: true }
  /** The daemon failed before it was ready; the launcher prints `message` and exits with `exitCode`. */
  | { ok: false; exitCode: number; message: string };

/**
 * Writes the report; false when nobody reads it any more (the launcher is gone). Leaves the descriptor open: after a failure it closes as the daemon exits, so the
 * launcher's EOF tells it the daemon is gone and its pidfile lock released; after `ok`, the daemon closes
 * it once its stderr is the file, and the launcher waits for that before it exits.
 */
export function sendReport(fd: number, report: ReadyReport): boolean {
  try {
    writeSync(fd, `${JSON.stringify(report)}\n`);
    return true;
  } catch {
    // EPIPE: the launcher is gone (interrupted, or killed); there is nobody left to tell.
    return false;
  }
}

/** The report in one line of text, or null when it is not one. */
export function parseReport(line: string): ReadyReport | null {
  try {
    const report = JSON.parse(line) as ReadyReport;
    if (report.ok === true) return report;
    if (report.ok === false && typeof report.exitCode === 'number' && typeof report.message === 'string') return report;
  } catch {
    // fall through
  }
  return null;
}
