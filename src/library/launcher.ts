// The launcher: daemonize() in the process the user started. It re-executes the app (process.execPath,
// its execArgv and argv) through the native double fork, with the marker in the environment, writes the
// pidfile, and waits for the daemon's report while copying the daemon's stderr through. It says how the
// start went; daemonize() prints that and exits.
import { closeSync, writeSync } from 'node:fs';

import { ExitCode } from '../exit-codes';
import { acquirePidfile, basePlan, explainSpawnFailure } from '../launch';
import { native } from '../native';
import { readEntry, signalQuietly } from '../process-table';
import type { Settings } from '../settings';
import { signalName } from '../supervisor/exit-description';
import { closeStdio, openStdio, removeCreated, type OpenedStdio } from '../stdio';
import { encodeMarker, MARKER_ENV, markerFds, type Marker } from './marker';
import { notifier } from './notify';
import type { LibraryChoices } from './options';
import { waitForReady } from './wait-ready';

export interface LaunchResult {
  exitCode: number;
  /** What went wrong, for "daemonize: fatal: ..."; none when the daemon is ready. */
  message?: string;
}

/** The app to start again: node, its flags, the script and its arguments, where it was started; its name. */
export interface AppCommand {
  command: string[];
  label: string;
  cwd: string | undefined;
}

/** How long the launcher waits for a ready daemon to put its stdio in place (well under a millisecond). */
const HANDOVER_MS = 2000;

/** How a daemon that closed its readiness pipe without a word ended, from its zombie when there is one. */
function describeDeath(pid: number, label: string): string {
  const entry = readEntry(pid);
  if (entry?.state === 'Z' && entry.exitStatus !== null) {
    const status = entry.exitStatus;
    if ((status & 0x7f) !== 0) return `${label} was killed by ${signalName(status & 0x7f)} before it was ready`;
    return `${label} exited with status ${status >> 8} before it was ready`;
  }
  return `${label} died before it was ready`;
}

/** Copies the daemon's early stderr to ours and, when stderr is a file, into that file too. */
function relayTo(stdio: OpenedStdio, settings: Settings): (chunk: Buffer) => void {
  return (chunk) => {
    process.stderr.write(chunk);
    if (settings.stderr !== undefined) writeSync(stdio.fds[2], chunk);
  };
}

function closeAll(fds: number[]): void {
  for (const fd of fds) closeSync(fd);
}

/** Starts the app again as the daemon and waits for its report. Throws a DaemonizeError when it cannot even start it. */
export function launchApp(settings: Settings, choices: LibraryChoices, { command, label, cwd }: AppCommand): LaunchResult {
  const pidfile = acquirePidfile(settings);
  let stdio: OpenedStdio | undefined;
  const launcherFds: number[] = [];
  try {
    stdio = openStdio(settings.stdout, settings.stderr, settings.user);
    const [readyRead, readyWrite] = native.openPipe();
    const [stderrRead, stderrWrite] = native.openPipe();
    const [aliveRead, aliveWrite] = native.openPipe();
    launcherFds.push(readyRead, stderrRead, aliveWrite);
    const marker: Marker = {
      lockFd: pidfile?.fd, pidfile: settings.pidfile, readyFd: readyWrite, stderrFd: stdio.fds[2], relayFd: stderrRead,
      aliveFd: aliveRead, stdout: settings.stdout, stderr: settings.stderr, cwd: settings.cwd, label,
    };
    // The app starts again where it was started, so the code before daemonize() sees what it saw the
    // first time; daemonize() then moves the daemon to settings.cwd.
    const startIn = cwd ?? settings.cwd;
    let pid: number;
    try {
      pid = native.spawn({
        ...basePlan(process.execPath, command, { ...settings, env: { ...settings.env, [MARKER_ENV]: encodeMarker(marker) } }),
        mode: 'daemon',
        cwd: startIn,
        stdio: [stdio.fds[0], stdio.fds[1], stderrWrite],
        keepFds: markerFds(marker),
      });
    } catch (error) {
      throw explainSpawnFailure(error, { ...settings, cwd: startIn }, process.execPath);
    } finally {
      // Only the daemon holds these now, so EOF on the other ends speaks of the daemon alone.
      closeAll([readyWrite, stderrWrite, aliveRead]);
    }
    try {
      pidfile?.write(pid);
    } catch (error) {
      signalQuietly(pid, 'SIGKILL');
      throw error;
    }
    const outcome = waitForReady({
      readyFd: readyRead, stderrFd: stderrRead, relay: relayTo(stdio, settings), timeoutMs: choices.readyTimeoutMs,
      onTimeout: () => signalQuietly(pid, 'SIGKILL'),
    });
    if (outcome.kind === 'reported' && outcome.report.ok) {
      // Done copying: the daemon's stderr may become its file now (see awaitLauncherDone); it says it has
      // by closing its end of the readiness pipe. Bounded: a program the app started before it loaded
      // this library may hold that end too.
      closeSync(aliveWrite);
      launcherFds.splice(launcherFds.indexOf(aliveWrite), 1);
      native.poll([readyRead], HANDOVER_MS);
      // Under systemd (Type=notify, NotifyAccess=all) the daemon, not this launcher, is the service.
      notifier(process.env, () => undefined)(`MAINPID=${pid}\nREADY=1`);
      return { exitCode: ExitCode.OK };
    }
    pidfile?.remove();
    if (outcome.kind === 'reported' && !outcome.report.ok) return { exitCode: outcome.report.exitCode, message: outcome.report.message };
    return {
      exitCode: ExitCode.NOT_READY,
      message: outcome.kind === 'timeout' ? `${label} was not ready within ${choices.readyTimeoutMs / 1000} s: killed it`
        : describeDeath(pid, label),
    };
  } catch (error) {
    pidfile?.remove();
    if (stdio) removeCreated(stdio.created);
    throw error;
  } finally {
    closeAll(launcherFds);
    if (stdio) closeStdio(stdio);
    pidfile?.close();
  }
}
