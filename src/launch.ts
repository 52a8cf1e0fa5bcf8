// The launcher: everything that can fail is tried here, before the launcher exits, so the command the
// user typed reports it. It returns only once the program has exec'd and the pidfile holds its pid.
import { dirname } from 'node:path';

import { DaemonizeError, describe, unable } from './errors';
import { ExitCode } from './exit-codes';
import { isSystemError, native, type SpawnPlan } from './native';
import { Pidfile } from './pidfile';
import { defaultPidfileDir, ensurePidfileDir } from './pidfile-location';
import { resolveProgram } from './program';
import type { Settings } from './settings';
import { closeStdio, openStdio, removeCreated } from './stdio';

/** Says what a failed step of the fork-to-exec path means for the user, with the exit code to match. */
export function explainSpawnFailure(error: unknown, settings: Pick<Settings, 'cwd' | 'user'>, program: string): DaemonizeError {
  if (!isSystemError(error)) return error instanceof DaemonizeError ? error : unable('start the daemon', error);
  switch (error.syscall) {
    case 'chdir':
      return unable(`chdir to ${settings.cwd}`, error);
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
  };
}

export function acquirePidfile(settings: Settings): Pidfile | undefined {
  if (settings.pidfile === undefined) return undefined;
  const dir = dirname(settings.pidfile);
  if (settings.name !== undefined && dir === defaultPidfileDir(process.env, process.getuid?.() ?? 0)) {
    ensurePidfileDir(dir);
  }
  return Pidfile.acquire(settings.pidfile);
}

/** Starts `command` as a daemon and returns its pid. Throws a DaemonizeError and leaves nothing behind. */
export function launchDaemon(command: string[], settings: Settings, baseDir = process.cwd()): number {
  const file = resolveProgram(command[0], settings.env.PATH, baseDir);
  const pidfile = acquirePidfile(settings);
  let stdio;
  try {
    stdio = openStdio(settings.stdout, settings.stderr, settings.user);
    let pid: number;
    try {
      pid = native.spawn({
        ...basePlan(file, command, settings),
        mode: 'daemon',
        stdio: stdio.fds,
        keepFds: pidfile ? [pidfile.fd] : [],
      });
    } catch (error) {
      throw explainSpawnFailure(error, settings, command[0]);
    }
    try {
      pidfile?.write(pid);
    } catch (error) {
      // A daemon nobody can find or stop is worse than none: take it back down.
      process.kill(pid, 'SIGKILL');
      throw error;
    }
    return pid;
  } catch (error) {
    pidfile?.remove();
    if (stdio) removeCreated(stdio.created);
    throw error;
  } finally {
    if (stdio) closeStdio(stdio);
    pidfile?.close();
  }
}
