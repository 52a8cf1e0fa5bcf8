// One end of a supervised child, as the machine knows it (what the wait status said, how long it ran,
// who asked it to go, what happens next), and the one sentence the event log and --on-exit get for it.
// The world (forensics.ts) may add what only the system knows: the kernel's OOM killer.
import { describeDuration, describeExit } from './exit-description';

export interface ChildEnd {
  /** The program's name. */
  label: string;
  pid: number;
  /** Exit status, or null when a signal killed it (or it is not known). */
  code: number | null;
  /** Signal number, or null. */
  signal: number | null;
  core: boolean;
  /** False for a followed process whose exit status went to its own parent. */
  known: boolean;
  /** Seconds it ran. */
  uptime: number;
  /** Who made it end, when it was us: "stopped by SIGTERM to the supervisor (--stop)"; null: nobody here. */
  cause: string | null;
  /** The supervisor sent SIGKILL to what was left (a stop or restart past --stop-timeout). */
  killedBySupervisor: boolean;
  /** What happens next: "restarting (failure 2 of 5)", "stopping". */
  next: string;
  /** Restarts so far (starts after the first). */
  restarts: number;
  /** It ended while it was starting, never ready (the new child of an overlapping restart). */
  beforeReady?: boolean;
}

/** How it ended: "killed by signal 11 (SIGSEGV), core dumped", "exited with status 3". */
export function endHow(end: ChildEnd): string {
  return end.known ? describeExit(end.code, end.signal, end.core) : 'ended (its exit status went to its own parent)';
}

/**
 * "node (pid 4127) killed by signal 9 (SIGKILL) after 3.2 s: killed by the kernel's OOM killer (...);
 * restarting (failure 2 of 5)". `cause` overrides the machine's own (evidence the world found).
 */
export function endSentence(end: ChildEnd, cause: string | null = end.cause): string {
  const when = end.beforeReady === true ? ' before it was ready' : '';
  return `${end.label} (pid ${end.pid}) ${endHow(end)} after ${describeDuration(end.uptime)}${when}${cause !== null ? `: ${cause}` : ''}; ${end.next}`;
}
