// kill(2) for the verbs: "already gone" (ESRCH) is an answer, "not allowed" (EPERM) is an error that says
// whose process it is, at once; neither ever reaches the user as a stack.
import { DaemonizeError } from '../errors';
import { ExitCode } from '../exit-codes';
import { native } from '../native';
import { ownerOf } from '../process-table';

function ownerName(pid: number): string | null {
  const uid = ownerOf(pid);
  if (uid === null) return null;
  return native.getUser(uid)?.name ?? `uid ${uid}`;
}

/** "unable to stop web: permission denied (pid 812 belongs to root)" */
export function permissionDenied(what: string, pid: number | null): DaemonizeError {
  const owner = pid !== null ? ownerName(pid) : null;
  const whose = pid === null ? 'its pidfile is locked by another user\'s process'
    : owner !== null ? `pid ${pid} belongs to ${owner}` : `pid ${pid}`;
  return new DaemonizeError(`unable to ${what}: permission denied (${whose})`, ExitCode.FAILURE, 'EPERM');
}

/** Sends `signal`; false when the process is already gone; throws a DaemonizeError on EPERM. */
export function send(pid: number, signal: NodeJS.Signals, what: string): boolean {
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`refusing to signal pid ${pid}`);
  try {
    process.kill(pid, signal);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ESRCH') return false;
    if (code === 'EPERM') throw permissionDenied(what, pid);
    throw new DaemonizeError(`unable to ${what}: ${(error as Error).message}`, ExitCode.FAILURE, code);
  }
}
