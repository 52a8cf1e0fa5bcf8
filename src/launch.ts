// The launcher: everything that can fail is tried here, before the launcher exits, so the command the
// user typed reports it. It returns only once the program has exec'd and the pidfile holds its pid.
import { dirname } from 'node:path';

import { DaemonizeError, describe, unable } from './errors';
import { ExitCode } from './exit-codes';
import { isSystemError, native, type SpawnPlan } from './native';
import { Pidfile } from './pidfile';
import { defaultPidfileDir, ensurePidfileDir } from './pidfile-location';
import { resolveProgramFor } from './program';
import type { Settings } from './settings';
import { verbose } from './verbose';
import { closeStdio, openStdio, removeCreated } from './stdio';

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

export function acquirePidfile(settings: Settings): Pidfile | undefined {
  if (settings.pidfile === undefined) return undefined;
  const dir = dirname(settings.pidfile);
  if (settings.name !== undefined && dir === defaultPidfileDir(process.env, process.getuid?.() ?? 0)) {
    ensurePidfileDir(dir);
  }
  const pidfile = Pidfile.acquire(settings.pidfile);
  verbose(`pidfile ${settings.pidfile} locked`);
  return pidfile;
}

/** Starts `command` as a daemon and returns its pid. Throws a DaemonizeError and leaves nothing behind. */
export function launchDaemon(command: string[], settings: Settings, baseDir = process.cwd()): number {
  const file = resolveProgramFor(command[0], settings, baseDir);
  verbose(`program ${file}`);
  const pidfile = acquirePidfile(settings);
  let stdio;
  try {
    stdio = openStdio(settings.stdout, settings.stderr, settings.user);
    verbose(`stdout ${settings.stdout ?? '/dev/null'}, stderr ${settings.stderr ?? '/dev/null'}`);
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
      verbose(`daemon started: pid ${pid}, in ${settings.cwd}${settings.root === undefined ? '' : ` under the root ${settings.root}`}`);
      pidfile?.write(pid);
      if (pidfile) verbose(`pidfile ${settings.pidfile} holds ${pid}`);
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
