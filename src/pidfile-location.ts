// Where a pidfile lives: --pidfile as given, or <dir>/<name>.pid for --name, where <dir> is --pidfiles,
// else /run for root, else $XDG_RUNTIME_DIR/daemonize, else ~/.local/state/daemonize.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { DaemonizeError, unable } from './errors';
import { ExitCode } from './exit-codes';

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@-]*$/;

export function defaultPidfileDir(env: NodeJS.ProcessEnv, uid: number): string {
  if (uid === 0) return '/run';
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, 'daemonize');
  return join(env.HOME || (require('node:os') as typeof import('node:os')).homedir(), '.local', 'state', 'daemonize');
}

export function checkName(name: string): string {
  if (!NAME_PATTERN.test(name) || name.length > 200) {
    throw new DaemonizeError(
      `bad --name ${JSON.stringify(name)}: expected letters, digits, '.', '_', '@' or '-', not starting with a dot or dash`,
      ExitCode.USAGE);
  }
  return name;
}

export interface PidfileChoice {
  pidfile?: string;
  name?: string;
  pidfiles?: string;
}

export function pidfilePath(choice: PidfileChoice, baseDir: string, env: NodeJS.ProcessEnv): string | undefined {
  if (choice.name !== undefined) checkName(choice.name);
  if (choice.pidfile !== undefined) return resolve(baseDir, choice.pidfile);
  if (choice.name === undefined) {
    if (choice.pidfiles !== undefined) throw new DaemonizeError('--pidfiles needs --name', ExitCode.USAGE);
    return undefined;
  }
  const dir = choice.pidfiles !== undefined ? resolve(baseDir, choice.pidfiles) : defaultPidfileDir(env, process.getuid?.() ?? 0);
  return join(dir, `${choice.name}.pid`);
}

/** A file beside a pidfile, named like it: besidePidfile('/run/web.pid', '.status') is /run/web.status. */
export function besidePidfile(pidfile: string, suffix: string): string {
  return `${pidfile.endsWith('.pid') ? pidfile.slice(0, -4) : pidfile}${suffix}`;
}

/** Makes the per-user default directory on first use (private: it holds the user's locks). */
export function ensurePidfileDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw unable(`create pidfile directory ${dir}`, error);
  }
}
