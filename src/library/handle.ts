// What daemonize() returns in the daemon (or in the foreground): readiness, sd_notify, and the signal
// semantics. SIGTERM and SIGINT run the 'shutdown' listeners, then the process exits (the pidfile goes
// with it); SIGHUP reopens the log files and runs the 'reload' listeners, and never ends the process.
// Listeners may return promises: they are awaited, together.
import { EventEmitter } from 'node:events';

import { reloadingMessage, type Notify } from './notify';

/** The side effects a handle has, given to it so they can be replaced in tests. */
export interface HandleWorld {
  /** Daemon: move stderr to its file and tell the launcher. Foreground: READY=1 to NOTIFY_SOCKET. */
  becomeReady(): void;
  /** Reopens the stdout and stderr files; throws an Error whose message says what failed. */
  reopenLogs(): void;
  notify: Notify;
  /** Ends the process (process.exit: the 'exit' listeners remove the pidfile). */
  exit(code: number): void;
  /** One line on stderr, "daemonize: ..." */
  warn(line: string): void;
}

export type ShutdownListener = (signal: NodeJS.Signals) => unknown;
export type ReloadListener = () => unknown;

export interface HandleFacts {
  pidfile: string | undefined;
  foreground: boolean;
}

export class DaemonHandle extends EventEmitter {
  /** This process's pid: the daemon's, which the pidfile holds. */
  readonly pid = process.pid;
  /** The pidfile's absolute path, or undefined without one. */
  readonly pidfile: string | undefined;
  /** True when the process stayed in the foreground (option or DAEMONIZE_FOREGROUND). */
  readonly foreground: boolean;
  private readyYet = false;
  private stopping = false;
  private reloads: Promise<void> = Promise.resolve();

  /** @internal */
  constructor(facts: HandleFacts, private readonly world: HandleWorld) {
    super();
    this.pidfile = facts.pidfile;
    this.foreground = facts.foreground;
  }

  get isReady(): boolean {
    return this.readyYet;
  }

  /**
   * The daemon is ready: its launcher exits 0, its stderr moves to its file (or /dev/null), and
   * READY=1 goes to NOTIFY_SOCKET when there is one. Calls after the first do nothing.
   */
  ready(): void {
    if (this.readyYet) return;
    this.readyYet = true;
    this.world.becomeReady();
  }

  /** Sends `state` ("STATUS=warming caches") to NOTIFY_SOCKET; false when there is none or it failed. */
  notify(state: string): boolean {
    return this.world.notify(state);
  }

  /** @internal SIGTERM or SIGINT. A second one while the listeners run exits at once, with status 1. */
  async shutdown(signal: NodeJS.Signals): Promise<void> {
    if (this.stopping) {
      this.world.warn(`${signal} during shutdown: exiting now`);
      this.world.exit(1);
      return;
    }
    this.stopping = true;
    this.world.notify('STOPPING=1');
    let code = 0;
    try {
      await this.runListeners('shutdown', [signal]);
    } catch (error) {
      this.world.warn(`a shutdown listener failed: ${error instanceof Error ? error.stack : String(error)}`);
      code = 1;
    }
    this.world.exit(code);
  }

  /** @internal SIGHUP. Reloads run one after another, never two at once. */
  reload(): Promise<void> {
    this.reloads = this.reloads.then(() => this.reloadOnce());
    return this.reloads;
  }

  private async reloadOnce(): Promise<void> {
    try {
      this.world.reopenLogs();
    } catch (error) {
      this.world.warn((error as Error).message);
    }
    const announce = this.readyYet && !this.stopping;
    if (announce) this.world.notify(reloadingMessage());
    try {
      await this.runListeners('reload', []);
    } catch (error) {
      this.world.warn(`a reload listener failed: ${error instanceof Error ? error.stack : String(error)}`);
    }
    if (announce && !this.stopping) this.world.notify('READY=1');
  }

  /** Calls every listener (as emit would), then waits for all of them; rethrows the first failure. */
  private async runListeners(event: string, args: unknown[]): Promise<void> {
    const pending: Promise<unknown>[] = [];
    for (const listener of this.rawListeners(event)) {
      try {
        pending.push(Promise.resolve((listener as (...a: unknown[]) => unknown).apply(this, args)));
      } catch (error) {
        pending.push(Promise.reject(error));
      }
    }
    for (const result of await Promise.allSettled(pending)) {
      if (result.status === 'rejected') throw result.reason;
    }
  }
}

// Typed events: 'shutdown' (with the signal) and 'reload'.
export interface DaemonHandle {
  on(event: 'shutdown', listener: ShutdownListener): this;
  on(event: 'reload', listener: ReloadListener): this;
  once(event: 'shutdown', listener: ShutdownListener): this;
  once(event: 'reload', listener: ReloadListener): this;
  off(event: 'shutdown', listener: ShutdownListener): this;
  off(event: 'reload', listener: ReloadListener): this;
}

/** SIGTERM and SIGINT shut down, SIGHUP reloads. Returns a function that removes the handlers. */
export function installSignalHandlers(handle: DaemonHandle, target: Pick<NodeJS.Process, 'on' | 'removeListener'> = process): () => void {
  const handlers: [NodeJS.Signals, () => void][] = [
    ['SIGTERM', () => void handle.shutdown('SIGTERM')],
    ['SIGINT', () => void handle.shutdown('SIGINT')],
    ['SIGHUP', () => void handle.reload()],
  ];
  for (const [signal, handler] of handlers) target.on(signal, handler);
  return () => {
    for (const [signal, handler] of handlers) target.removeListener(signal, handler);
  };
}
