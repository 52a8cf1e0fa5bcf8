// The handle wired to this process: its signals, its exit, its stderr and NOTIFY_SOCKET. Shared by the
// daemon and the foreground; they differ only in what "ready" does.
import { writeSync } from 'node:fs';

import type { Pidfile } from '../pidfile';
import { DaemonHandle, installSignalHandlers } from './handle';
import type { LogFiles } from './log-files';
import { notifier } from './notify';
import { startWatchdog } from './watchdog';

/** One line on stderr in the project's shape; a stderr that is gone is no reason to fail. */
export function warn(line: string): void {
  try {
    writeSync(2, `daemonize: ${line}\n`);
  } catch {
    // nowhere left to say it
  }
}

export interface HandleParts {
  foreground: boolean;
  pidfile: Pidfile | undefined;
  logs: LogFiles;
  /** Daemon: hand over stderr and report. Foreground: nothing beyond READY=1. */
  becomeReady: () => void;
}

export function startHandle(parts: HandleParts): DaemonHandle {
  const notify = notifier(process.env, warn);
  const handle = new DaemonHandle({ pidfile: parts.pidfile?.path, foreground: parts.foreground }, {
    becomeReady: parts.becomeReady,
    reopenLogs: () => parts.logs.reopen(),
    notify,
    exit: (code) => process.exit(code),
    warn,
  });
  // A normal exit, process.exit(), an uncaught exception or a shutdown: the pidfile goes, if still ours.
  process.on('exit', () => parts.pidfile?.remove());
  installSignalHandlers(handle);
  // Under --watchdog or systemd's WatchdogSec=: WATCHDOG=1 from the event loop, at half the interval.
  startWatchdog(process.env, process.pid, notify);
  return handle;
}
