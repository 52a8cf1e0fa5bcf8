// The supervisor's whole behaviour as one table: TABLE[state][event] says what to do and which state
// follows. Pure: no processes, clock or timers here; the driver (driver.ts) feeds events in one queue,
// carries the actions out and arms the one deadline the current state owns. A reader who wants to know
// what USR1 does while a dead child's process tree drains finds the cell TABLE.draining.restart.
//
// States
//   starting  a spawn was asked for; its result (spawned / spawn-failed) is the next event. With
//             --ready notify|tcp: the child stays here until it is ready (`ready`). Deadline: --ready-timeout.
//             With --listen a restart starts the new child here while the old one (`old`) keeps serving.
//   running   the service is alive: our direct child, or a process it forked away that we follow.
//             Deadline (with --listen only): SIGKILL to a replaced child still finishing its requests.
//   draining  the service was told to go (restart) or went (crash); we wait until nothing it started
//             is left (`empty`), then do what `after` says. Deadline: SIGKILL whatever is left.
//   paused    a crash loop's pause; nothing runs. Deadline: the pause's end.
//   stopping  TERM or INT: the service and everything it left are stopped; `empty` ends the supervisor.
//             Deadline: SIGKILL whatever is left.
//   finished  the end; every event is answered with nothing (a stray spawn is killed).
import { DaemonizeError } from '../errors';
import { ExitCode } from '../exit-codes';
import { endHow, type ChildEnd } from './child-end';
import { describeDuration } from './exit-description';
import { decideRestart, NO_FAILURES, type RestartCounts, type RestartDecision, type RestartPolicySettings } from './restart-policy';

export const STATES = ['starting', 'running', 'draining', 'paused', 'stopping', 'finished'] as const;
export type StateName = (typeof STATES)[number];

/** Signals passed on to the program as they are. TERM, INT, HUP, USR1 and CHLD have meanings of their own. */
export const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = [
  'SIGQUIT', 'SIGUSR2', 'SIGALRM', 'SIGWINCH', 'SIGCONT', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU', 'SIGURG', 'SIGPWR',
];

/** After a SIGKILL, how often to send it again to whatever is still (or newly) there. */
export const KILL_AGAIN_MS = 1000;

export type MachineEvent =
  /** The spawn action worked. */
  | { type: 'spawned'; pid: number }
  /** The spawn action failed; `error` is what to report (a DaemonizeError for the first start). */
  | { type: 'spawn-failed'; error: unknown; message: string }
  /**
   * A process ended: one we reaped (code/signal known), or a followed service seen gone by polling
   * (`known` false). `heirs`: live processes reparented to us as it ended, oldest first; `named`: the
   * pid --child-pidfile names, when it is a live descendant. Both are filled in only for the service.
   */
  | { type: 'exit'; pid: number; code: number | null; signal: number | null; core?: boolean; known: boolean; heirs: number[]; named: number | null }
  /** No process we started or adopted is left. */
  | { type: 'empty' }
  /** The current state's deadline passed. */
  | { type: 'deadline' }
  | { type: 'stop'; signal: NodeJS.Signals }
  | { type: 'hup' }
  /** SIGUSR1: start the program again now. */
  | { type: 'restart' }
  | { type: 'forward'; signal: NodeJS.Signals }
  /** --child-pidfile now names this live descendant (it may be written after the program forked away). */
  | { type: 'pidfile'; pid: number }
  /** Room for readiness (READY=1, a port that accepts): the child is ready. */
  | { type: 'ready' }
  /** The watchdog (probes.ts): no WATCHDOG=1 in time; the service is aborted (SIGABRT, for a core) and replaced. */
  | { type: 'watchdog'; reason: string }
  /** A health check or the memory limit (probes.ts): the service is replaced gracefully, for `reason`. */
  | { type: 'unhealthy'; reason: string; detail?: string }
  /** A notification (sd_notify) from the service's process tree, parsed: READY, STATUS, WATCHDOG... */
  | { type: 'notify'; pid: number; fields: Readonly<Record<string, string>> };

export type EventType = MachineEvent['type'];
export const EVENT_TYPES: readonly EventType[] = [
  'spawned', 'spawn-failed', 'exit', 'empty', 'deadline', 'stop', 'hup', 'restart', 'forward', 'pidfile', 'ready', 'watchdog', 'unhealthy', 'notify',
];

export type Action =
  /** Start the program; the driver answers with `spawned` or `spawn-failed` before any other event. */
  | { do: 'spawn' }
  /** A signal to the service: to its process group when it is our direct child (it leads one). */
  | { do: 'signal'; pid: number; group: boolean; signal: NodeJS.Signals }
  /** A signal to every live process descended from the supervisor. */
  | { do: 'signal-all'; signal: NodeJS.Signals }
  /** Post `empty` if nothing we started or adopted is left. */
  | { do: 'check-empty' }
  /** Watch a followed service that may not be our child (poll its life). */
  | { do: 'follow'; pid: number }
  | { do: 'log'; line: string }
  /** The service ended: one sentence in the log (with what the world knows too), the record, --on-exit. */
  | { do: 'ended'; end: ChildEnd }
  | { do: 'reopen-log' }
  /** The service is ready (at once with --ready exec); `first`: the launcher is still waiting to hear. */
  | { do: 'ready'; pid: number; first: boolean }
  /** The end: exit status, and for a first start that failed, the error to throw to the launcher. */
  | { do: 'finish'; code: number; error?: unknown };

/** What a draining state does once nothing is left. */
export type After = { kind: 'restart'; why: string } | { kind: 'decision'; decision: RestartDecision };

export interface MachineSettings {
  /** The program's name, for log lines. */
  label: string;
  policy: RestartPolicySettings;
  /** Seconds between SIGTERM and SIGKILL. */
  stopTimeout: number;
  /** 'wait': a child is running only once it says so (--ready notify|tcp:...); default 'exec'. */
  readiness?: 'exec' | 'wait';
  /** Seconds a child has to become ready (default 60). */
  readyTimeout?: number;
  /** Held sockets (--listen): a restart starts the new child beside the old one, which stops once it is ready. */
  overlap?: boolean;
  /** What asks the service to stop (--stop-signal); default SIGTERM. */
  stopSignal?: NodeJS.Signals;
}

export interface Context {
  state: StateName;
  /** The service: our direct child, or the process it forked away as; null when none. */
  child: number | null;
  /** False when `child` is a process the program forked away as (followed, not spawned). */
  direct: boolean;
  /** When the program was last started (a followed service keeps its program's start). */
  childStarted: number | null;
  /** Starts after the first. */
  restarts: number;
  counts: RestartCounts;
  pausedUntil: number | null;
  /** The current state's one deadline (ms since the epoch), or null. Leaving a state drops it. */
  deadline: number | null;
  /** draining: what follows once nothing is left. */
  after: After | null;
  /** draining/stopping: SIGKILL has been sent. */
  killed: boolean;
  /** No child has started yet: a spawn failure is the launcher's to report, not to retry. */
  first: boolean;
  /** Why the service is being ended, when we asked it to go (a stop, a restart, a probe); null otherwise. */
  cause: string | null;
  /** Why the first child never became ready: the supervisor stops, then reports it (exit 4). */
  notReady: string | null;
  /** An overlapping restart: the child being replaced, still serving while the new one gets ready; why it is. */
  old: { pid: number; started: number | null; cause: string } | null;
  /** Replaced children told to stop, finishing their requests. */
  retiring: Retiring[];
  /** Overlapping restarts begun, and the last one that failed (the new child never ready), for --restart. */
  overlaps: number;
  overlapFailure: OverlapFailure | null;
  /** A restart without held sockets: when the old child was told to go; and how long the last one left no child serving (s). */
  downSince: number | null;
  lastDowntime: number | null;
}

/**
 * A child told to go while another serves: a replaced one finishing its requests, or a new one killed for
 * not being ready in time. Its end is reported like any other (the event log, lastExit, --on-exit).
 */
export interface Retiring {
  pid: number;
  started: number | null;
  /** Why it was told to go, for its end's sentence ("restarted by SIGUSR1 to the supervisor (--restart)"). */
  cause: string;
  /** What follows its end, for the same sentence ("replaced by pid 300"). */
  next: string;
  /** When it gets SIGKILL (--stop-timeout after it was told to go); null once it has, or while stopping (the stop's deadline kills all). */
  until: number | null;
  /** SIGKILL was sent to it (past its --stop-timeout). */
  killed: boolean;
}

/** An overlapping restart whose new child (`pid`) was never ready: the old one serves on, --restart says why. */
export interface OverlapFailure {
  attempt: number;
  message: string;
  pid: number;
}

export interface Step {
  context: Context;
  actions: Action[];
}

export type Handler<E extends MachineEvent = MachineEvent> =
  (context: Readonly<Context>, event: E, now: number, settings: MachineSettings) => Step;

export function initialContext(): Context {
  return {
    state: 'starting', child: null, direct: true, childStarted: null, restarts: 0, counts: NO_FAILURES,
    pausedUntil: null, deadline: null, after: null, killed: false, first: true, cause: null, notReady: null,
    old: null, retiring: [], overlaps: 0, overlapFailure: null, downSince: null, lastDowntime: null,
  };
}

/** The actions that begin supervision (the machine starts in `starting`). */
export const BEGIN: readonly Action[] = [{ do: 'spawn' }];

type ExitEvent = Extract<MachineEvent, { type: 'exit' }>;

// ---- small pieces the cells are made of ----

const nothing: Handler = (context) => ({ context, actions: [] });

const log = (line: string): Action => ({ do: 'log', line });

/** A child started outside `starting` (it cannot happen; if it does, it must not live untracked). */
const killStray: Handler<{ type: 'spawned'; pid: number }> = (context, event, _now, settings) => ({
  context,
  actions: [log(`${settings.label} (pid ${event.pid}) started while ${context.state}: killing it`),
    { do: 'signal', pid: event.pid, group: true, signal: 'SIGKILL' }],
});

/**
 * A signal for the service. TERM to stop it goes to the process group of a direct child (it leads one,
 * and its workers go with it); anything passed on, and anything for a followed daemon (which manages its
 * own workers), goes to that one process.
 */
function toService(context: Readonly<Context>, signal: NodeJS.Signals, group = false): Action[] {
  return context.child === null ? [] : [{ do: 'signal', pid: context.child, group: group && context.direct, signal }];
}

const forward: Handler<{ type: 'forward'; signal: NodeJS.Signals }> = (context, event) =>
  ({ context, actions: toService(context, event.signal) });

const reopenAndForward: Handler = (context) =>
  ({ context, actions: [{ do: 'reopen-log' }, ...toService(context, 'SIGHUP')] });

const reopenOnly: Handler = (context) => ({ context, actions: [{ do: 'reopen-log' }] });

const stopSignal = (settings: MachineSettings): NodeJS.Signals => settings.stopSignal ?? 'SIGTERM';

function enterStarting(context: Readonly<Context>): Step {
  return { context: { ...context, state: 'starting', deadline: null, after: null, killed: false, pausedUntil: null, cause: null }, actions: [{ do: 'spawn' }] };
}

/** Why a restart on SIGUSR1 ended the service, in its end's sentence. */
export const RESTART_CAUSE = 'restarted by SIGUSR1 to the supervisor (--restart)';

/** Why a stop ended the service: --stop sends SIGTERM; Ctrl-C in the foreground, SIGINT. */
export function stopCause(signal: NodeJS.Signals): string {
  return `stopped by ${signal} to the supervisor${signal === 'SIGTERM' ? ' (--stop)' : ''}`;
}

/**
 * Waits for the service (if alive) and everything else we started to be gone; --stop-signal goes out now.
 * `cause`: why the service is told to go, for its end's sentence (a restart, a probe: "memory limit ...").
 */
function enterDraining(context: Readonly<Context>, after: After, now: number, settings: MachineSettings,
  signal: NodeJS.Signals = stopSignal(settings), cause: string | null = null): Step {
  const term: Action[] = context.child !== null ? toService(context, signal, signal === stopSignal(settings)) : [{ do: 'signal-all', signal: 'SIGTERM' }];
  return {
    context: { ...context, state: 'draining', after, killed: false, deadline: now + settings.stopTimeout * 1000, pausedUntil: null, cause },
    actions: [...term, { do: 'check-empty' }],
  };
}

/**
 * The stop: the signals, then `line` (after them: the program hears of its stop without waiting for the
 * line's write), then a look at what is left. `cause`: why the service is told to go, for its end's
 * sentence (stopCause(signal) for a stop).
 */
function enterStopping(context: Readonly<Context>, now: number, settings: MachineSettings, cause: string, line: string): Step {
  // Already SIGKILLed (stopped while draining past its deadline): keep killing, no new grace period.
  const deadline = now + (context.killed ? KILL_AGAIN_MS : settings.stopTimeout * 1000);
  const term: Action[] = context.child !== null ? toService(context, stopSignal(settings), true) : [{ do: 'signal-all', signal: 'SIGTERM' }];
  term.push(...[...(context.old !== null ? [context.old.pid] : []), ...context.retiring.map((r) => r.pid)]
    .map((pid): Action => ({ do: 'signal', pid, group: true, signal: stopSignal(settings) })));
  // The old child and the replaced ones go too, and each end is told when it is reaped; the stop's own
  // deadline (SIGKILL to everything left) is theirs now.
  const retiring: Retiring[] = [
    ...(context.old !== null ? [{ pid: context.old.pid, started: context.old.started, cause, next: 'stopping', until: null, killed: false }] : []),
    ...context.retiring.map((r) => ({ ...r, until: null })),
  ];
  return {
    context: { ...context, state: 'stopping', old: null, retiring, after: null, deadline, pausedUntil: null, cause },
    actions: [...(context.state === 'draining' ? [] : term), log(line), { do: 'check-empty' }],
  };
}

function finish(context: Readonly<Context>, code: number, error?: unknown): Step {
  return {
    context: { ...context, state: 'finished', child: null, deadline: null, after: null, pausedUntil: null },
    actions: [{ do: 'finish', code, error }],
  };
}

function decisionText(decision: RestartDecision, settings: MachineSettings): string {
  const of = `${decision.failures} of ${settings.policy.attempts}`;
  switch (decision.action) {
    case 'restart':
      return decision.failures === 0 ? 'restarting' : `restarting (failure ${of})`;
    case 'pause': {
      const limit = settings.policy.limit > 0 ? ` of ${settings.policy.limit}` : '';
      return `failure ${of}: pausing ${decision.seconds} s before restarting (pause ${decision.pause}${limit})`;
    }
    case 'give-up':
      return `failure ${of} after ${decision.pauses} pauses: giving up`;
  }
}

/** Carries out a restart decision once nothing of the last child is left. */
function apply(context: Readonly<Context>, decision: RestartDecision, now: number): Step {
  switch (decision.action) {
    case 'restart':
      return enterStarting(context);
    case 'pause': {
      const until = now + decision.seconds * 1000;
      return { context: { ...context, state: 'paused', deadline: until, pausedUntil: until, after: null, killed: false }, actions: [] };
    }
    case 'give-up':
      return finish(context, 1);
  }
}

/** The facts of the service's end, for the `ended` action (its sentence is child-end.ts's). */
function childEnd(context: Readonly<Context>, event: ExitEvent, ran: number, settings: MachineSettings, next: string): ChildEnd {
  const killedByUs = context.killed && event.signal === 9;
  const cause = context.cause === null ? null
    : killedByUs ? `${context.cause}, then SIGKILL when --stop-timeout (${settings.stopTimeout} s) was up` : context.cause;
  return {
    label: settings.label, pid: event.pid, code: event.code, signal: event.signal, core: event.core === true, known: event.known,
    uptime: ran, cause, killedBySupervisor: context.killed, next, restarts: context.restarts,
  };
}

/** How to keep a program that forks away a direct child, for the few that say so. */
function stayInForeground(label: string): string {
  switch (label) {
    case 'nginx': return "nginx's `daemon off;` gives a direct child";
    case 'gunicorn': return 'gunicorn without --daemon gives a direct child';
    case 'redis-server': return 'redis-server with `daemonize no` gives a direct child';
    default: return `${label} run in the foreground (its own option for that) gives a direct child`;
  }
}


/** The service ended while it was wanted (starting or running): follow what it forked away as, or decide. */
function serviceEnded(context: Readonly<Context>, event: ExitEvent, now: number, settings: MachineSettings): Step {
  if (event.pid !== context.child) return { context, actions: [] };
  // Type=forking: a program that exits 0 leaving a process behind has daemonized itself; that process is
  // the service now (the one --child-pidfile names, else the oldest it left).
  const heir = event.code === 0 ? (event.named ?? event.heirs[0] ?? null) : null;
  if (heir !== null) {
    const how = event.named !== null ? ` (named by its pidfile)` : '';
    return {
      context: { ...context, state: 'running', child: heir, direct: false },
      actions: [log(`${settings.label} (pid ${event.pid}) forked away as pid ${heir}${how}; following it; ${stayInForeground(settings.label)}`),
        { do: 'follow', pid: heir }],
    };
  }
  const ran = context.childStarted === null ? 0 : (now - context.childStarted) / 1000;
  const { decision, counts } = decideRestart(settings.policy, context.counts, ran);
  const gone = { ...context, child: null, childStarted: null, counts };
  // Logged now, at the crash: the leftovers' drain may take --stop-timeout.
  const step = enterDraining(gone, { kind: 'decision', decision }, now, settings);
  return { context: step.context, actions: [{ do: 'ended', end: childEnd(context, event, ran, settings, decisionText(decision, settings)) }, ...step.actions] };
}

/** The service ended while being replaced or stopped: log it at once, then TERM what it left. */
function serviceGone(context: Readonly<Context>, event: ExitEvent, now: number, settings: MachineSettings, then: string): Step {
  if (event.pid !== context.child) return { context, actions: [] };
  const ran = context.childStarted === null ? 0 : (now - context.childStarted) / 1000;
  return {
    context: { ...context, child: null, childStarted: null, direct: true },
    actions: [{ do: 'ended', end: childEnd(context, event, ran, settings, then) }, { do: 'signal-all', signal: 'SIGTERM' }, { do: 'check-empty' }],
  };
}

const killLeft: Handler = (context, _event, now, settings) => {
  const what = context.child !== null ? `${settings.label} (pid ${context.child})` : `processes ${settings.label} left`;
  return {
    context: { ...context, killed: true, deadline: now + KILL_AGAIN_MS },
    actions: [
      ...(context.killed ? [] : [log(`${what} still running after ${settings.stopTimeout} s: sending SIGKILL`)]),
      { do: 'signal-all', signal: 'SIGKILL' }, { do: 'check-empty' },
    ],
  };
};

const signalName = (event: { signal: NodeJS.Signals }): string => event.signal;

// ---- readiness (--ready notify|tcp:...) ----

/** A child started and must say it is ready: it stays `starting`, with --ready-timeout as the deadline. */
function waitForReady(context: Readonly<Context>, pid: number, restarts: number, now: number, settings: MachineSettings): Step {
  const seconds = settings.readyTimeout ?? 60;
  return {
    context: { ...context, state: 'starting', child: pid, direct: true, childStarted: now, restarts, deadline: now + seconds * 1000 },
    actions: [log(`started ${settings.label} (pid ${pid}); waiting up to ${seconds} s for it to be ready`)],
  };
}

/** The first child will never be ready: stop what it started, then end with exit 4 and `reason`. */
function neverReady(context: Readonly<Context>, reason: string, now: number, settings: MachineSettings, childGone: boolean): Step {
  const gone = childGone ? { ...context, child: null, childStarted: null } : context;
  return enterStopping({ ...gone, notReady: reason }, now, settings, `not ready within ${settings.readyTimeout ?? 60} s (--ready-timeout)`, reason);
}

/** An exit while starting: a replaced child, the new child of an overlapping restart, the first, or a later one. */
function startingExit(context: Readonly<Context>, event: ExitEvent, now: number, settings: MachineSettings): Step {
  if (event.pid !== context.child) return replacedExited(context, event, now, settings);
  const ran = context.childStarted === null ? 0 : (now - context.childStarted) / 1000;
  const reason = `${settings.label} (pid ${event.pid}) ${endHow(childEnd(context, event, ran, settings, ''))} after ${describeDuration(ran)} before it was ready`;
  if (context.old !== null) {
    // Its end is told like any other (its last words, lastExit, --on-exit); --restart hears the reason.
    const end: ChildEnd = { ...childEnd(context, event, ran, settings, `pid ${context.old.pid} goes on serving`), beforeReady: true };
    return overlapFailed(context, { attempt: context.overlaps, message: reason, pid: event.pid }, [{ do: 'ended', end }]);
  }
  if (context.first) return neverReady(context, reason, now, settings, true);
  return serviceEnded(context, event, now, settings);
}

/** --ready-timeout passed: the first child is stopped (exit 4); a later one counts as a failed start. */
function readyTimedOut(context: Readonly<Context>, now: number, settings: MachineSettings): Step {
  const reason = `${settings.label} (pid ${context.child}) was not ready within ${settings.readyTimeout ?? 60} s`;
  if (context.first) return neverReady(context, reason, now, settings, false);
  const { decision, counts } = decideRestart(settings.policy, context.counts, 0);
  const step = enterDraining({ ...context, counts }, { kind: 'decision', decision }, now, settings);
  return { context: step.context, actions: [log(`${reason}; ${decisionText(decision, settings)}`), ...step.actions] };
}

/** A restart on request without held sockets is over: how long nothing served. */
function upAgain(context: Readonly<Context>, now: number): Partial<Context> {
  return context.downSince === null ? {} : { downSince: null, lastDowntime: (now - context.downSince) / 1000 };
}

function downtimeWords(context: Readonly<Context>, now: number): string {
  return context.downSince === null ? '' : `; the service was down ${describeDuration((now - context.downSince) / 1000)} (no --listen)`;
}

// ---- overlapping restarts (--listen): the old child serves until the new one is ready ----

function retiringDeadline(retiring: readonly Retiring[]): number | null {
  const pending = retiring.flatMap((r) => (r.until === null ? [] : [r.until]));
  return pending.length === 0 ? null : Math.min(...pending);
}

/**
 * A restart with held sockets: start the new child now, beside the old one. `why` begins the log line;
 * `cause` is what the old child's end will say made it go.
 */
function beginOverlap(context: Readonly<Context>, settings: MachineSettings, why = 'SIGUSR1 received', cause = RESTART_CAUSE): Step {
  return {
    context: { ...context, state: 'starting', old: { pid: context.child as number, started: context.childStarted, cause }, child: null,
      childStarted: null, deadline: null, overlaps: context.overlaps + 1, lastDowntime: null },
    actions: [log(`${why}: starting a new ${settings.label} beside pid ${context.child}, which serves until it is ready`), { do: 'spawn' }],
  };
}

/** The new child is ready: the old one is told to stop, and has --stop-timeout to finish its requests. */
function replaced(context: Readonly<Context>, now: number, settings: MachineSettings): Step {
  const old = context.old as NonNullable<Context['old']>;
  const retiring: Retiring[] = [...context.retiring, {
    pid: old.pid, started: old.started, cause: old.cause, next: `replaced by pid ${context.child}`, until: now + settings.stopTimeout * 1000, killed: false,
  }];
  const ran = context.childStarted === null ? 0 : (now - context.childStarted) / 1000;
  return {
    context: { ...context, state: 'running', old: null, retiring, deadline: retiringDeadline(retiring), first: false },
    actions: [log(`${settings.label} (pid ${context.child}) is ready after ${describeDuration(ran)}: stopping pid ${old.pid} with ${stopSignal(settings)}`),
      { do: 'signal', pid: old.pid, group: true, signal: stopSignal(settings) }, { do: 'ready', pid: context.child as number, first: false }],
  };
}

/** The new child failed before it was ready: the old one goes on serving, and --restart hears why. */
function overlapFailed(context: Readonly<Context>, failure: OverlapFailure, actions: Action[], retiring = context.retiring): Step {
  const old = context.old as NonNullable<Context['old']>;
  return {
    context: { ...context, state: 'running', child: old.pid, childStarted: old.started, direct: true, old: null, retiring,
      deadline: retiringDeadline(retiring), overlapFailure: failure },
    actions,
  };
}

/** The new child was not ready in time: SIGKILLed, and its end, when it is reaped, told like any other. */
function overlapTimedOut(context: Readonly<Context>, settings: MachineSettings): Step {
  const old = context.old as NonNullable<Context['old']>;
  const child = context.child as number;
  const seconds = settings.readyTimeout ?? 60;
  const message = `${settings.label} (pid ${child}) was not ready within ${seconds} s`;
  const retiring: Retiring[] = [...context.retiring, {
    pid: child, started: context.childStarted, cause: `not ready within ${seconds} s (--ready-timeout)`,
    next: `pid ${old.pid} goes on serving`, until: null, killed: true,
  }];
  return overlapFailed(context, { attempt: context.overlaps, message, pid: child },
    [log(`${message}; pid ${old.pid} goes on serving`), { do: 'signal', pid: child, group: true, signal: 'SIGKILL' }], retiring);
}

/** A child told to go while another serves, or the old one while its successor starts, ended: its end, told. */
function replacedExited(context: Readonly<Context>, event: ExitEvent, now: number, settings: MachineSettings): Step {
  const entry = context.retiring.find((r) => r.pid === event.pid);
  const old = context.old?.pid === event.pid ? context.old : null;
  if (entry === undefined && old === null) return { context, actions: [] };
  const retiring = context.retiring.filter((r) => r.pid !== event.pid);
  const started = entry?.started ?? old?.started ?? null;
  const successor = context.child === null ? 'its successor' : `its successor (pid ${context.child})`;
  // Killed with everything left by a stop (or drain) past its deadline, not by its own deadline.
  const killedLate = entry !== undefined && !entry.killed && context.killed && event.signal === 9;
  const end: ChildEnd = {
    label: settings.label, pid: event.pid, code: event.code, signal: event.signal, core: event.core === true, known: event.known,
    uptime: started === null ? 0 : (now - started) / 1000,
    // The old child that ended on its own, while its successor was starting, was told nothing by us.
    cause: entry === undefined ? null : killedLate ? `${entry.cause}, then SIGKILL when --stop-timeout (${settings.stopTimeout} s) was up` : entry.cause,
    killedBySupervisor: (entry?.killed ?? false) || killedLate,
    next: entry?.next ?? `${successor} is starting`,
    restarts: context.restarts,
  };
  return {
    context: { ...context, retiring, old: old !== null ? null : context.old,
      deadline: context.state === 'running' ? retiringDeadline(retiring) : context.deadline },
    actions: [{ do: 'ended', end }],
  };
}

/** Replaced children past --stop-timeout: SIGKILL to their process groups. */
const killRetiring: Handler = (context, _event, now, settings) => {
  const late = context.retiring.filter((r) => r.until !== null && r.until <= now);
  if (late.length === 0) return { context, actions: [] };
  const waited = `when --stop-timeout (${settings.stopTimeout} s) was up`;
  // Kept until reaped, for their end's sentence; no deadline of theirs is left.
  const retiring = context.retiring.map((r) => (late.includes(r) ? { ...r, until: null, killed: true, cause: `${r.cause}, then SIGKILL ${waited}` } : r));
  return {
    context: { ...context, retiring, deadline: retiringDeadline(retiring) },
    actions: late.flatMap((r): Action[] => [log(`replaced ${settings.label} (pid ${r.pid}) still running after ${settings.stopTimeout} s: sending SIGKILL`),
      { do: 'signal', pid: r.pid, group: true, signal: 'SIGKILL' }]),
  };
};

// ---- the probes' cells (probes.ts posts `watchdog` and `unhealthy` only while the service runs) ----

/**
 * A failing health check or a tree over --max-memory: the same graceful restart as USR1 (the stop signal,
 * --stop-timeout, SIGKILL), not counted as a crash. The reason (with the check's output or the figure)
 * goes in the log.
 */
const replaceUnhealthy: Handler<{ type: 'unhealthy'; reason: string; detail?: string }> = (context, event, now, settings) => {
  const what = `${settings.label} (pid ${context.child}) ${event.reason}`;
  const detail = event.detail === undefined ? '' : `; ${event.detail}`;
  // With held sockets, as USR1: the new copy starts beside it, which serves until that one is ready.
  if (settings.overlap && context.direct && context.child !== null) {
    return beginOverlap(context, settings, `${what}${detail}`, `restarted: ${event.reason}`);
  }
  const step = enterDraining(context, { kind: 'restart', why: 'restarting' }, now, settings, stopSignal(settings), `restarted: ${event.reason}`);
  return { context: step.context, actions: [log(`${what}: restarting it${detail}`), ...step.actions] };
};

// ---- the table ----

type Row = { [E in EventType]: Handler<Extract<MachineEvent, { type: E }>> };

export const TABLE: { [S in StateName]: Row } = {
  starting: {
    spawned: (context, event, now, settings) => {
      const restarts = context.first ? context.restarts : context.restarts + 1;
      // A new child has not been told to go by anyone.
      if (settings.readiness === 'wait') return waitForReady({ ...context, cause: null }, event.pid, restarts, now, settings);
      // With readiness 'exec' a child that exec'd is running.
      const running: Context = { ...context, state: 'running', child: event.pid, direct: true, childStarted: now, first: false, cause: null, restarts,
        deadline: null, ...upAgain(context, now) };
      const started = log(`started ${settings.label} (pid ${event.pid})${downtimeWords(context, now)}`);
      // With --listen, the child it replaces served until this exec, its readiness: now it is told to go.
      if (context.old !== null) {
        const step = replaced(running, now, settings);
        return { context: step.context, actions: [started, ...step.actions] };
      }
      return { context: running, actions: [started, { do: 'ready', pid: event.pid, first: context.first }] };
    },
    'spawn-failed': (context, event, now, settings) => {
      if (context.first) return finish(context, 1, event.error);
      const { decision, counts } = decideRestart(settings.policy, context.counts, 0, true);
      const step = apply({ ...context, counts }, decision, now);
      return { context: step.context, actions: [log(`unable to start ${settings.label}: ${event.message}; ${decisionText(decision, settings)}`), ...step.actions] };
    },
    exit: startingExit,
    empty: nothing,
    deadline: (context, _event, now, settings) => (context.child === null ? { context, actions: [] }
      : context.old !== null ? overlapTimedOut(context, settings)
      : readyTimedOut(context, now, settings)),
    stop: (context, event, now, settings) => {
      if (context.child === null) return finish(context, 0);
      return enterStopping(context, now, settings, stopCause(event.signal), `${signalName(event)} received: stopping ${settings.label} (pid ${context.child})`);
    },
    hup: reopenAndForward,
    restart: (context, _event, now, settings) => (context.old !== null
      ? { context, actions: [log(`SIGUSR1 ignored: ${settings.label} (pid ${context.child}) is already replacing pid ${context.old.pid}`)] }
      : context.child !== null
        ? enterDraining(context, { kind: 'restart', why: 'restarting' }, now, settings, stopSignal(settings), RESTART_CAUSE) : { context, actions: [] }),
    forward,
    pidfile: nothing,
    ready: (context, _event, now, settings) => (context.child === null ? { context, actions: [] } : context.old !== null ? replaced(context, now, settings) : {
      context: { ...context, state: 'running', deadline: retiringDeadline(context.retiring), first: false, ...upAgain(context, now) },
      actions: [log(`${settings.label} (pid ${context.child}) is ready after ${describeDuration(context.childStarted === null ? 0 : (now - context.childStarted) / 1000)}${downtimeWords(context, now)}`),
        { do: 'ready', pid: context.child, first: context.first }],
    }),
    watchdog: nothing,
    unhealthy: nothing,
    // EXTEND_TIMEOUT_USEC=: a child still starting asks for more time (a long migration), as systemd allows.
    notify: (context, event, now, settings) => {
      const usec = Number(event.fields.EXTEND_TIMEOUT_USEC);
      if (context.child === null || context.deadline === null || !Number.isFinite(usec) || usec <= 0) return { context, actions: [] };
      const until = now + Math.min(usec / 1000, 2 ** 31 - 1);
      if (until <= context.deadline) return { context, actions: [] };
      return { context: { ...context, deadline: until }, actions: [log(`${settings.label} (pid ${context.child}) asked for ${describeDuration(usec / 1e6)} more to be ready`)] };
    },
  },

  running: {
    spawned: killStray,
    'spawn-failed': nothing,
    exit: (context, event, now, settings) => (context.retiring.some((r) => r.pid === event.pid)
      ? replacedExited(context, event, now, settings) : serviceEnded(context, event, now, settings)),
    empty: nothing,
    deadline: killRetiring,
    stop: (context, event, now, settings) => {
      return enterStopping(context, now, settings, stopCause(event.signal), `${signalName(event)} received: stopping ${settings.label} (pid ${context.child})`);
    },
    hup: reopenAndForward,
    restart: (context, _event, now, settings) => {
      if (settings.overlap && context.direct && context.child !== null) return beginOverlap(context, settings);
      const step = enterDraining({ ...context, downSince: now }, { kind: 'restart', why: 'restarting' }, now, settings, stopSignal(settings), RESTART_CAUSE);
      return { context: step.context, actions: [log(`SIGUSR1 received: restarting ${settings.label} (pid ${context.child})`), ...step.actions] };
    },
    forward,
    pidfile: (context, event, _now, settings) => (event.pid === context.child || context.direct ? { context, actions: [] } : {
      context: { ...context, child: event.pid },
      actions: [log(`${settings.label}'s pidfile names pid ${event.pid}: following it instead of pid ${context.child}`), { do: 'follow', pid: event.pid }],
    }),
    ready: nothing,
    watchdog: (context, event, now, settings) => {
      const step = enterDraining(context, { kind: 'restart', why: 'restarting' }, now, settings, 'SIGABRT', `restarted: ${event.reason}`);
      return { context: step.context, actions: [log(`${settings.label} (pid ${context.child}) ${event.reason}: sending SIGABRT`), ...step.actions] };
    },
    unhealthy: replaceUnhealthy,
    notify: nothing,
  },

  draining: {
    spawned: killStray,
    'spawn-failed': nothing,
    exit: (context, event, now, settings) => (context.retiring.some((r) => r.pid === event.pid)
      ? replacedExited(context, event, now, settings)
      : serviceGone(context, event, now, settings, context.after?.kind === 'restart' ? context.after.why : 'waiting for what it left')),
    empty: (context, _event, now) => {
      if (context.child !== null || context.after === null) return { context, actions: [] };
      return context.after.kind === 'restart' ? enterStarting(context) : apply(context, context.after.decision, now);
    },
    deadline: killLeft,
    stop: (context, event, now, settings) => {
      return enterStopping(context, now, settings, stopCause(event.signal), `${signalName(event)} received: stopping once the processes ${settings.label} left are gone`);
    },
    hup: reopenAndForward,
    // The one start happens when the drain ends: starting now would put two copies side by side.
    restart: (context, _event, _now, settings) => (context.after?.kind === 'restart' ? { context, actions: [] } : {
      context: { ...context, after: { kind: 'restart', why: 'restarting' } },
      actions: [log(`SIGUSR1 received: restarting ${settings.label} once the processes it left are gone`)],
    }),
    forward,
    pidfile: nothing,
    ready: nothing,
    watchdog: nothing,
    unhealthy: nothing,
    notify: nothing,
  },

  paused: {
    spawned: killStray,
    'spawn-failed': nothing,
    exit: nothing,
    empty: nothing,
    deadline: (context, _event, _now, settings) => {
      const step = enterStarting(context);
      return { context: step.context, actions: [log(`pause over: starting ${settings.label}`), ...step.actions] };
    },
    stop: (context, event, now, settings) => {
      return enterStopping(context, now, settings, stopCause(event.signal), `${signalName(event)} received while paused: stopping`);
    },
    hup: reopenOnly,
    restart: (context, _event, _now, settings) => {
      const step = enterStarting(context);
      return { context: step.context, actions: [log(`SIGUSR1 received: ending the pause, starting ${settings.label} now`), ...step.actions] };
    },
    forward: nothing,
    pidfile: nothing,
    ready: nothing,
    watchdog: nothing,
    unhealthy: nothing,
    notify: nothing,
  },

  stopping: {
    spawned: killStray,
    'spawn-failed': nothing,
    exit: (context, event, now, settings) => (context.retiring.some((r) => r.pid === event.pid)
      ? replacedExited(context, event, now, settings) : serviceGone(context, event, now, settings, 'stopping')),
    empty: (context) => (context.child !== null ? { context, actions: [] }
      : context.notReady !== null ? finish(context, ExitCode.NOT_READY, new DaemonizeError(context.notReady, ExitCode.NOT_READY))
      : finish(context, 0)),
    deadline: killLeft,
    stop: nothing,
    // A program being stopped is not asked to reload; the log still rotates.
    hup: reopenOnly,
    restart: (context, _event, _now, settings) => ({ context, actions: [log(`SIGUSR1 ignored: ${settings.label} is stopping`)] }),
    forward,
    pidfile: nothing,
    ready: nothing,
    watchdog: nothing,
    unhealthy: nothing,
    notify: nothing,
  },

  finished: {
    spawned: killStray,
    'spawn-failed': nothing,
    exit: nothing,
    empty: nothing,
    deadline: nothing,
    stop: nothing,
    hup: nothing,
    restart: nothing,
    forward: nothing,
    pidfile: nothing,
    ready: nothing,
    watchdog: nothing,
    unhealthy: nothing,
    notify: nothing,
  },
};

/** One step of the machine: the cell for (state, event). */
export function step(context: Readonly<Context>, event: MachineEvent, now: number, settings: MachineSettings): Step {
  const handler = TABLE[context.state][event.type] as Handler;
  return handler(context, event, now, settings);
}
