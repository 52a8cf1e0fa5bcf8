// The supervisor's event log: one timestamped line per event, to a file (reopened on SIGHUP, so
// logrotate can move it) or to the supervisor's own stderr.
import { closeSync, constants, openSync, writeSync } from 'node:fs';

const { O_WRONLY, O_APPEND, O_CREAT } = constants;

export class EventLog {
  private fd: number;

  /** `path` undefined: write to stderr. */
  constructor(private readonly path: string | undefined) {
    this.fd = path === undefined ? 2 : openSync(path, O_WRONLY | O_APPEND | O_CREAT, 0o640);
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
    const fd = openSync(this.path, O_WRONLY | O_APPEND | O_CREAT, 0o640);
    closeSync(this.fd);
    this.fd = fd;
    return fd;
  }
}
