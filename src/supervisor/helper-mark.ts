// The mark on what the supervisor starts besides the program: a health check and an --on-exit hook carry
// DAEMONIZE_HELPER in their environment, and so does whatever they start. A process a check or a hook left
// behind in a session of its own (setsid) comes back to the supervisor (a subreaper) like one the program
// forked away; the mark is how the supervisor never takes it for the program's heir. The program itself
// never carries it (run.ts removes it from its environment).
import { readFileSync } from 'node:fs';

export const HELPER_VARIABLE = 'DAEMONIZE_HELPER';

export type HelperKind = 'health-check' | 'on-exit';

/** The environment entry for a helper of `kind`. */
export function helperEntry(kind: HelperKind): string {
  return `${HELPER_VARIABLE}=${kind}`;
}

/**
 * True when `pid` was started with the mark (its environment as it was at exec). Under a pid namespace
 * whose /proc counts as the host does, the number may not be ours: then this answers false, as for any
 * process it cannot read.
 */
export function startedByHelper(pid: number): boolean {
  let environ: Buffer;
  try {
    environ = readFileSync(`/proc/${pid}/environ`);
  } catch {
    return false;
  }
  const entry = Buffer.from(`${HELPER_VARIABLE}=`);
  for (let at = environ.indexOf(entry); at >= 0; at = environ.indexOf(entry, at + 1)) {
    if (at === 0 || environ[at - 1] === 0) return true;
  }
  return false;
}
