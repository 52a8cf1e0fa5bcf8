// Every supervised child gets a NOTIFY_SOCKET of its own: a Unix datagram socket in the abstract
// namespace under a random name, so there is no file to plant a link at, to clean up after a SIGKILL, or
// to make reachable for a child running as another user. Anyone may send to it; a message counts only when
// the kernel's credentials say it came from the service's own process tree.
import { randomBytes } from 'node:crypto';
import { closeSync } from 'node:fs';

import { native } from '../native';

/** The variables of one sd_notify(3) message ("READY=1\nSTATUS=serving"), last one wins. */
export function parseNotify(message: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of message.split('\n')) {
    const at = line.indexOf('=');
    if (at > 0) fields[line.slice(0, at)] = line.slice(at + 1);
  }
  return fields;
}

export class NotifyChannel {
  readonly address: string;
  private readonly fd: number;
  private watch: number | null = null;

  constructor() {
    let fd = -1;
    let address = '';
    // A taken name (EADDRINUSE) is a collision of 128 random bits, or someone squatting: draw again.
    for (let attempt = 0; fd < 0; attempt++) {
      address = `@daemonize/${process.pid}/${randomBytes(16).toString('hex')}`;
      try {
        fd = native.notifySocket(address);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 3) throw error;
      }
    }
    this.fd = fd;
    this.address = address;
  }

  /**
   * Delivers each message whose sender `accept` takes (the service's tree) to `deliver`, as it arrives,
   * until close(). Node cannot watch a datagram socket, so the addon does (watchReadable): no wake-ups
   * while nothing is sent, and no wait for the next look when something is.
   */
  listen(accept: (pid: number) => boolean, deliver: (pid: number, fields: Record<string, string>) => void,
    ignored: (pid: number, message: string) => void): void {
    const read = (): void => {
      // Until close(), which a delivery may lead to: the descriptor is not read after it is closed.
      for (let m = native.receiveNotify(this.fd); m !== null; m = this.watch === null ? null : native.receiveNotify(this.fd)) {
        if (m.truncated || !accept(m.pid)) ignored(m.pid, m.message);
        else deliver(m.pid, parseNotify(m.message));
      }
    };
    this.watch = native.watchReadable(this.fd, read);
  }

  close(): void {
    if (this.watch !== null) native.unwatch(this.watch);
    this.watch = null;
    try {
      closeSync(this.fd);
    } catch {
      // already closed
    }
  }
}
