// When to start the program again, with libslack daemon's names and meaning:
//   acceptable: a child that ran less than this many seconds failed;
//   attempts:   failures in a row before a pause;
//   delay:      the pause, in seconds;
//   limit:      pauses before giving up (0 = never).
// Unlike libslack, a child that ran long enough resets the count: a service that crashes once a week
// should not be one failure closer to a pause each time.
// Pure: the counts travel in the supervisor's state machine, so a test replays any history.

export interface RestartPolicySettings {
  acceptable: number;
  attempts: number;
  delay: number;
  limit: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicySettings = { acceptable: 10, attempts: 5, delay: 60, limit: 0 };

export interface RestartCounts {
  /** Failures in a row, across pauses (what the status record shows). */
  inRow: number;
  /** Failures since the last pause (what "failure 2 of 5" counts). */
  sincePause: number;
  pauses: number;
}

export const NO_FAILURES: RestartCounts = { inRow: 0, sincePause: 0, pauses: 0 };

export type RestartDecision =
  /** Start again now. `failures` is 0 after a healthy run. */
  | { action: 'restart'; failures: number }
  /** `attempts` failures in a row: wait `seconds` first. `pause` counts from 1. */
  | { action: 'pause'; failures: number; seconds: number; pause: number }
  /** `limit` pauses did not help. */
  | { action: 'give-up'; failures: number; pauses: number };

/**
 * What follows a child that ended after running `ranSeconds`. A program that could not be started at
 * all (`startFailed`) always counts as a failure, even with --acceptable 0, so it cannot spin.
 */
export function decideRestart(settings: RestartPolicySettings, counts: RestartCounts, ranSeconds: number,
  startFailed = false): { decision: RestartDecision; counts: RestartCounts } {
  if (!startFailed && ranSeconds >= settings.acceptable) {
    return { decision: { action: 'restart', failures: 0 }, counts: NO_FAILURES };
  }
  const failures = counts.sincePause + 1;
  const inRow = counts.inRow + 1;
  if (failures < settings.attempts) {
    return { decision: { action: 'restart', failures }, counts: { ...counts, inRow, sincePause: failures } };
  }
  if (settings.limit > 0 && counts.pauses >= settings.limit) {
    return { decision: { action: 'give-up', failures, pauses: counts.pauses }, counts: { inRow, sincePause: 0, pauses: counts.pauses } };
  }
  const pause = counts.pauses + 1;
  return { decision: { action: 'pause', failures, seconds: settings.delay, pause }, counts: { inRow, sincePause: 0, pauses: pause } };
}

/** The same policy with its counts kept inside, for callers that need no replay. */
export class RestartPolicy {
  private counts: RestartCounts = NO_FAILURES;

  constructor(readonly settings: RestartPolicySettings) {}

  afterExit(ranSeconds: number, startFailed = false): RestartDecision {
    const { decision, counts } = decideRestart(this.settings, this.counts, ranSeconds, startFailed);
    this.counts = counts;
    return decision;
  }
}
