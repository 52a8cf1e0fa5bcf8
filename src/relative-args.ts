// The classic daemon trap: `daemonize -- node app.js` from the app's directory. The daemon runs in /
// (daemon(7)), where app.js is not, and the error lands in a log nobody reads yet. Arguments go to the
// program untouched, so the launcher only warns, naming the fix; a systemd unit, written once and run
// from / later, gets such arguments made absolute instead.
import { isAbsolute, resolve } from 'node:path';

import { pathExists } from './file-status';

/** Whether `arg` names a file in the caller's directory that the daemon, in its own directory, will not find. */
function strandedFile(arg: string, callerDir: string, daemonDir: string): boolean {
  if (resolve(callerDir) === resolve(daemonDir)) return false;
  if (arg === '' || arg.startsWith('-') || isAbsolute(arg) || arg.includes('=')) return false;
  return pathExists(resolve(callerDir, arg)) && !pathExists(resolve(daemonDir, arg));
}

/** Warnings for arguments that name a file in the caller's directory but not in the daemon's. */
export function relativeArgWarnings(args: string[], callerDir: string, daemonDir: string): string[] {
  return args
    .filter((arg) => strandedFile(arg, callerDir, daemonDir))
    .map((arg) => `'${arg}' is a file here but not in ${daemonDir}, where the daemon runs: use --chdir . or an absolute path`);
}

/** The arguments with each one that names a file here (and not in the daemon's directory) made absolute. */
export function absoluteFileArgs(args: string[], callerDir: string, daemonDir: string): string[] {
  return args.map((arg) => (strandedFile(arg, callerDir, daemonDir) ? resolve(callerDir, arg) : arg));
}
