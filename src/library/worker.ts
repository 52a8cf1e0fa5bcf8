// daemonize() in a cluster worker. The worker runs the app's file from its first line, so it reaches the
// same daemonize() call as its primary; but the primary has already done all of it (it is the daemon, or
// the foreground service, and holds the pidfile; the worker inherited its directory, umask, user and
// stdio). Starting the app again from here would make the worker exit as a launcher does, so a worker
// changes nothing: it gets a handle with no pidfile, whose ready() and sd_notify messages do nothing
// (readiness is the primary's to tell), and whose 'shutdown' and 'reload' events work as in the daemon.
import { DaemonHandle, installSignalHandlers } from './handle';
import { warn } from './start-handle';

export function isClusterWorker(): boolean {
  return (require('node:cluster') as typeof import('node:cluster').default).isWorker;
}

export function startWorker(foreground: boolean): DaemonHandle {
  const handle = new DaemonHandle({ pidfile: undefined, foreground }, {
    becomeReady: () => undefined,
    reopenLogs: () => undefined,
    notify: () => false,
    exit: (code) => process.exit(code),
    warn,
  });
  installSignalHandlers(handle);
  return handle;
}
