// The respawn supervisor's logic: start the program, start it again when it ends (as the restart policy
// says), and turn signals into stop, restart and pass-on. Processes, clock, timers and the log are passed
// in, so every path here is unit-tested without real signals; src/supervisor/run.ts wires the real ones.
import { describeDuration, describeExit } from './exit-description';
import { RestartPolicy, type RestartDecision, type RestartPolicySettings } from './restart-policy';

export interface SupervisorWorld {
  /** Starts the program in a new process group (pgid = pid); returns its pid, or throws a DaemonizeError. */
  spawnChild(): number;
  /** kill(2): a negative pid names a process group. Never throws for a process that is already gone. */
  kill(pid: number, signal: NodeJS.Signals): void;
  /** Whether any live (non-zombie) process is still in process group `pgid`. */
  groupAlive(pgid: number): boolean;
  now(): number;
  setTimer(callback: () => void, ms: number): unknown;
  clearTimer(timer: unknown): void;
  log(line: string): void;
  /** Called whenever the child or the supervisor's state changes (for the status file). */
  onStatus(status: SupervisorStatus): void;
  /** Reopens the supervisor's own log. */
  reopenLog(): void;
  /** Ends the supervisor: called once, after the child and its group are gone. */
  finish(exitCode: number): void;
}

export interface SupervisorStatus {
  state: 'running' | 'paused' | 'stopping' | 'restarting';
  child: number | null;
  childStarted: number | null;
  restarts: number;
}

export interface SupervisorSettings {
  /** The program's name, for log lines. */
  label: string;
  policy: RestartPolicySettings;
  /** Seconds between SIGTERM and SIGKILL when stopping the program's process group. */
  stopTimeout: number;
}

/** Signals passed on to the program as they are. TERM, INT, HUP, USR1 and CHLD have meanings of their own. */
export const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = [
  'SIGQUIT', 'SIGUSR2', 'SIGALRM', 'SIGWINCH', 'SIGCONT', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU', 'SIGURG', 'SIGPWR',
];

/** How often a stop looks for the program's process group to be empty. */
const GROUP_POLL_MS = 10;

export class Supervisor {
  private readonly policy: RestartPolicy;
  private state: SupervisorStatus['state'] = 'running';
  private child: number | null = null;
  private childStarted: number | null = null;
  private restarts = 0;
  private pauseTimer: unknown = null;
  private killTimer: unknown = null;
  private finished = false;

  constructor(private readonly world: SupervisorWorld, private readonly settings: SupervisorSettings) {
    this.policy = new RestartPolicy(settings.policy);
  }

  /** Starts the first child. A failure here is the launcher's to report, so it is thrown, not retried. */
  start(): number {
    const pid = this.launch();
    this.world.onStatus(this.status());
    this.world.log(`started ${this.settings.label} (pid ${pid})`);
    return pid;
  }

  /** The child (or an orphan reparented to us) ended. */
  childExited(pid: number, code: number | null, signal: number | null): void {
    if (pid !== this.child) return;
    const ran = this.childStarted === null ? 0 : (this.world.now() - this.childStarted) / 1000;
    const what = `${this.settings.label} (pid ${pid}) ${describeExit(code, signal)} after ${describeDuration(ran)}`;
    this.child = null;
    this.childStarted = null;
    if (this.state === 'stopping') {
      this.world.log(`${what}; stopping`);
      this.awaitGroup(pid, () => this.end(0));
      return;
    }
    if (this.state === 'restarting') {
      this.world.log(`${what}; restarting on request`);
      this.awaitGroup(pid, () => this.restartNow());
      return;
    }
    // Processes the child left behind in its group (workers holding its port, say) go before a successor.
    this.awaitGroup(pid, () => this.follow(this.policy.afterExit(ran), what));
  }

  /** A signal reached the supervisor. */
  signal(name: NodeJS.Signals): void {
    switch (name) {
      case 'SIGTERM':
      case 'SIGINT':
        this.stop(name);
        return;
      case 'SIGHUP':
        this.world.reopenLog();
        if (this.child !== null) this.world.kill(this.child, 'SIGHUP');
        return;
      case 'SIGUSR1':
        this.restart();
        return;
      default:
        if (this.child !== null) this.world.kill(this.child, name);
    }
  }

  status(): SupervisorStatus {
    return { state: this.state, child: this.child, childStarted: this.childStarted, restarts: this.restarts };
  }

  private launch(): number {
    const pid = this.world.spawnChild();
    this.child = pid;
    this.childStarted = this.world.now();
    this.state = 'running';
    return pid;
  }

  private follow(decision: RestartDecision, what: string): void {
    const of = `${decision.failures} of ${this.settings.policy.attempts}`;
    switch (decision.action) {
      case 'restart':
        this.world.log(decision.failures === 0 ? `${what}; restarting` : `${what}; restarting (failure ${of})`);
        this.restartNow();
        return;
      case 'pause': {
        const limit = this.settings.policy.limit > 0 ? ` of ${this.settings.policy.limit}` : '';
        this.world.log(`${what}; failure ${of}: pausing ${decision.seconds} s before restarting (pause ${decision.pause}${limit})`);
        this.state = 'paused';
        this.world.onStatus(this.status());
        this.pauseTimer = this.world.setTimer(() => {
          this.pauseTimer = null;
          this.restartNow();
        }, decision.seconds * 1000);
        return;
      }
      case 'give-up':
        this.world.log(`${what}; failure ${of} after ${decision.pauses} pauses: giving up`);
        this.end(1);
    }
  }

  /** Starts a new child; a failure to start counts as a child that ran for no time at all. */
  private restartNow(): void {
    if (this.finished) return;
    try {
      const pid = this.launch();
      this.restarts += 1;
      this.world.onStatus(this.status());
      this.world.log(`started ${this.settings.label} (pid ${pid})`);
    } catch (error) {
      const what = `unable to start ${this.settings.label}: ${error instanceof Error ? error.message : String(error)}`;
      // Decided on the next turn of the loop, so a program that can never start cannot recurse here.
      this.pauseTimer = this.world.setTimer(() => {
        this.pauseTimer = null;
        this.follow(this.policy.afterExit(0), what);
      }, 0);
    }
  }

  private stop(name: NodeJS.Signals): void {
    if (this.state === 'stopping') return;
    const pid = this.child;
    this.world.log(`${name} received: stopping${pid !== null ? ` ${this.settings.label} (pid ${pid})` : ''}`);
    this.state = 'stopping';
    this.world.onStatus(this.status());
    if (this.pauseTimer !== null) this.world.clearTimer(this.pauseTimer);
    if (pid === null) {
      this.end(0);
      return;
    }
    this.terminateGroup(pid);
  }

  private restart(): void {
    if (this.state === 'stopping' || this.state === 'restarting') return;
    if (this.child === null) {
      if (this.pauseTimer !== null) this.world.clearTimer(this.pauseTimer);
      this.pauseTimer = null;
      this.world.log(`SIGUSR1 received: restarting ${this.settings.label} now`);
      this.restartNow();
      return;
    }
    this.world.log(`SIGUSR1 received: restarting ${this.settings.label} (pid ${this.child})`);
    this.state = 'restarting';
    this.world.onStatus(this.status());
    this.terminateGroup(this.child);
  }

  /** SIGTERM to the program's whole process group now, SIGKILL after the stop timeout. */
  private terminateGroup(pgid: number): void {
    this.world.kill(-pgid, 'SIGTERM');
    this.killTimer = this.world.setTimer(() => {
      this.killTimer = null;
      this.world.log(`${this.settings.label} (process group ${pgid}) still running after ${this.settings.stopTimeout} s: sending SIGKILL`);
      this.world.kill(-pgid, 'SIGKILL');
    }, this.settings.stopTimeout * 1000);
  }

  /** Waits until nothing is left of the child's process group (its own children too), then goes on. */
  private awaitGroup(pgid: number, then: () => void): void {
    if (!this.world.groupAlive(pgid)) {
      if (this.killTimer !== null) this.world.clearTimer(this.killTimer);
      this.killTimer = null;
      then();
      return;
    }
    if (this.killTimer === null) this.terminateGroup(pgid);
    this.world.setTimer(() => this.awaitGroup(pgid, then), GROUP_POLL_MS);
  }

  private end(exitCode: number): void {
    if (this.finished) return;
    this.finished = true;
    if (this.pauseTimer !== null) this.world.clearTimer(this.pauseTimer);
    if (this.killTimer !== null) this.world.clearTimer(this.killTimer);
    this.world.finish(exitCode);
  }
}
