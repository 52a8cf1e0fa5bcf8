// Sockets a supervisor (daemonize --listen, or systemd's socket activation) passed this process: fds 3..
// with LISTEN_FDS and LISTEN_FDNAMES, valid only when LISTEN_PID is this very process (sd_listen_fds(3)'s
// rule: a child that inherited the variables from its parent must not take its parent's sockets).

/** The descriptor of the held socket named `name` (or the first one), or null when none was passed. */
export function listenFd(name?: string, env: NodeJS.ProcessEnv = process.env): number | null {
  if (env.LISTEN_PID !== String(process.pid)) return null;
  const count = Number(env.LISTEN_FDS);
  if (!Number.isInteger(count) || count < 1) return null;
  if (name === undefined) return 3;
  const index = (env.LISTEN_FDNAMES ?? '').split(':').indexOf(name);
  return index >= 0 && index < count ? 3 + index : null;
}

/**
 * What to give `server.listen()`: the held socket when supervised with --listen, else `fallbackPort` (a
 * port, or a Unix socket path): `server.listen(serverListenOptions(8080))`.
 */
export function serverListenOptions(fallback: number | string, name?: string): { fd: number } | { port: number } | { path: string } {
  const fd = listenFd(name);
  if (fd !== null) return { fd };
  return typeof fallback === 'number' ? { port: fallback } : { path: fallback };
}
