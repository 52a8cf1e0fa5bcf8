// The library's public surface.
export { DaemonizeError } from './errors';
export { ExitCode } from './exit-codes';
export type { DaemonOptions } from './settings';
