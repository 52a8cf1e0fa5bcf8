// The library's public surface.
export { DaemonizeError } from './errors';
export { ExitCode } from './exit-codes';
export type { DaemonOptions } from './settings';
export { daemonize } from './library/daemonize';
export { FOREGROUND_ENV } from './library/foreground';
export { DEFAULT_READY_TIMEOUT, type DaemonizeOptions } from './library/options';
export type { DaemonHandle, ReloadListener, ShutdownListener } from './library/handle';
export { status, running, stop, restart, signal, list } from './control/lazy-api';
export type { Target, StopOptions, RestartOptions, RestartResult, SignalResult, ListOptions, ListEntry, StopResult } from './control/api';
export type { DaemonStatus, DaemonState } from './control/inspect';
export { listenFd, serverListenOptions } from './library/listen-fds';
