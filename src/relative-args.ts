// The classic daemon trap: `daemonize -- node app.js` from the app's directory. The daemon runs in /
// (daemon(7)), where app.js is not, and the error lands in a log nobody reads yet. Arguments go to the
// program untouched, so the launcher only warns, naming the fix.
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';

/** Warnings for arguments that name a file in the caller's directory but not in the daemon's. */
export function relativeArgWarnings(args: string[], callerDir: string, daemonDir: string): string[] {
  if (resolve(callerDir) === resolve(daemonDir)) return [];
  return args
    .filter((arg) => arg !== '' && !arg.startsWith('-') && !isAbsolute(arg) && !arg.includes('='))
    .filter((arg) => existsSync(resolve(callerDir, arg)) && !existsSync(resolve(daemonDir, arg)))
    .map((arg) => `'${arg}' is a file here but not in ${daemonDir}, where the daemon runs: use --chdir . or an absolute path`);
}
