// One launch, all or nothing. The plain daemon, the supervisor's launcher, the library's launcher and the
// foreground modes all run the same steps (lock the pidfile, open stdio, spawn, hear the report, write the
// pid) through a LaunchTransaction. Each step registers how to undo it; a failure anywhere undoes every
// step taken, in reverse: kill the started tree, remove the files this launch created, remove the pidfile.
// Success commits: nothing is undone. Either way the launcher's own descriptors are closed.
import { constants, rmSync } from 'node:fs';
import { dirname } from 'node:path';

import { DaemonizeError, unable } from '../errors';
import { closeFile, openFile } from '../file-calls';
import { isSystemError, native, type SpawnPlan } from '../native';
import { Pidfile } from '../pidfile';
import { defaultPidfileDir, ensurePidfileDir } from '../pidfile-location';
import { openOperatorFile } from '../safe-open';
import type { Settings } from '../settings';
import { closeStdio, openStdio, removeCreated, type OpenedStdio } from '../stdio';
import type { TargetUser } from '../user';
import { killTree, type StartedTree } from './process-tree';

/**
 * A system error (EMFILE, ENOSPC...) thrown by a step, in the one message shape, naming the step. Anything
 * else (a DaemonizeError already, or a bug, whose stack is worth having) passes through as it is.
 */
function explained(error: unknown, what: string): unknown {
  if (error instanceof DaemonizeError) return error;
  if (isSystemError(error) || typeof (error as NodeJS.ErrnoException | undefined)?.code === 'string') return unable(what, error);
  return error;
}

/** As stdio.ts creates log files: readable by the group, writable by the owner only. */
const LOG_MODE = 0o640;

export class LaunchTransaction {
  private readonly undos: (() => void)[] = [];
  private readonly closes = new Set<number>();
  private readonly finals: (() => void)[] = [];
  private readonly kept = new Set<Pidfile>();
  private readonly trees: StartedTree[] = [];
  /** First forks (each a daemon's session leader) that have exited or are exiting, not reaped yet. */
  private readonly leaders: number[] = [];
  private settled = false;
  private rolledBack = false;

  /**
   * Runs `body` as one transaction: commits when it returns, rolls back when it throws, and rethrows
   * its error (a system error as a DaemonizeError in the one message shape).
   */
  static run<T>(body: (tx: LaunchTransaction) => T): T {
    const tx = new LaunchTransaction();
    let result: T;
    try {
      result = body(tx);
    } catch (error) {
      tx.rollback();
      throw explained(error, 'start the daemon');
    }
    tx.commit();
    return result;
  }

  /** Registers how to undo a step that has just succeeded. */
  onRollback(undo: () => void): void {
    this.undos.push(undo);
  }

  /** Registers what to do at the end either way (after any rollback). */
  onSettle(step: () => void): void {
    this.finals.push(step);
  }

  /** Runs one step; a system error it throws becomes "unable to <what>: <strerror>". */
  step<T>(what: string, body: () => T): T {
    try {
      return body();
    } catch (error) {
      throw explained(error, what);
    }
  }

  /** Locks the pidfile (making --name's default directory first). Undo: remove it. Settle: close our descriptor. */
  lockPidfile(choice: Pick<Settings, 'pidfile' | 'name'>, uid = process.getuid?.() ?? 0): Pidfile | undefined {
    if (choice.pidfile === undefined) return undefined;
    const dir = dirname(choice.pidfile);
    if (choice.name !== undefined && dir === defaultPidfileDir(process.env, uid)) ensurePidfileDir(dir);
    const pidfile = this.step(`lock pidfile ${choice.pidfile}`, () => Pidfile.acquire(choice.pidfile as string));
    this.onSettle(() => {
      if (this.rolledBack || !this.kept.has(pidfile)) pidfile.close();
    });
    this.onRollback(() => pidfile.remove());
    return pidfile;
  }

  /** This process is the service (the foreground modes): a commit leaves it holding the pidfile's lock. */
  keepPidfile(pidfile: Pidfile | undefined): void {
    if (pidfile) this.kept.add(pidfile);
  }

  /**
   * Writes the pid into the pidfile (no pidfile: nothing to do), then reaps the daemon's first fork, which
   * has ended meanwhile: every launch writes its pidfile right after the spawn, and some wait long after.
   */
  writePidfile(pidfile: Pidfile | undefined, pid: number): void {
    pidfile?.write(pid);
    this.reapLeaders();
  }

  /** Opens the program's stdio. Undo: remove the files it created. Settle: close them. */
  openStdio(stdout: string | undefined, stderr: string | undefined, owner?: TargetUser): OpenedStdio {
    const stdio = this.step('open the daemon\'s stdio', () => openStdio(stdout, stderr, owner));
    this.onSettle(() => closeStdio(stdio));
    this.onRollback(() => removeCreated(stdio.created));
    return stdio;
  }

  /**
   * Opens a log this process writes (the supervisor's event log) for append, through the safe open, with
   * `user`'s files trusted but a new one kept root's. Undo: remove it if this launch created it.
   */
  openLog(path: string, user?: TargetUser): number {
    const file = this.step(`open ${path}`, () => openOperatorFile(path, { access: 'append', create: 'missing', mode: LOG_MODE, user, what: '' }));
    this.track(file.fd);
    if (file.created) this.onRollback(() => removeCreated([path]));
    return file.fd;
  }

  /** /dev/null, for reading and writing. */
  devNull(): number {
    return this.track(this.step('open /dev/null', () => openFile('/dev/null', constants.O_RDWR)));
  }

  /** A file some step of the launch may create (a supervisor's status file): removed on rollback. */
  removeOnRollback(path: string): void {
    this.onRollback(() => rmSync(path, { force: true }));
  }

  /** A close-on-exec pipe, both ends closed at the end unless closed earlier with closeNow(). */
  pipe(purpose: string): [number, number] {
    const [readEnd, writeEnd] = this.step(`open a pipe ${purpose}`, () => native.openPipe());
    this.track(readEnd);
    this.track(writeEnd);
    return [readEnd, writeEnd];
  }

  /** Closes a descriptor this transaction opened, now rather than at the end. */
  closeNow(fd: number): void {
    if (this.closes.delete(fd)) closeFile(fd);
  }

  /**
   * Double-forks the program (native spawn, mode 'daemon'); returns its pid once it has exec'd.
   * `explain` turns a failed step of the fork-to-exec path into the user's message.
   * Undo: SIGKILL it and everything it has started (see process-tree.ts).
   */
  spawnDaemon(plan: Omit<SpawnPlan, 'mode'>, explain: (error: unknown) => DaemonizeError): number {
    let started: { pid: number; session: number };
    try {
      started = native.spawn({ ...plan, mode: 'daemon' });
    } catch (error) {
      throw explain(error);
    }
    const tree: StartedTree = { root: started.pid, session: started.session };
    // The first fork, which made the session, is exiting: reaped once the pidfile is written (its teardown
    // costs nothing then), or before a rollback looks for the session's members.
    this.leaders.push(started.session);
    this.onSettle(() => this.reapLeaders());
    this.trees.push(tree);
    this.onRollback(() => {
      this.reapLeaders();
      killTree(tree);
    });
    return tree.root;
  }

  /** Reaps the daemons' first forks (a blocking wait: each has reported and is exiting). */
  private reapLeaders(): void {
    for (const pid of this.leaders.splice(0)) native.waitpid(pid, true);
  }

  /** Kills every tree started so far, now (a timeout); the rollback that follows finds nothing left to kill. */
  killStarted(): void {
    for (const tree of this.trees) killTree(tree);
  }

  commit(): void {
    this.settle(false);
  }

  /** Undoes every step taken, newest first; an undo that fails does not stop the others. */
  rollback(): void {
    this.settle(true);
  }

  private settle(undo: boolean): void {
    if (this.settled) return;
    this.settled = true;
    this.rolledBack = undo;
    if (undo) {
      for (const step of this.undos.reverse()) {
        try {
          step();
        } catch {
          // best effort: the remaining undos matter more than this one's reason
        }
      }
    }
    for (const fd of this.closes) closeQuietly(fd);
    this.closes.clear();
    for (const step of this.finals.reverse()) {
      try {
        step();
      } catch {
        // a descriptor already closed: nothing left to do
      }
    }
  }

  private track(fd: number): number {
    this.closes.add(fd);
    return fd;
  }
}

function closeQuietly(fd: number): void {
  try {
    closeFile(fd);
  } catch {
    // already closed
  }
}
