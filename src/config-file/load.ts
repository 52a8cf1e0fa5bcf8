// Which profile files are read, in which order, and reading them:
//   the system file (/etc/daemonize.conf, or -C FILE instead), then every file in its ".d" directory
//   (/etc/daemonize.conf.d/*, or FILE.d/*) in sorted order, then the user's own
//   $XDG_CONFIG_HOME/daemonize.conf (~/.config/daemonize.conf when XDG_CONFIG_HOME is unset).
// Missing files are skipped, except the one -C names. -N reads none.
import { readdirSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';

import { DaemonizeError, unable } from '../errors';
import { ExitCode } from '../exit-codes';
import { pathExists } from '../file-status';
import { readTrustedText } from '../trusted-read';
import { verbose } from '../verbose';
import { ConfigSyntaxError, parseConfig, type OptionKinds, type ProfileEntry } from './parse';

export const SYSTEM_CONFIG = '/etc/daemonize.conf';
export const USER_CONFIG = 'daemonize.conf';

export interface ConfigChoice {
  /** -C FILE: instead of /etc/daemonize.conf (and FILE.d/* instead of /etc/daemonize.conf.d/*). */
  config?: string;
  /** -N: no profile file at all. */
  noconfig?: boolean;
}

export interface ConfigFile {
  path: string;
  /** Only the file -C names must exist. */
  required: boolean;
}

function home(env: NodeJS.ProcessEnv): string {
  // node:os only when HOME is unset: loading it is a part of every start-up.
  return env.HOME || (require('node:os') as typeof import('node:os')).homedir();
}

/** The user's own file: under $XDG_CONFIG_HOME when it is an absolute path (as the XDG spec says), else ~/.config. */
export function userConfigFile(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CONFIG_HOME && isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : join(home(env), '.config');
  return join(base, USER_CONFIG);
}

/** Files in DIR in sorted order, leaving out hidden files and editor backups (NAME~). */
function dropIns(dir: string): string[] {
  // Asked first without an exception (see readTrustedText): mostly there is no such directory.
  if (!pathExists(dir)) return [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    // Absent, or not this user's to read (root's private drop-ins): as for a missing file, nothing to read.
    if (['ENOENT', 'ENOTDIR', 'EACCES'].includes((error as NodeJS.ErrnoException).code ?? '')) return [];
    throw unable(`read the directory ${dir}`, error);
  }
  return names.filter((name) => !name.startsWith('.') && !name.endsWith('~')).sort().map((name) => join(dir, name));
}

export function configFiles(choice: ConfigChoice, env: NodeJS.ProcessEnv, baseDir: string): ConfigFile[] {
  if (choice.noconfig) return [];
  const system = choice.config === undefined ? SYSTEM_CONFIG
    : isAbsolute(choice.config) ? choice.config : join(baseDir, choice.config);
  return [
    { path: system, required: choice.config !== undefined },
    ...dropIns(`${system}.d`).map((path) => ({ path, required: false })),
    { path: userConfigFile(env), required: false },
  ];
}

/**
 * Reads and parses the files in order; variables set in one file hold in the ones after it. `kinds` is
 * asked for only once a file has text: most machines have no profile file at all.
 */
export function loadProfiles(files: readonly ConfigFile[], kinds: () => OptionKinds, env: NodeJS.ProcessEnv): ProfileEntry[] {
  const variables = new Map<string, string>();
  const entries: ProfileEntry[] = [];
  for (const file of files) {
    const text = readTrustedText(file.path, 'profile', [0], !file.required);
    if (text === null) {
      verbose(`profile ${file.path}: none to read`);
      continue;
    }
    verbose(`profile ${file.path} read`);
    try {
      entries.push(...parseConfig(text, { file: file.path, kinds: kinds(), variables, environment: env, home: home(env) }));
    } catch (error) {
      if (error instanceof ConfigSyntaxError) throw new DaemonizeError(error.message, ExitCode.USAGE);
      throw error;
    }
  }
  return entries;
}
