// NODE_EXTRA_CA_CERTS makes every Node process read and parse the certificate file it names as the process
// starts, before any JavaScript runs (Node 20 does it eagerly): about 90 ms, and 1 MiB that stays for the
// life of the process, on a machine whose variable names the system's whole bundle. The -r supervisor makes
// no TLS connection, so its spawn sets the variable aside under CARRIED_NAME, and its first act puts it back.
// The program, its hooks and its checks never see the difference: the supervisor starts them with the
// environment the launcher sent it in its configuration, exactly as the caller gave it.
//
// The CLI itself cannot do this: only something that runs before Node, a shell line in bin/daemonize.cjs, could
// unset the variable, and sh rebuilds the environment it passes on (dash drops names that are not shell
// identifiers, such as `spring.profiles.active` and bash's exported functions, and sets PWD), which would
// change what every program gets.

/** Where the variable waits while the supervisor starts. */
export const CARRIED_NAME = 'DAEMONIZE_NODE_EXTRA_CA_CERTS';
const VARIABLE = 'NODE_EXTRA_CA_CERTS';

/** Puts NODE_EXTRA_CA_CERTS back where the supervisor's spawn set it aside. */
export function restoreExtraCaCerts(env: NodeJS.ProcessEnv): void {
  const carried = env[CARRIED_NAME];
  if (carried === undefined) return;
  delete env[CARRIED_NAME];
  env[VARIABLE] = carried;
}

/**
 * `env` as NAME=value strings for the supervisor: NODE_EXTRA_CA_CERTS set aside, not parsed. A carrier
 * already in `env` (set by hand) is dropped, so the one put back is always the caller's variable.
 */
export function environmentSetAside(env: NodeJS.ProcessEnv): string[] {
  return Object.entries(env).filter(([name]) => name !== CARRIED_NAME)
    .map(([name, value]) => `${name === VARIABLE ? CARRIED_NAME : name}=${value}`);
}
