// The probes' options as a user writes them (--health-cmd and its timings, --max-memory, --watchdog),
// checked and bounded: every duration fits a Node timer (src/durations.ts's bounds), every size is a
// whole number of bytes from 1 MiB to 1 TiB. What the probes do with them is probes.ts.
import { checkSeconds } from '../durations';
import { DaemonizeError } from '../errors';
import { ExitCode } from '../exit-codes';

export interface HealthSettings {
  /** Run with `sh -c`, as the program's user, in its directory and environment. */
  command: string;
  /** Seconds from readiness to the first check, and from the end of a check to the next. */
  interval: number;
  /** Seconds a check may take; then its process group is killed and it counts as failed. */
  timeout: number;
  /** Failures in a row that restart the program. */
  retries: number;
}

export interface ProbeSettings {
  health?: HealthSettings;
  /** Bytes of resident memory the program's whole process tree may use. */
  maxMemory?: number;
  /** Seconds within which the program must send WATCHDOG=1. */
  watchdog?: number;
}

export interface ProbeOptions {
  healthCmd?: string;
  healthInterval?: string | number;
  healthTimeout?: string | number;
  healthRetries?: string | number;
  maxMemory?: string | number;
  watchdog?: string | number;
}

export const HEALTH_DEFAULTS = { interval: 10, timeout: 5, retries: 3 } as const;

/** Shorter intervals would have the supervisor do nothing but probe. (The longest: MAX_SECONDS, a timer's.) */
export const MIN_PROBE_SECONDS = 0.1;
export const MAX_HEALTH_RETRIES = 1000;
/** Below 1 MiB no program runs; above 1 TiB is a typo. */
export const MIN_MEMORY = 1024 ** 2;
export const MAX_MEMORY = 1024 ** 4;

const usage = (message: string): DaemonizeError => new DaemonizeError(message, ExitCode.USAGE, 'EUSAGE');

function seconds(option: string, value: string | number | undefined, fallback: number): number {
  return value === undefined ? fallback : checkSeconds(option, value, MIN_PROBE_SECONDS);
}

function count(option: string, value: string | number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = typeof value === 'number' ? value : /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(Number.isInteger(parsed) && parsed >= 1 && parsed <= MAX_HEALTH_RETRIES)) {
    throw usage(`bad ${option} ${JSON.stringify(value)}: expected a whole number from 1 to ${MAX_HEALTH_RETRIES}`);
  }
  return parsed;
}

const UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** `512M`, `2G`, `1.5G`, `1048576` (bytes); K, M, G, T are powers of 1024 (a trailing B or iB is allowed). */
export function parseSize(option: string, value: string | number): number {
  const match = typeof value === 'number' ? null : /^(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?$/i.exec(value.trim());
  const bytes = typeof value === 'number' ? value : match ? Math.floor(Number(match[1]) * UNITS[match[2].toUpperCase()]) : NaN;
  if (!(Number.isInteger(bytes) && bytes >= MIN_MEMORY && bytes <= MAX_MEMORY)) {
    throw usage(`bad ${option} ${JSON.stringify(value)}: expected a size such as 512M or 2G, from 1M to 1T`);
  }
  return bytes;
}

/** "512 MiB", "1.5 GiB": a size as the log says it. */
export function describeSize(bytes: number): string {
  for (const [unit, size] of [['GiB', 1024 ** 3], ['MiB', 1024 ** 2], ['KiB', 1024]] as const) {
    if (bytes >= size) return `${Number((bytes / size).toFixed(1))} ${unit}`;
  }
  return `${bytes} bytes`;
}

export function settleProbes(options: ProbeOptions): ProbeSettings {
  const settings: ProbeSettings = {};
  const timings = (['healthInterval', 'healthTimeout', 'healthRetries'] as const).find((name) => options[name] !== undefined);
  if (options.healthCmd === undefined && timings !== undefined) {
    throw usage(`--${timings.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} needs --health-cmd`);
  }
  if (options.healthCmd !== undefined) {
    if (options.healthCmd.trim() === '') throw usage('--health-cmd needs a command');
    settings.health = {
      command: options.healthCmd,
      interval: seconds('--health-interval', options.healthInterval, HEALTH_DEFAULTS.interval),
      timeout: seconds('--health-timeout', options.healthTimeout, HEALTH_DEFAULTS.timeout),
      retries: count('--health-retries', options.healthRetries, HEALTH_DEFAULTS.retries),
    };
  }
  if (options.maxMemory !== undefined) settings.maxMemory = parseSize('--max-memory', options.maxMemory);
  if (options.watchdog !== undefined) settings.watchdog = seconds('--watchdog', options.watchdog, 0);
  return settings;
}
