// The foreground switch (nginx's `daemon off;`): no fork, for a supervisor that wants the process it
// started to be the service (systemd Type=notify, supervisord, a container). The app still gets its
// pidfile, its log files, the signal handling and ready(), which sends READY=1 to NOTIFY_SOCKET.
// Only what was asked for changes: no chdir to / and no umask unless given.
import { unable } from '../errors';
import { LaunchTransaction } from '../core/launch-transaction';
import { native } from '../native';
import type { Settings } from '../settings';
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

/** Applies the settings to this very process. Throws a DaemonizeError and then holds no pidfile and no new file. */
export function startForeground(settings: Settings, choices: LibraryChoices): DaemonHandle {
  const pidfile = LaunchTransaction.run((tx) => {
    const held = tx.lockPidfile(settings);
    tx.writePidfile(held, process.pid);
    const stdio = tx.openStdio(settings.stdout, settings.stderr, settings.user);
    if (settings.stdout !== undefined) native.dup2(stdio.fds[1], 1);
    if (settings.stderr !== undefined) native.dup2(stdio.fds[2], 2);
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
    // This process is the service: it holds the lock until it exits.
    tx.keepPidfile(held);
    return held;
  });
  const handle: DaemonHandle = startHandle({
    foreground: true,
    pidfile,
    logs: new LogFiles(settings.stdout, settings.stderr),
    becomeReady: () => handle.notify('READY=1'),
  });
  if (choices.ready === 'auto') handle.ready();
  return handle;
}
