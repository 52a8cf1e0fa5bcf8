// What a pidfile says about its daemon: the lock holders (src/identity.ts), and for a supervisor its
// status record, trusted only while it names the supervisor that holds the lock. Without a record
// (unwritable disk, removed) the supervisor's children are read from /proc instead: never a stale record.
import { readlinkSync } from 'node:fs';
import { basename } from 'node:path';

import { identify, type PidfileIdentity } from '../identity';
import { members } from '../core/process-tree';
import { childrenOf, commandOf, hasAncestor, isDead, readEntry, residentBytes, startedAt } from '../process-table';
import type { LastExit } from '../supervisor/forensics';
import { readStatus, statusFileFor } from '../supervisor/status-file';

/** The states of `--status --json`. */
export type DaemonState = 'running' | 'starting' | 'paused' | 'stopping' | 'stopped' | 'dead';

/** The status record as the verbs read it: every field checked, unknown ones null. */
export interface SupervisorRecord {
  supervisor: number;
  state: string;
  child: number | null;
  childStarted: number | null;
  started: number | null;
  restarts: number | null;
  failures: number | null;
  pausedUntil: number | null;
  stopTimeout: number | null;
  log: string | null;
  lastExit: LastExit | null;
  /** The program as started, and its output files; null in a record from before they were kept. */
  command: string[] | null;
  stdout: string | null;
  stderr: string | null;
  /** --ready-timeout (0 or null: ready at exec). */
  readyTimeout: number | null;
  /** Overlapping restarts (--listen) begun, and the last one whose new child never got ready. */
  overlaps: number | null;
  overlapFailure: OverlapFailure | null;
  lastDowntime: number | null;
  /** With --on-exit: seconds a stop may spend on hooks after the program (null: none). */
  hookTimeout: number | null;
}

export interface Inspection {
  name: string;
  pidfile: string;
  identity: PidfileIdentity;
  state: DaemonState;
  /** What `--running` answers: the lock is held and, for a supervisor, a program is (being) started. */
  running: boolean;
  /** The lock holder (the supervisor, for -r), or the one another user's lock names. */
  pid: number | null;
  /** True for a supervisor (-r), false for a plain daemon, null when not running. */
  supervised: boolean | null;
  /** The supervisor's record, when it names the supervisor holding the lock. */
  record: SupervisorRecord | null;
  /** The program's pid under a supervisor. */
  child: number | null;
  /** Where `child` was learnt: the record, or /proc when the record is missing. */
  childSource: 'record' | 'proc' | null;
}

export function nameOf(pidfile: string): string {
  return basename(pidfile).replace(/\.pid$/, '');
}

function numberOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** The last overlapping restart whose new child was never ready: why, and its last lines on stderr. */
export interface OverlapFailure {
  attempt: number;
  message: string;
  stderrTail: string[];
}

function overlapFailure(value: unknown): OverlapFailure | null {
  const v = value as { attempt?: unknown; message?: unknown; stderrTail?: unknown } | null;
  if (typeof v !== 'object' || v === null || typeof v.attempt !== 'number' || typeof v.message !== 'string') return null;
  const tail = Array.isArray(v.stderrTail) ? v.stderrTail.filter((line): line is string => typeof line === 'string') : [];
  return { attempt: v.attempt, message: v.message, stderrTail: tail };
}

/** The record beside `pidfile`, if it is whole and names `supervisor`; else null. */
export function readRecord(pidfile: string, supervisor: number): SupervisorRecord | null {
  const raw = readStatus(statusFileFor(pidfile)) as unknown;
  if (typeof raw !== 'object' || raw === null) return null;
  const r = raw as Record<string, unknown>;
  if (r.supervisor !== supervisor || typeof r.state !== 'string') return null;
  return {
    supervisor,
    state: r.state,
    child: numberOrNull(r.child),
    childStarted: numberOrNull(r.childStarted),
    started: numberOrNull(r.started),
    restarts: numberOrNull(r.restarts),
    failures: numberOrNull(r.failures),
    pausedUntil: numberOrNull(r.pausedUntil),
    stopTimeout: numberOrNull(r.stopTimeout),
    log: typeof r.log === 'string' ? r.log : null,
    lastExit: typeof r.lastExit === 'object' && r.lastExit !== null ? r.lastExit as LastExit : null,
    command: Array.isArray(r.command) && r.command.every((word) => typeof word === 'string') ? r.command as string[] : null,
    stdout: typeof r.stdout === 'string' ? r.stdout : null,
    stderr: typeof r.stderr === 'string' ? r.stderr : null,
    readyTimeout: numberOrNull(r.readyTimeout),
    overlaps: numberOrNull(r.overlaps),
    overlapFailure: overlapFailure(r.overlapFailure),
    lastDowntime: numberOrNull(r.lastDowntime),
    hookTimeout: numberOrNull(r.hookTimeout),
  };
}

/** Our supervisor names itself in its title (src/supervisor/main.ts): known even without its record. */
export function looksLikeSupervisor(pid: number): boolean {
  return commandOf(pid)?.[0]?.startsWith('daemonize: supervising') === true;
}

/** The record's child, while it lives under its supervisor (its child, or an orphan it adopted): not a recycled pid. */
function recordedChild(record: SupervisorRecord): number | null {
  const entry = record.child === null ? null : readEntry(record.child);
  return entry !== null && !isDead(entry) && hasAncestor(entry, (pid) => pid === record.supervisor) ? entry.pid : null;
}

/** The supervisor's program from /proc: its oldest live child. */
function childFromProc(supervisor: number): number | null {
  const children = childrenOf(supervisor).sort((a, b) => a.startTicks - b.startTicks);
  return children.length > 0 ? children[0].pid : null;
}

function supervisedState(record: SupervisorRecord | null, child: number | null): { state: DaemonState; running: boolean } {
  if (record === null) return child !== null ? { state: 'running', running: true } : { state: 'starting', running: false };
  switch (record.state) {
    case 'paused': return { state: 'paused', running: false };
    case 'stopping': return { state: 'stopping', running: false };
    case 'starting':
    case 'restarting': return { state: 'starting', running: true };
    default:
      // running, draining: only a live child is a running program.
      return child !== null ? { state: 'running', running: true } : { state: 'starting', running: false };
  }
}

/** What the verbs see: the holder the pidfile names is enough (identify), every holder only when it names none. */
export function inspect(pidfile: string): Inspection {
  return inspectIdentified(pidfile, identify(pidfile, false));
}

/** inspect(), for a pidfile whose holders `identity` already tells. */
export function inspectIdentified(pidfile: string, identity: PidfileIdentity): Inspection {
  const base = { name: nameOf(pidfile), pidfile, identity, record: null, child: null, childSource: null };
  if (identity.daemon === null && identity.hidden === null) {
    const state = identity.file === null ? 'stopped' : 'dead';
    return { ...base, state, running: false, pid: null, supervised: null };
  }
  const pid = identity.daemon ?? identity.hidden?.pid ?? null;
  const record = pid !== null ? readRecord(pidfile, pid) : null;
  // Another user's daemon: we cannot look inside it, but its record (if readable) still speaks.
  if (identity.daemon === null) {
    const child = record !== null ? recordedChild(record) : null;
    const found = record !== null ? supervisedState(record, child) : { state: 'running' as const, running: true };
    return { ...base, ...found, pid, supervised: record !== null ? true : null, record, child, childSource: child !== null ? 'record' : null };
  }
  const supervised = record !== null || looksLikeSupervisor(identity.daemon);
  if (!supervised) return { ...base, state: 'running', running: true, pid, supervised: false };
  let child: number | null;
  let childSource: Inspection['childSource'];
  if (record !== null) {
    child = recordedChild(record);
    childSource = child !== null ? 'record' : null;
  } else {
    child = childFromProc(identity.daemon);
    childSource = child !== null ? 'proc' : null;
  }
  return { ...base, ...supervisedState(record, child), pid, supervised: true, record, child, childSource };
}

/** The object `--status --json` prints (one per daemon in `--list --json`); null where unknown. */
export interface DaemonStatus {
  name: string;
  pidfile: string;
  state: DaemonState;
  pid: number | null;
  child: number | null;
  supervised: boolean | null;
  since: string | null;
  restarts: number | null;
  ready: boolean | null;
  memory: number | null;
  command: string[] | null;
  stdout: string | null;
  stderr: string | null;
  log: string | null;
  lastExit: LastExit | null;
}

/** Where descriptor `fd` of `pid` writes, when it is a file with a path (not /dev/null, a pipe, a socket). */
function outputOf(pid: number, fd: number): string | null {
  try {
    const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    return target.startsWith('/') && target !== '/dev/null' && !target.endsWith(' (deleted)') ? target : null;
  } catch {
    return null;
  }
}

/** Bytes resident in `pid` and its live descendants. */
function treeMemory(pid: number): number | null {
  const sizes = members({ root: pid, session: null }).map(residentBytes).filter((size) => size !== null);
  return sizes.length > 0 ? sizes.reduce((sum, size) => sum + size, 0) : null;
}

function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

export function toStatus(found: Inspection): DaemonStatus {
  const program = found.child ?? (found.supervised ? null : found.pid);
  const since = found.record?.childStarted ?? (program !== null ? startedAt(program) : null);
  return {
    name: found.name,
    pidfile: found.pidfile,
    state: found.state,
    pid: found.pid,
    child: found.child,
    supervised: found.supervised,
    since: isoOrNull(since),
    restarts: found.record?.restarts ?? null,
    ready: null,
    memory: program !== null ? treeMemory(program) : null,
    // A supervisor's record knows the command as started and its files even when no child runs.
    command: found.record?.command ?? (program !== null ? commandOf(program) : null),
    stdout: found.record?.command ? found.record.stdout : program !== null ? outputOf(program, 1) : null,
    stderr: found.record?.command ? found.record.stderr : program !== null ? outputOf(program, 2) : null,
    log: found.record?.log ?? null,
    lastExit: found.record?.lastExit ?? null,
  };
}
