// The daemon's stdin, stdout and stderr: /dev/null, or files opened for append and handed to the
// program itself, so it writes into them at full speed with no process copying bytes in between.
import * as fs from 'node:fs';

import { unable } from './errors';
import type { TargetUser } from './user';

const { O_WRONLY, O_APPEND, O_CREAT, O_EXCL, O_RDWR } = fs.constants;
/** Log files are created readable by the group, writable by the owner only. */
const LOG_MODE = 0o640;

export interface OpenedStdio {
  fds: [number, number, number];
  /** Every descriptor opened here (some serve twice), to close once the program has them. */
  opened: number[];
  /** Files this call created, to remove if the launch fails after all. */
  created: string[];
}

/** Opens a log file for append, creating it with the log mode; throws Node's own error. */
export function openForAppend(path: string): number {
  return fs.openSync(path, O_WRONLY | O_APPEND | O_CREAT, LOG_MODE);
}

function openLog(path: string, owner: TargetUser | undefined, created: string[]): number {
  try {
    try {
      const fd = fs.openSync(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL, LOG_MODE);
      created.push(path);
      // A daemon that drops to --user must be able to reopen its own log after a rotation.
      if (owner) fs.fchownSync(fd, owner.uid, owner.gid);
      return fd;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      return fs.openSync(path, O_WRONLY | O_APPEND);
    }
  } catch (error) {
    throw unable(`open ${path}`, error);
  }
}

/** Opens the daemon's stdio; `stdout`/`stderr` are absolute paths, or undefined for /dev/null. */
export function openStdio(stdout: string | undefined, stderr: string | undefined, owner?: TargetUser): OpenedStdio {
  const opened: number[] = [];
  const created: string[] = [];
  try {
    const devNull = fs.openSync('/dev/null', O_RDWR);
    opened.push(devNull);
    const out = stdout === undefined ? devNull : openLog(stdout, owner, created);
    if (out !== devNull) opened.push(out);
    // One description for both when they name one file, so their appends interleave in order.
    const err = stderr === undefined ? devNull : stderr === stdout ? out : openLog(stderr, owner, created);
    if (err !== devNull && err !== out) opened.push(err);
    return { fds: [devNull, out, err], opened, created };
  } catch (error) {
    closeStdio({ fds: [-1, -1, -1], opened, created });
    removeCreated(created);
    throw error;
  }
}

export function closeStdio(stdio: OpenedStdio): void {
  for (const fd of stdio.opened) fs.closeSync(fd);
}

export function removeCreated(paths: string[]): void {
  for (const path of paths) fs.rmSync(path, { force: true });
}
