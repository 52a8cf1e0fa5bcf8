// What the launcher tells a supervisor: everything to start the program again and again, checked
// and resolved before the first fork. It crosses into the daemonized supervisor as JSON in one
// environment variable, which the supervisor removes from its own environment at once.
import type { SpawnPlan } from '../native';
import type { TargetUser } from '../user';
import type { RestartPolicySettings } from './restart-policy';

export const SUPERVISOR_CONFIG_ENV = 'DAEMONIZE_SUPERVISOR_CONFIG';

export interface SupervisorConfig {
  /** The program's name, for log lines and the process title. */
  label: string;
  plan: Omit<SpawnPlan, 'mode' | 'stdio' | 'keepFds'>;
  /** Files for the program's stdout and stderr, opened afresh for each child. */
  stdout?: string;
  stderr?: string;
  owner?: TargetUser;
  /** Foreground: streams with no file keep the supervisor's own; otherwise they get /dev/null. */
  inheritStdio: boolean;
  policy: RestartPolicySettings;
  stopTimeout: number;
  /** --child-pidfile: where a program that forks itself away writes the pid of the process to follow. */
  childPidfile?: string;
  pidfile?: string;
  /** The pidfile's locked descriptor, when the supervisor inherited it from its launcher. */
  lockFd?: number;
  statusFile?: string;
  /** The supervisor's event log; undefined: its own stderr. */
  errlog?: string;
  /** The launcher's report pipe: one JSON line says whether the first child started. */
  reportFd?: number;
}

/** The one line a daemonized supervisor sends its launcher. */
export type StartReport = { ok: true; child: number } | { ok: false; exitCode: number; message: string };
