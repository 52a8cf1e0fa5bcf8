// The CLI's lines to its stdout and stderr, written straight to the descriptor (src/file-calls.ts writeOut),
// and its end. process.stdout's first use loads Node's stream machinery (a few ms of a verb's start-up),
// and on a pipe or a terminal it sets O_NONBLOCK on an open file the caller shares, which only Node's own
// exit sets back. Only a descriptor that is non-blocking already and full (EAGAIN) makes us go through the
// stream for the rest; then exitProcess leaves through Node's exit.
import { writeOut } from './file-calls';
import { loadedAddon } from './native';

let streamed = false;

/** Writes all of `text` to fd 1 or 2; throws what the write throws (EPIPE...), but for EAGAIN. */
export function writeTo(fd: 1 | 2, text: string): void {
  const left = writeOut(fd, text);
  if (left === 0) return;
  streamed = true;
  const bytes = Buffer.from(text);
  (fd === 1 ? process.stdout : process.stderr).write(bytes.subarray(bytes.length - left));
}

/**
 * Ends the CLI. With _exit(2) when the addon is loaded anyway (a start, a verb) and the CLI wrote only
 * straight to its descriptors: nothing is left to flush then, and Node's teardown costs a millisecond or
 * more. Else with process.exit: not to load the addon for this (--help, a usage error), or so that Node
 * finishes its stdout and stderr streams and sets back the descriptors' flags.
 */
export function exitProcess(code: number): never {
  const addon = loadedAddon();
  if (addon !== undefined && !streamed) addon.exitNow(code);
  process.exit(code);
}
