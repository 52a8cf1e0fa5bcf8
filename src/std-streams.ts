// The CLI's lines to its stdout and stderr, written straight to the descriptor (src/file-calls.ts writeOut,
// which waits while a pipe the caller made non-blocking is full), and its end. process.stdout's first use
// loads Node's stream machinery (a few ms of a verb's start-up), and on a pipe or a terminal it sets
// O_NONBLOCK on an open file the caller shares, which only Node's own exit sets back; and what a stream
// still holds at an _exit(2) is lost. So no line of the CLI goes through Node's streams, commander's help
// and errors included (src/cli.ts configureOutput).
import { unable } from './errors';
import { writeOut } from './file-calls';
import { addonFunction, loadedAddon } from './native';

/**
 * Writes all of `text` to fd 1 or 2. When the reader of stdout has gone (EPIPE: `daemonize --logs | head`)
 * the CLI ends as a C tool ends there, by SIGPIPE and without a word. Any other failure on stdout (ENOSPC)
 * is an error in the one shape; on stderr there is nowhere left to say anything, and the exit status tells.
 */
export function writeTo(fd: 1 | 2, text: string): void {
  try {
    writeOut(fd, text);
  } catch (error) {
    if (fd === 2) return;
    if ((error as NodeJS.ErrnoException).code === 'EPIPE') addonFunction('dieOfBrokenPipe')?.();
    throw unable('write to the standard output', error);
  }
}

/**
 * Ends the CLI. With _exit(2) when the addon is loaded anyway (a start, a verb): every line went straight
 * to its descriptor, nothing is left to flush, and Node's teardown costs a millisecond or more. Else with
 * process.exit: not to load the addon for this alone (--help, a usage error run from dist/cli.js).
 */
export function exitProcess(code: number): never {
  loadedAddon()?.exitNow(code);
  process.exit(code);
}
