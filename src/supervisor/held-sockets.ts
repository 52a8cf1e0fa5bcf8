// --listen ADDR: sockets the supervisor binds once and holds for its whole life, handed to every child
// at descriptors 3.. with LISTEN_FDS, LISTEN_FDNAMES and LISTEN_PID (systemd's socket activation), so a
// restart never closes the port: connections wait in the kernel's backlog while the program changes.
import { closeSync, lstatSync, unlinkSync } from 'node:fs';
import { isAbsolute } from 'node:path';

import { DaemonizeError, describe } from '../errors';
import { ExitCode } from '../exit-codes';
import { native } from '../native';
import { parseHostPort } from './readiness';
import { clearStaleSocket } from './stale-socket';

export type ListenAddress = { name: string; host: string; port: number } | { name: string; path: string };

/** "HOST:PORT", "[::1]:PORT", ":PORT" or "/path", optionally "NAME=" before; the name defaults to "listen". */
export function parseListen(text: string): ListenAddress {
  const named = /^([A-Za-z_][A-Za-z0-9_.-]{0,254})=(.*)$/.exec(text);
  const name = named?.[1] ?? 'listen';
  const where = named?.[2] ?? text;
  if (isAbsolute(where)) return { name, path: where };
  const address = parseHostPort(where, '0.0.0.0');
  if (address === null || (address.host !== '0.0.0.0' && !/^[\d.]+$|:/.test(address.host))) {
    throw new DaemonizeError(`bad --listen ${JSON.stringify(text)}: expected [NAME=]HOST:PORT, [IPV6]:PORT, :PORT or an absolute path (HOST numeric)`, ExitCode.USAGE);
  }
  return { name, ...address };
}

export function describeListen(address: ListenAddress): string {
  if ('path' in address) return address.path;
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

export interface HeldSockets {
  fds: number[];
  /** LISTEN_FDS, LISTEN_FDNAMES for the child (LISTEN_PID is written by the child itself). */
  env: string[];
  /** Closes them and removes the Unix sockets' files. */
  close(): void;
}

/**
 * Binds every address; a failure (EADDRINUSE, EACCES, a file in a Unix socket's place) closes what was
 * bound and stops the start (exit 1). A dead Unix socket a killed supervisor left is removed first.
 * `user`: the daemon's --user, whose socket files root may remove too.
 */
export function bindAll(addresses: readonly ListenAddress[], user?: { uid: number }): HeldSockets {
  const fds: number[] = [];
  const paths: string[] = [];
  const close = (): void => {
    for (const fd of fds.splice(0)) closeSync(fd);
    for (const path of paths.splice(0)) {
      try {
        if (lstatSync(path).isSocket()) unlinkSync(path);
      } catch {
        // already gone
      }
    }
  };
  for (const address of addresses) {
    try {
      if ('path' in address) clearStaleSocket(address.path, user);
      fds.push(native.listenSocket('path' in address ? { path: address.path } : { host: address.host, port: address.port }, 511));
      if ('path' in address) paths.push(address.path);
    } catch (error) {
      close();
      if (error instanceof DaemonizeError) throw error;
      throw new DaemonizeError(`unable to listen on ${describeListen(address)}: ${describe(error)}`, ExitCode.FAILURE);
    }
  }
  const env = fds.length === 0 ? [] : [`LISTEN_FDS=${fds.length}`, `LISTEN_FDNAMES=${addresses.map((a) => a.name).join(':')}`];
  return { fds, env, close };
}
