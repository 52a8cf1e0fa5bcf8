// --pty[=noecho]: the program's stdin, stdout and stderr are one pseudo-terminal, for programs that only
// line-buffer, or behave, on a terminal. One pty per child: the supervisor keeps the master, copies what
// the program writes into the --stdout/--output file (or throws it away), and closes it when the program
// and everything it started have closed the terminal (the master then reads EIO).
import { closeSync, fchownSync, writeSync } from 'node:fs';

import { describe } from '../errors';
import { native, type SpawnIds } from '../native';
import type { OpenedStdio } from '../stdio';
import { relay } from './output-relay';

export type PtyMode = 'echo' | 'noecho';

export interface PtyChild {
  /** The slave, for the program's 0, 1 and 2. */
  fds: [number, number, number];
  started(): void;
  failed(): void;
}

/** Where the terminal's output goes: a descriptor, and whether the relay closes it at the end. */
export interface PtyOutput {
  fd: number;
  owned: boolean;
}

/** Who the terminal is for, and where its trouble is told. */
export interface PtyOwner {
  /** --user: the terminal becomes theirs (as login makes a terminal its user's), so the program can open it by name. */
  ids?: SpawnIds;
  /** The output's name (its file) for the log. */
  label: string;
  /** Told once per outage that output is lost (a full disk), and when it is written again. */
  log(line: string): void;
}

/**
 * The output's file from the child's opened stdio: its stdout file, taken over (so closing the stdio leaves
 * it open for the relay); undefined when stdout is /dev/null. In the foreground without a file: our stdout.
 */
export function takeOutput(stdio: OpenedStdio, hasFile: boolean, foreground: boolean): PtyOutput | undefined {
  const fd = stdio.fds[1];
  if (hasFile && fd !== stdio.fds[0]) {
    const at = stdio.opened.indexOf(fd);
    if (at >= 0) stdio.opened.splice(at, 1);
    return { fd, owned: true };
  }
  return foreground && !hasFile ? { fd: 1, owned: false } : undefined;
}

function writeAll(fd: number, chunk: Buffer): void {
  for (let done = 0; done < chunk.length;) done += writeSync(fd, chunk, done);
}

/** Opens a pty for one child; `out` receives its output (undefined: discarded). */
export function openPty(mode: PtyMode, out: PtyOutput | undefined, owner: PtyOwner): PtyChild {
  const closeOut = (): void => {
    if (out?.owned) closeSync(out.fd);
  };
  let terminal: { master: number; slave: number };
  try {
    terminal = native.openPty(mode === 'noecho');
  } catch (error) {
    closeOut();
    throw error;
  }
  const { master, slave } = terminal;
  try {
    if (owner.ids !== undefined) fchownSync(slave, owner.ids.uid, owner.ids.gid);
  } catch (error) {
    closeSync(slave);
    closeSync(master);
    closeOut();
    throw error;
  }
  let losing = false;
  return {
    fds: [slave, slave, slave],
    started() {
      // The program holds the slave now; ours would keep the master from ever reading EIO.
      closeSync(slave);
      relay(master, true, (chunk) => {
        if (out === undefined) return;
        try {
          writeAll(out.fd, chunk);
          if (losing) owner.log(`the terminal's output reaches ${owner.label} again`);
          losing = false;
        } catch (error) {
          // A full disk loses output, as the program's own writes into a file would; it never stops the
          // relay. The program cannot see it (its writes go into the terminal): the log says it, once.
          if (!losing) owner.log(`unable to write the terminal's output to ${owner.label}: ${describe(error)}: dropping it until it works`);
          losing = true;
        }
      }, closeOut);
    },
    failed() {
      closeSync(slave);
      closeSync(master);
      closeOut();
    },
  };
}
