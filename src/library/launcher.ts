// The launcher: daemonize() in the process the user started. It re-executes the app (process.execPath,
// its execArgv and argv) through the native double fork, with the marker in the environment, writes the
// pidfile, and waits for the daemon's report while copying the daemon's stderr through. It says how the
// start went; daemonize() prints that and exits.
import { writeSync } from 'node:fs';

import { LaunchTransaction } from '../core/launch-transaction';
import { DaemonizeError, unable } from '../errors';
import { ExitCode, type ExitCodeValue } from '../exit-codes';
import { basePlan, explainSpawnFailure } from '../launch';
import { native } from '../native';
import { readEntry } from '../process-table';
import type { Settings } from '../settings';
import type { OpenedStdio } from '../stdio';
import { signalName } from '../supervisor/exit-description';
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

/**
 * Copies the daemon's early stderr to ours and, when stderr is a file, into that file too. A file that
 * cannot take it (a full disk) fails the start: a daemon whose log is failing is not ready.
 */
function relayTo(stdio: OpenedStdio, settings: Settings): (chunk: Buffer) => void {
  return (chunk) => {
    process.stderr.write(chunk);
    if (settings.stderr === undefined) return;
    try {
      for (let done = 0; done < chunk.length;) done += writeSync(stdio.fds[2], chunk, done, chunk.length - done);
    } catch (error) {
      throw unable(`write ${settings.stderr}`, error, ExitCode.NOT_READY);
    }
  };
}

/**
 * Starts the app again as the daemon and waits for its report. Returns once it is ready; throws a
 * DaemonizeError when it cannot start it or it fails before it is ready, having killed the daemon and
 * everything it started and removed the pidfile and the files this start created.
 */
export function launchApp(settings: Settings, choices: LibraryChoices, { command, label, cwd }: AppCommand): LaunchResult {
  return LaunchTransaction.run((tx) => {
    const pidfile = tx.lockPidfile(settings);
    const stdio = tx.openStdio(settings.stdout, settings.stderr, settings.user);
    const [readyRead, readyWrite] = tx.pipe('for the daemon\'s report');
    const [stderrRead, stderrWrite] = tx.pipe('for the daemon\'s early stderr');
    const [aliveRead, aliveWrite] = tx.pipe('for the daemon to watch its launcher');
    const marker: Marker = {
      lockFd: pidfile?.fd, pidfile: settings.pidfile, readyFd: readyWrite, stderrFd: stdio.fds[2], relayFd: stderrRead,
      aliveFd: aliveRead, stdout: settings.stdout, stderr: settings.stderr, cwd: settings.cwd, label,
    };
    // The app starts again where it was started, so the code before daemonize() sees what it saw the
    // first time; daemonize() then moves the daemon to settings.cwd.
    const startIn = cwd ?? settings.cwd;
    const pid = tx.spawnDaemon({
      ...basePlan(process.execPath, command, { ...settings, env: { ...settings.env, [MARKER_ENV]: encodeMarker(marker) } }),
      cwd: startIn,
      stdio: [stdio.fds[0], stdio.fds[1], stderrWrite],
      keepFds: markerFds(marker),
    }, (error) => explainSpawnFailure(error, { ...settings, cwd: startIn }, process.execPath));
    // Only the daemon holds these now, so EOF on the other ends speaks of the daemon alone.
    for (const fd of [readyWrite, stderrWrite, aliveRead]) tx.closeNow(fd);
    tx.writePidfile(pidfile, pid);
    const outcome = waitForReady({
      readyFd: readyRead, stderrFd: stderrRead, relay: relayTo(stdio, settings), timeoutMs: choices.readyTimeoutMs,
      // Not just the app: whatever it has started too (see src/core/process-tree.ts).
      onTimeout: () => tx.killStarted(),
    });
    if (outcome.kind === 'reported' && outcome.report.ok) {
      // Done copying: the daemon's stderr may become its file now (see awaitLauncherDone); it says it has
      // by closing its end of the readiness pipe. Bounded: a program the app started before it loaded
      // this library may hold that end too.
      tx.closeNow(aliveWrite);
      native.poll([readyRead], HANDOVER_MS);
      // Under systemd (Type=notify, NotifyAccess=all) the daemon, not this launcher, is the service.
      notifier(process.env, () => undefined)(`MAINPID=${pid}\nREADY=1`);
      return { exitCode: ExitCode.OK };
    }
    // A failed start: rolling back kills what the app started and removes the pidfile and new files.
    if (outcome.kind === 'reported' && !outcome.report.ok) {
      throw new DaemonizeError(outcome.report.message, outcome.report.exitCode as ExitCodeValue);
    }
    throw new DaemonizeError(outcome.kind === 'timeout' ? `${label} was not ready within ${choices.readyTimeoutMs / 1000} s: killed it`
      : describeDeath(pid, label), ExitCode.NOT_READY);
  });
}
