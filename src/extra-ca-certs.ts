// NODE_EXTRA_CA_CERTS makes every Node process read and parse the certificate file it names as the process
// starts, before any JavaScript runs (Node 20 does it eagerly): about 90 ms, and 1 MiB that stays, on a
// machine whose variable names the system's whole bundle. The CLI and the supervisor make no TLS
// connection, so neither needs them: bin/daemonize (one shell line before Node starts) and the supervisor's
// spawn set the variable aside under CARRIED_NAME, and each puts it back first thing, so that the program,
// its hooks and its checks get the environment exactly as it was given. Run as `node bin/daemonize`, the
// CLI pays for the certificates as before; the supervisor it starts does not.

/** Where the variable waits while a process of ours starts. Reserved: do not set it yourself. */
export const CARRIED_NAME = 'DAEMONIZE_NODE_EXTRA_CA_CERTS';
const VARIABLE = 'NODE_EXTRA_CA_CERTS';

/** Puts NODE_EXTRA_CA_CERTS back from where bin/daemonize or the supervisor's spawn set it aside. */
export function restoreExtraCaCerts(env: NodeJS.ProcessEnv): void {
  const carried = env[CARRIED_NAME];
  if (carried === undefined) return;
  delete env[CARRIED_NAME];
  env[VARIABLE] = carried;
}

/** The variable's name as it was given, for a name read from /proc/self/environ of a process of ours. */
export function givenName(name: string): string {
  return name === CARRIED_NAME ? VARIABLE : name;
}

/** `env` as NAME=value strings for a Node process of ours: NODE_EXTRA_CA_CERTS set aside, not parsed. */
export function environmentSetAside(env: NodeJS.ProcessEnv): string[] {
  return Object.entries(env).map(([name, value]) => `${name === VARIABLE ? CARRIED_NAME : name}=${value}`);
}
