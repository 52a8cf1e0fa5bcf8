// The supervisor's event log: one timestamped line per event, to a file (reopened on SIGHUP, so
// logrotate can move it) or to the supervisor's own stderr. A root supervisor opens it through the
// safe open: the service user may own its directory and plant a link at its name before a HUP.
import { closeSync, writeSync } from 'node:fs';

import { openForAppend } from '../stdio';
import type { TargetUser } from '../user';

export class EventLog {
  private fd: number;

  /** `path` undefined: write to stderr. `user`: the --user whose files the log may also be. */
  constructor(private readonly path: string | undefined, private readonly user?: TargetUser) {
    this.fd = path === undefined ? 2 : openForAppend(path, user);
  }

  write(message: string): void {
    const line = `${new Date().toISOString()} daemonize[${process.pid}]: ${message}\n`;
    try {
      writeSync(this.fd, line);
    } catch {
      // A full disk must not take the supervisor down with it.
    }
  }

  /**
   * Opens the file again by name; returns the new descriptor (for putting on stdout/stderr too), or
   * undefined when there is no file or it cannot be opened: then the old file stays, and says why.
   */
  reopen(): number | undefined {
    if (this.path === undefined) return undefined;
    let fd: number;
    try {
      fd = openForAppend(this.path, this.user);
    } catch (error) {
      this.write(`${(error as Error).message}: still logging to the file open before SIGHUP`);
      return undefined;
    }
    closeSync(this.fd);
    this.fd = fd;
    return fd;
  }
}
