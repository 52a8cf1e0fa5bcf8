// `daemonize --respawn` (daemon mode): double-forks a Node supervisor, sends it its configuration over
// one pipe, and hears over another whether it started the program. The launcher exits 0 only once the program has exec'd under the
// supervisor and the pidfile holds the supervisor's pid.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { basename, join } from 'node:path';

import { DaemonizeError, unable } from '../errors';
import { ExitCode, type ExitCodeValue } from '../exit-codes';
import { environmentSetAside } from '../extra-ca-certs';
import { LaunchTransaction } from '../core/launch-transaction';
import { basePlan, explainSpawnFailure } from '../launch';
import type { Pidfile } from '../pidfile';
import { besidePidfile } from '../pidfile-location';
import { resolveProgramFor } from '../program';
import type { Settings } from '../settings';
import type { SyslogStreams } from '../syslog';
import { verbose } from '../verbose';
import { sendConfig, type StartReport, type SupervisorConfig } from './config';
import type { PtyMode } from './pty';
import type { ProbeSettings } from './probe-options';
import type { RestartPolicySettings } from './restart-policy';
import type { ListenAddress } from './held-sockets';
import type { ReadyMode } from './readiness';
import { statusFileFor } from './status-file';

export interface SupervisionSettings {
  policy: RestartPolicySettings;
  stopTimeout: number;
  /** The supervisor's event log; undefined: the program's stderr file, else beside the pidfile. */
  errlog?: string;
  /** --child-pidfile: the pid of the process a self-daemonizing program forks away as. */
  childPidfile?: string;
  /** --on-exit: a shell command run after each end of the program. */
  onExit?: string;
  /** --health-cmd, --max-memory, --watchdog (probe-options.ts). */
  probes?: ProbeSettings;
  /** --ready, --ready-timeout, --stop-signal, --listen (absent: exec, 60 s, SIGTERM, none). */
  ready?: ReadyMode;
  readyTimeout?: number;
  stopSignal?: NodeJS.Signals;
  listen?: ListenAddress[];
  /** Streams that go to the local syslog instead of a file. */
  syslog?: SyslogStreams;
  /** --pty[=noecho]. */
  pty?: PtyMode;
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
    childPidfile: supervision.childPidfile,
    onExit: supervision.onExit,
    probes: supervision.probes,
    ready: supervision.ready,
    readyTimeout: supervision.readyTimeout,
    stopSignal: supervision.stopSignal,
    listen: supervision.listen,
    pidfile: settings.pidfile,
    statusFile: settings.pidfile === undefined ? undefined : statusFileFor(settings.pidfile),
    // The event log in the syslog: the file named here is only the supervisor's own stderr.
    errlog: supervision.syslog?.errlog !== undefined ? undefined : supervision.errlog,
    syslog: supervision.syslog,
    pty: supervision.pty,
  };
}

function readReport(fd: number): StartReport | null {
  const chunks: Buffer[] = [];
  const buffer = Buffer.alloc(4096);
  for (let n = readSync(fd, buffer); n > 0; n = readSync(fd, buffer)) chunks.push(Buffer.from(buffer.subarray(0, n)));
  const text = Buffer.concat(chunks).toString('utf8').trim();
  return text === '' ? null : (JSON.parse(text) as StartReport);
}

/** What a supervisor that died unheard wrote into its log (its stderr) after `from`: the last 2 KiB of it. */
function lastWords(fd: number, from: number): string {
  try {
    const size = fstatSync(fd).size;
    const start = Math.max(from, size - 2048);
    if (size <= start) return '';
    const bytes = Buffer.alloc(size - start);
    // Our descriptor is append-only; /proc/self/fd opens the same file (even if renamed) for reading.
    const reader = openSync(`/proc/self/fd/${fd}`, constants.O_RDONLY);
    try {
      readSync(reader, bytes, 0, bytes.length, start);
    } finally {
      closeSync(reader);
    }
    return bytes.toString('utf8').trim();
  } catch {
    return ''; // the failure itself is what matters; its details stay in the log
  }
}

/**
 * Starts a daemonized supervisor for `command`; returns the supervisor's pid once its first child has
 * exec'd and the pidfile names the supervisor. On any failure nothing is left: the supervisor and
 * everything it started are killed, and the pidfile, the status file and the files this start created
 * are removed.
 */
export function launchSupervisor(command: string[], settings: Settings, supervision: SupervisionSettings,
  baseDir = process.cwd()): number {
  if (settings.pidfile === undefined) {
    throw new DaemonizeError('--respawn needs --pidfile or --name (a supervisor nobody can find cannot be stopped)', ExitCode.USAGE);
  }
  const file = resolveProgramFor(command[0], settings, baseDir);
  // With --errlog syslog the events go there; this file still takes the supervisor's own stderr (a crash).
  const errlog = supervision.errlog ?? defaultErrlog(settings);
  const config = supervisorConfig(command, settings, { ...supervision, errlog }, file, false);
  return LaunchTransaction.run((tx) => {
    const pidfile = tx.lockPidfile(settings) as Pidfile;
    // The supervisor opens the program's files afresh for each child; made here, they are this start's to
    // remove if it fails, and a file that cannot be opened is refused before anything forks.
    tx.openStdio(settings.stdout, settings.stderr, settings.user);
    // The supervisor's stdin is /dev/null; its stdout and stderr are its event log, for a crash's last words.
    const devNull = tx.devNull();
    const log = tx.openLog(errlog, settings.user);
    const logStart = fstatSync(log).size;
    const [configRead, configWrite] = tx.pipe('to the supervisor');
    const [reportRead, reportWrite] = tx.pipe('from the supervisor');
    // Our lock makes any status file here stale or our supervisor's: it goes with a failed start.
    if (config.statusFile !== undefined) {
      tx.removeOnRollback(config.statusFile);
      // A write cut short by a full disk leaves its temporary name (status-file.ts writes X.new, then renames).
      tx.removeOnRollback(`${config.statusFile}.new`);
    }
    const pid = tx.spawnDaemon({
      file: process.execPath,
      argv: [process.execPath, ...SUPERVISOR_NODE_FLAGS, SUPERVISOR_MAIN, String(configRead), String(reportWrite)],
      // Its program's environment is in the config; its own skips the certificate parse (src/extra-ca-certs.ts).
      env: environmentSetAside(process.env),
      cwd: '/',
      umask: settings.umask,
      stdio: [devNull, log, log],
      keepFds: [pidfile.fd, configRead, reportWrite],
    }, (error) => explainSpawnFailure(error, { cwd: '/', user: undefined }, process.execPath));
    // Only the supervisor holds these ends now, so EOF on ours speaks of it alone.
    tx.closeNow(configRead);
    tx.closeNow(reportWrite);
    const died = (): DaemonizeError => {
      const words = lastWords(log, logStart);
      return new DaemonizeError(`unable to start ${command[0]}: the supervisor died before starting it${words ? `:\n${words}` : ''}`);
    };
    try {
      sendConfig(configWrite, { ...config, lockFd: pidfile.fd, reportFd: reportWrite });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EPIPE') throw died();
      throw unable('send the supervisor its configuration', error);
    }
    tx.closeNow(configWrite);
    tx.writePidfile(pidfile, pid);
    const reply = tx.step('hear from the supervisor', () => readReport(reportRead));
    if (reply === null) throw died();
    if (!reply.ok) throw new DaemonizeError(reply.message, reply.exitCode as ExitCodeValue);
    verbose(`supervisor pid ${pid} started ${file} as pid ${reply.child}; its event log is ${errlog}`);
    return pid;
  });
}
