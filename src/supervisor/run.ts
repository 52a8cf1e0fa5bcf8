// Runs the supervisor for real: native child spawns, SIGCHLD reaping, signal handlers, timers, /proc,
// the status file and the event log, wired into the driver (driver.ts) as its World. Used in the
// foreground (`-f -r`) and by the daemonized supervisor.
import { closeSync, constants, fstatSync, openSync, readSync, statSync, writeSync } from 'node:fs';
import { basename } from 'node:path';

import { DaemonizeError, describe } from '../errors';
import { ExitCode } from '../exit-codes';
import { explainSpawnFailure } from '../launch';
import { FOREGROUND_ENV } from '../library/foreground';
import { notifier } from '../library/notify';
import { startWatchdog } from '../library/watchdog';
import { native, type WaitResult } from '../native';
import { Pidfile, readPid } from '../pidfile';
import { signalQuietly } from '../process-table';
import { pinDirectories } from '../safe-open';
import { SyslogSender } from '../syslog';
import { closeStdio, openStdio, type OnRefused } from '../stdio';
import type { SupervisorConfig } from './config';
import { SupervisorDriver, type SupervisorStatus } from './driver';
import { EventLog } from './event-log';
import { Forensics, type LastExit } from './forensics';
import { ExitHook, pipeToLog } from './on-exit';
import { bindAll, type HeldSockets } from './held-sockets';
import { NotifyChannel } from './notify-channel';
import { tcpReadiness } from './readiness';
import { FORWARDED_SIGNALS } from './machine';
import { drainOutput, openSyslogOutput } from './output-relay';
import { openPty, takeOutput } from './pty';
import { realProbeWorld } from './probe-world';
import { Probes, watchdogEnvironment } from './probes';
import { becomeSubreaper, endedElsewhere, identify, inTreeOf, isOwnDescendant, killOwnTree, ownChildren, ownDescendants } from './process-tree';
import { removeStatus, writeStatus } from './status-file';
import { SyslogEventLog } from './syslog-event-log';
import { HELPER_VARIABLE, startedByHelper } from './helper-mark';

/** Variables the supervisor sets for each child itself; the caller's own (systemd's) must not leak through. */
const OWN_VARIABLES = ['NOTIFY_SOCKET', 'LISTEN_FDS', 'LISTEN_FDNAMES', 'LISTEN_PID', 'WATCHDOG_USEC', 'WATCHDOG_PID'];

/** What a child gets besides the plan: variables, held sockets, variables set to its own pid. */
interface ChildExtras {
  env: string[];
  listenFds: number[];
  pidVariables: string[];
}

/**
 * Starts a child. Its stdio: named files, else /dev/null, or in the foreground the supervisor's own. The
 * program runs in the foreground under its supervisor: a Node app using the library's daemonize() must not
 * fork away from it, so it gets DAEMONIZE_FOREGROUND=1 (as under -f).
 * `onRefused`: a log file refused as untrusted gives that stream /dev/null (see openStdio).
 */
function spawnChild(config: SupervisorConfig, forensics: Forensics, extra: ChildExtras, syslog: SyslogSender,
  log: (line: string) => void, onRefused?: OnRefused): number {
  const stdio = openStdio(config.stdout, config.stderr, config.owner, onRefused);
  let output;
  let terminal;
  try {
    output = openSyslogOutput(config.syslog, syslog);
    let fds = stdio.fds;
    if (config.inheritStdio) {
      fds[0] = 0;
      if (config.stdout === undefined) fds[1] = 1;
      if (config.stderr === undefined) fds[2] = 2;
    }
    output.fds.forEach((fd, i) => { if (fd !== undefined) fds[i + 1] = fd; });
    if (config.pty !== undefined) {
      terminal = openPty(config.pty, takeOutput(stdio, config.stdout !== undefined, config.inheritStdio),
        { ids: config.plan.ids, label: config.stdout ?? 'stdout', log });
      fds = terminal.fds;
    }
    // Where its stderr file ends now: its last words are what it writes after this (none from a pipe or a pty).
    forensics.prepare(config.stderr !== undefined ? fds[2] : undefined);
    const own = [FOREGROUND_ENV, HELPER_VARIABLE, ...OWN_VARIABLES];
    const env = [...config.plan.env.filter((entry) => !own.includes(entry.slice(0, entry.indexOf('=')))), `${FOREGROUND_ENV}=1`, ...extra.env];
    const pid = native.spawn({
      ...config.plan, env, mode: 'child', stdio: fds, keepFds: [], dieWithParent: true, controllingTty: terminal !== undefined,
      ...(extra.listenFds.length > 0 ? { listenFds: extra.listenFds } : {}),
      ...(extra.pidVariables.length > 0 ? { pidVariables: extra.pidVariables } : {}),
    });
    forensics.started(pid);
    output.started(pid);
    terminal?.started();
    return pid;
  } catch (error) {
    forensics.forget();
    output?.failed();
    terminal?.failed();
    throw explainSpawnFailure(error, { cwd: config.plan.cwd ?? '/', user: config.owner }, config.label);
  } finally {
    closeStdio(stdio);
  }
}

/** How long the status record may lag the supervisor's state (see statusWriter). */
const RECORD_DELAY_MS = 10;

/** Writes the status record (run.ts's part of the world), and removes it at the end. */
interface StatusRecordWriter {
  write(status: SupervisorStatus): void;
  /** Writes a record still waiting, now. */
  flush(): void;
  /** Drops a waiting record and removes the file: the supervisor ends. */
  remove(): void;
}

/**
 * The status record, kept honest: when it cannot be written (a full disk), the old one is removed rather
 * than left to name a dead child, the failure is logged once, and the next change tries again.
 * Once written, a change is written RECORD_DELAY_MS later, with whatever changed meanwhile: a stop that is
 * over by then (SIGTERM, the program's end, its empty tree, the finish) writes nothing before the record is
 * removed, and a burst of changes writes once (each write is a rename over the old record, which costs a
 * block flush on ext4). Whoever is told "ready" reads the record at once: the readiness news flushes it
 * first. With --on-exit, every change is written at once.
 */
function statusWriter(config: SupervisorConfig, started: number, log: EventLog,
  lastExit: () => LastExit | null): StatusRecordWriter {
  let failing = false;
  let written = false;
  let waiting: SupervisorStatus | null = null;
  let turn: NodeJS.Timeout | null = null;
  const flush = (): void => {
    if (turn !== null) clearTimeout(turn);
    turn = null;
    const path = config.statusFile;
    const status = waiting;
    waiting = null;
    if (path === undefined || status === null) return;
    try {
      writeStatus(path, {
        supervisor: process.pid, started, log: config.errlog ?? null, ...status, lastExit: lastExit(),
        hookTimeout: config.onExit !== undefined ? config.stopTimeout : null,
        command: config.plan.argv, stdout: config.stdout ?? null, stderr: config.stderr ?? null,
      });
      if (failing) log.write(`${path} written again`);
      failing = false;
      written = true;
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
  return {
    write: (status) => {
      waiting = status;
      // At once while there is none (a --stop during a start reads its deadlines there), and always when
      // --on-exit hooks run: a hook started at an end may read the record straight away.
      if (!written || config.onExit !== undefined) flush();
      else turn ??= setTimeout(flush, RECORD_DELAY_MS);
    },
    flush,
    remove: () => {
      if (turn !== null) clearTimeout(turn);
      turn = null;
      waiting = null;
      if (config.statusFile !== undefined) removeStatus(config.statusFile);
    },
  };
}

/** --child-pidfile's pid, when it names a live process the supervisor started (never a stranger). */
function namedChild(config: SupervisorConfig): number | null {
  if (config.childPidfile === undefined) return null;
  const pid = readPid(config.childPidfile);
  return pid !== null && isOwnDescendant(pid) ? pid : null;
}

/** What the program wrote to its stderr file from byte `from` on (the last 2 KiB of it), or ''. */
function stderrSince(path: string | undefined, from: number): string {
  if (path === undefined) return '';
  try {
    const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      const size = fstatSync(fd).size;
      const start = Math.max(from, size - 2048);
      if (size <= start) return '';
      const bytes = Buffer.alloc(size - start);
      readSync(fd, bytes, 0, bytes.length, start);
      // With no --errlog the event log shares the file: its own lines are not the program's words.
      const own = ` daemonize[${process.pid}]: `;
      return bytes.toString('utf8').split('\n').filter((line) => !line.includes(own)).join('\n').trim();
    } finally {
      closeSync(fd);
    }
  } catch {
    return '';
  }
}

function sizeOf(path: string | undefined): number {
  try {
    return path === undefined ? 0 : statSync(path).size;
  } catch {
    return 0;
  }
}

/** How often at most a stranger's notifications are logged: a flood of them must not fill the disk. */
const IGNORED_LOG_MS = 10000;

function ignoredNotifications(label: string, write: (line: string) => void): (pid: number, message: string) => void {
  let last = 0;
  let quiet = 0;
  return (pid, message) => {
    const now = Date.now();
    if (now - last < IGNORED_LOG_MS) {
      quiet++;
      return;
    }
    const more = quiet > 0 ? ` (and ${quiet} more not logged)` : '';
    write(`ignored a notification from pid ${pid}, not ${label}'s: ${JSON.stringify(message.slice(0, 80))}${more}`);
    last = now;
    quiet = 0;
  };
}

/** Whether the first child got ready (the launcher's answer), or why not. Called once. */
export type FirstOutcome = { ok: true; child: number } | { ok: false; error: DaemonizeError };

export interface RunningSupervisor {
  driver: SupervisorDriver;
  firstChild: number;
}

/**
 * Starts supervising. Throws a DaemonizeError when the first child cannot start; `onFinish` receives the
 * supervisor's exit code once the program and everything it started are gone and the files are removed,
 * and must end the process.
 */
export function runSupervisor(config: SupervisorConfig, onFinish: (code: number) => void,
  pidfile?: Pidfile, onOutcome?: (outcome: FirstOutcome) => void): RunningSupervisor {
  // Before any child runs: from now on every file is opened in the directory it is in now (see safe-open).
  pinDirectories([config.stdout, config.stderr, config.errlog, config.statusFile]);
  const log = config.syslog?.errlog !== undefined ? new SyslogEventLog(config.syslog.tag, config.syslog.errlog)
    : new EventLog(config.errlog, config.owner);
  const syslog = new SyslogSender(config.syslog?.tag ?? 'daemonize', (message) => log.write(message));
  // The first child's log files were checked by the launcher, which fails for the operator to see; after
  // that, the service user may have planted a link at their names, and a refusal must not stop the service.
  let firstSpawn = true;
  const forensics = new Forensics();
  let lastExit: LastExit | null = null;
  const hook = config.onExit === undefined ? null : new ExitHook({
    command: config.onExit, name: config.pidfile !== undefined ? basename(config.pidfile).replace(/\.pid$/, '') : config.label, pidfile: config.pidfile,
    plan: config.plan, stopTimeout: config.stopTimeout,
  }, {
    spawn: (plan) => native.spawn(plan),
    kill: signalQuietly,
    setTimer: (callback, ms) => setTimeout(callback, ms),
    clearTimer: (timer) => clearTimeout(timer as NodeJS.Timeout),
    log: (line) => log.write(line),
    output: () => pipeToLog((line) => log.write(line)),
  });
  // A running hook is no part of the service: drains neither wait for it nor take it for an heir.
  const notHook = (pid: number): boolean => hook === null || !hook.owns(pid);
  const refusedLog: OnRefused = (message) => log.write(`${message}: the program's stream goes to /dev/null instead`);
  const started = Date.now();
  const ownPidfile = pidfile ?? (config.pidfile !== undefined && config.lockFd !== undefined
    ? Pidfile.adopt(config.pidfile, config.lockFd) : undefined);
  // Orphans of the program come back to us to be reaped, instead of to a PID 1 that may reap nothing;
  // a program that forks away stays our descendant, so it can be followed and stopped.
  becomeSubreaper();

  // Bound before any child runs, as the supervisor (root keeps root: only the child runs as --user).
  const held: HeldSockets = bindAll(config.listen ?? [], config.owner);
  let channel: NotifyChannel;
  try {
    channel = new NotifyChannel();
  } catch (error) {
    held.close();
    throw new DaemonizeError(`unable to create the notification socket: ${describe(error)}`);
  }
  const stderrStart = sizeOf(config.stderr);
  let outcome = onOutcome;
  const tell = (result: FirstOutcome): void => {
    const once = outcome;
    outcome = undefined;
    once?.(result);
  };
  // Under systemd (-f -r with NOTIFY_SOCKET): the supervisor is the service systemd sees.
  const systemd = config.reportFd === undefined ? notifier(process.env, (line) => log.write(line)) : null;
  // ...and under its WatchdogSec=, the supervisor's own event loop pings it, as a library app does.
  if (systemd !== null) startWatchdog(process.env, process.pid, systemd);
  // --ready tcp:HOST:PORT: connection attempts while a child is starting (the status record tells when).
  const ready = config.ready;
  const tcp = ready?.kind === 'tcp' ? tcpReadiness(ready, () => {
    const { state, child } = driver.state;
    return state === 'starting' ? child : null;
  }, () => driver.post({ type: 'ready' })) : null;

  const handlers = new Map<NodeJS.Signals, () => void>();
  // Signal listeners do not keep Node's event loop alive; this handle does, until the supervisor ends.
  const keepAlive = setInterval(() => undefined, 2 ** 31 - 1);
  const letGo = (): void => {
    clearInterval(keepAlive);
    tcp?.stop();
    channel.close();
    held.close();
  };
  const records = statusWriter(config, started, log, () => lastExit);
  // Health checks, the memory limit and the watchdog post into the driver; none runs without its option.
  const probes = new Probes(config.probes ?? {}, realProbeWorld(config, log), (event) => driver.post(event));
  const driver: SupervisorDriver = new SupervisorDriver({
    spawnChild: () => {
      const onRefused = firstSpawn ? undefined : refusedLog;
      firstSpawn = false;
      const watchdog = watchdogEnvironment(config.probes ?? {});
      return spawnChild(config, forensics, {
        env: [`NOTIFY_SOCKET=${channel.address}`, ...held.env, ...watchdog.env], listenFds: held.fds, pidVariables: watchdog.pidVariables,
      }, syslog, (line) => log.write(line), onRefused);
    },
    ready: (pid, first) => {
      records.flush();
      if (first) tell({ ok: true, child: pid });
      const restarts = driver.state.restarts;
      systemd?.(`READY=1\nSTATUS=${config.label} (pid ${pid}) ready; ${restarts} restart${restarts === 1 ? '' : 's'}`);
    },
    kill: signalQuietly,
    // A running --on-exit hook is no part of the service; a health check is the supervisor's child too, never the program's heir.
    descendants: () => ownDescendants().filter(notHook),
    // ...nor is what a check or a hook left behind in a session of its own (helper-mark.ts).
    heirs: () => ownChildren().filter((pid) => notHook(pid) && !probes.checkGroups().includes(pid) && !startedByHelper(pid)),
    namedChild: () => namedChild(config),
    identify,
    endedElsewhere,
    now: () => Date.now(),
    setTimer: (callback, ms) => setTimeout(callback, ms),
    clearTimer: (timer) => clearTimeout(timer as NodeJS.Timeout),
    log: (line) => log.write(line),
    ended: (end) => {
      const explained = forensics.explain(end);
      lastExit = explained.lastExit;
      const words = explained.lastWords;
      log.write(words.length > 0 ? `${explained.sentence}; its last words in ${config.stderr}:` : explained.sentence);
      for (const line of words) log.write(`  > ${line}`);
      hook?.fire(end, explained);
      return words;
    },
    status: (record) => {
      records.write(record);
      tcp?.follow(record.state);
    },
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
    finish: (code, error) => {
      // The program's last lines reach the syslog now; the supervisor lets go of its signals and sockets
      // only after the last --on-exit hook (below), which it must still reap.
      drainOutput();
      probes.stop();
      // A launcher still waiting hears at once why the first child never got ready (not after a hook).
      if (outcome !== undefined) {
        const why = error instanceof DaemonizeError ? error.message : `${config.label} was stopped before it was ready`;
        const said = stderrSince(config.stderr, stderrStart);
        tell({ ok: false, error: new DaemonizeError(`${why}${said ? `; its stderr:\n${said}` : ''}`, ExitCode.NOT_READY) });
      }
      // The last end's hook runs to its end (--stop-timeout at most): the supervisor's exit would kill it.
      const end = (): void => {
        // Nothing the supervisor started or adopted outlives it, not even what that last hook left.
        killOwnTree();
        // The signal listeners stay: onFinish ends the process, and a signal until then finds the driver
        // finished (it ignores it) instead of its default action ending the supervisor half-way.
        letGo();
        records.remove();
        ownPidfile?.remove();
        onFinish(code);
      };
      if (hook !== null) hook.settle(end);
      else end();
    },
  }, {
    label: config.label, policy: config.policy, stopTimeout: config.stopTimeout,
    readiness: (config.ready?.kind ?? 'exec') === 'exec' ? 'exec' : 'wait', readyTimeout: config.readyTimeout, stopSignal: config.stopSignal,
    overlap: held.fds.length > 0,
  });

  // Notifications count only from the service's own process tree (the kernel vouches for the sender's pid).
  channel.listen((pid) => driver.state.child !== null && inTreeOf(pid, driver.state.child), (pid, fields) => {
    driver.post({ type: 'notify', pid, fields });
    probes.notified(fields);
    if (fields.READY === '1') driver.post({ type: 'ready' });
  }, ignoredNotifications(config.label, (line) => log.write(line)));

  const reap = (): void => {
    // Every child that has ended by now first, then what each end means. A child started meanwhile (a
    // respawn, the next hook) that ends at once is the next SIGCHLD's: reaped in the same loop, a program
    // that exits at once kept the supervisor in this function for good, and a SIGTERM went unheard.
    const ends: WaitResult[] = [];
    for (let ended = native.waitpid(-1, false); ended !== null; ended = native.waitpid(-1, false)) ends.push(ended);
    for (const ended of ends) {
      if (hook?.reaped(ended.pid, ended.code, ended.signal)) continue;
      if (!probes.reaped(ended.pid, ended.code, ended.signal)) driver.reaped(ended.pid, ended.code, ended.signal, ended.core);
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
    outcome = undefined;
    letGo();
    for (const [signal, handler] of handlers) process.removeListener(signal, handler);
    records.remove();
    throw error instanceof DaemonizeError ? error : new DaemonizeError(String(error), ExitCode.FAILURE);
  }
  // A child may have ended between its exec and our handler's first run.
  reap();
  // Once the start is told and nothing else waits: see rehearseStop.
  setImmediate(() => driver.rehearseStop());
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
