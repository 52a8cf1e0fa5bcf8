// The supervisor's view of what it started: every live process descended from it (found by ppid in
// /proc/*/stat; /proc/PID/task/*/children does not exist on every kernel). The supervisor is a child
// subreaper, so a process that forked away or called setsid is still found here: its parent, or its
// parent's parent, is the supervisor.
import { readdirSync } from 'node:fs';

import { readEntry, type ProcessEntry } from '../process-table';

function allProcesses(): ProcessEntry[] {
  const found: ProcessEntry[] = [];
  for (const name of readdirSync('/proc')) {
    if (name.charCodeAt(0) < 48 || name.charCodeAt(0) > 57) continue;
    const entry = readEntry(Number(name));
    if (entry !== null) found.push(entry);
  }
  return found;
}

/**
 * Live descendants of `root` (not `root` itself), parents before their children, and the dead children
 * of `root` it has not reaped yet: their exit is still to be reported, so the tree is not empty before.
 * "None" is looked at twice: a process that forks and exits while /proc is being read hides its child
 * from that one reading (listed before the child existed, read after it died).
 */
export function descendantsOf(root: number): number[] {
  const found = scanDescendants(root);
  return found.length > 0 ? found : scanDescendants(root);
}

function scanDescendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of allProcesses()) {
    if (isDead(entry) && entry.ppid !== root) continue;
    const siblings = children.get(entry.ppid);
    if (siblings) siblings.push(entry.pid);
    else children.set(entry.ppid, [entry.pid]);
  }
  const found: number[] = [];
  for (let i = -1; i < found.length; i++) {
    for (const pid of children.get(i < 0 ? root : found[i]) ?? []) found.push(pid);
  }
  return found;
}

const isDead = (entry: ProcessEntry): boolean => entry.state === 'Z' || entry.state === 'X';

/**
 * Live children of `parent`, oldest first (the first a program left behind is its daemon). A child seen
 * dead may have forked and exited while /proc was read, its own child (reparented to `parent`) missing
 * from that reading: then /proc is read again, a few times at most.
 */
export function childrenOf(parent: number): number[] {
  let dead = 0;
  for (let reading = 0; ; reading++) {
    const mine = allProcesses().filter((entry) => entry.ppid === parent);
    const deadNow = mine.filter(isDead).length;
    if (deadNow <= dead || reading === 4) {
      return mine.filter((entry) => !isDead(entry))
        .sort((a, b) => a.startTicks - b.startTicks || a.pid - b.pid)
        .map((entry) => entry.pid);
    }
    dead = deadNow;
  }
}

/** Whether `pid` is alive and `root` is among its ancestors (its parent, its parent's parent...). */
export function isDescendant(pid: number, root: number): boolean {
  const first = readEntry(pid);
  if (first === null || isDead(first)) return false;
  // A cycle cannot happen, but a bound costs nothing.
  for (let entry: ProcessEntry | null = first, hops = 0; entry !== null && hops < 1024; hops++) {
    if (entry.ppid === root) return true;
    if (entry.ppid <= 1) return false;
    entry = readEntry(entry.ppid);
  }
  return false;
}

/** A live process's start time, which tells it from a later process with the same pid; null if gone. */
export function identify(pid: number): string | null {
  const entry = readEntry(pid);
  return entry === null || entry.state === 'Z' || entry.state === 'X' ? null : String(entry.startTicks);
}

/**
 * True when `pid` is gone and its exit status will not reach `reaper`: no such process, a different one
 * under the same pid, or a zombie whose parent is someone else. A zombie child of `reaper` is not "ended
 * elsewhere": waitpid will report it, with its status.
 */
export function endedElsewhere(pid: number, identity: string | null, reaper: number): boolean {
  const entry = readEntry(pid);
  if (entry === null) return true;
  if (identity !== null && String(entry.startTicks) !== identity) return true;
  if (entry.state === 'Z' || entry.state === 'X') return entry.ppid !== reaper;
  return false;
}
