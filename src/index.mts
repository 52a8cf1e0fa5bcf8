// The ES module entry (package.json's exports, `import`): the library's named exports, taken from the
// CommonJS entry so that one instance of each serves however an app loads the package (no dual-package
// hazard: one DaemonizeError class for instanceof, one daemonize() that has run or not). Keep this list
// the same as index.ts's; test/package-install.test.js checks the two agree.
export { DaemonizeError, ExitCode, daemonize, FOREGROUND_ENV, DEFAULT_READY_TIMEOUT } from './index.js';
export { status, running, stop, restart, signal, list } from './index.js';
export { listenFd, serverListenOptions } from './index.js';
export type { DaemonOptions, DaemonizeOptions, DaemonHandle, ReloadListener, ShutdownListener } from './index.js';
export type { Target, StopOptions, RestartOptions, RestartResult, SignalResult, ListOptions, ListEntry, StopResult } from './index.js';
export type { DaemonStatus, DaemonState } from './index.js';
