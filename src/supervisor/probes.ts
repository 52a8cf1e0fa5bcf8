// The probes: sensors that watch a running service from outside and post one event into the machine when
// it must go. A health check (--health-cmd) failing N times in a row, or the program's process tree over
// --max-memory for 3 samples in a row, posts `unhealthy` (a graceful restart); a program silent past
// --watchdog posts `watchdog` (SIGABRT, then a restart). What happens then is the machine's cells.
//
// They run only while the machine says `running` with a child (after readiness), afresh for each start of
// the program: a restart resets every count. Everything real (sh, /proc, timers) is the ProbeWorld, so
// the counting and timing here are unit-tested with fakes.
import { describeExit } from './exit-description';
import type { Context, MachineEvent } from './machine';
import { describeSize, type HealthSettings, type ProbeSettings } from './probe-options';

/** How often the tree's memory is sampled, and how many samples in a row over the limit restart it. */
export const MEMORY_SAMPLE_MS = 1000;
export const MEMORY_SAMPLES = 3;
/** What of a check's output the log keeps: its last lines, at most this much. */
export const OUTPUT_BYTES = 4096;
export const OUTPUT_LINES = 10;
/** After a check exits, how long its output may take to reach EOF (a grandchild may hold the pipe). */
export const OUTPUT_GRACE_MS = 200;

/**
 * What a child gets for --watchdog: WATCHDOG_USEC, and WATCHDOG_PID set to its own pid between fork and
 * exec (sd_watchdog_enabled() and the library ignore a watchdog meant for another process).
 */
export function watchdogEnvironment(settings: ProbeSettings): { env: string[]; pidVariables: string[] } {
  if (settings.watchdog === undefined) return { env: [], pidVariables: [] };
  return { env: [`WATCHDOG_USEC=${Math.round(settings.watchdog * 1e6)}`], pidVariables: ['WATCHDOG_PID'] };
}

export interface ProbeWorld {
  now(): number;
  setTimer(callback: () => void, ms: number): unknown;
  clearTimer(timer: unknown): void;
  /**
   * Starts `sh -c command` as the program's user, in a new process group (pgid = pid), its stdout and
   * stderr a pipe whose bytes go to `output` and whose end calls `ended`. Returns its pid; throws when it
   * cannot start. Its exit reaches Probes.reaped (the supervisor reaps every child).
   */
  startCheck(command: string, output: (chunk: Buffer) => void, ended: () => void): number;
  /** Closes a check's output pipe (after its exit, when EOF does not come). */
  closeOutput(pid: number): void;
  /** kill(2); a negative pid names a process group. Never throws. */
  kill(pid: number, signal: NodeJS.Signals): void;
  /** The resident memory of the program's process tree: the supervisor's descendants outside `skipGroups`. */
  treeMemory(skipGroups: readonly number[]): { bytes: number; processes: number };
  /** A line in the event log (a failed check that is not yet the last straw). */
  log(line: string): void;
}

interface RunningCheck {
  pid: number;
  started: number;
  tail: Buffer;
  exit: { code: number | null; signal: number | null } | null;
  timedOut: boolean;
  outputEnded: boolean;
  timer: unknown;
}

/** The last lines of what a check wrote, bounded, as one JSON string for a one-line log. */
export function describeOutput(tail: Buffer): string {
  const lines = tail.toString('utf8').replace(/\s+$/, '').split('\n');
  const text = lines.slice(-OUTPUT_LINES).join('\n');
  return text === '' ? 'no output' : `output ${JSON.stringify(text)}`;
}

function keepTail(tail: Buffer, chunk: Buffer): Buffer {
  const joined = Buffer.concat([tail, chunk]);
  return joined.length > OUTPUT_BYTES ? joined.subarray(joined.length - OUTPUT_BYTES) : joined;
}

export class Probes {
  /** Which start of the program the probes watch (its childStarted); null: none runs. */
  private watching: number | null = null;
  private healthTimer: unknown = null;
  private check: RunningCheck | null = null;
  /** Checks killed when the probes stopped, until their exit is reaped (they are not the program's). */
  private readonly leftChecks = new Set<number>();
  private failures = 0;
  private memoryTimer: unknown = null;
  private overLimit = 0;
  private watchdogTimer: unknown = null;
  private watchdogMs: number | null;
  /** Replaced children finishing their requests (--listen): not the program's memory any more. */
  private retiring: number[] = [];
  /** Set once an event went out for this start: nothing more is posted until the next one. */
  private posted = false;

  constructor(private readonly settings: ProbeSettings, private readonly world: ProbeWorld,
    private readonly post: (event: MachineEvent) => void) {
    this.watchdogMs = settings.watchdog === undefined ? null : Math.round(settings.watchdog * 1000);
  }

  /** After every step of the machine: probes run while the service runs, afresh for each start. */
  observe(context: Readonly<Context>): void {
    const start = context.state === 'running' && context.child !== null ? context.childStarted ?? -1 : null;
    this.retiring = context.retiring.map((r) => r.pid);
    if (start === this.watching) return;
    this.stop();
    if (start === null) return;
    this.watching = start;
    this.posted = false;
    this.failures = 0;
    this.overLimit = 0;
    this.watchdogMs = this.settings.watchdog === undefined ? null : Math.round(this.settings.watchdog * 1000);
    if (this.settings.health !== undefined) this.scheduleCheck(this.settings.health);
    if (this.settings.maxMemory !== undefined) this.memoryTimer = this.world.setTimer(() => this.sampleMemory(), MEMORY_SAMPLE_MS);
    this.armWatchdog();
  }

  /** Ends every probe (the service left `running`, or the supervisor ends); a running check is killed. */
  stop(): void {
    this.watching = null;
    for (const timer of [this.healthTimer, this.memoryTimer, this.watchdogTimer]) if (timer !== null) this.world.clearTimer(timer);
    this.healthTimer = this.memoryTimer = this.watchdogTimer = null;
    const check = this.check;
    if (check !== null) {
      this.check = null;
      this.world.clearTimer(check.timer);
      this.world.kill(-check.pid, 'SIGKILL');
      this.world.closeOutput(check.pid);
      if (check.exit === null) this.leftChecks.add(check.pid);
    }
  }

  /** Process groups of checks that may still be alive: not the program's, in its memory or its heirs. */
  checkGroups(): number[] {
    return [...(this.check !== null ? [this.check.pid] : []), ...this.leftChecks];
  }

  /** The supervisor reaped `pid`: true when it was a health check (then it is not the program's business). */
  reaped(pid: number, code: number | null, signal: number | null): boolean {
    if (this.leftChecks.delete(pid)) return true;
    const check = this.check;
    if (check === null || check.pid !== pid) return false;
    check.exit = { code, signal };
    // Whatever it left in its group goes with it: a check is one command, not a service.
    this.world.kill(-pid, 'SIGKILL');
    this.world.clearTimer(check.timer);
    if (check.outputEnded) {
      this.finishCheck(check);
    } else {
      check.timer = this.world.setTimer(() => {
        this.world.closeOutput(check.pid);
        this.finishCheck(check);
      }, OUTPUT_GRACE_MS);
    }
    return true;
  }

  /**
   * A message from the program's tree (sd_notify): WATCHDOG=1 feeds the watchdog, WATCHDOG=trigger fires it,
   * WATCHDOG_USEC=N changes its interval (as under systemd).
   */
  notified(fields: Readonly<Record<string, string>>): void {
    if (this.watching === null || this.settings.watchdog === undefined) return;
    const usec = fields.WATCHDOG_USEC;
    if (usec !== undefined && /^\d+$/.test(usec) && Number(usec) > 0) {
      this.watchdogMs = Math.min(Math.max(Math.round(Number(usec) / 1000), 1), 2 ** 31 - 1);
    }
    const watchdog = fields.WATCHDOG;
    if (watchdog === 'trigger') {
      this.fire({ type: 'watchdog', reason: 'asked for its watchdog to fire (WATCHDOG=trigger)' });
    } else if (watchdog === '1' || usec !== undefined) {
      this.armWatchdog();
    }
  }

  // ---- health ----

  private scheduleCheck(health: HealthSettings): void {
    this.healthTimer = this.world.setTimer(() => {
      this.healthTimer = null;
      this.runCheck(health);
    }, health.interval * 1000);
  }

  private runCheck(health: HealthSettings): void {
    if (this.check !== null || this.watching === null) return; // never two at once
    let pid: number;
    const check: RunningCheck = {
      pid: 0, started: this.world.now(), tail: Buffer.alloc(0), exit: null, timedOut: false, outputEnded: false, timer: null,
    };
    try {
      pid = this.world.startCheck(health.command,
        (chunk) => { check.tail = keepTail(check.tail, chunk); },
        () => {
          check.outputEnded = true;
          if (check.exit !== null && this.check === check) {
            this.world.clearTimer(check.timer);
            this.finishCheck(check);
          }
        });
    } catch (error) {
      this.judge(health, `could not start: ${error instanceof Error ? error.message : String(error)}`, 'no output');
      return;
    }
    check.pid = pid;
    this.check = check;
    check.timer = this.world.setTimer(() => {
      // Stuck: the whole group goes; the exit (reaped) finishes it as a failure.
      check.timedOut = true;
      this.world.kill(-pid, 'SIGKILL');
    }, health.timeout * 1000);
  }

  private finishCheck(check: RunningCheck): void {
    if (this.check !== check) return;
    this.check = null;
    const health = this.settings.health as HealthSettings;
    const exit = check.exit ?? { code: null, signal: null };
    if (!check.timedOut && exit.code === 0) {
      if (this.failures > 0) this.log(`health check passed after ${this.failures} failed`);
      this.failures = 0;
      this.scheduleCheck(health);
      return;
    }
    const how = check.timedOut ? `timed out after ${health.timeout} s (killed)` : describeExit(exit.code, exit.signal);
    this.judge(health, how, describeOutput(check.tail));
  }

  /** A failed check: counted; the Nth in a row replaces the program, else the next check is scheduled. */
  private judge(health: HealthSettings, how: string, output: string): void {
    this.failures += 1;
    if (this.failures >= health.retries) {
      this.fire({
        type: 'unhealthy', reason: `failed ${this.failures} health check${this.failures === 1 ? '' : 's'} in a row`,
        detail: `the last ${how}, ${output}`,
      });
      return;
    }
    this.log(`health check failed (${this.failures} of ${health.retries}): ${how}, ${output}`);
    this.scheduleCheck(health);
  }

  // ---- memory ----

  private sampleMemory(): void {
    this.memoryTimer = null;
    if (this.watching === null) return;
    const limit = this.settings.maxMemory as number;
    // Each replaced child leads its own process group, as every child the supervisor starts does.
    const { bytes, processes } = this.world.treeMemory([...this.checkGroups(), ...this.retiring]);
    this.overLimit = bytes > limit ? this.overLimit + 1 : 0;
    if (this.overLimit >= MEMORY_SAMPLES) {
      const many = processes === 1 ? '1 process' : `${processes} processes`;
      this.fire({
        type: 'unhealthy',
        reason: `was over --max-memory ${describeSize(limit)} for ${MEMORY_SAMPLES} samples in a row`,
        detail: `its tree used ${describeSize(bytes)} of resident memory (${bytes} bytes, ${many})`,
      });
      return;
    }
    this.memoryTimer = this.world.setTimer(() => this.sampleMemory(), MEMORY_SAMPLE_MS);
  }

  // ---- watchdog ----

  private armWatchdog(): void {
    if (this.watchdogTimer !== null) this.world.clearTimer(this.watchdogTimer);
    this.watchdogTimer = null;
    const ms = this.watchdogMs;
    if (ms === null || this.watching === null) return;
    this.watchdogTimer = this.world.setTimer(() => {
      this.watchdogTimer = null;
      this.fire({ type: 'watchdog', reason: `sent no WATCHDOG=1 for ${ms / 1000} s` });
    }, ms);
  }

  /** One event per start of the program: the machine restarts it, and the next start is probed afresh. */
  private fire(event: MachineEvent): void {
    if (this.posted || this.watching === null) return;
    this.posted = true;
    this.post(event);
  }

  private log(line: string): void {
    this.world.log(line);
  }
}
