// open(2), close(2), pwrite(2), access(2), a small file's text and the CLI's output, through the addon
// (native/file-calls.cc): what a start and a verb do with files. The first call of each of Node's fs
// functions in a process runs JavaScript it compiles then (openSync, fstatSync, readFileSync, writeSync: a
// few tenths of a millisecond each here); the addon's cost their system calls. They behave as Node's:
// descriptors close-on-exec, a string path encoded as Node encodes it, errors with code, errno and syscall.
// Where the addon cannot load or predates them (a working tree not rebuilt), Node's own answer.
import { accessSync, closeSync, constants, openSync, readFileSync, writeSync } from 'node:fs';

import { addonFunction } from './native';

/** open(2) of `path` with `flags` (fs.constants) and, for a created file, `mode`: a close-on-exec descriptor. */
export function openFile(path: string | Buffer, flags: number, mode = 0o666): number {
  const open = addonFunction('openFile');
  return open === null ? openSync(path, flags, mode) : open(path, flags, mode);
}

export function closeFile(fd: number): void {
  const close = addonFunction('closeFile');
  if (close === null) closeSync(fd);
  else close(fd);
}

/** One write of `text` (UTF-8) at `position`: the bytes written, which may be fewer, as writeSync's. */
export function writeAt(fd: number, text: string, position: number): number {
  const write = addonFunction('writeAt');
  return write === null ? writeSync(fd, text, position) : write(fd, text, position);
}

/** access(2) with the real ids: throws when `mode` (fs.constants X_OK...) is refused, as accessSync does. */
export function checkAccess(path: string | Buffer, mode: number): void {
  const access = addonFunction('canAccess');
  if (access === null) accessSync(path, mode);
  else access(path, mode);
}

/**
 * A small file's whole text, decoded as UTF-8 as readFileSync(path, 'utf8') does; opened without waiting,
 * so a FIFO in its place reads as empty rather than hanging. Throws EFBIG past `maxBytes`.
 */
export function readText(path: string | Buffer, maxBytes: number): string {
  const read = addonFunction('readText');
  if (read !== null) return read(path, maxBytes);
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  let text: string;
  try {
    text = readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
  if (Buffer.byteLength(text) > maxBytes) throw Object.assign(new Error(`${String(path)}: larger than ${maxBytes} bytes`), { code: 'EFBIG' });
  return text;
}

/**
 * Writes all of `text` (UTF-8) to `fd`, in order, waiting while a descriptor someone made non-blocking is
 * full (as a blocking write would wait); any other failure throws (EPIPE, ENOSPC...), as writeSync does.
 */
export function writeOut(fd: number, text: string): void {
  const out = addonFunction('writeOut');
  if (out !== null) {
    out(fd, text);
    return;
  }
  const bytes = Buffer.from(text);
  for (let done = 0; done < bytes.length;) {
    try {
      done += writeSync(fd, bytes, done);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);  // a millisecond before the next try
    }
  }
}
