// Everything a started daemon has started: its descendants (by /proc ppid, since these kernels have no
// task children files) and every process left in its session. The session catches what the ppid links
// lose: a grandchild whose parent died is reparented to PID 1, but it stays in the daemon's session unless
// it called setsid, and the daemon, alone in a session made for it, shares that session with nobody else.
import { descendants, isAlive, liveProcesses, signalQuietly, type ProcessEntry } from '../process-table';

/** A started process and the session it was started in (null: not known). */
export interface StartedTree {
  root: number;
  session: number | null;
}

/** The live members of the tree, the root first when it is alive. */
export function members(tree: StartedTree, table: ProcessEntry[] = liveProcesses(() => true)): number[] {
  // A live session leader means the session's id was recycled for somebody else's session: the daemon's
  // own leader (the intermediate fork) exits at once and never comes back.
  const session = tree.session !== null && tree.session !== tree.root && !table.some((e) => e.pid === tree.session)
    ? tree.session : null;
  const found = new Set<number>();
  if (table.some((e) => e.pid === tree.root)) found.add(tree.root);
  for (const entry of table) if (session !== null && entry.session === session) found.add(entry.pid);
  // Descendants by ppid: catches those that left the session with setsid.
  for (const entry of descendants(found, table)) found.add(entry.pid);
  found.delete(process.pid);
  return [...found];
}

/** At most this many rounds of "stop what is there, look again" before the kill. */
const MAX_ROUNDS = 50;

/** How long killTree waits for what it killed to be gone (SIGKILL takes a few milliseconds). */
const GONE_MS = 2000;
const sleeper = new Int32Array(new SharedArrayBuffer(4));

/**
 * SIGKILLs the whole tree and waits (a little) until it is gone, so that a failed start that returns
 * leaves no process holding a port or a file. Each member is stopped first (SIGSTOP) and the table read
 * again until no new member appears, so nothing forks away between the look and the kill, and no one is
 * reparented out of sight by the death of its parent. Members that are gone already are simply not there.
 */
export function killTree(tree: StartedTree): void {
  const stopped = new Set<number>();
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const fresh = members(tree).filter((pid) => !stopped.has(pid));
    if (fresh.length === 0) break;
    for (const pid of fresh) {
      signalQuietly(pid, 'SIGSTOP');
      stopped.add(pid);
    }
  }
  for (const pid of stopped) signalQuietly(pid, 'SIGKILL');
  const deadline = Date.now() + GONE_MS;
  while ([...stopped].some(isAlive) && Date.now() < deadline) Atomics.wait(sleeper, 0, 0, 5);
}
