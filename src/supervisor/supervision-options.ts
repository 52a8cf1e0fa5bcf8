// --respawn's policy options as a user writes them, checked, with their defaults.
import { resolve } from 'node:path';

import { DaemonizeError } from '../errors';
import { ExitCode } from '../exit-codes';
import type { SupervisionSettings } from './launch-supervisor';
import { DEFAULT_RESTART_POLICY } from './restart-policy';

export const DEFAULT_STOP_TIMEOUT = 10;

export interface SupervisionOptions {
  acceptable?: string | number;
  attempts?: string | number;
  delay?: string | number;
  limit?: string | number;
  stopTimeout?: string | number;
  errlog?: string;
  childPidfile?: string;
}

function number(option: string, value: string | number | undefined, fallback: number, integer: boolean, min: number): number {
  if (value === undefined) return fallback;
  const parsed = typeof value === 'number' ? value : /^\d+(\.\d+)?$/.test(value) ? Number(value) : NaN;
  if (!Number.isFinite(parsed) || parsed < min || (integer && !Number.isInteger(parsed))) {
    const kind = integer ? 'a whole number' : 'a number of seconds';
    throw new DaemonizeError(`bad ${option} ${JSON.stringify(value)}: expected ${kind}, at least ${min}`, ExitCode.USAGE);
  }
  return parsed;
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
  };
}
