// What the launcher tells a supervisor: everything to start the program again and again, checked
// and resolved before the first fork. It crosses into the daemonized supervisor as JSON through a pipe
// the supervisor inherits (its descriptor number is the supervisor's one argument), written by the
// launcher once the supervisor runs and read by it to EOF. Not an environment variable: the plan holds
// the program's whole environment, and Linux refuses one variable over 128 KiB (MAX_ARG_STRLEN, E2BIG),
// which a busy Kubernetes namespace's environment reaches.
import { closeSync, readSync, writeSync } from 'node:fs';

import type { SpawnPlan } from '../native';
import type { SyslogStreams } from '../syslog';
import type { TargetUser } from '../user';
import type { ProbeSettings } from './probe-options';
import type { ListenAddress } from './held-sockets';
import type { ReadyMode } from './readiness';
import type { PtyMode } from './pty';
import type { RestartPolicySettings } from './restart-policy';

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
  /** --on-exit: a shell command run after each end of the program (src/supervisor/on-exit.ts). */
  onExit?: string;
  /** --child-pidfile: where a program that forks itself away writes the pid of the process to follow. */
  childPidfile?: string;
  /** --health-cmd, --max-memory, --watchdog. */
  probes?: ProbeSettings;
  /** When a child counts as started (--ready), and for how long it may take (--ready-timeout, seconds). */
  ready?: ReadyMode;
  readyTimeout?: number;
  stopSignal?: NodeJS.Signals;
  /** --listen: sockets the supervisor binds once and hands to every child at 3.. */
  listen?: ListenAddress[];
  pidfile?: string;
  /** The pidfile's locked descriptor, when the supervisor inherited it from its launcher. */
  lockFd?: number;
  statusFile?: string;
  /** The supervisor's event log; undefined: its own stderr (or the syslog, when syslog.errlog says so). */
  errlog?: string;
  /** --pty: the program's stdio is a pseudo-terminal (its output copied to the stdout file). */
  pty?: PtyMode;
  /** Streams that go to the local syslog (--errlog, --stdout, --stderr, --output syslog). */
  syslog?: SyslogStreams;
  /** The launcher's report pipe: one JSON line says whether the first child started. */
  reportFd?: number;
}

/** The one line a daemonized supervisor sends its launcher. */
export type StartReport = { ok: true; child: number } | { ok: false; exitCode: number; message: string };

/** Writes the whole configuration into the pipe (blocking: the supervisor reads as we write). */
export function sendConfig(fd: number, config: SupervisorConfig): void {
  const bytes = Buffer.from(JSON.stringify(config), 'utf8');
  for (let done = 0; done < bytes.length;) done += writeSync(fd, bytes, done, bytes.length - done);
}

/** Reads the configuration to EOF and closes the descriptor. Throws when the text is not one. */
export function receiveConfig(fd: number): SupervisorConfig {
  const chunks: Buffer[] = [];
  const buffer = Buffer.alloc(65536);
  try {
    for (let n = readSync(fd, buffer); n > 0; n = readSync(fd, buffer)) chunks.push(Buffer.from(buffer.subarray(0, n)));
  } finally {
    closeSync(fd);
  }
  const config = JSON.parse(Buffer.concat(chunks).toString('utf8')) as SupervisorConfig;
  if (typeof config !== 'object' || config === null || typeof config.label !== 'string') {
    throw new Error('the configuration is incomplete');
  }
  return config;
}
