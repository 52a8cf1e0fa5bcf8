// The control verbs, by --name or --pidfile. Each returns its exit status; the CLI prints and exits.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { constants } from 'node:os';

import { DaemonizeError } from '../errors';
import { ExitCode } from '../exit-codes';
import { knownSignalName } from '../supervisor/exit-description';
import { readStatus, statusFileFor } from '../supervisor/status-file';
import { isAlive } from '../process-table';
import { describeInspection, inspect } from './inspect';
import { stopDaemon } from './stop';
import { pollUntil } from './wait';

/** LSB init-script status codes, for --status. */
export const StatusCode = { RUNNING: 0, DEAD_WITH_PIDFILE: 1, NOT_RUNNING: 3, UNKNOWN: 4 } as const;

export const VERBS = ['running', 'status', 'stop', 'restart', 'signal', 'list'] as const;
export type Verb = (typeof VERBS)[number];

export type Print = (line: string) => void;

export function running(pidfile: string): number {
  return inspect(pidfile).state === 'running' ? ExitCode.OK : ExitCode.FAILURE;
}

export function status(pidfile: string, print: Print): number {
  let found;
  try {
    found = inspect(pidfile);
  } catch (error) {
    print(`${pidfile}: unknown: ${(error as Error).message}`);
    return StatusCode.UNKNOWN;
  }
  print(describeInspection(found));
  return found.state === 'running' ? StatusCode.RUNNING
    : found.state === 'dead' ? StatusCode.DEAD_WITH_PIDFILE : StatusCode.NOT_RUNNING;
}

export function stop(pidfile: string, timeoutSeconds: number): number {
  stopDaemon(pidfile, timeoutSeconds);
  return ExitCode.OK;
}

/** "HUP", "SIGHUP" or "1" to a signal name Node accepts. */
export function parseSignal(text: string): NodeJS.Signals {
  if (/^\d+$/.test(text)) {
    const name = knownSignalName(Number(text));
    if (name) return name;
  } else {
    const name = text.toUpperCase().startsWith('SIG') ? text.toUpperCase() : `SIG${text.toUpperCase()}`;
    if (name in constants.signals) return name as NodeJS.Signals;
  }
  throw new DaemonizeError(`bad --signal ${JSON.stringify(text)}: expected a signal name (HUP, SIGTERM) or number`, ExitCode.USAGE);
}

export function signal(pidfile: string, name: NodeJS.Signals): number {
  const found = inspect(pidfile);
  if (found.state !== 'running' || found.pid === null) throw new DaemonizeError(`unable to signal ${found.name}: not running`);
  process.kill(found.pid, name);
  return ExitCode.OK;
}

/**
 * A supervised daemon gets a new child under the same supervisor (SIGUSR1, then wait for the new pid).
 * Anything else is stopped, then started again by `start`, which needs the command line.
 */
export function restart(pidfile: string, timeoutSeconds: number, start: (() => number) | undefined): number {
  const found = inspect(pidfile);
  if (found.state === 'running' && found.supervised && found.pid !== null) {
    const before = found.supervised.child;
    process.kill(found.pid, 'SIGUSR1');
    const renewed = pollUntil(() => {
      const now = readStatus(statusFileFor(pidfile));
      return now !== null && now.child !== null && now.child !== before && now.state === 'running' && isAlive(now.child);
    }, (timeoutSeconds + 5) * 1000);
    if (!renewed) throw new DaemonizeError(`unable to restart ${found.name}: no new child after ${timeoutSeconds + 5} s`);
    return ExitCode.OK;
  }
  if (start === undefined) {
    throw new DaemonizeError(`unable to restart ${found.name}: it has no supervisor, so give the command to start again`, ExitCode.USAGE);
  }
  if (found.state === 'running') stopDaemon(pidfile, timeoutSeconds);
  start();
  return ExitCode.OK;
}

/** Every *.pid in `dir`, one line each. */
export function list(dir: string, print: Print): number {
  let names: string[];
  try {
    names = readdirSync(dir).filter((name) => name.endsWith('.pid')).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return ExitCode.OK;
    throw new DaemonizeError(`unable to list ${dir}: ${(error as Error).message}`);
  }
  for (const name of names) print(describeInspection(inspect(join(dir, name))));
  return ExitCode.OK;
}
