// `daemonize --respawn` (daemon mode): double-forks a Node supervisor, which starts the program and
// reports over a pipe whether it did. The launcher exits 0 only once the program has exec'd under the
// supervisor and the pidfile holds the supervisor's pid.
import { closeSync, constants, openSync, readSync } from 'node:fs';
import { basename, join } from 'node:path';

import { DaemonizeError } from '../errors';
import { ExitCode, type ExitCodeValue } from '../exit-codes';
import { acquirePidfile, basePlan } from '../launch';
import { native } from '../native';
import { besidePidfile } from '../pidfile-location';
import { signalQuietly } from '../process-table';
import { resolveProgram } from '../program';
import type { Settings } from '../settings';
import { openForAppend } from '../stdio';
import { SUPERVISOR_CONFIG_ENV, type StartReport, type SupervisorConfig } from './config';
import type { RestartPolicySettings } from './restart-policy';
import { statusFileFor } from './status-file';

export interface SupervisionSettings {
  policy: RestartPolicySettings;
  stopTimeout: number;
  /** The supervisor's event log; undefined: the program's stderr file, else beside the pidfile. */
  errlog?: string;
}

const SUPERVISOR_MAIN = join(__dirname, 'main.js');
/**
 * A supervisor needs little heap, and no optimizing compiler: capping the heap keeps its memory flat over
 * months, and --lite-mode saves about 4 MiB of private memory (measured by bench/supervisor.js) without
 * slowing a respawn. --lite-mode turns off WebAssembly, and says so at start unless told first.
 */
const SUPERVISOR_NODE_FLAGS = ['--max-old-space-size=32', '--max-semi-space-size=1', '--lite-mode', '--no-expose-wasm'];

/** The supervisor's event log when none is named: where a user already looks, or beside the pidfile. */
export function defaultErrlog(settings: Settings): string {
  if (settings.stderr !== undefined) return settings.stderr;
  return besidePidfile(settings.pidfile as string, '.log');
}

export function supervisorConfig(command: string[], settings: Settings, supervision: SupervisionSettings,
  file: string, foreground: boolean): SupervisorConfig {
  return {
    label: basename(command[0]),
    plan: basePlan(file, command, settings),
    stdout: settings.stdout,
    stderr: settings.stderr,
    owner: settings.user,
    inheritStdio: foreground,
    policy: supervision.policy,
    stopTimeout: supervision.stopTimeout,
    pidfile: settings.pidfile,
    statusFile: settings.pidfile === undefined ? undefined : statusFileFor(settings.pidfile),
    errlog: supervision.errlog,
  };
}

function readReport(fd: number): StartReport | null {
  const chunks: Buffer[] = [];
  const buffer = Buffer.alloc(4096);
  for (;;) {
    const n = readSync(fd, buffer, 0, buffer.length, null);
    if (n === 0) break;
    chunks.push(Buffer.from(buffer.subarray(0, n)));
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  return text === '' ? null : (JSON.parse(text) as StartReport);
}

/** Starts a daemonized supervisor for `command`; returns the supervisor's pid. */
export function launchSupervisor(command: string[], settings: Settings, supervision: SupervisionSettings,
  baseDir = process.cwd()): number {
  if (settings.pidfile === undefined) {
    throw new DaemonizeError('--respawn needs --pidfile or --name (a supervisor nobody can find cannot be stopped)', ExitCode.USAGE);
  }
  const file = resolveProgram(command[0], settings.env.PATH, baseDir);
  const errlog = supervision.errlog ?? defaultErrlog(settings);
  const config = supervisorConfig(command, settings, { ...supervision, errlog }, file, false);
  const pidfile = acquirePidfile(settings) as NonNullable<ReturnType<typeof acquirePidfile>>;
  const opened: number[] = [];
  try {
    const devNull = openSync('/dev/null', constants.O_RDWR);
    opened.push(devNull);
    const logFd = openForAppend(errlog, settings.user);
    opened.push(logFd);
    const [readEnd, writeEnd] = native.openPipe();
    opened.push(readEnd, writeEnd);
    const env = { ...process.env, [SUPERVISOR_CONFIG_ENV]: JSON.stringify({ ...config, lockFd: pidfile.fd, reportFd: writeEnd }) };
    const pid = native.spawn({
      mode: 'daemon',
      file: process.execPath,
      argv: [process.execPath, ...SUPERVISOR_NODE_FLAGS, SUPERVISOR_MAIN],
      env: Object.entries(env).map(([name, value]) => `${name}=${value}`),
      cwd: '/',
      umask: settings.umask,
      stdio: [devNull, logFd, logFd],
      keepFds: [pidfile.fd, writeEnd],
    });
    try {
      pidfile.write(pid);
    } catch (error) {
      // A supervisor nobody can find or stop is worse than none (its child dies with it).
      signalQuietly(pid, 'SIGKILL');
      throw error;
    }
    // Only the supervisor may hold the write end now, so EOF means it has said all it will say.
    closeSync(writeEnd);
    opened.splice(opened.indexOf(writeEnd), 1);
    const reply = readReport(readEnd);
    if (reply === null) {
      throw new DaemonizeError(`unable to start ${command[0]}: the supervisor died before starting it (see ${errlog})`);
    }
    if (!reply.ok) throw new DaemonizeError(reply.message, reply.exitCode as ExitCodeValue);
    return pid;
  } catch (error) {
    pidfile.remove();
    throw error;
  } finally {
    for (const fd of opened) closeSync(fd);
    pidfile.close();
  }
}
