// --ready MODE: when a supervised child counts as started. 'exec': once it exec'd (the default);
// 'notify': once it sends READY=1 to its NOTIFY_SOCKET; 'tcp:HOST:PORT': once that port accepts a
// connection, for programs that do not notify (nginx, gunicorn...).
import { DaemonizeError } from '../errors';
import { ExitCode } from '../exit-codes';

export type ReadyMode = { kind: 'exec' } | { kind: 'notify' } | { kind: 'tcp'; host: string; port: number };

export const DEFAULT_READY_TIMEOUT = 60;

/** How often a tcp: readiness check tries to connect while the child is starting. */
export const TCP_PROBE_MS = 100;

/** Splits "HOST:PORT", "[::1]:PORT" or ":PORT" (any address); null when it is not one. */
export function parseHostPort(text: string, anyHost: string): { host: string; port: number } | null {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text);
  if (match === null) return null;
  const port = Number(match[3]);
  if (port > 65535) return null;
  const host = match[1] ?? (match[2] === '' ? anyHost : match[2] === 'localhost' ? '127.0.0.1' : match[2]);
  return { host, port };
}

export function parseReadyMode(text: string | undefined): ReadyMode {
  if (text === undefined || text === 'exec') return { kind: 'exec' };
  if (text === 'notify') return { kind: 'notify' };
  const address = text.startsWith('tcp:') ? parseHostPort(text.slice(4), '127.0.0.1') : null;
  if (address === null || address.port === 0) {
    throw new DaemonizeError(`bad --ready ${JSON.stringify(text)}: expected exec, notify or tcp:HOST:PORT`, ExitCode.USAGE);
  }
  return { kind: 'tcp', ...address };
}

/** Tries one connection; `done(true)` once it was accepted (then closed at once). */
export function probeTcp(host: string, port: number, done: (accepted: boolean) => void): void {
  // Loaded here, not at the top: the launcher checks --ready with parseReadyMode, and node:net (with the
  // streams under it) is a few milliseconds of its start-up that only the supervisor needs.
  const { connect } = require('node:net') as typeof import('node:net');
  const socket = connect({ host, port });
  let settled = false;
  const end = (accepted: boolean): void => {
    if (settled) return;
    settled = true;
    socket.destroy();
    done(accepted);
  };
  socket.setTimeout(1000, () => end(false));
  socket.once('connect', () => end(true));
  socket.once('error', () => end(false));
}

/**
 * --ready tcp:HOST:PORT while the supervisor runs: tries to connect every TCP_PROBE_MS, one attempt at a
 * time, but only while a child is starting (follow() is told each state), so a running service costs no
 * wake-ups. `starting()` names the child that still waits (null: none), and `accepted(child)` is told once
 * its port accepts, if that child still waits then.
 */
export function tcpReadiness(address: { host: string; port: number }, starting: () => number | null,
  accepted: (child: number) => void): { follow(state: string): void; stop(): void } {
  let timer: NodeJS.Timeout | null = null;
  let trying = false;
  const stop = (): void => {
    if (timer !== null) clearInterval(timer);
    timer = null;
  };
  const attempt = (): void => {
    const child = starting();
    if (trying || child === null) return;
    trying = true;
    probeTcp(address.host, address.port, (ok) => {
      trying = false;
      if (ok && starting() === child) accepted(child);
    });
  };
  return {
    follow(state) {
      if (state !== 'starting') stop();
      else timer ??= setInterval(attempt, TCP_PROBE_MS);
    },
    stop,
  };
}
