// The supervisor's event log: one timestamped line per event, to a file (reopened on SIGHUP, so
// logrotate can move it) or to the supervisor's own stderr.
import { closeSync, writeSync } from 'node:fs';

import { openForAppend } from '../stdio';

export class EventLog {
  private fd: number;

  /** `path` undefined: write to stderr. */
  constructor(private readonly path: string | undefined) {
    this.fd = path === undefined ? 2 : openForAppend(path);
  }

  write(message: string): void {
    const line = `${new Date().toISOString()} daemonize[${process.pid}]: ${message}\n`;
    try {
      writeSync(this.fd, line);
    } catch {
      // A full disk must not take the supervisor down with it.
    }
  }

  /** Opens the file again by name; returns the new descriptor (for putting on stdout/stderr too). */
  reopen(): number | undefined {
    if (this.path === undefined) return undefined;
    const fd = openForAppend(this.path);
    closeSync(this.fd);
    this.fd = fd;
    return fd;
  }
}
