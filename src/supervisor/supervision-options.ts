// --respawn's policy options as a user writes them, checked, with their defaults. Every duration is bounded
// by what a Node timer can hold (2^31-1 ms, 24.8 days): beyond it a timer fires after 1 ms, so a larger
// --stop-timeout would kill at once and a larger --delay would restart a crash loop without pause.
import { constants } from 'node:os';
import { resolve } from 'node:path';

import { DaemonizeError } from '../errors';
import { ExitCode } from '../exit-codes';
import type { SupervisionSettings } from './launch-supervisor';
import { parseListen } from './held-sockets';
import { DEFAULT_READY_TIMEOUT, parseReadyMode } from './readiness';
import { DEFAULT_RESTART_POLICY } from './restart-policy';

export const DEFAULT_STOP_TIMEOUT = 10;
/** The longest duration any option takes, in seconds: 2^31-1 ms, rounded down. */
export const MAX_SECONDS = 2147483;
/** The largest count (--attempts, --limit): far beyond use, and exact in a double. */
export const MAX_COUNT = 1000000;

export interface SupervisionOptions {
  acceptable?: string | number;
  attempts?: string | number;
  delay?: string | number;
  limit?: string | number;
  stopTimeout?: string | number;
  errlog?: string;
  childPidfile?: string;
  ready?: string;
  readyTimeout?: string | number;
  stopSignal?: string;
  listen?: string[];
}

/** --stop-signal: a name (TERM, SIGQUIT) or a number. */
export function parseStopSignal(text: string | undefined): NodeJS.Signals {
  if (text === undefined) return 'SIGTERM';
  const upper = text.toUpperCase();
  const name = /^\d+$/.test(text)
    ? Object.entries(constants.signals).find(([, n]) => n === Number(text))?.[0]
    : upper.startsWith('SIG') ? upper : `SIG${upper}`;
  if (name === undefined || !(name in constants.signals) || name === 'SIGKILL' || name === 'SIGSTOP') {
    throw new DaemonizeError(`bad --stop-signal ${JSON.stringify(text)}: expected a signal name or number (not KILL or STOP)`, ExitCode.USAGE);
  }
  return name as NodeJS.Signals;
}

function number(option: string, value: string | number | undefined, fallback: number, integer: boolean, min: number): number {
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
  return number(option, value, 0, false, min);
}

export function settleSupervision(options: SupervisionOptions, baseDir: string): SupervisionSettings {
  return {
    policy: {
      acceptable: number('--acceptable', options.acceptable, DEFAULT_RESTART_POLICY.acceptable, false, 0),
      attempts: number('--attempts', options.attempts, DEFAULT_RESTART_POLICY.attempts, true, 1),
      delay: number('--delay', options.delay, DEFAULT_RESTART_POLICY.delay, false, 0),
      limit: number('--limit', options.limit, DEFAULT_RESTART_POLICY.limit, true, 0),
    },
    stopTimeout: number('--stop-timeout', options.stopTimeout, DEFAULT_STOP_TIMEOUT, false, 0),
    errlog: options.errlog === undefined ? undefined : resolve(baseDir, options.errlog),
    childPidfile: options.childPidfile === undefined ? undefined : resolve(baseDir, options.childPidfile),
    ready: parseReadyMode(options.ready),
    readyTimeout: number('--ready-timeout', options.readyTimeout, DEFAULT_READY_TIMEOUT, false, 0),
    stopSignal: parseStopSignal(options.stopSignal),
    listen: (options.listen ?? []).map(parseListen),
  };
}
