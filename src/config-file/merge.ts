// Profiles and the command line as layers of options, later winning: every '*' entry (in file order),
// then every entry for the daemon's name, then the command line. Pure.
import type { ProfileEntry } from './parse';

export type OptionValue = string | boolean | string[];
export type OptionValues = Record<string, OptionValue | undefined>;

/** How the file's long names map to the command line's option keys, and which ones add up. */
export interface OptionTable {
  /** 'stop-timeout' -> 'stopTimeout'. */
  keyOf: ReadonlyMap<string, string>;
  /** Keys given more than once that accumulate (--env), rather than the last one winning. */
  repeatable: ReadonlySet<string>;
}

/** Options that set the same thing two ways: a later layer giving one drops the other from earlier layers. */
const EXCLUSIVE: readonly (readonly [string, string])[] = [
  ['output', 'stdout'], ['output', 'stderr'], ['core', 'nocore'],
];

/** The options of every '*' entry, then of every entry named `name`, each as one layer. */
export function profileLayers(entries: readonly ProfileEntry[], name: string | undefined, table: OptionTable): OptionValues[] {
  const layer = (wanted: string): OptionValues => {
    const values: OptionValues = {};
    for (const entry of entries) {
      if (entry.name !== wanted) continue;
      for (const option of entry.options) {
        const key = table.keyOf.get(option.key) ?? option.key;
        const value: OptionValue = option.value ?? true;
        values[key] = table.repeatable.has(key) ? [...((values[key] as string[] | undefined) ?? []), value as string] : value;
        dropExclusive(values, key);
      }
    }
    return values;
  };
  return name === undefined ? [layer('*')] : [layer('*'), layer(name)];
}

function dropExclusive(values: OptionValues, given: string): void {
  for (const [a, b] of EXCLUSIVE) {
    if (given === a) delete values[b];
    if (given === b) delete values[a];
  }
}

/** Merges layers, later winning; repeatable options accumulate in layer order. */
export function mergeLayers(layers: readonly OptionValues[], table: OptionTable): OptionValues {
  const merged: OptionValues = {};
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer)) {
      if (value === undefined) continue;
      dropExclusive(merged, key);
      merged[key] = table.repeatable.has(key) ? [...((merged[key] as string[] | undefined) ?? []), ...(value as string[])] : value;
    }
  }
  return merged;
}
