// One error type and one message shape for everything that stops a launch:
//   daemonize: fatal: unable to chdir to /srv/app: No such file or directory
import { ExitCode, type ExitCodeValue } from './exit-codes';
import { native } from './native';

export class DaemonizeError extends Error {
  readonly exitCode: ExitCodeValue;
  /** The system error code behind it ('ENOENT'), when there is one. */
  readonly code?: string;

  constructor(message: string, exitCode: ExitCodeValue = ExitCode.FAILURE, code?: string) {
    super(message);
    this.name = 'DaemonizeError';
    this.exitCode = exitCode;
    this.code = code;
  }
}

/** strerror(3) text for a Node or addon error ("No such file or directory"), else its message. */
export function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // Node's system errors carry -errno (libuv's convention), the addon's carry errno: on Unix both name it.
  const errno = (error as NodeJS.ErrnoException).errno;
  return typeof errno === 'number' && errno !== 0 ? native.strerror(Math.abs(errno)) : error.message;
}

/** "unable to <what>: <strerror>", keeping the system error code for callers that branch on it. */
export function unable(what: string, cause: unknown, exitCode: ExitCodeValue = ExitCode.FAILURE): DaemonizeError {
  return new DaemonizeError(`unable to ${what}: ${describe(cause)}`, exitCode,
    (cause as NodeJS.ErrnoException | undefined)?.code);
}
