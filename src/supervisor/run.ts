// Runs a Supervisor for real: native child spawns, SIGCHLD reaping, signal handlers, timers, the
// status file and the event log. Used in the foreground (`-f -r`) and by the daemonized supervisor.
import { closeSync, writeSync } from 'node:fs';

import { DaemonizeError } from '../errors';
import { ExitCode } from '../exit-codes';
import { explainSpawnFailure } from '../launch';
import { native } from '../native';
import { Pidfile } from '../pidfile';
import { groupAlive, signalQuietly } from '../process-table';
import { pinDirectories } from '../safe-open';
import { closeStdio, openStdio, type OnRefused } from '../stdio';
import type { SupervisorConfig } from './config';
import { EventLog } from './event-log';
import { removeStatus, writeStatus } from './status-file';
import { FORWARDED_SIGNALS, Supervisor, type SupervisorStatus } from './supervisor';

/**
 * Opens the child's stdio: named files, else /dev/null, or in the foreground the supervisor's own.
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
    return native.spawn({ ...config.plan, mode: 'child', stdio: fds, keepFds: [], dieWithParent: true });
  } catch (error) {
    throw explainSpawnFailure(error, { cwd: config.plan.cwd ?? '/', user: config.owner }, config.label);
  } finally {
    closeStdio(stdio);
  }
}

export interface RunningSupervisor {
  supervisor: Supervisor;
  firstChild: number;
}

/**
 * Starts supervising. Throws a DaemonizeError when the first child cannot start; `onFinish` receives the
 * supervisor's exit code once the program and its process group are gone and the files are removed.
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
  // Orphans of the program come back to us to be reaped, instead of to a PID 1 that may reap nothing.
  native.setSubreaper(true);

  const handlers = new Map<NodeJS.Signals, () => void>();
  // Signal listeners do not keep Node's event loop alive; this handle does, until the supervisor ends.
  const keepAlive = setInterval(() => undefined, 2 ** 31 - 1);
  const supervisor: Supervisor = new Supervisor({
    spawnChild: () => {
      const onRefused = firstSpawn ? undefined : refusedLog;
      firstSpawn = false;
      return spawnChild(config, onRefused);
    },
    kill: signalQuietly,
    groupAlive,
    now: () => Date.now(),
    setTimer: (callback, ms) => setTimeout(callback, ms),
    clearTimer: (timer) => clearTimeout(timer as NodeJS.Timeout),
    log: (line) => log.write(line),
    onStatus: (status: SupervisorStatus) => {
      if (config.statusFile === undefined) return;
      try {
        writeStatus(config.statusFile, { supervisor: process.pid, started, log: config.errlog ?? null, ...status });
      } catch (error) {
        log.write(`unable to write ${config.statusFile}: ${(error as Error).message}`);
      }
    },
    reopenLog: () => {
      const fd = log.reopen();
      // A daemonized supervisor's own stdout and stderr are its log too (for a crash's last words).
      if (fd !== undefined && config.reportFd !== undefined) {
        native.dup2(fd, 1);
        native.dup2(fd, 2);
      }
    },
    finish: (code) => {
      clearInterval(keepAlive);
      for (const [signal, handler] of handlers) process.removeListener(signal, handler);
      if (config.statusFile !== undefined) removeStatus(config.statusFile);
      ownPidfile?.remove();
      log.write(code === 0 ? 'stopped' : 'gave up');
      onFinish(code);
    },
  }, { label: config.label, policy: config.policy, stopTimeout: config.stopTimeout });

  const reap = (): void => {
    for (let ended = native.waitpid(-1, false); ended !== null; ended = native.waitpid(-1, false)) {
      supervisor.childExited(ended.pid, ended.code, ended.signal);
    }
  };
  handlers.set('SIGCHLD', reap);
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGUSR1', ...FORWARDED_SIGNALS] as NodeJS.Signals[]) {
    handlers.set(signal, () => supervisor.signal(signal));
  }
  for (const [signal, handler] of handlers) process.on(signal, handler);

  let firstChild: number;
  try {
    firstChild = supervisor.start();
  } catch (error) {
    clearInterval(keepAlive);
    for (const [signal, handler] of handlers) process.removeListener(signal, handler);
    if (config.statusFile !== undefined) removeStatus(config.statusFile);
    throw error instanceof DaemonizeError ? error : new DaemonizeError(String(error), ExitCode.FAILURE);
  }
  // A child may have ended between its exec and our handler's first run.
  reap();
  return { supervisor, firstChild };
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
