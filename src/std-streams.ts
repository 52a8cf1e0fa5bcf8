// The CLI's lines to its stdout and stderr, written straight to the descriptor. process.stdout's first
// use loads Node's stream machinery (a few ms of a verb's start-up), and on a pipe or a terminal it sets
// O_NONBLOCK on an open file the caller shares, which only Node's own exit sets back. Only a descriptor
// that is non-blocking already and full (EAGAIN) makes us go through the stream for the rest; then
// usedNodeStreams() tells exitProcess (src/native.ts) to leave through Node's exit.
import { writeSync } from 'node:fs';

let streamed = false;

/** Writes all of `text` to fd 1 or 2; throws what the write throws (EPIPE...), but for EAGAIN. */
export function writeTo(fd: 1 | 2, text: string): void {
  const bytes = Buffer.from(text);
  let done = 0;
  try {
    while (done < bytes.length) done += writeSync(fd, bytes, done);
    return;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
  }
  streamed = true;
  (fd === 1 ? process.stdout : process.stderr).write(bytes.subarray(done));
}

/** Whether Node's stream for stdout or stderr was made (see above). */
export const usedNodeStreams = (): boolean => streamed;
