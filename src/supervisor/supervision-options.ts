// --respawn's policy options as a user writes them, checked, with their defaults. Every duration is bounded
// (src/durations.ts says why).
import { constants } from 'node:os';
import { resolve } from 'node:path';

import { boundedNumber, DEFAULT_STOP_TIMEOUT } from '../durations';
import { DaemonizeError } from '../errors';
import { ExitCode } from '../exit-codes';
import type { SupervisionSettings } from './launch-supervisor';
import { parseListen } from './held-sockets';
import { DEFAULT_READY_TIMEOUT, parseReadyMode } from './readiness';
import { DEFAULT_RESTART_POLICY } from './restart-policy';


export interface SupervisionOptions {
  acceptable?: string | number;
  attempts?: string | number;
  delay?: string | number;
  limit?: string | number;
  stopTimeout?: string | number;
  errlog?: string;
  childPidfile?: string;
  onExit?: string;
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

function onExitCommand(command: string | undefined): string | undefined {
  if (command === undefined) return undefined;
  if (typeof command !== 'string' || command.trim() === '' || command.includes('\0')) {
    throw new DaemonizeError(`bad --on-exit ${JSON.stringify(command)}: expected a shell command`, ExitCode.USAGE, 'EUSAGE');
  }
  return command;
}

export function settleSupervision(options: SupervisionOptions, baseDir: string): SupervisionSettings {
  return {
    policy: {
      acceptable: boundedNumber('--acceptable', options.acceptable, DEFAULT_RESTART_POLICY.acceptable, false, 0),
      attempts: boundedNumber('--attempts', options.attempts, DEFAULT_RESTART_POLICY.attempts, true, 1),
      delay: boundedNumber('--delay', options.delay, DEFAULT_RESTART_POLICY.delay, false, 0),
      limit: boundedNumber('--limit', options.limit, DEFAULT_RESTART_POLICY.limit, true, 0),
    },
    stopTimeout: boundedNumber('--stop-timeout', options.stopTimeout, DEFAULT_STOP_TIMEOUT, false, 0),
    errlog: options.errlog === undefined ? undefined : resolve(baseDir, options.errlog),
    childPidfile: options.childPidfile === undefined ? undefined : resolve(baseDir, options.childPidfile),
    onExit: onExitCommand(options.onExit),
    ready: parseReadyMode(options.ready),
    readyTimeout: boundedNumber('--ready-timeout', options.readyTimeout, DEFAULT_READY_TIMEOUT, false, 0),
    stopSignal: parseStopSignal(options.stopSignal),
    listen: (options.listen ?? []).map(parseListen),
  };
}
