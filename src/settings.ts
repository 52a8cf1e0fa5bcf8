// Turns options as a user writes them (CLI flags or the library's object) into checked, absolute
// settings. Every default lives here and is named in README.md and --help.
import { isAbsolute, resolve } from 'node:path';

import { checkChroot } from './chroot';
import { readEnvFiles } from './env-file';
import { DaemonizeError } from './errors';
import { ExitCode } from './exit-codes';
import { pidfilePath } from './pidfile-location';
import { resolveUser, type TargetUser } from './user';

/** Options as written by a user; the CLI and the library share them. */
export interface DaemonOptions {
  /** Pidfile path; relative paths are taken from the caller's directory. */
  pidfile?: string;
  /** The daemon's name; without `pidfile`, picks `<pidfiles>/<name>.pid`. */
  name?: string;
  /** Directory for named pidfiles (default: /run for root, a per-user directory otherwise). */
  pidfiles?: string;
  /** Working directory of the daemon (default: /). */
  chdir?: string;
  /** File mode creation mask, as an octal string or a number (default: 022). */
  umask?: string | number;
  /** File for stdout (default: /dev/null). */
  stdout?: string;
  /** File for stderr (default: /dev/null). */
  stderr?: string;
  /** File for both stdout and stderr. */
  output?: string;
  /** Extra environment: "VAR=value" strings or an object. */
  env?: readonly string[] | Readonly<Record<string, string>>;
  /** As root: run as NAME or NAME:GROUP. */
  user?: string;
  // The three below are the command line's (--env-file, --core/--nocore, --chroot): the library's
  // daemonize() re-executes Node itself and does not take them (src/library/options.ts).
  /** Files of KEY=value lines for the environment, read in order, before `env`. */
  envFile?: string | readonly string[];
  /** true: raise the core-file limit to the hard limit; false: no core files (limit 0); unset: as inherited. */
  core?: boolean;
  /** As root: chroot(2) into this directory; the program's path and `chdir` are then inside it. */
  chroot?: string;
}

export interface Settings {
  pidfile?: string;
  name?: string;
  cwd: string;
  umask: number;
  stdout?: string;
  stderr?: string;
  /** The program's whole environment. */
  env: Record<string, string>;
  user?: TargetUser;
  /** RLIMIT_CORE for the program: -1 the hard limit, 0 none; undefined: as inherited. */
  rlimitCore?: number;
  /** --chroot's directory (absolute); `cwd` is then inside it. */
  root?: string;
}

export const DEFAULT_UMASK = 0o022;
export const DEFAULT_CWD = '/';

function badOption(option: string, expected: string, got: unknown): DaemonizeError {
  return new DaemonizeError(`bad ${option} ${JSON.stringify(got)}: expected ${expected}`, ExitCode.USAGE);
}

function parseUmask(value: string | number | undefined): number {
  if (value === undefined) return DEFAULT_UMASK;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0o777) return value;
  if (typeof value === 'string' && /^[0-7]{1,4}$/.test(value) && parseInt(value, 8) <= 0o777) {
    return parseInt(value, 8);
  }
  throw badOption('--umask', 'an octal mask from 000 to 777', value);
}

function checkPath(option: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '' || value.includes('\0')) {
    throw badOption(option, 'a non-empty path', value);
  }
  return value;
}

function absolute(path: string | undefined, baseDir: string): string | undefined {
  return path === undefined ? undefined : isAbsolute(path) ? resolve(path) : resolve(baseDir, path);
}

function parseEnv(env: DaemonOptions['env']): Record<string, string> {
  if (env === undefined) return {};
  const pairs: [string, unknown][] = Array.isArray(env)
    ? env.map((entry: unknown) => {
      if (typeof entry !== 'string' || entry.indexOf('=') < 1) throw badOption('--env', 'VAR=value', entry);
      const at = entry.indexOf('=');
      return [entry.slice(0, at), entry.slice(at + 1)];
    })
    : Object.entries(env);
  const result: Record<string, string> = {};
  for (const [name, value] of pairs) {
    if (name === '' || name.includes('=') || name.includes('\0') || typeof value !== 'string' || value.includes('\0')) {
      throw badOption('--env', 'VAR=value', `${name}=${String(value)}`);
    }
    result[name] = value;
  }
  return result;
}

/**
 * Checks options and fills in defaults; `baseDir` is the caller's directory, `callerEnv` its environment as
 * Node decoded it, where the default pidfile directory is found (as --list, the control API and the
 * directory's creation find it), and `programEnv` the one the program inherits (with the exact bytes of
 * values Node could not decode: rawEnvironment), read only when a program is started.
 */
export function settle(options: DaemonOptions, baseDir: string, callerEnv: NodeJS.ProcessEnv,
  programEnv: NodeJS.ProcessEnv = callerEnv): Settings {
  const output = checkPath('--output', options.output);
  const stdoutOption = checkPath('--stdout', options.stdout);
  const stderrOption = checkPath('--stderr', options.stderr);
  if (output !== undefined && (stdoutOption !== undefined || stderrOption !== undefined)) {
    throw new DaemonizeError('--output names the file for both streams: use it without --stdout and --stderr', ExitCode.USAGE);
  }
  const user = options.user === undefined ? undefined : resolveUser(String(options.user));
  const root = options.chroot === undefined ? undefined : checkChroot(options.chroot, baseDir);
  // What the program's environment adds to the caller's, in order; read and checked here, so their errors come first.
  const added: Record<string, string> = {};
  if (user) Object.assign(added, { HOME: user.home, USER: user.name, LOGNAME: user.name });
  const envFiles = typeof options.envFile === 'string' ? [options.envFile] : options.envFile ?? [];
  Object.assign(added, readEnvFiles(envFiles.map((file) => absolute(checkPath('--env-file', file), baseDir) as string), user));
  Object.assign(added, parseEnv(options.env));
  let env: Record<string, string> | undefined;
  return {
    pidfile: pidfilePath({
      pidfile: checkPath('--pidfile', options.pidfile),
      name: options.name,
      pidfiles: checkPath('--pidfiles', options.pidfiles),
    }, baseDir, callerEnv),
    name: options.name,
    // Under --chroot, --chdir names a directory inside the root.
    cwd: absolute(checkPath('--chdir', options.chdir), root === undefined ? baseDir : '/') ?? DEFAULT_CWD,
    umask: parseUmask(options.umask),
    stdout: absolute(output ?? stdoutOption, baseDir),
    stderr: absolute(output ?? stderrOption, baseDir),
    // The caller's environment is copied on first use: a control verb never reads it, and reading every
    // variable of process.env is a fifth of what --status does itself.
    get env(): Record<string, string> {
      if (env === undefined) {
        env = {};
        for (const [name, value] of Object.entries(programEnv)) if (value !== undefined) env[name] = value;
        Object.assign(env, added);
      }
      return env;
    },
    user,
    rlimitCore: options.core === undefined ? undefined : options.core ? -1 : 0,
    root,
  };
}
