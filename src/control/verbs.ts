// The control verbs as the CLI runs them: a thin layer over the API (src/control/api.ts) that prints
// lines or JSON and returns the exit status. Errors (DaemonizeError) go up to the CLI's one error printer.
import { ExitCode } from '../exit-codes';
import { writeTo } from '../std-streams';
import * as api from './api';
import { describeInspection, statusCode } from './describe';
import { nameOf, toStatus } from './inspect';

export const VERBS = ['running', 'status', 'stop', 'restart', 'signal', 'list'] as const;
export type Verb = (typeof VERBS)[number];

export type Print = (line: string) => void;

export interface VerbOptions {
  /** --stop-timeout, when given on the command line (seconds, already checked). */
  stopTimeout?: number;
  signal?: string;
  json?: boolean;
  /** --restart's command, for a daemon without a supervisor. */
  start?: () => unknown;
}

export async function runPidfileVerb(verb: Exclude<Verb, 'list'>, pidfile: string, options: VerbOptions,
  print: Print): Promise<number> {
  const target = { pidfile };
  switch (verb) {
    case 'running':
      return (await api.running(target)) ? ExitCode.OK : ExitCode.FAILURE;
    case 'status': {
      const found = api.inspectTarget(target, true);
      print(options.json ? JSON.stringify(toStatus(found)) : describeInspection(found));
      return statusCode(found);
    }
    case 'stop': {
      const stopped = await api.stop(target, { timeout: options.stopTimeout });
      if (stopped.killed) writeTo(2, `daemonize: ${stopped.name} did not stop in time: sent SIGKILL\n`);
      return ExitCode.OK;
    }
    case 'signal':
      await api.signal(target, api.parseSignal(options.signal as string));
      return ExitCode.OK;
    case 'restart': {
      const restarted = await api.restart(target, { timeout: options.stopTimeout, start: options.start });
      // Without held sockets nothing served between the old child's stop and the new one's readiness.
      if (restarted.downtime != null) print(`${restarted.name}: restarted; the service was down ${restarted.downtime.toFixed(1)} s (--listen avoids that)`);
      return ExitCode.OK;
    }
  }
}

/** Every *.pid in `dir`, one line (or one JSON object of an array) each; a bad one gets its own line. */
export function listVerb(dir: string, options: VerbOptions, print: Print): number {
  const entries = api.inspectDirectory(dir);
  if (options.json) {
    print(JSON.stringify(entries.map(api.toListEntry)));
    return ExitCode.OK;
  }
  for (const { pidfile, found, error } of entries) {
    print(found !== undefined ? describeInspection(found) : `${nameOf(pidfile)}: unknown: ${error?.message}`);
  }
  return ExitCode.OK;
}
