// The control API: what `--status`, `--running`, `--stop`, `--restart`, `--signal` and `--list` do, as
// promises a Node program or deploy script can call. Every answer comes from the pidfile's lock holders
// (src/identity.ts); failures are DaemonizeErrors with a stable `code` and the CLI's exit status.
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { checkSeconds } from '../durations';
import { DaemonizeError } from '../errors';
import { ExitCode, type ExitCodeValue } from '../exit-codes';
import { checkPidfileTrust } from '../pidfile';
import { defaultPidfileDir, pidfilePath } from '../pidfile-location';
import { knownSignalName, signalNumbers } from '../supervisor/exit-description';
import { describeInspection, StatusCode } from './describe';
import { inspect, nameOf, toStatus, type DaemonStatus, type Inspection, type OverlapFailure } from './inspect';
import { permissionDenied, send } from './send';
import { stopInspected, stopPidfile, stopTimeoutFor, SUPERVISOR_MARGIN_SECONDS, type StopResult } from './stop';
import { pollUntil } from './wait';

/** A daemon by its pidfile, or by --name (in --pidfiles, else the default directory). */
export type Target = { pidfile: string } | { name: string; pidfiles?: string };

export interface StopOptions {
  /** Seconds from SIGTERM to SIGKILL; default: the daemon's own --stop-timeout plus a margin (10 s for a plain daemon). */
  timeout?: number;
}

export interface RestartOptions extends StopOptions {
  /** Starts the daemon again after a stop: needed for a daemon without a supervisor. */
  start?: () => unknown;
}

export interface RestartResult {
  name: string;
  pidfile: string;
  /** The supervisor (unchanged) or the new daemon's pid. */
  pid: number | null;
  /** The supervisor's new child, or null for a daemon without a supervisor. */
  child: number | null;
  /** Under a supervisor without held sockets (--listen): how long no child served, in seconds. */
  downtime?: number | null;
}

export interface SignalResult {
  name: string;
  pidfile: string;
  pid: number;
  signal: NodeJS.Signals;
}

export interface ListOptions {
  /** The pidfile directory; default: /run as root, else per-user (see README). */
  pidfiles?: string;
}

/** One `list` entry: a daemon's status, or a pidfile that could not be read (state 'unknown', with `error`). */
export type ListEntry = DaemonStatus | (Omit<DaemonStatus, 'state'> & { state: 'unknown'; error: string });

function usage(message: string): DaemonizeError {
  return new DaemonizeError(message, ExitCode.USAGE, 'EUSAGE');
}

/** The pidfile a target names, absolute. */
export function pidfileOf(target: Target): string {
  if (typeof target !== 'object' || target === null) throw usage('a target is { pidfile } or { name, pidfiles }');
  const given = target as { pidfile?: unknown; name?: unknown; pidfiles?: unknown };
  for (const key of ['pidfile', 'name', 'pidfiles'] as const) {
    if (given[key] !== undefined && typeof given[key] !== 'string') throw usage(`a target's ${key} must be a string`);
  }
  let path: string | undefined;
  try {
    path = pidfilePath(given as { pidfile?: string; name?: string; pidfiles?: string }, process.cwd(), process.env);
  } catch (error) {
    // A bad name: the CLI's usage error, with the API's stable code.
    if (error instanceof DaemonizeError && error.exitCode === ExitCode.USAGE) throw usage(error.message);
    throw error;
  }
  if (path === undefined) throw usage('a target needs a pidfile or a name');
  return path;
}

/** "HUP", "SIGHUP", "1" or 1 to a signal name Node accepts. */
export function parseSignal(given: string | number): NodeJS.Signals {
  const text = String(given);
  if (/^\d+$/.test(text)) {
    const name = knownSignalName(Number(text));
    if (name) return name;
  } else {
    const name = text.toUpperCase().startsWith('SIG') ? text.toUpperCase() : `SIG${text.toUpperCase()}`;
    if (name in signalNumbers()) return name as NodeJS.Signals;
  }
  throw usage(`bad --signal ${JSON.stringify(text)}: expected a signal name (HUP, SIGTERM) or number`);
}

/**
 * Inspects a pidfile root may trust: not a link, not another user's, not in a directory others may write
 * (src/pidfile.ts); else another user could hold the lock on a file root then acts on.
 */
function trustedInspect(pidfile: string): Inspection {
  checkPidfileTrust(pidfile);
  return inspect(pidfile);
}

/** Inspects; for a status, an unreadable pidfile is LSB's "unknown" (exit status 4), else exit status 1. */
export function inspectTarget(target: Target, forStatus = false): Inspection {
  const pidfile = pidfileOf(target);
  try {
    return trustedInspect(pidfile);
  } catch (error) {
    if (!forStatus || !(error instanceof DaemonizeError)) throw error;
    throw new DaemonizeError(error.message, StatusCode.UNKNOWN as ExitCodeValue, error.code);
  }
}

function timeoutOption(options: StopOptions | undefined): number | undefined {
  return options?.timeout === undefined ? undefined : checkSeconds('timeout', options.timeout, 0);
}

/** The daemon's state, as `--status --json` prints it. Throws (exit status 4) when the pidfile cannot be read. */
export async function status(target: Target): Promise<DaemonStatus> {
  return toStatus(inspectTarget(target, true));
}

/** True when the lock is held and, under a supervisor, the program is running or starting (not paused). */
export async function running(target: Target): Promise<boolean> {
  return inspectTarget(target).running;
}

/** Stops the daemon and every process in its session; resolves once they are gone. ENOTRUNNING, EPERM. */
export async function stop(target: Target, options?: StopOptions): Promise<StopResult> {
  const timeout = timeoutOption(options);
  const pidfile = pidfileOf(target);
  checkPidfileTrust(pidfile);
  return stopPidfile(pidfile, timeout);
}

/** Sends `signalName` to the daemon (the supervisor, for -r, which passes most signals on). */
export async function signal(target: Target, signalName: string | number): Promise<SignalResult> {
  const name = parseSignal(signalName);
  const found = inspectTarget(target);
  const what = `signal ${found.name}`;
  if (found.identity.daemon === null && found.identity.hidden !== null) throw permissionDenied(what, found.identity.hidden.pid);
  const pid = found.identity.daemon;
  if (pid === null || !send(pid, name, what)) {
    throw new DaemonizeError(`unable to ${what}: not running`, ExitCode.FAILURE, 'ENOTRUNNING');
  }
  return { name: found.name, pidfile: found.pidfile, pid, signal: name };
}

/**
 * How long --restart sees a new child running before it calls it up. One that ends sooner "ended at once":
 * else a look that fell in the millisecond between its exec and its crash would report a restart of a
 * program that never stays up, and the same command would say otherwise the next time.
 */
const UP_AFTER_MS = 100;

/**
 * Waits for a supervisor (still holding the lock) to run a child other than `before` (null: any child) for
 * UP_AFTER_MS. Fails early when the supervisor ends, or when its record shows a new start that already ended
 * in a crash-loop pause.
 */
async function awaitNewChild(found: Inspection, before: number | null, seconds: number): Promise<number> {
  const startsBefore = found.record?.restarts ?? null;
  const overlapsBefore = found.record?.overlaps ?? 0;
  let child: number | null = null;
  let failed: string | null = null;
  let notReady: OverlapFailure | null = null;
  let candidate: number | null = null;
  let candidateSince = 0;
  const settled = await pollUntil(() => {
    const now = inspect(found.pidfile);
    child = now.child;
    const overlapFailure = now.record?.overlapFailure ?? null;
    if (now.identity.daemon !== found.identity.daemon) failed = 'its supervisor has ended';
    // With held sockets the old child serves on when the new one fails before it is ready.
    else if (overlapFailure !== null && overlapFailure.attempt > overlapsBefore) notReady = overlapFailure;
    else if (now.state === 'paused' && startsBefore !== null && (now.record?.restarts ?? 0) > startsBefore) {
      failed = `its new child ended at once: ${describeInspection(now).replace(`${now.name}: `, '')}`;
    }
    // Up: seen running, and still the same live child UP_AFTER_MS later (this process's monotonic clock). Not
    // a child the supervisor is already stopping (draining, which --status shows as running).
    if ((now.record?.state ?? now.state) !== 'running' || child === null || child === before) {
      candidate = null;
    } else if (child !== candidate) {
      candidate = child;
      candidateSince = performance.now();
    }
    const up = candidate !== null && performance.now() - candidateSince >= UP_AFTER_MS;
    return failed !== null || notReady !== null || up;
  }, seconds * 1000, 25);
  if (notReady !== null) {
    // Its last words, as a first start that fails shows them (the lines are quoted safe by the supervisor).
    const { message, stderrTail } = notReady as OverlapFailure;
    const said = stderrTail.length > 0 ? `; its stderr:\n${stderrTail.join('\n')}` : '';
    throw new DaemonizeError(`unable to restart ${found.name}: ${message}; pid ${before} goes on serving${said}`, ExitCode.NOT_READY, 'ENOTREADY');
  }
  if (failed !== null) throw new DaemonizeError(`unable to restart ${found.name}: ${failed}`, ExitCode.FAILURE, 'ENOTRUNNING');
  if (!settled || child === null) {
    throw new DaemonizeError(`unable to restart ${found.name}: no new child after ${seconds} s`, ExitCode.FAILURE, 'ETIMEDOUT');
  }
  return child;
}

/**
 * A supervised daemon gets a new child under the same supervisor (SIGUSR1, then the new child is awaited).
 * Anything else is stopped, then started again by `options.start`.
 */
export async function restart(target: Target, options?: RestartOptions): Promise<RestartResult> {
  const timeout = timeoutOption(options);
  const found = inspectTarget(target);
  const { daemon, hidden } = found.identity;
  const what = `restart ${found.name}`;
  if (daemon === null && hidden !== null) throw permissionDenied(what, hidden.pid);
  if (daemon !== null && found.supervised) {
    // A replacement already under way (a --restart a moment ago: with --listen the supervisor ignores another
    // SIGUSR1 until it ends) is joined: its child is the new one, whichever pid the record names now.
    const before = found.record?.state === 'starting' ? null : found.child;
    send(daemon, 'SIGUSR1', what);
    const child = await awaitNewChild(found, before,
      stopTimeoutFor(found, timeout) + (found.record?.readyTimeout ?? 0) + SUPERVISOR_MARGIN_SECONDS);
    const downtime = inspect(found.pidfile).record?.lastDowntime ?? null;
    return { name: found.name, pidfile: found.pidfile, pid: daemon, child, downtime };
  }
  if (options?.start === undefined) {
    const why = daemon === null ? 'it is not running' : 'it has no supervisor';
    throw usage(`unable to ${what}: ${why}, so give the command to start again`);
  }
  if (daemon !== null) await stopInspected(found, timeout);
  await options.start();
  const after = inspect(found.pidfile);
  return { name: found.name, pidfile: found.pidfile, pid: after.pid, child: after.child };
}

/** Every *.pid in the directory, inspected; a pidfile that cannot be read is an entry with its error. */
export function inspectDirectory(dir: string): { pidfile: string; found?: Inspection; error?: DaemonizeError }[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((name) => name.endsWith('.pid')).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new DaemonizeError(`unable to list ${dir}: ${(error as Error).message}`, ExitCode.FAILURE,
      (error as NodeJS.ErrnoException).code);
  }
  return names.map((name) => {
    const pidfile = join(dir, name);
    try {
      return { pidfile, found: trustedInspect(pidfile) };
    } catch (error) {
      if (!(error instanceof DaemonizeError)) throw error;
      return { pidfile, error };
    }
  });
}

export function listDirectory(options: ListOptions | undefined): string {
  if (options?.pidfiles !== undefined && typeof options.pidfiles !== 'string') throw usage('pidfiles must be a string');
  return options?.pidfiles !== undefined ? resolve(options.pidfiles) : defaultPidfileDir(process.env, process.getuid?.() ?? 0);
}

export type DirectoryEntry = ReturnType<typeof inspectDirectory>[number];

/** One inspected pidfile as `list` (and `--list --json`) gives it. */
export function toListEntry({ pidfile, found, error }: DirectoryEntry): ListEntry {
  if (found !== undefined) return toStatus(found);
  return {
    name: nameOf(pidfile), pidfile, state: 'unknown', error: error?.message ?? 'unknown error',
    pid: null, child: null, supervised: null, since: null, restarts: null, ready: null, memory: null,
    command: null, stdout: null, stderr: null, log: null, lastExit: null,
  };
}

/** The status of every daemon in the pidfile directory. Rejects only when the directory cannot be read. */
export async function list(options?: ListOptions): Promise<ListEntry[]> {
  return inspectDirectory(listDirectory(options)).map(toListEntry);
}

export type { DaemonStatus, StopResult };
