// The marker: how a re-executed app knows it is the daemon. The launcher puts one environment variable,
// a small JSON record of the descriptors the daemon inherits, into the daemon's environment. It is taken
// out of process.env when this module loads (before the app's own code goes on), its descriptors are
// made close-on-exec at once (so programs the app starts inherit none of them), and from then until the
// daemon reports, any exit is reported to the launcher with its status.
import { fstatSync } from 'node:fs';

import { ExitCode } from '../exit-codes';
import { native } from '../native';
import { sendReport, type ReadyReport } from './ready-report';

export const MARKER_ENV = 'DAEMONIZE_DAEMON';

export interface Marker {
  /** The pidfile's locked descriptor and its path, when there is a pidfile. */
  lockFd?: number;
  pidfile?: string;
  /** Write end of the readiness pipe: one report line (src/library/ready-report.ts). */
  readyFd: number;
  /** The stderr the daemon gets once ready (the log file or /dev/null); until then 2 is a pipe. */
  stderrFd: number;
  /** Read end of that stderr pipe, to copy what programs started before ready() write later. */
  relayFd: number;
  /** Read end of a pipe only the launcher holds open: EOF means the launcher is done with the daemon. */
  aliveFd: number;
  /** Log paths to reopen on SIGHUP. */
  stdout?: string;
  stderr?: string;
  /** The daemon's working directory, entered when daemonize() runs. */
  cwd: string;
  /** The app's name for messages ("server.js"). */
  label: string;
}

export function encodeMarker(marker: Marker): string {
  return JSON.stringify(marker);
}

/** The descriptors a marker names, for spawn's keepFds (sorted, as the native side expects). */
export function markerFds(marker: Marker): number[] {
  const fds = [marker.readyFd, marker.stderrFd, marker.relayFd, marker.aliveFd];
  if (marker.lockFd !== undefined) fds.push(marker.lockFd);
  return [...new Set(fds)].sort((a, b) => a - b);
}

function decode(text: string): Marker | null {
  try {
    const marker = JSON.parse(text) as Marker;
    // A stale variable copied into some other process's environment must not make it a "daemon".
    return markerFds(marker).every((fd) => Number.isInteger(fd) && fd > 2) && fstatSync(marker.readyFd).isFIFO() ? marker : null;
  } catch {
    return null;
  }
}

/** State shared by every copy of this package loaded into one process (two node_modules copies). */
interface LibraryState {
  marker: Marker | null;
  /** Set once the daemon has told its launcher how it went; later exits are nobody's report. */
  reported: boolean;
  called: boolean;
}

const STATE_KEY = Symbol.for('daemonize.library');

function takeMarker(): Marker | null {
  const text = process.env[MARKER_ENV];
  if (text === undefined) return null;
  delete process.env[MARKER_ENV];
  const marker = decode(text);
  if (marker === null) return null;
  for (const fd of markerFds(marker)) native.setCloseOnExec(fd, true);
  process.on('exit', (code) => {
    report({ ok: false, exitCode: ExitCode.NOT_READY, message: `${marker.label} exited with status ${code} before it was ready` });
  });
  return marker;
}

export function libraryState(): LibraryState {
  const holder = globalThis as { [STATE_KEY]?: LibraryState };
  holder[STATE_KEY] ??= { marker: takeMarker(), reported: false, called: false };
  return holder[STATE_KEY];
}

/** Sends the launcher the daemon's one report, once; false when the launcher is no longer there to read it. */
export function report(line: ReadyReport): boolean {
  const state = libraryState();
  if (state.reported || state.marker === null) return true;
  state.reported = true;
  return sendReport(state.marker.readyFd, line);
}

// Taken as this module loads: before the app's code after its require() or import runs.
libraryState();
