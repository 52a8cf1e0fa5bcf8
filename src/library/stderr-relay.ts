// The daemon's side of its launcher's lifetime. The launcher alone holds the write end of the "alive"
// pipe and closes it once it has copied the daemon's last early words, so EOF on the read end means the
// launcher is done with the daemon: it is exiting after the report, or it was killed.
//
// Programs a daemon starts before it is ready (cluster workers, say) inherit its descriptor 2: the pipe
// to the launcher. Once the launcher has exited they would die of EPIPE on their next error message, so
// the daemon keeps the pipe's read end and, from the moment the launcher is gone, copies what they write
// into its own stderr, its log. Neither watch keeps the daemon alive, and the copy ends when the last of
// them closes the pipe (at once, when there are none).
import { writeSync } from 'node:fs';
import type { Socket } from 'node:net';

import { native } from '../native';

/** Loads node:net on first use (milliseconds): an app ready at once reports before it needs it (daemon.ts). */
function readEnd(fd: number): Socket {
  const { Socket: SocketClass } = require('node:net') as typeof import('node:net');
  const socket = new SocketClass({ fd, readable: true, writable: false });
  socket.unref();
  socket.on('error', () => socket.destroy());
  return socket;
}

/**
 * Blocks (at most `ms`) until the launcher is done, so that what it copies of the daemon's early stderr
 * into the stderr file lands there before anything the daemon writes into that file itself.
 */
export function awaitLauncherDone(aliveFd: number, ms: number): void {
  // POLLHUP once no writer is left; an interrupted poll just ends the wait early.
  native.poll([aliveFd], ms);
}

/** Calls `then` once the launcher is done. */
export function whenLauncherGone(aliveFd: number, then: () => void): void {
  const launcher = readEnd(aliveFd);
  launcher.once('close', then);
  launcher.resume();
}

/** Copies whatever still arrives on the old stderr pipe to descriptor 2. */
export function relayStragglers(relayFd: number): void {
  readEnd(relayFd).on('data', (chunk: Buffer) => {
    try {
      writeSync(2, chunk);
    } catch {
      // stderr itself is gone: nothing sensible left to do with the bytes
    }
  });
}
