// daemonize()'s options: the CLI's, plus readiness and the foreground switch. A wrong option is a bug
// in the app, so it throws a TypeError naming the option and what was expected, before anything forks.
import { MAX_SECONDS } from '../durations';
import { DaemonizeError } from '../errors';
import { ExitCode } from '../exit-codes';
import { settle, type DaemonOptions, type Settings } from '../settings';

export interface DaemonizeOptions extends DaemonOptions {
  /**
   * 'auto' (default): the daemon is ready when daemonize() returns in it.
   * 'manual': the launcher waits until the app calls `ready()` on the handle (after it listens, say).
   */
  ready?: 'auto' | 'manual';
  /** Seconds the launcher waits for readiness before it kills the daemon (default 60, at most 2147483; 0: no limit). */
  readyTimeout?: number;
  /** Stay in the foreground: no fork, but the pidfile, signal handling and readiness all the same. */
  foreground?: boolean;
}

/** How long the launcher waits for `ready()` by default, in seconds: start-stop-daemon's default too. */
export const DEFAULT_READY_TIMEOUT = 60;

export interface LibraryChoices {
  ready: 'auto' | 'manual';
  /** Milliseconds; 0 means no limit. */
  readyTimeoutMs: number;
  foreground: boolean;
  /** What the user set explicitly: the foreground changes only these. */
  chdirGiven: boolean;
  umaskGiven: boolean;
}

const STRING_OPTIONS = ['pidfile', 'name', 'pidfiles', 'chdir', 'stdout', 'stderr', 'output', 'user'] as const;
const KNOWN = new Set<string>([...STRING_OPTIONS, 'umask', 'env', 'ready', 'readyTimeout', 'foreground']);

function badOption(option: string, expected: string, got: unknown): TypeError {
  const shown = typeof got === 'string' ? JSON.stringify(got) : typeof got === 'object' && got !== null ? 'an object' : String(got);
  return new TypeError(`daemonize(): option '${option}' must be ${expected}; got ${shown}`);
}

/** Checks the types of every option; throws a TypeError for the first wrong one. */
export function checkOptions(options: unknown): { options: DaemonizeOptions; choices: LibraryChoices } {
  if (options === undefined) options = {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`daemonize(): options must be an object; got ${options === null ? 'null' : typeof options}`);
  }
  const given = options as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!KNOWN.has(key)) throw new TypeError(`daemonize(): unknown option '${key}' (known: ${[...KNOWN].join(', ')})`);
  }
  for (const key of STRING_OPTIONS) {
    const value = given[key];
    if (value !== undefined && (typeof value !== 'string' || value === '' || value.includes('\0'))) {
      throw badOption(key, key === 'user' ? "a user name, 'NAME:GROUP' or a uid" : 'a non-empty string', value);
    }
  }
  if (given.umask !== undefined && typeof given.umask !== 'number' && typeof given.umask !== 'string') {
    throw badOption('umask', "a mask from 0 to 0o777 (a number, or an octal string such as '027')", given.umask);
  }
  if (given.env !== undefined && (typeof given.env !== 'object' || given.env === null)) {
    throw badOption('env', "an object of strings, or an array of 'VAR=value' strings", given.env);
  }
  if (given.ready !== undefined && given.ready !== 'auto' && given.ready !== 'manual') {
    throw badOption('ready', "'auto' or 'manual'", given.ready);
  }
  const timeout = given.readyTimeout;
  if (timeout !== undefined && (typeof timeout !== 'number' || !(timeout >= 0) || timeout > MAX_SECONDS)) {
    throw badOption('readyTimeout', `a number of seconds up to ${MAX_SECONDS} (0 for no limit)`, timeout);
  }
  if (given.foreground !== undefined && typeof given.foreground !== 'boolean') {
    throw badOption('foreground', 'true or false', given.foreground);
  }
  const checked = given as DaemonizeOptions;
  return {
    options: checked,
    choices: {
      ready: checked.ready ?? 'auto',
      readyTimeoutMs: Math.ceil((checked.readyTimeout ?? DEFAULT_READY_TIMEOUT) * 1000),
      foreground: checked.foreground === true,
      chdirGiven: checked.chdir !== undefined,
      umaskGiven: checked.umask !== undefined,
    },
  };
}

/**
 * The shared settings (paths made absolute against `baseDir`, defaults filled in). The CLI's value
 * checks speak of '--umask'; here they become TypeErrors that speak of option 'umask'.
 * Unlike the CLI's `/`, the daemon's working directory is `baseDir`, the app's own, unless `chdir` says
 * otherwise: an app reads its files relative to it (express.static('public'), dotenv's .env).
 */
export function settleLibrary(options: DaemonizeOptions, baseDir: string, env: NodeJS.ProcessEnv,
  programEnv: NodeJS.ProcessEnv = env): Settings {
  const { ready: _ready, readyTimeout: _timeout, foreground: _foreground, ...shared } = options;
  try {
    const settings = settle(shared, baseDir, env, programEnv);
    return shared.chdir === undefined ? { ...settings, cwd: baseDir } : settings;
  } catch (error) {
    if (error instanceof DaemonizeError && error.exitCode === ExitCode.USAGE) {
      throw new TypeError(`daemonize(): ${error.message.replace(/--([a-z]+)/g, "option '$1'")}`);
    }
    throw error;
  }
}
