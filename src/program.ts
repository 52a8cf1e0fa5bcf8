// Finds the program before anything is forked, so "not found" (127) and "cannot execute" (126) are
// reported by the launcher itself with no pidfile or daemon made, as a shell would report them.
import * as fs from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';

import { DaemonizeError } from './errors';
import { ExitCode } from './exit-codes';
import { checkAccess } from './file-calls';
import { statPathIfAny, type FileStatus } from './file-status';
import type { Settings } from './settings';
import { fsPath } from './raw-bytes';

/** execvp's default search path, used when PATH is unset. */
const DEFAULT_PATH = '/usr/local/bin:/usr/bin:/bin';

type Candidate = 'executable' | 'not-executable' | 'missing';

function inspect(path: string): Candidate {
  let stat: FileStatus | undefined;
  try {
    // IfAny: a PATH search misses in most directories, and an exception per miss costs start-up.
    stat = statPathIfAny(fsPath(path));
  } catch {
    return 'missing';
  }
  if (stat === undefined) return 'missing';
  if (!stat.isFile()) return 'not-executable';
  try {
    checkAccess(fsPath(path), fs.constants.X_OK);
    return 'executable';
  } catch {
    return 'not-executable';
  }
}

/**
 * The program for these settings. Under --chroot the name is looked up inside the root (the path returned
 * is the one inside it, for execve after chroot), a relative one from --chdir, the daemon's directory there.
 */
export function resolveProgramFor(name: string, settings: Pick<Settings, 'env' | 'root' | 'cwd'>, baseDir: string): string {
  if (settings.root === undefined) return resolveProgram(name, settings.env.PATH, baseDir);
  return resolveProgram(name, settings.env.PATH, settings.cwd, settings.root);
}

/**
 * The absolute path execve will run (`root`: the directory it will run in as /, for --chroot). A name with a slash is taken relative to `baseDir` (the caller's
 * directory, like every other path on the command line); a bare name is searched in `searchPath`.
 */
export function resolveProgram(name: string, searchPath: string | undefined, baseDir: string, root = '/'): string {
  if (name === '') throw new DaemonizeError('unable to exec an empty command name', ExitCode.NOT_FOUND);
  if (name.includes('/')) {
    const path = isAbsolute(name) ? name : resolve(baseDir, name);
    const found = inspect(join(root, path));
    if (found === 'executable') return path;
    if (found === 'missing') throw new DaemonizeError(`unable to exec ${name}: No such file or directory`, ExitCode.NOT_FOUND);
    throw new DaemonizeError(`unable to exec ${name}: Permission denied`, ExitCode.CANNOT_EXECUTE);
  }
  let sawNonExecutable = false;
  for (const dir of (searchPath ?? DEFAULT_PATH).split(delimiter)) {
    // An empty PATH entry means the current directory, as in execvp.
    const path = resolve(baseDir, join(dir === '' ? '.' : dir, name));
    const found = inspect(join(root, path));
    if (found === 'executable') return path;
    if (found === 'not-executable') sawNonExecutable = true;
  }
  if (sawNonExecutable) throw new DaemonizeError(`unable to exec ${name}: Permission denied`, ExitCode.CANNOT_EXECUTE);
  throw new DaemonizeError(`unable to exec ${name}: not found in PATH`, ExitCode.NOT_FOUND);
}
