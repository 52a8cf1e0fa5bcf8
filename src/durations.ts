// Numbers that options take: durations in seconds and counts, each bounded. Every duration is bounded by
// what a Node timer can hold (2^31-1 ms, 24.8 days): beyond it a timer fires after 1 ms, so a larger
// --stop-timeout would kill at once and a larger --delay would restart a crash loop without pause.
// Kept apart from the supervisor's options so that the control verbs, which need only these, load
// nothing of the supervisor's (its readiness and held sockets load node:net).
import { DaemonizeError } from './errors';
import { ExitCode } from './exit-codes';

/** --stop-timeout when neither the command line nor the daemon's record gives one. */
export const DEFAULT_STOP_TIMEOUT = 10;
/** The longest duration any option takes, in seconds: 2^31-1 ms, rounded down. */
export const MAX_SECONDS = 2147483;
/** The largest count (--attempts, --limit): far beyond use, and exact in a double. */
export const MAX_COUNT = 1000000;

/**
 * `value` as a number from `min` to MAX_COUNT (integer) or MAX_SECONDS, or `fallback` when it is not
 * given; a usage error naming `option` otherwise.
 */
export function boundedNumber(option: string, value: string | number | undefined, fallback: number, integer: boolean, min: number): number {
  if (value === undefined) return fallback;
  const parsed = typeof value === 'number' ? value : /^\d+(\.\d+)?$/.test(value) ? Number(value) : NaN;
  const max = integer ? MAX_COUNT : MAX_SECONDS;
  if (!Number.isFinite(parsed) || parsed < min || parsed > max || (integer && !Number.isInteger(parsed))) {
    const kind = integer ? 'a whole number' : 'a number of seconds';
    throw new DaemonizeError(`bad ${option} ${JSON.stringify(value)}: expected ${kind} from ${min} to ${max}`, ExitCode.USAGE, 'EUSAGE');
  }
  return parsed;
}

/** A duration in seconds, from `min` to MAX_SECONDS; a usage error naming `option` otherwise. */
export function checkSeconds(option: string, value: string | number, min: number): number {
  return boundedNumber(option, value, 0, false, min);
}
