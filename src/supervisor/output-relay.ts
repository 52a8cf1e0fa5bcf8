// The program's output to the syslog, line by line: only when a stream is `syslog`, the program writes
// into a pipe and the supervisor reads it (a file stream stays the program's own descriptor). Lines are
// bounded: a longer one is sent in pieces, so one message never outgrows what a syslog daemon takes.
import { closeSync, readSync } from 'node:fs';
import { Socket } from 'node:net';
import { ReadStream } from 'node:tty';

import { native } from '../native';
import { ERR, INFO, type SyslogSender, type SyslogStreams } from '../syslog';

/** The most bytes of text in one message: RFC 3164's 1024 bytes less room for the header. */
export const MAX_LINE_BYTES = 960;
/** The most bytes a relay hands on per turn of the event loop (a few thousand lines at most). */
export const RELAY_SLICE_BYTES = 4096;

/**
 * Cuts a byte stream into lines of at most `max` bytes (without their newline). Pure, for the relay and
 * its tests: push() returns the lines complete so far, end() what is left.
 */
export class LineSplitter {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly max = MAX_LINE_BYTES) {}

  push(chunk: Buffer): Buffer[] {
    let data = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const lines: Buffer[] = [];
    for (;;) {
      const newline = data.indexOf(0x0a);
      if (newline >= 0 && newline <= this.max) {
        lines.push(data.subarray(0, newline));
        data = data.subarray(newline + 1);
      } else if (data.length > this.max) {
        lines.push(data.subarray(0, this.max));
        data = data.subarray(this.max);
      } else {
        break;
      }
    }
    // A copy: the kept tail must not pin the whole chunk it came from.
    this.pending = Buffer.from(data);
    return lines;
  }

  end(): Buffer[] {
    const rest = this.pending;
    this.pending = Buffer.alloc(0);
    return rest.length > 0 ? [rest] : [];
  }
}

/**
 * Reads `fd`, a pipe's read end or a pty's master (taking it over: it is closed at the end), calls `data`
 * for each chunk and `end` once at EOF: when every writer, the program and whatever it started, has
 * closed its end (a pty master then reads EIO, which ends it the same way). A read error ends it too; the
 * program then writes into a closed pipe, as into a full disk's file. A relay never keeps the supervisor alive.
 */
export function relay(fd: number, isTty: boolean, data: (chunk: Buffer) => void, end: () => void): void {
  const stream = isTty ? new ReadStream(fd) : new Socket({ fd, readable: true, writable: false });
  stream.unref();
  let ended = false;
  /** What of the last chunk read is not handed to `data` yet. */
  let rest: Buffer | null = null;
  const flushRest = (): void => {
    const left = rest;
    rest = null;
    if (left !== null) data(left);
  };
  const finish = (): void => {
    if (ended) return;
    ended = true;
    live.delete(drain);
    flushRest();
    end();
  };
  const drain = (): void => {
    if (ended) return;
    // What is still unread, in order: the chunk being handed on, what the stream holds, what the pipe holds
    // (read at once: the descriptor is non-blocking, EAGAIN when it is empty).
    flushRest();
    stream.removeAllListeners('data');
    for (let held = stream.read() as Buffer | null; held !== null; held = stream.read() as Buffer | null) data(held);
    const buffer = Buffer.alloc(65536);
    try {
      for (let n = readSync(fd, buffer); n > 0; n = readSync(fd, buffer)) data(buffer.subarray(0, n));
    } catch {
      // Empty (EAGAIN), ended (EIO) or already closed.
    }
    finish();
  };
  live.add(drain);
  // A program that writes without a pause must not keep the supervisor from its signals and timers: a
  // chunk (64 KiB of short lines is tens of thousands of syslog messages) is handed on a slice per turn of
  // the event loop, the stream paused meanwhile (the program then waits on its full pipe, as on a disk).
  const feed = (): void => {
    if (ended || rest === null) return;
    const slice = rest.subarray(0, RELAY_SLICE_BYTES);
    rest = rest.length > RELAY_SLICE_BYTES ? rest.subarray(RELAY_SLICE_BYTES) : null;
    data(slice);
    setImmediate(rest !== null ? feed : () => {
      if (!ended) stream.resume();
    });
  };
  stream.on('data', (chunk: Buffer) => {
    stream.pause();
    rest = chunk;
    feed();
  });
  stream.on('end', finish);
  stream.on('error', () => {
    stream.destroy();
    finish();
  });
  stream.on('close', finish);
}

/** Calls `line` for each line read from `fd` (see relay). */
export function relayLines(fd: number, line: (text: Buffer) => void): void {
  const splitter = new LineSplitter();
  relay(fd, false, (chunk) => splitter.push(chunk).forEach(line), () => splitter.end().forEach(line));
}

/** The relays still reading, each as its last read. */
const live = new Set<() => void>();

/**
 * The supervisor is about to exit (the program and all it started are gone, or it gives up): send what
 * the pipes still hold, and a last line without its newline, which their EOF would have sent a moment later.
 */
export function drainOutput(): void {
  for (const drain of [...live]) drain();
}

/** One child's pipes to the syslog: the write ends go on its stdout/stderr, the read ends stay here. */
export interface SyslogOutput {
  /** Write ends for fd 1 and fd 2, where that stream goes to the syslog. */
  fds: [number | undefined, number | undefined];
  /** The child runs: relay its lines, tagged with its pid, and close our copies of the write ends. */
  started(pid: number): void;
  /** The child did not start: close everything. */
  failed(): void;
}

/** Opens a pipe for each of stdout and stderr that goes to the syslog (none: nothing to open). */
export function openSyslogOutput(streams: SyslogStreams | undefined, sender: SyslogSender): SyslogOutput {
  const pipes: ([number, number] | undefined)[] = [];
  const targets = [streams?.stdout, streams?.stderr];
  try {
    for (const target of targets) pipes.push(target === undefined ? undefined : native.openPipe());
  } catch (error) {
    for (const pipe of pipes) pipe?.forEach((fd) => closeSync(fd));
    throw error;
  }
  const closeWriteEnds = (): void => pipes.forEach((pipe) => pipe !== undefined && closeSync(pipe[1]));
  return {
    fds: [pipes[0]?.[1], pipes[1]?.[1]],
    started(pid) {
      closeWriteEnds();
      pipes.forEach((pipe, i) => {
        const target = targets[i];
        if (pipe === undefined || target === undefined) return;
        const level = target.level ?? (i === 0 ? INFO : ERR);
        relayLines(pipe[0], (line) => sender.send(target.facility, level, pid, line));
      });
    },
    failed() {
      closeWriteEnds();
      pipes.forEach((pipe) => pipe !== undefined && closeSync(pipe[0]));
    },
  };
}
