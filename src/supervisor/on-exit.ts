// --on-exit CMD: after each end of the program, `sh -c CMD` with the end in DAEMONIZE_* variables (mail,
// a chat webhook or a pager in one line). One hook at a time: ends that come while one runs wait, a few
// at most. A hook is not waited on for more than --stop-timeout, then its process group is killed. Its
// failure is logged, never fatal. It runs as the program does (--user, environment, directory), in its
// own process group, and is no part of the service: the supervisor's drains neither wait for nor kill it.
import { chmodSync, chownSync, mkdtempSync, openSync, closeSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

import { describe } from '../errors';
import { native, type SpawnPlan } from '../native';
import { hasAncestor, readEntry } from '../process-table';
import type { ChildEnd } from './child-end';
import { describeExit, signalName } from './exit-description';
import type { Explained } from './forensics';
import { helperEntry } from './helper-mark';
import { relayLines } from './output-relay';

/** Ends kept waiting while a hook runs; beyond this the oldest waiting is dropped (and that is logged). */
export const MAX_WAITING = 5;

export interface HookSettings {
  command: string;
  /** DAEMONIZE_NAME and DAEMONIZE_PIDFILE. */
  name: string;
  pidfile: string | undefined;
  /** The program's plan: its environment, directory, umask and --user. */
  plan: Omit<SpawnPlan, 'mode' | 'stdio' | 'keepFds'>;
  stopTimeout: number;
}

export interface HookWorld {
  /** Starts a process in its own process group; returns its pid, or throws. */
  spawn(plan: SpawnPlan): number;
  kill(pid: number, signal: NodeJS.Signals): void;
  setTimer(callback: () => void, ms: number): unknown;
  clearTimer(timer: unknown): void;
  log(line: string): void;
  /** Where the hook's stdout and stderr go: a pipe into the event log (see pipeToLog). */
  output(): HookOutput;
}

/** The write end for one hook's stdout and stderr; started/failed close the supervisor's copy of it. */
export interface HookOutput {
  fd: number;
  started(pid: number): void;
  failed(): void;
}

/**
 * A pipe whose lines reach the event log as `on-exit hook (pid N): LINE`. Not the log's own descriptor: a
 * hook running as --user holding it could truncate root's log (ftruncate needs only a writable descriptor)
 * or write lines that look like the supervisor's.
 */
export function pipeToLog(log: (line: string) => void): HookOutput {
  const [readEnd, writeEnd] = native.openPipe();
  return {
    fd: writeEnd,
    started(pid) {
      closeSync(writeEnd);
      relayLines(readEnd, (line) => log(`on-exit hook (pid ${pid}): ${line.toString('utf8')}`));
    },
    failed() {
      closeSync(writeEnd);
      closeSync(readEnd);
    },
  };
}

interface Running {
  pid: number;
  timer: unknown;
  /** The private directory holding DAEMONIZE_STDERR_TAIL. */
  dir: string;
}

/** The DAEMONIZE_* variables for one end (without the tail file, made when the hook starts). */
export function hookVariables(settings: Pick<HookSettings, 'name' | 'pidfile'>, end: ChildEnd, explained: Explained): Record<string, string> {
  return {
    DAEMONIZE_NAME: settings.name,
    DAEMONIZE_PIDFILE: settings.pidfile ?? '',
    DAEMONIZE_CHILD_PID: String(end.pid),
    DAEMONIZE_EXIT_CODE: end.code === null ? '' : String(end.code),
    DAEMONIZE_EXIT_SIGNAL: end.signal === null ? '' : signalName(end.signal),
    DAEMONIZE_REASON: explained.sentence,
    DAEMONIZE_UPTIME: String(Math.floor(end.uptime)),
    DAEMONIZE_RESTARTS: String(end.restarts),
  };
}

export class ExitHook {
  private running: Running | null = null;
  private readonly waiting: { variables: Record<string, string>; tail: string[] }[] = [];
  private idle: (() => void) | null = null;
  /** While the supervisor ends: when what is left of the hooks is cut short. */
  private settleTimer: unknown = null;

  constructor(private readonly settings: HookSettings, private readonly world: HookWorld) {}

  /** The program ended: run the hook now, or once the one running is done. */
  fire(end: ChildEnd, explained: Explained): void {
    this.waiting.push({ variables: hookVariables(this.settings, end, explained), tail: explained.lastWords });
    if (this.waiting.length > MAX_WAITING) {
      const dropped = this.waiting.shift();
      this.world.log(`on-exit hook still busy: not run for pid ${dropped?.variables.DAEMONIZE_CHILD_PID}`);
    }
    this.next();
  }

  /** True when `pid` is the hook or a process it started (not the service's, so not ours to drain). */
  owns(pid: number): boolean {
    const hook = this.running?.pid;
    if (hook === undefined) return false;
    if (pid === hook) return true;
    const entry = readEntry(pid);
    return entry !== null && (entry.pgrp === hook || hasAncestor(entry, (ancestor) => ancestor === hook));
  }

  /** waitpid reported `pid`: true when it was the hook (then the next one starts). */
  reaped(pid: number, code: number | null, signal: number | null): boolean {
    const running = this.running;
    if (running === null || pid !== running.pid) return false;
    if (code !== 0) this.world.log(`on-exit hook (pid ${pid}) ${describeExit(code, signal)}`);
    this.done(running);
    return true;
  }

  /**
   * Calls `done` once no hook runs or waits. The supervisor's end waits for them --stop-timeout in all (what
   * a stop's caller allows for: the record's hookTimeout): then the ends still waiting are dropped and the
   * running hook is killed with its group.
   */
  settle(done: () => void): void {
    if (this.running === null && this.waiting.length === 0) return done();
    this.idle = done;
    this.settleTimer = this.world.setTimer(() => {
      this.settleTimer = null;
      for (const job of this.waiting.splice(0)) {
        this.world.log(`on-exit hook not run for pid ${job.variables.DAEMONIZE_CHILD_PID}: the supervisor is ending`);
      }
      const running = this.running;
      if (running === null) return this.next();
      this.world.log(`on-exit hook (pid ${running.pid}) still running ${this.settings.stopTimeout} s after the stop: sending SIGKILL`);
      this.world.kill(-running.pid, 'SIGKILL');
    }, this.settings.stopTimeout * 1000);
  }

  private done(running: Running): void {
    this.world.clearTimer(running.timer);
    // What the hook left in its process group goes with it.
    this.world.kill(-running.pid, 'SIGKILL');
    this.remove(running.dir);
    this.running = null;
    this.next();
  }

  private next(): void {
    if (this.running !== null) return;
    const job = this.waiting.shift();
    if (job === undefined) {
      const idle = this.idle;
      this.idle = null;
      if (this.settleTimer !== null) this.world.clearTimer(this.settleTimer);
      this.settleTimer = null;
      idle?.();
      return;
    }
    let dir: string | null = null;
    try {
      dir = this.tailFile(job.tail);
      const pid = this.start({ ...job.variables, DAEMONIZE_STDERR_TAIL: this.asHookSees(join(dir, 'stderr-tail')) });
      const timer = this.world.setTimer(() => {
        this.world.log(`on-exit hook (pid ${pid}) still running after ${this.settings.stopTimeout} s: sending SIGKILL`);
        this.world.kill(-pid, 'SIGKILL');
      }, this.settings.stopTimeout * 1000);
      this.running = { pid, timer, dir };
    } catch (error) {
      if (dir !== null) this.remove(dir);
      this.world.log(`unable to run the on-exit hook: ${describe(error)}`);
      this.next();
    }
  }

  /**
   * The last lines, in a file only the hook's user can read (0600, theirs), in a fresh directory that stays
   * root's (0711 under --user, else 0700): the hook cannot put anything in it, so removing it afterwards
   * never walks a tree the service user built (one too deep to remove would throw in the supervisor).
   */
  private tailFile(lines: string[]): string {
    const dir = mkdtempSync(join(this.temporaryBase(), 'daemonize-on-exit-'));
    try {
      const file = join(dir, 'stderr-tail');
      writeFileSync(file, lines.map((line) => `${line}\n`).join(''), { mode: 0o600, flag: 'wx' });
      const ids = this.settings.plan.ids;
      if (ids !== undefined) {
        chownSync(file, ids.uid, ids.gid);
        chmodSync(dir, 0o711);
      }
      return dir;
    } catch (error) {
      // A full disk: nothing half made is left behind.
      this.remove(dir);
      throw error;
    }
  }

  /**
   * Where the private directory goes: the temporary directory, or under --chroot the root's tmp (else the
   * root itself), which the hook can see. The root is root's and writable by no one else (chroot.ts), so
   * what is in it is root's choice.
   */
  private temporaryBase(): string {
    const root = this.settings.plan.root;
    if (root === undefined) return tmpdir();
    const tmp = join(root, 'tmp');
    try {
      if (statSync(tmp).isDirectory()) return tmp;
    } catch {
      // No tmp in the root.
    }
    return root;
  }

  /** A path of ours as the hook sees it: under --chroot, inside its root. */
  private asHookSees(path: string): string {
    const root = this.settings.plan.root;
    return root === undefined ? path : `/${relative(root, path)}`;
  }

  /** Removes a private directory; what cannot be removed is logged, never thrown into the supervisor. */
  private remove(dir: string): void {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch (error) {
      this.world.log(`unable to remove ${dir}: ${describe(error)}`);
    }
  }

  private start(variables: Record<string, string>): number {
    const plan = this.settings.plan;
    const env = plan.env.filter((entry) => !entry.startsWith('DAEMONIZE_'));
    for (const [name, value] of Object.entries(variables)) env.push(`${name}=${value}`);
    env.push(helperEntry('on-exit'));
    const devNull = openSync('/dev/null', 'r');
    let out: HookOutput | undefined;
    try {
      out = this.world.output();
      const pid = this.world.spawn({
        ...plan, mode: 'child', file: '/bin/sh', argv: ['sh', '-c', this.settings.command], env,
        stdio: [devNull, out.fd, out.fd], keepFds: [], dieWithParent: true,
      });
      out.started(pid);
      return pid;
    } catch (error) {
      out?.failed();
      throw error;
    } finally {
      closeSync(devNull);
    }
  }
}
