// The daemon's stdout and stderr files, reopened on SIGHUP so logrotate can move them away: the new
// file takes descriptor 1 or 2 (dup2), so every writer, Node's own streams included, follows it.
// Until a daemon is ready its descriptor 2 is the pipe to its launcher; the file waits on `pending`.
import { closeSync } from 'node:fs';

import { native } from '../native';
import { openForAppend } from '../stdio';

export class LogFiles {
  /**
   * @param stdout, stderr  absolute paths, or undefined for a stream that is not a file
   * @param pending  a daemon's final stderr until it is ready; undefined once it is on 2
   */
  constructor(private readonly stdout: string | undefined, private readonly stderr: string | undefined,
    private pending?: number) {}

  /** Puts the final stderr on 2, ending the launcher's view of it. */
  activate(): void {
    if (this.pending === undefined) return;
    native.dup2(this.pending, 2);
    closeSync(this.pending);
    this.pending = undefined;
  }

  /** Opens each file afresh and moves it onto its descriptor. Throws a DaemonizeError naming the file. */
  reopen(): void {
    const paths = new Map<string, number[]>();
    if (this.stdout !== undefined) paths.set(this.stdout, [1]);
    if (this.stderr !== undefined) paths.set(this.stderr, [...(paths.get(this.stderr) ?? []), 2]);
    for (const [path, targets] of paths) {
      // Throws a DaemonizeError naming the file (a link planted at its name is refused, not followed).
      const fd = openForAppend(path);
      try {
        for (const target of targets) {
          if (target === 2 && this.pending !== undefined) {
            native.dup2(fd, this.pending);
          } else {
            native.dup2(fd, target);
          }
        }
      } finally {
        closeSync(fd);
      }
    }
  }
}
