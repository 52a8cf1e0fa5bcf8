// daemonize() in the daemon: the re-executed app, found by its marker. The launcher has done the
// double fork, stdio, umask, user and pidfile; this side enters the working directory, adopts the
// pidfile's lock, and on ready() moves stderr to its file and tells the launcher.
import { closeSync } from 'node:fs';

import { unable } from '../errors';
import { ExitCode } from '../exit-codes';
import { Pidfile } from '../pidfile';
import type { DaemonHandle } from './handle';
import { LogFiles } from './log-files';
import { report, type Marker } from './marker';
import type { LibraryChoices } from './options';
import { awaitLauncherDone, relayStragglers, whenLauncherGone } from './stderr-relay';
import { startHandle, warn } from './start-handle';

/** ready() waits this long at most for the launcher to finish copying (it takes well under a millisecond). */
const LAUNCHER_DONE_MS = 2000;

export function startDaemon(marker: Marker, choices: LibraryChoices): DaemonHandle {
  try {
    process.chdir(marker.cwd);
  } catch (error) {
    const failure = unable(`chdir to ${marker.cwd}`, error);
    report({ ok: false, exitCode: failure.exitCode, message: failure.message });
    process.exit(failure.exitCode);
  }
  const pidfile = marker.pidfile !== undefined && marker.lockFd !== undefined
    ? Pidfile.adopt(marker.pidfile, marker.lockFd) : undefined;
  const logs = new LogFiles(marker.stdout, marker.stderr, marker.stderrFd);
  /** Interrupted (Ctrl-C) or killed: nobody will ever hear that this start succeeded, so it did not. */
  const abandoned = (): never => {
    logs.activate();
    warn(`the launcher is gone before ${marker.label} was ready: exiting`);
    process.exit(ExitCode.NOT_READY);
  };
  const handle = startHandle({
    foreground: false,
    pidfile,
    logs,
    becomeReady: () => {
      // Every byte the daemon wrote to stderr so far is in the pipe ahead of the report, and the launcher
      // copies them all before it lets go; only then does stderr become the file.
      if (!report({ ok: true })) abandoned();
      awaitLauncherDone(marker.aliveFd, LAUNCHER_DONE_MS);
      logs.activate();
      // The launcher exits on this EOF: by then the daemon's stdio are final.
      closeSync(marker.readyFd);
    },
  });
  // An app ready at once reports before the watch below is set up: the watch loads node:net, milliseconds
  // that the launcher, and the shell behind it, would wait for. (Its callback runs later either way.)
  if (choices.ready === 'auto') handle.ready();
  whenLauncherGone(marker.aliveFd, () => {
    if (handle.isReady) {
      relayStragglers(marker.relayFd);
      return;
    }
    abandoned();
  });
  return handle;
}
