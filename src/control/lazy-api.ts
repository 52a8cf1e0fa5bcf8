// The control API as the package exports it. Each function loads src/control/api.ts (and the dozen
// modules behind it: inspection, identity, the process table, stop) on its first call, not when the
// package is required: an app that only calls daemonize() loads the package twice on every start (in its
// launcher and again in the daemon) and never uses them. Same signatures and promises as api.ts.
import type * as Api from './api';
import type { DaemonStatus } from './inspect';

const api = (): typeof Api => require('./api') as typeof Api;

/** The daemon's state, as `--status --json` prints it. Rejects (exit status 4) when the pidfile cannot be read. */
export async function status(target: Api.Target): Promise<DaemonStatus> {
  return api().status(target);
}

/** True when the lock is held and, under a supervisor, the program is running or starting (not paused). */
export async function running(target: Api.Target): Promise<boolean> {
  return api().running(target);
}

/** Stops the daemon and every process in its session; resolves once they are gone. ENOTRUNNING, EPERM. */
export async function stop(target: Api.Target, options?: Api.StopOptions): Promise<Api.StopResult> {
  return api().stop(target, options);
}

/** A supervised daemon gets a new child under the same supervisor; anything else is stopped and `options.start` run. */
export async function restart(target: Api.Target, options?: Api.RestartOptions): Promise<Api.RestartResult> {
  return api().restart(target, options);
}

/** Sends `signalName` to the daemon (the supervisor, for -r, which passes most signals on). */
export async function signal(target: Api.Target, signalName: string | number): Promise<Api.SignalResult> {
  return api().signal(target, signalName);
}

/** The status of every daemon in the pidfile directory. Rejects only when the directory cannot be read. */
export async function list(options?: Api.ListOptions): Promise<Api.ListEntry[]> {
  return api().list(options);
}
