// Drives the state machine (machine.ts): one queue of events, consumed one at a time; the actions of each
// step carried out against a World (real processes in run.ts, fakes in the unit tests); the one deadline
// of the current state armed, and cancelled when the state is left. Nothing here decides anything: every
// choice is a cell of the table. The sensors (reaped children, a followed process's life, the tree
// emptying) only post events.
import { endSentence, type ChildEnd } from './child-end';
import {
  BEGIN, initialContext, step, type Action, type Context, type MachineEvent, type MachineSettings, type StateName,
} from './machine';

export interface SupervisorWorld {
  /** Starts the program in a new process group (pgid = pid); returns its pid, or throws a DaemonizeError. */
  spawnChild(): number;
  /** kill(2): a negative pid names a process group. Never throws for a process that is already gone. */
  kill(pid: number, signal: NodeJS.Signals): void;
  /** Every live (non-zombie) process descended from the supervisor. */
  descendants(): number[];
  /** Live processes whose parent is the supervisor (orphans reparented to it), oldest first. */
  heirs(): number[];
  /** The pid --child-pidfile names, when there is one and it is a live descendant; else null. */
  namedChild(): number | null;
  /** Something that tells this process from a later one with the same pid (its start time), or null if gone. */
  identify(pid: number): string | null;
  /** True when `pid` (as identified) is gone and no exit status for it will reach the supervisor. */
  endedElsewhere(pid: number, identity: string | null): boolean;
  now(): number;
  setTimer(callback: () => void, ms: number): unknown;
  clearTimer(timer: unknown): void;
  log(line: string): void;
  /**
   * A child ended. A world that knows more (OOM evidence, its last words, --on-exit) says it all, and
   * returns its last words; without this, the sentence is logged as the machine has it.
   */
  ended?(end: ChildEnd): readonly string[];
  /** Reopens the supervisor's own log; must not throw (a failure is a warning in the old log). */
  reopenLog(): void;
  /** The state changed: write the status record. */
  status(record: SupervisorStatus): void;
  /** Ends the supervisor: called once, after everything it started is gone. */
  finish(exitCode: number, error?: unknown): void;
  /** The service is ready (--ready); `first`: the first child, whose launcher waits to hear. */
  ready?(pid: number, first: boolean): void;
  /** After every step: the probes (probes.ts) start, keep or stop watching the service. */
  stepped?(context: Readonly<Context>): void;
}

/** The part of the status record the machine knows (run.ts adds the supervisor's pid, start and log). */
export interface SupervisorStatus {
  state: Exclude<StateName, 'finished'>;
  child: number | null;
  /** True when `child` is a process the program forked away as, followed rather than started. */
  followed: boolean;
  childStarted: number | null;
  restarts: number;
  failures: number;
  pausedUntil: number | null;
  stopTimeout: number;
  /** Seconds a new child has to be ready (--ready-timeout; 0 with --ready exec): --restart waits that long too. */
  readyTimeout: number;
  /** Overlapping restarts (--listen) begun, and the last that failed: --restart tells its caller why, and what the new child last wrote. */
  overlaps: number;
  overlapFailure: { attempt: number; message: string; stderrTail: readonly string[] } | null;
  /** How long the last restart without held sockets left no child serving, in seconds. */
  lastDowntime: number | null;
}

/** Node timers hold at most this (24.8 days); longer deadlines are reached in several hops. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** How often the sensors look at a tree that should be emptying (a stop waits on it). */
export const DRAIN_SENSOR_MS = 100;
/** How often they look at a followed process (usually reparented to us, so waitpid reports its end anyway). */
export const FOLLOW_SENSOR_MS = 1000;

export class SupervisorDriver {
  private context: Context = initialContext();
  private readonly queue: MachineEvent[] = [];
  private busy = false;
  private deadlineTimer: unknown = null;
  private sensorTimer: unknown = null;
  /** A followed process; `confirmed` once --child-pidfile named it (no need to read that file again). */
  private followed: { pid: number; identity: string | null; confirmed: boolean } | null = null;
  private lastStatus = '';
  private failure: { error: unknown } | null = null;
  /** True while start() runs: a failure then is thrown to its caller, not passed to world.finish. */
  private starting = false;
  private readyNews: { pid: number; first: boolean }[] = [];
  /** The last words of the new child of the last overlapping restart that failed, once its end is told. */
  private failedWords: { pid: number; words: readonly string[] } | null = null;
  /** An end was told since the record was last written: the world's part of it (lastExit) changed. */
  private endTold = false;

  constructor(private readonly world: SupervisorWorld, private readonly settings: MachineSettings) {}

  /** Starts the first child and returns its pid; throws what kept it from starting (nothing is retried). */
  start(): number {
    this.starting = true;
    try {
      this.run(BEGIN);
      this.drain();
    } finally {
      this.starting = false;
    }
    if (this.failure !== null) throw this.failure.error;
    return this.context.child as number;
  }

  /**
   * Runs the machine's stop on a copy of the present and acts on nothing: V8 compiles a function at its
   * first call, and --stop would otherwise wait for that (about a millisecond here) in the cells of the
   * stop, the end of the child and the empty tree. step() is pure: nothing of this driver changes.
   */
  rehearseStop(): void {
    const now = Date.now();
    const stop = step(this.context, { type: 'stop', signal: 'SIGTERM' }, now, this.settings);
    const pid = this.context.child ?? 0;
    const exit = step(stop.context, { type: 'exit', pid, code: null, signal: 15, known: true, heirs: [], named: null }, now, this.settings);
    const empty = step(exit.context, { type: 'empty' }, now, this.settings);
    for (const action of [...stop.actions, ...exit.actions, ...empty.actions]) {
      if (action.do === 'ended') endSentence(action.end);
    }
  }

  /** A signal reached the supervisor. */
  signal(name: NodeJS.Signals): void {
    switch (name) {
      case 'SIGTERM':
      case 'SIGINT':
        return this.post({ type: 'stop', signal: name });
      case 'SIGHUP':
        return this.post({ type: 'hup' });
      case 'SIGUSR1':
        return this.post({ type: 'restart' });
      default:
        return this.post({ type: 'forward', signal: name });
    }
  }

  /** waitpid reported `pid`. The survivors are looked at now, while the picture is the one at its exit. */
  reaped(pid: number, code: number | null, signal: number | null, core = false): void {
    // Heirs matter only to a service that exits 0 while wanted (it may have forked away); a stopping
    // supervisor never goes back to wanting it. Each look is a read of the whole process table.
    const service = pid === this.context.child && code === 0 && this.context.state !== 'stopping';
    this.post({
      type: 'exit', pid, code, signal, core, known: true,
      heirs: service ? this.world.heirs().filter((heir) => heir !== pid) : [],
      named: service ? this.world.namedChild() : null,
    });
  }

  /** After a batch of reaps: a tree may have emptied. */
  reapedAll(): void {
    if (this.waitsForEmpty()) this.checkEmpty();
    this.drain();
  }

  post(event: MachineEvent): void {
    this.queue.push(event);
    this.drain();
  }

  /** The machine's state, for tests and the status record. */
  get state(): Readonly<Context> {
    return this.context;
  }

  statusRecord(): SupervisorStatus | null {
    const c = this.context;
    if (c.state === 'finished') return null;
    return {
      state: c.state, child: c.child, followed: c.child !== null && !c.direct, childStarted: c.childStarted,
      restarts: c.restarts, failures: c.counts.inRow, pausedUntil: c.pausedUntil, stopTimeout: this.settings.stopTimeout,
      readyTimeout: this.settings.readiness === 'wait' ? this.settings.readyTimeout ?? 60 : 0,
      overlaps: c.overlaps, overlapFailure: this.overlapFailure(), lastDowntime: c.lastDowntime,
    };
  }

  private overlapFailure(): SupervisorStatus['overlapFailure'] {
    const failure = this.context.overlapFailure;
    if (failure === null) return null;
    const words = this.failedWords?.pid === failure.pid ? this.failedWords.words : [];
    return { attempt: failure.attempt, message: failure.message, stderrTail: words };
  }

  private drain(): void {
    if (this.busy) return;
    this.busy = true;
    try {
      for (let event = this.queue.shift(); event !== undefined; event = this.queue.shift()) {
        if (this.context.state === 'finished' && event.type !== 'spawned') continue;
        const before = this.context;
        const next = step(before, event, this.world.now(), this.settings);
        this.context = next.context;
        this.run(next.actions);
        this.armDeadline(before);
        this.tendSensors();
        this.publish();
        for (const news of this.readyNews.splice(0)) this.world.ready?.(news.pid, news.first);
        this.world.stepped?.(this.context);
      }
    } finally {
      this.busy = false;
    }
  }

  private run(actions: readonly Action[]): void {
    // What signal-all found, for a check-empty in the same step: one step acts on one picture of the tree,
    // and each look is a read of the whole process table.
    let looked: number[] | null = null;
    for (const action of actions) {
      switch (action.do) {
        case 'spawn':
          // Answered before anything else in the queue: a stop queued behind it then finds the child.
          try {
            this.queue.unshift({ type: 'spawned', pid: this.world.spawnChild() });
          } catch (error) {
            this.queue.unshift({ type: 'spawn-failed', error, message: error instanceof Error ? error.message : String(error) });
          }
          break;
        case 'signal':
          this.world.kill(action.group ? -action.pid : action.pid, action.signal);
          break;
        case 'signal-all':
          looked = this.world.descendants();
          for (const pid of looked) this.world.kill(pid, action.signal);
          break;
        case 'check-empty':
          this.checkEmpty(looked ?? undefined);
          break;
        case 'follow':
          this.followed = { pid: action.pid, identity: this.world.identify(action.pid), confirmed: false };
          break;
        case 'ready':
          // Told after the status record is written (publish): a launcher that returns on it finds the record.
          this.readyNews.push(action);
          break;
        case 'log':
          this.world.log(action.line);
          break;
        case 'ended':
          this.endTold = true;
          if (this.world.ended !== undefined) {
            const words = this.world.ended(action.end);
            // The step that set the failure is already the context: its end may come with it, or later (a SIGKILL).
            if (this.context.overlapFailure?.pid === action.end.pid) this.failedWords = { pid: action.end.pid, words };
          } else {
            this.world.log(endSentence(action.end));
          }
          break;
        case 'reopen-log':
          this.world.reopenLog();
          break;
        case 'finish':
          this.stopTimers();
          if (action.error !== undefined && this.starting) {
            this.failure = { error: action.error };
          } else if (action.error !== undefined) {
            this.world.log('stopped: never ready');
            this.world.finish(action.code, action.error);
          } else {
            this.world.log(action.code === 0 ? 'stopped' : 'gave up');
            this.world.finish(action.code);
          }
          break;
      }
    }
  }

  /** Posts `empty` when nothing is left: `left` is what this step already found, if it looked. */
  private checkEmpty(left?: number[]): void {
    // A direct child not yet reaped is there (alive, or a zombie the scan would count): no need to look.
    if (left === undefined && this.context.child !== null && this.context.direct) return;
    if ((left ?? this.world.descendants()).length === 0 && !this.queue.some((event) => event.type === 'empty')) {
      this.queue.unshift({ type: 'empty' });
    }
  }

  private waitsForEmpty(): boolean {
    return this.context.state === 'draining' || this.context.state === 'stopping';
  }

  /** Each state owns at most one deadline: a new state or a new deadline replaces the timer. */
  private armDeadline(before: Readonly<Context>): void {
    const { state, deadline } = this.context;
    if (state === before.state && deadline === before.deadline) return;
    if (this.deadlineTimer !== null) this.world.clearTimer(this.deadlineTimer);
    this.deadlineTimer = null;
    if (deadline === null) return;
    const hop = (): void => {
      const left = deadline - this.world.now();
      this.deadlineTimer = this.world.setTimer(() => {
        this.deadlineTimer = null;
        if (this.world.now() < deadline) hop();
        else this.post({ type: 'deadline' });
      }, Math.min(Math.max(left, 0), MAX_TIMER_MS));
    };
    hop();
  }

  /** Polling runs only while something can be seen only by looking: a followed process, an emptying tree. */
  private tendSensors(): void {
    const c = this.context;
    if (this.followed !== null && (c.child !== this.followed.pid || c.direct)) this.followed = null;
    const wanted = this.followed !== null || this.waitsForEmpty();
    if (wanted && this.sensorTimer === null) {
      this.sensorTimer = this.world.setTimer(() => this.sense(), this.waitsForEmpty() ? DRAIN_SENSOR_MS : FOLLOW_SENSOR_MS);
    } else if (!wanted && this.sensorTimer !== null) {
      this.world.clearTimer(this.sensorTimer);
      this.sensorTimer = null;
    }
  }

  private sense(): void {
    this.sensorTimer = null;
    const followed = this.followed;
    if (followed !== null && this.world.endedElsewhere(followed.pid, followed.identity)) {
      this.queue.push({ type: 'exit', pid: followed.pid, code: null, signal: null, known: false,
        heirs: this.world.heirs(), named: this.world.namedChild() });
    } else if (followed !== null && !followed.confirmed) {
      // The program may write its pidfile after it forked away: look until it names the process followed.
      const named = this.world.namedChild();
      if (named === followed.pid) followed.confirmed = true;
      else if (named !== null) this.queue.push({ type: 'pidfile', pid: named });
    }
    if (this.waitsForEmpty()) this.checkEmpty();
    this.drain();
    // drain() may have armed the next look already; tendSensors() arms one only if not.
    this.tendSensors();
  }

  private stopTimers(): void {
    if (this.deadlineTimer !== null) this.world.clearTimer(this.deadlineTimer);
    if (this.sensorTimer !== null) this.world.clearTimer(this.sensorTimer);
    this.deadlineTimer = null;
    this.sensorTimer = null;
    this.followed = null;
  }

  private publish(): void {
    const record = this.statusRecord();
    if (record === null) return;
    const text = JSON.stringify(record);
    // A replaced child's end changes nothing of the machine's part, but the record's lastExit.
    if (text === this.lastStatus && !this.endTold) return;
    this.lastStatus = text;
    this.endTold = false;
    this.world.status(record);
  }
}
