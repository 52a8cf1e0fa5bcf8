// The foreground switch: `foreground: true`, or DAEMONIZE_FOREGROUND in the environment (which
// `daemonize --foreground` sets for the program it runs), keeps a daemonize() app in the foreground.
// Its own small module: the CLI imports the name, and the launcher must not load the foreground's code.

/** Set to 1 to keep a daemonize() app in the foreground; `daemonize --foreground` sets it for its program. */
export const FOREGROUND_ENV = 'DAEMONIZE_FOREGROUND';

const OFF = new Set(['', '0', 'false', 'no', 'off']);

/** The option, or the variable set to anything but '', 0, false, no or off. */
export function foregroundRequested(option: boolean, env: NodeJS.ProcessEnv): boolean {
  const value = env[FOREGROUND_ENV];
  return option || (value !== undefined && !OFF.has(value.toLowerCase()));
}
