// The supervisor's view of what it started: every live process descended from it (found by ppid in
// /proc/*/stat; /proc/PID/task/*/children does not exist on every kernel). The supervisor is a child
// subreaper, so a process that forked away or called setsid is still found here: its parent, or its
// parent's parent, is the supervisor.
//
// /proc may count in another pid namespace than ours: `unshare --pid --fork daemonize -f -r` makes the
// supervisor PID 1 of its namespace while /proc is still the host's. Then /proc's numbers are translated
// through each process's NSpid line, so everything here takes and returns the pids waitpid and kill use.
import { readFileSync, readlinkSync } from 'node:fs';

import { native } from '../native';
import { descendants, isDead, processTable, readEntry, residentBytes, signalQuietly, type ProcessEntry } from '../process-table';

interface ProcView {
  /** This process, as /proc numbers it. */
  self: number;
  /** Where our namespace's pid sits in an NSpid line; null when /proc counts as we do. */
  level: number | null;
}

let view: ProcView | undefined;

function nsPids(procPid: number): number[] | null {
  try {
    const line = /^NSpid:\s*(.+)$/m.exec(readFileSync(`/proc/${procPid}/status`, 'latin1'));
    return line ? line[1].trim().split(/\s+/).map(Number) : null;
  } catch {
    return null;
  }
}

function procView(): ProcView {
  if (view !== undefined) return view;
  const self = Number(readlinkSync('/proc/self'));
  const own = self === process.pid ? null : nsPids(self);
  view = { self, level: own === null ? null : own.length - 1 };
  return view;
}

/** A /proc number to ours (null: not in our namespace, or gone). */
function toLocal(procPid: number): number | null {
  const { level } = procView();
  return level === null ? procPid : nsPids(procPid)?.[level] ?? null;
}

/** Our pid to the number /proc shows it under (null: gone). */
function toProc(pid: number): number | null {
  if (procView().level === null) return pid;
  return processTable().find((entry) => toLocal(entry.pid) === pid)?.pid ?? null;
}

function locals(entries: ProcessEntry[]): number[] {
  return entries.map((entry) => toLocal(entry.pid)).filter((pid): pid is number => pid !== null);
}

/** Whether this process is a child subreaper (becomeSubreaper): then no child at all means no descendant. */
let subreaper = false;

/**
 * Makes orphans of the program come back to us to be reaped, instead of to a PID 1 that may reap nothing:
 * a program that forks away stays our descendant, so it can be followed and stopped.
 */
export function becomeSubreaper(): void {
  subreaper = native.setSubreaper(true);
}

/**
 * Whether the tree may hold anything. For a subreaper, the kernel's "no children" (one system call)
 * stands for a reading of all of /proc (a millisecond or two), where most stops end: an orphan anywhere
 * below comes back to us, so every descendant has a chain of live or unreaped parents up to our children.
 */
const mayHaveDescendants = (): boolean => !subreaper || native.hasChildren();

function scanDescendants(): ProcessEntry[] {
  if (!mayHaveDescendants()) return [];
  const root = procView().self;
  // A zombie is left out, but for our own children: their exit is still ours to reap and report.
  return descendants([root], processTable().filter((entry) => !isDead(entry) || entry.ppid === root));
}

/**
 * Live descendants of this process, parents before their children, and its dead children not reaped yet:
 * their exit is still to be reported, so the tree is not empty before. One reading can miss a process forked
 * while /proc is read, but it cannot wrongly be empty: every descendant has an ancestor among our direct
 * children, and a direct child stays listed and readable, alive or as a zombie, until we reap it, which
 * we never do while we read.
 */
export function ownDescendants(): number[] {
  return locals(scanDescendants());
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * SIGKILLs whatever is still alive in this process's tree, look after look until nothing is, for the
 * supervisor's last moment: a process the last --on-exit hook left (in a session of its own, say) would
 * otherwise outlive the supervisor, orphaned. Looks for `ms` at most.
 */
export function killOwnTree(ms = 2000): void {
  const deadline = Date.now() + ms;
  for (;;) {
    const live = locals(scanDescendants().filter((entry) => !isDead(entry)));
    if (live.length === 0 || Date.now() >= deadline) return;
    for (const pid of live) signalQuietly(pid, 'SIGKILL');
    Atomics.wait(pause, 0, 0, 1);
    // Reaped here, those that came back to us: after our exit, init might not.
    for (let reaped = native.waitpid(-1, false); reaped !== null; reaped = native.waitpid(-1, false)) {
      // one more gone
    }
  }
}

/**
 * Live children of this process, oldest first (the first a program left behind is its daemon). A child seen
 * dead may have forked and exited while /proc was read, its own child (reparented to us) missing from that
 * reading: then /proc is read again, a few times at most.
 */
export function ownChildren(): number[] {
  if (!mayHaveDescendants()) return [];
  const self = procView().self;
  let dead = 0;
  for (let reading = 0; ; reading++) {
    const mine = processTable().filter((entry) => entry.ppid === self);
    const deadNow = mine.filter(isDead).length;
    if (deadNow <= dead || reading === 4) {
      return locals(mine.filter((entry) => !isDead(entry)).sort((a, b) => a.startTicks - b.startTicks || a.pid - b.pid));
    }
    dead = deadNow;
  }
}

/** Whether `pid` is alive and this process is among its ancestors (its parent, its parent's parent...). */
export function isOwnDescendant(pid: number): boolean {
  return descends(pid, procView().self);
}

/** Whether `pid` is `root` or a live process descended from it (a notification's sender in the child's tree). */
export function inTreeOf(pid: number, root: number): boolean {
  if (pid === root) return identify(pid) !== null;
  const procRoot = toProc(root);
  return procRoot !== null && descends(pid, procRoot);
}

function descends(pid: number, self: number): boolean {
  const start = toProc(pid);
  const first = start === null ? null : readEntry(start);
  if (first === null || isDead(first)) return false;
  // Not hasAncestor(): that one never asks about init, and here `self` may be 1 (the supervisor as the
  // first process of a container whose /proc counts as it does). A cycle cannot happen; a bound costs nothing.
  for (let entry: ProcessEntry | null = first, hops = 0; entry !== null && hops < 1024; hops++) {
    if (entry.ppid === self) return true;
    if (entry.ppid <= 1) return false;
    entry = readEntry(entry.ppid);
  }
  return false;
}

/** A live process's start time, which tells it from a later process with the same pid; null if gone. */
export function identify(pid: number): string | null {
  const at = toProc(pid);
  const entry = at === null ? null : readEntry(at);
  return entry === null || isDead(entry) ? null : String(entry.startTicks);
}

/**
 * True when `pid` is gone and its exit status will not reach this process: no such process, a different
 * one under the same pid, or a zombie whose parent is someone else. A zombie child of ours is not "ended
 * elsewhere": waitpid will report it, with its status.
 */
export function endedElsewhere(pid: number, identity: string | null): boolean {
  const at = toProc(pid);
  const entry = at === null ? null : readEntry(at);
  if (entry === null) return true;
  if (identity !== null && String(entry.startTicks) !== identity) return true;
  if (isDead(entry)) return entry.ppid !== procView().self;
  return false;
}

/**
 * The resident memory (the sum of VmRSS) of every live descendant of this process outside the process
 * groups `skipGroups` (our pids), and how many processes that is. Shared pages count once per process, as
 * `ps` and `top` show them.
 */
export function descendantMemory(skipGroups: readonly number[]): { bytes: number; processes: number } {
  // Groups are led by their pid: as /proc numbers them, their leader's number.
  const skip = new Set(skipGroups.map(toProc).filter((group): group is number => group !== null));
  let bytes = 0;
  let processes = 0;
  for (const entry of scanDescendants()) {
    if (isDead(entry) || skip.has(entry.pgrp)) continue;
    const resident = residentBytes(entry.pid);
    if (resident === null) continue; // gone while we looked
    bytes += resident;
    processes += 1;
  }
  return { bytes, processes };
}
