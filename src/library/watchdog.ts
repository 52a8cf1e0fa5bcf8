// The service side of a watchdog (systemd's WatchdogSec=, daemonize's --watchdog): when the manager set
// WATCHDOG_USEC (and WATCHDOG_PID names this process, or is absent), WATCHDOG=1 goes to NOTIFY_SOCKET at
// half the interval, from the event loop. A loop that is blocked (an endless loop, a sync call that
// hangs) sends nothing, and the manager restarts the process: the point of it.
import type { Notify } from './notify';

/** The longest a Node timer holds (2^31-1 ms). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * sd_watchdog_enabled(3): the interval in ms asked of process `pid` by `env`, or null when none is asked
 * (no WATCHDOG_USEC, not a positive whole number, or WATCHDOG_PID names another process).
 */
export function watchdogInterval(env: NodeJS.ProcessEnv, pid: number): number | null {
  const usec = env.WATCHDOG_USEC;
  if (usec === undefined || !/^\d+$/.test(usec) || Number(usec) === 0) return null;
  const owner = env.WATCHDOG_PID;
  if (owner !== undefined && owner !== String(pid)) return null;
  return Number(usec) / 1000;
}

/**
 * Starts the pings when `env` asks this process for them: one now, then every half interval. The timer
 * does not keep the process alive. The variables are removed from `env`, so the app's own children (which
 * inherit it) do not ping for it and hide a hang. Returns a function that stops the pings, or null.
 */
export function startWatchdog(env: NodeJS.ProcessEnv, pid: number, notify: Notify): (() => void) | null {
  const interval = watchdogInterval(env, pid);
  delete env.WATCHDOG_USEC;
  delete env.WATCHDOG_PID;
  if (interval === null) return null;
  notify('WATCHDOG=1');
  const timer = setInterval(() => notify('WATCHDOG=1'), Math.min(Math.max(Math.floor(interval / 2), 1), MAX_TIMER_MS));
  timer.unref();
  return () => clearInterval(timer);
}
