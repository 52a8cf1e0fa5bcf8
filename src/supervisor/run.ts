// Runs the supervisor for real: native child spawns, SIGCHLD reaping, signal handlers, timers, /proc,
// the status file and the event log, wired into the driver (driver.ts) as its World. Used in the
// foreground (`-f -r`) and by the daemonized supervisor.
import { closeSync, writeSync } from 'node:fs';

import { DaemonizeError, describe } from '../errors';
import { ExitCode } from '../exit-codes';
import { explainSpawnFailure } from '../launch';
import { FOREGROUND_ENV } from '../library/foreground';
import { native } from '../native';
import { Pidfile, readPid } from '../pidfile';
import { signalQuietly } from '../process-table';
import { pinDirectories } from '../safe-open';
import { closeStdio, openStdio, type OnRefused } from '../stdio';
import type { SupervisorConfig } from './config';
import { SupervisorDriver, type SupervisorStatus } from './driver';
import { EventLog } from './event-log';
import { FORWARDED_SIGNALS } from './machine';
import { endedElsewhere, identify, isOwnDescendant, ownChildren, ownDescendants } from './process-tree';
import { realProbeWorld } from './probe-world';
import { Probes } from './probes';
import { removeStatus, writeStatus } from './status-file';

/**
 * Opens the child's stdio: named files, else /dev/null, or in the foreground the supervisor's own. The
 * program runs in the foreground under its supervisor: a Node app using the library's daemonize() must not
 * fork away from it, so it gets DAEMONIZE_FOREGROUND=1 (as under -f).
 * `onRefused`: a log file refused as untrusted gives that stream /dev/null (see openStdio).
 */
function spawnChild(config: SupervisorConfig, onRefused?: OnRefused): number {
  const stdio = openStdio(config.stdout, config.stderr, config.owner, onRefused);
  try {
    const fds = stdio.fds;
    if (config.inheritStdio) {
      fds[0] = 0;
      if (config.stdout === undefined) fds[1] = 1;
      if (config.stderr === undefined) fds[2] = 2;
    }
    const env = [...config.plan.env.filter((entry) => !entry.startsWith(`${FOREGROUND_ENV}=`)), `${FOREGROUND_ENV}=1`];
    return native.spawn({ ...config.plan, env, mode: 'child', stdio: fds, keepFds: [], dieWithParent: true });
  } catch (error) {
    throw explainSpawnFailure(error, { cwd: config.plan.cwd ?? '/', user: config.owner }, config.label);
  } finally {
    closeStdio(stdio);
  }
}

/**
 * The status record, kept honest: when it cannot be written (a full disk), the old one is removed rather
 * than left to name a dead child, the failure is logged once, and the next change tries again.
 */
function statusWriter(config: SupervisorConfig, started: number, log: EventLog): (status: SupervisorStatus) => void {
  let failing = false;
  return (status) => {
    const path = config.statusFile;
    if (path === undefined) return;
    try {
      writeStatus(path, { supervisor: process.pid, started, log: config.errlog ?? null, ...status });
      if (failing) log.write(`${path} written again`);
      failing = false;
    } catch (error) {
      try {
        removeStatus(path);
      } catch {
        // Nothing more to do: the verbs treat an unreadable record as unknown.
      }
      if (!failing) log.write(`unable to write ${path}: ${describe(error)}`);
      failing = true;
    }
  };
}

/** --child-pidfile's pid, when it names a live process the supervisor started (never a stranger). */
function namedChild(config: SupervisorConfig): number | null {
  if (config.childPidfile === undefined) return null;
  const pid = readPid(config.childPidfile);
  return pid !== null && isOwnDescendant(pid) ? pid : null;
}

export interface RunningSupervisor {
  driver: SupervisorDriver;
  firstChild: number;
}

/**
 * Starts supervising. Throws a DaemonizeError when the first child cannot start; `onFinish` receives the
 * supervisor's exit code once the program and everything it started are gone and the files are removed.
 */
export function runSupervisor(config: SupervisorConfig, onFinish: (code: number) => void,
  pidfile?: Pidfile): RunningSupervisor {
  // Before any child runs: from now on every file is opened in the directory it is in now (see safe-open).
  pinDirectories([config.stdout, config.stderr, config.errlog, config.statusFile]);
  const log = new EventLog(config.errlog, config.owner);
  // The first child's log files were checked by the launcher, which fails for the operator to see; after
  // that, the service user may have planted a link at their names, and a refusal must not stop the service.
  let firstSpawn = true;
  const refusedLog: OnRefused = (message) => log.write(`${message}: the program's stream goes to /dev/null instead`);
  const started = Date.now();
  const ownPidfile = pidfile ?? (config.pidfile !== undefined && config.lockFd !== undefined
    ? Pidfile.adopt(config.pidfile, config.lockFd) : undefined);
  // Orphans of the program come back to us to be reaped, instead of to a PID 1 that may reap nothing;
  // a program that forks away stays our descendant, so it can be followed and stopped.
  native.setSubreaper(true);

  const handlers = new Map<NodeJS.Signals, () => void>();
  // Signal listeners do not keep Node's event loop alive; this handle does, until the supervisor ends.
  const keepAlive = setInterval(() => undefined, 2 ** 31 - 1);
  const letGo = (): void => {
    clearInterval(keepAlive);
    for (const [signal, handler] of handlers) process.removeListener(signal, handler);
  };
  // Health checks, the memory limit and the watchdog post into the driver; none runs without its option.
  const probes = new Probes(config.probes ?? {}, realProbeWorld(config, log), (event) => driver.post(event));
  const driver: SupervisorDriver = new SupervisorDriver({
    spawnChild: () => {
      const onRefused = firstSpawn ? undefined : refusedLog;
      firstSpawn = false;
      return spawnChild(config, onRefused);
    },
    kill: signalQuietly,
    descendants: ownDescendants,
    // A health check is the supervisor's child too, never the program's heir.
    heirs: () => ownChildren().filter((pid) => !probes.checkGroups().includes(pid)),
    namedChild: () => namedChild(config),
    identify,
    endedElsewhere,
    now: () => Date.now(),
    setTimer: (callback, ms) => setTimeout(callback, ms),
    clearTimer: (timer) => clearTimeout(timer as NodeJS.Timeout),
    log: (line) => log.write(line),
    status: statusWriter(config, started, log),
    reopenLog: () => {
      // A log that cannot be opened again (EACCES, EROFS) stays the old file, which says why (EventLog.reopen).
      const fd = log.reopen();
      // A daemonized supervisor's own stdout and stderr are its log too (for a crash's last words).
      if (fd !== undefined && config.reportFd !== undefined) {
        native.dup2(fd, 1);
        native.dup2(fd, 2);
      }
    },
    stepped: (context) => probes.observe(context),
    finish: (code) => {
      probes.stop();
      letGo();
      if (config.statusFile !== undefined) removeStatus(config.statusFile);
      ownPidfile?.remove();
      onFinish(code);
    },
  }, { label: config.label, policy: config.policy, stopTimeout: config.stopTimeout });

  const reap = (): void => {
    for (let ended = native.waitpid(-1, false); ended !== null; ended = native.waitpid(-1, false)) {
      if (!probes.reaped(ended.pid, ended.code, ended.signal)) driver.reaped(ended.pid, ended.code, ended.signal);
    }
    driver.reapedAll();
  };
  handlers.set('SIGCHLD', reap);
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGUSR1', ...FORWARDED_SIGNALS] as NodeJS.Signals[]) {
    handlers.set(signal, () => driver.signal(signal));
  }
  for (const [signal, handler] of handlers) process.on(signal, handler);

  let firstChild: number;
  try {
    firstChild = driver.start();
  } catch (error) {
    probes.stop();
    letGo();
    if (config.statusFile !== undefined) removeStatus(config.statusFile);
    throw error instanceof DaemonizeError ? error : new DaemonizeError(String(error), ExitCode.FAILURE);
  }
  // A child may have ended between its exec and our handler's first run.
  reap();
  return { driver, firstChild };
}

/** Sends the launcher its one report line and closes the pipe. A launcher that is gone (EPIPE) changes nothing. */
export function report(fd: number | undefined, line: object): void {
  if (fd === undefined) return;
  try {
    writeSync(fd, `${JSON.stringify(line)}\n`);
  } catch {
    // Killed launcher: the supervisor goes on; its pidfile and log say the rest.
  } finally {
    closeSync(fd);
  }
}
