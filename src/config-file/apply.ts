// Profiles under the command line: the options the files give for every daemon and for --name, merged
// under the ones typed, in the shape commander's opts() has. The option table comes from the commander
// definitions, so a file accepts exactly the long options --help lists (and `command`, which is -X).
import type { Command } from 'commander';

import { configFiles, loadProfiles, type ConfigChoice } from './load';
import { mergeLayers, profileLayers, type OptionTable, type OptionValues } from './merge';
import type { OptionKinds } from './parse';
import { verbose } from '../verbose';

/** Options that pick files, act on a running daemon or print something: meaningless in a profile. */
const NOT_IN_FILES = new Set(['name', 'config', 'noconfig', 'running', 'status', 'stop', 'restart', 'signal', 'list', 'logs', 'follow', 'lines',
  'systemd-unit', 'systemd-notify', 'version', 'help']);

function tableOf(command: Command, repeatable: readonly string[]): { kinds: OptionKinds; table: OptionTable } {
  const kinds = new Map<string, 'flag' | 'value'>();
  const keyOf = new Map<string, string>();
  for (const option of command.options) {
    const long = option.long?.replace(/^--/, '');
    if (long === undefined || NOT_IN_FILES.has(long)) continue;
    kinds.set(long, option.required || option.optional ? 'value' : 'flag');
    keyOf.set(long, option.attributeName());
  }
  return { kinds, table: { keyOf, repeatable: new Set(repeatable) } };
}

/**
 * The options to act on: the profile files' (unless -N), then `given` (the command line) over them.
 * `repeatable` names the keys that accumulate (env).
 */
export function withProfiles<T extends ConfigChoice & { name?: string }>(command: Command, given: T,
  repeatable: readonly string[], env: NodeJS.ProcessEnv, baseDir: string): T {
  const files = configFiles(given, env, baseDir);
  if (files.length === 0) return given;
  // The table walks every option commander has: made only when a file has something to parse.
  let options: ReturnType<typeof tableOf> | undefined;
  const optionTable = () => (options ??= tableOf(command, repeatable));
  const entries = loadProfiles(files, () => optionTable().kinds, env);
  if (entries.length === 0) return given;
  const { table } = optionTable();
  const layers = profileLayers(entries, given.name, table);
  verbose(`profile options: ${layers.map((layer) => Object.keys(layer).join(' ') || '(none)').join(', then ')}; then the command line's`);
  const merged = mergeLayers([...layers, given as unknown as OptionValues], table);
  return merged as unknown as T;
}
