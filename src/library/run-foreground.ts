// The foreground switch (nginx's `daemon off;`): no fork, for a supervisor that wants the process it
// started to be the service (systemd Type=notify, supervisord, a container). The app still gets its
// pidfile, its log files, the signal handling and ready(), which sends READY=1 to NOTIFY_SOCKET.
// Only what was asked for changes: no chdir to / and no umask unless given.
import { unable } from '../errors';
import { acquirePidfile } from '../launch';
import { native } from '../native';
import type { Settings } from '../settings';
import { closeStdio, openStdio } from '../stdio';
import type { TargetUser } from '../user';
import type { DaemonHandle } from './handle';
import { LogFiles } from './log-files';
import type { LibraryChoices } from './options';
import { startHandle } from './start-handle';

function becomeUser(user: TargetUser): void {
  let step = 'setgroups';
  try {
    process.setgroups?.(user.groups);
    step = 'setgid';
    process.setgid?.(user.gid);
    step = 'setuid';
    process.setuid?.(user.uid);
  } catch (error) {
    throw unable(`switch to user ${user.name} (${step})`, error);
  }
}

/** Applies the settings to this very process. Throws a DaemonizeError and then holds no pidfile. */
export function startForeground(settings: Settings, choices: LibraryChoices): DaemonHandle {
  const pidfile = acquirePidfile(settings);
  try {
    pidfile?.write(process.pid);
    const stdio = openStdio(settings.stdout, settings.stderr, settings.user);
    try {
      if (settings.stdout !== undefined) native.dup2(stdio.fds[1], 1);
      if (settings.stderr !== undefined) native.dup2(stdio.fds[2], 2);
    } finally {
      closeStdio(stdio);
    }
    for (const [name, value] of Object.entries(settings.env)) if (process.env[name] !== value) process.env[name] = value;
    if (settings.user) becomeUser(settings.user);
    if (choices.chdirGiven) {
      try {
        process.chdir(settings.cwd);
      } catch (error) {
        throw unable(`chdir to ${settings.cwd}`, error);
      }
    }
    if (choices.umaskGiven) process.umask(settings.umask);
  } catch (error) {
    pidfile?.remove();
    pidfile?.close();
    throw error;
  }
  const handle: DaemonHandle = startHandle({
    foreground: true,
    pidfile,
    logs: new LogFiles(settings.stdout, settings.stderr),
    becomeReady: () => handle.notify('READY=1'),
  });
  if (choices.ready === 'auto') handle.ready();
  return handle;
}
