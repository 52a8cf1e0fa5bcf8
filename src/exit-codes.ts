// The one exit-code table. README.md and `daemonize --help` print the same numbers.
export const ExitCode = {
  /** The daemon was started (its program exec'd, the pidfile written), or the verb succeeded. */
  OK: 0,
  /** A step before exec failed: pidfile, chdir, user, log file, fork. The message says which. */
  FAILURE: 1,
  /** Bad options or arguments. */
  USAGE: 2,
  /** The pidfile is locked: the daemon is already running. */
  ALREADY_RUNNING: 3,
  /** Library mode: the daemon exited, was killed or timed out before it was ready, or its early stderr could not reach its file. */
  NOT_READY: 4,
  /** The program was found but cannot be executed. */
  CANNOT_EXECUTE: 126,
  /** The program was not found. */
  NOT_FOUND: 127,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];
