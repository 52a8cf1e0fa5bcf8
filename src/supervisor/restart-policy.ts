// When to start the program again, with libslack daemon's names and meaning:
//   acceptable: a child that ran less than this many seconds failed;
//   attempts:   failures in a row before a pause;
//   delay:      the pause, in seconds;
//   limit:      pauses before giving up (0 = never).
// Unlike libslack, a child that ran long enough resets the count: a service that crashes once a week
// should not be one failure closer to a pause each time.

export interface RestartPolicySettings {
  acceptable: number;
  attempts: number;
  delay: number;
  limit: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicySettings = { acceptable: 10, attempts: 5, delay: 60, limit: 0 };

export type RestartDecision =
  /** Start again now. `failures` is 0 after a healthy run. */
  | { action: 'restart'; failures: number }
  /** `attempts` failures in a row: wait `seconds` first. `pause` counts from 1. */
  | { action: 'pause'; failures: number; seconds: number; pause: number }
  /** `limit` pauses did not help. */
  | { action: 'give-up'; failures: number; pauses: number };

export class RestartPolicy {
  private failures = 0;
  private pauses = 0;

  constructor(readonly settings: RestartPolicySettings) {}

  /** Decides what follows a child that ended after running `ranSeconds`. */
  afterExit(ranSeconds: number): RestartDecision {
    if (ranSeconds >= this.settings.acceptable) {
      this.failures = 0;
      this.pauses = 0;
      return { action: 'restart', failures: 0 };
    }
    this.failures += 1;
    const failures = this.failures;
    if (failures < this.settings.attempts) return { action: 'restart', failures };
    this.failures = 0;
    if (this.settings.limit > 0 && this.pauses >= this.settings.limit) {
      return { action: 'give-up', failures, pauses: this.pauses };
    }
    this.pauses += 1;
    return { action: 'pause', failures, seconds: this.settings.delay, pause: this.pauses };
  }
}
