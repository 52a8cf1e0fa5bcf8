// The plain daemon's launcher: everything that can fail is tried here, before the launcher exits, so the
// command the user typed reports it. It returns only once the program has exec'd and the pidfile holds its
// pid. The steps and their rollback are the launch transaction's (src/core/launch-transaction.ts); the
// spawn plan and the meaning of a failed fork-to-exec step, shared by every mode, are here.
import { DaemonizeError, describe, unable } from './errors';
import { ExitCode } from './exit-codes';
import { LaunchTransaction } from './core/launch-transaction';
import { isSystemError, type SpawnPlan } from './native';
import { resolveProgramFor } from './program';
import type { Settings } from './settings';
import { verbose } from './verbose';

/** Says what a failed step of the fork-to-exec path means for the user, with the exit code to match. */
export function explainSpawnFailure(error: unknown, settings: Pick<Settings, 'cwd' | 'user' | 'root'>, program: string): DaemonizeError {
  if (!isSystemError(error)) return error instanceof DaemonizeError ? error : unable('start the daemon', error);
  switch (error.syscall) {
    case 'chdir':
      return unable(`chdir to ${settings.cwd}`, error);
    case 'chroot':
      return unable(`chroot to ${settings.root ?? '?'}`, error);
    case 'setrlimit':
      return unable('set the core-file limit', error);
    case 'setgroups':
    case 'setgid':
    case 'setuid':
      return unable(`switch to user ${settings.user?.name ?? '?'} (${error.syscall})`, error);
    case 'privilege-drop':
      return unable(`switch to user ${settings.user?.name ?? '?'} for good (the old ids could be taken back)`, error);
    case 'dup2':
      return unable(`give ${program} its stdin, stdout and stderr`, error);
    case 'close_range':
      return unable(`close the descriptors ${program} must not inherit`, error);
    case 'session-leader':
      // The first fork was killed (SIGKILL by hand, the OOM killer) before its last word: the daemon, started or
      // not, was killed too, so that nothing runs that no pidfile names.
      return new DaemonizeError(`unable to start ${program}: the first fork ended before it told whether the exec worked; `
        + 'killed the program', ExitCode.FAILURE, error.code);
    case 'exec-wait':
      return unable(`exec ${program} (no exec and no error after 30 s; killed it)`, error);
    case 'execve':
      return unable(`exec ${program}`, error, error.code === 'ENOENT' ? ExitCode.NOT_FOUND : ExitCode.CANNOT_EXECUTE);
    default:
      return new DaemonizeError(`unable to start the daemon: ${error.syscall} failed: ${describe(error)}`, ExitCode.FAILURE, error.code);
  }
}

/** Builds the spawn plan every mode shares: program, environment, directory, mask, user. */
export function basePlan(file: string, command: string[], settings: Settings): Omit<SpawnPlan, 'mode'> {
  return {
    file,
    argv: command,
    env: Object.entries(settings.env).map(([name, value]) => `${name}=${value}`),
    cwd: settings.cwd,
    umask: settings.umask,
    ids: settings.user && { uid: settings.user.uid, gid: settings.user.gid, groups: settings.user.groups },
    rlimitCore: settings.rlimitCore,
    root: settings.root,
  };
}

/** Starts `command` as a daemon and returns its pid. Throws a DaemonizeError and leaves nothing behind. */
export function launchDaemon(command: string[], settings: Settings, baseDir = process.cwd()): number {
  const file = resolveProgramFor(command[0], settings, baseDir);
  verbose(`program ${file}`);
  return LaunchTransaction.run((tx) => {
    const pidfile = tx.lockPidfile(settings);
    if (pidfile) verbose(`pidfile ${settings.pidfile} locked`);
    const stdio = tx.openStdio(settings.stdout, settings.stderr, settings.user);
    verbose(`stdout ${settings.stdout ?? '/dev/null'}, stderr ${settings.stderr ?? '/dev/null'}`);
    const pid = tx.spawnDaemon({ ...basePlan(file, command, settings), stdio: stdio.fds, keepFds: pidfile ? [pidfile.fd] : [] },
      (error) => explainSpawnFailure(error, settings, command[0]));
    verbose(`daemon started: pid ${pid}, in ${settings.cwd}${settings.root === undefined ? '' : ` under the root ${settings.root}`}`);
    // A daemon nobody can find or stop is worse than none: a failed write takes it back down.
    tx.writePidfile(pidfile, pid);
    if (pidfile) verbose(`pidfile ${settings.pidfile} holds ${pid}`);
    return pid;
  });
}
