// The daemon's stdin, stdout and stderr: /dev/null, or files opened for append and handed to the
// program itself, so it writes into them at full speed with no process copying bytes in between.
import * as fs from 'node:fs';

import { closeFile, openFile } from './file-calls';
import { openOperatorFile, UNTRUSTED } from './safe-open';
import type { TargetUser } from './user';

const { O_RDWR } = fs.constants;
/** Log files are created readable by the group, writable by the owner only. */
const LOG_MODE = 0o640;

export interface OpenedStdio {
  fds: [number, number, number];
  /** Every descriptor opened here (some serve twice), to close once the program has them. */
  opened: number[];
  /** Files this call created, to remove if the launch fails after all. */
  created: string[];
}

/**
 * Opens a log file for append (the event log, a log reopened after a rotation); a missing one is created
 * with the log mode, owned by whoever opens it. Throws a DaemonizeError naming the file.
 */
export function openForAppend(path: string, user?: TargetUser): number {
  return openOperatorFile(path, { access: 'append', create: 'missing', mode: LOG_MODE, user, what: '' }).fd;
}

function openLog(path: string, owner: TargetUser | undefined, created: string[]): number {
  // A daemon that drops to --user must be able to reopen its own log after a rotation: give it what we create.
  const file = openOperatorFile(path, { access: 'append', create: 'missing', mode: LOG_MODE, user: owner, giveToUser: true, what: '' });
  if (file.created) created.push(path);
  return file.fd;
}

/**
 * Called when a log file is refused as untrusted (a link or a stranger's file planted at its name): the
 * stream goes to /dev/null instead of failing. The supervisor passes one for its restarts, where the
 * service user could plant such a thing; a first start fails instead, for the operator to see.
 */
export type OnRefused = (message: string) => void;

/** Opens the daemon's stdio; `stdout`/`stderr` are absolute paths, or undefined for /dev/null. */
export function openStdio(stdout: string | undefined, stderr: string | undefined, owner?: TargetUser,
  onRefused?: OnRefused): OpenedStdio {
  const opened: number[] = [];
  const created: string[] = [];
  try {
    const devNull = openFile('/dev/null', O_RDWR);
    opened.push(devNull);
    const open = (path: string): number => {
      try {
        return openLog(path, owner, created);
      } catch (error) {
        if (onRefused === undefined || (error as { code?: string }).code !== UNTRUSTED) throw error;
        onRefused((error as Error).message);
        return devNull;
      }
    };
    const out = stdout === undefined ? devNull : open(stdout);
    if (out !== devNull) opened.push(out);
    // One description for both when they name one file, so their appends interleave in order.
    const err = stderr === undefined ? devNull : stderr === stdout ? out : open(stderr);
    if (err !== devNull && err !== out) opened.push(err);
    return { fds: [devNull, out, err], opened, created };
  } catch (error) {
    closeStdio({ fds: [-1, -1, -1], opened, created });
    removeCreated(created);
    throw error;
  }
}

export function closeStdio(stdio: OpenedStdio): void {
  for (const fd of stdio.opened) closeFile(fd);
}

export function removeCreated(paths: string[]): void {
  for (const path of paths) fs.rmSync(path, { force: true });
}
