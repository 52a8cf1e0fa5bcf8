// daemonize(options): the library's one entry point. Three ways through it:
//   the process the user started (the launcher): start the daemon, wait until it is ready, exit;
//   the daemon (the app re-executed, with the marker): return the handle;
//   the foreground (option or DAEMONIZE_FOREGROUND): no fork, return the handle;
//   a cluster worker (its primary is the daemon): change nothing, return a handle (see worker.ts).
// The launcher exits here, and only here; every message it prints has one shape:
//   daemonize: fatal: unable to lock pidfile /run/web.pid: already running as pid 4121
//
// Each way loads only its own modules (require() inside the branch, not import at the top): the app
// starts twice, and every module loaded is loaded twice before the launcher can exit.
import { basename } from 'node:path';

import { DaemonizeError } from '../errors';
import { native } from '../native';
import { rawArgv, rawEnvironment } from '../raw-bytes';
import { foregroundRequested } from './foreground';
import type { DaemonHandle } from './handle';
import type { AppCommand } from './launcher';
import { libraryState } from './marker';
import { checkOptions, settleLibrary, type DaemonizeOptions } from './options';

/**
 * The app as Node started it, taken before the app's own code could change process.argv; its arguments
 * as the bytes they were (src/raw-bytes.ts), not as Node decoded them.
 */
const APP_AT_LOAD: AppCommand = {
  command: [process.execPath, ...process.execArgv, ...rawArgv(process.argv).slice(1)],
  label: basename(process.argv[1] ?? process.execPath),
  cwd: startDirectory(),
};

function startDirectory(): string | undefined {
  try {
    return process.cwd();
  } catch {
    return undefined; // removed under us: the daemon starts in its own directory instead
  }
}

function fatal(message: string, exitCode: number): never {
  process.stderr.write(`daemonize: fatal: ${message}\n`);
  process.exit(exitCode);
}

/** Only the main thread can fork, exit and own the process's signals. (Asked of the addon: see its isMainThread.) */
function isMainThread(): boolean {
  return native.isMainThread();
}

/**
 * A cluster worker is always started with an IPC channel, and a process started without one has no
 * process.send (Node's documentation of both). Only such a process loads worker.ts and node:cluster to
 * ask: they cost milliseconds on every start of an app that is not a worker.
 */
function mayBeClusterWorker(): boolean {
  return typeof process.send === 'function';
}

/**
 * Turns this Node app into a daemon. In the process the user started it never returns: that process
 * exits 0 once the daemon is ready, or non-zero with the daemon's error. In the daemon (and in the
 * foreground) it returns the handle. The code before the call runs twice: in the launcher and again in
 * the daemon.
 */
export function daemonize(options?: DaemonizeOptions): DaemonHandle {
  const checked = checkOptions(options);
  const state = libraryState();
  if (state.called) throw new Error('daemonize() was already called in this process');
  if (state.marker !== null) {
    state.called = true;
    const { startDaemon } = require('./daemon') as typeof import('./daemon');
    return startDaemon(state.marker, checked.choices);
  }
  if (!isMainThread()) throw new Error('daemonize() must be called from the main thread');
  if (mayBeClusterWorker()) {
    const { isClusterWorker, startWorker } = require('./worker') as typeof import('./worker');
    if (isClusterWorker()) {
      state.called = true;
      return startWorker(foregroundRequested(checked.choices.foreground, process.env));
    }
  }
  const settings = settleLibrary(checked.options, process.cwd(), process.env, rawEnvironment(process.env));
  state.called = true;
  try {
    if (foregroundRequested(checked.choices.foreground, process.env)) {
      const { startForeground } = require('./run-foreground') as typeof import('./run-foreground');
      return startForeground(settings, checked.choices);
    }
    const { launchApp } = require('./launcher') as typeof import('./launcher');
    const result = launchApp(settings, checked.choices, APP_AT_LOAD);
    if (result.message !== undefined) fatal(result.message, result.exitCode);
    process.exit(result.exitCode);
  } catch (error) {
    if (error instanceof DaemonizeError) fatal(error.message, error.exitCode);
    throw error;
  }
}
