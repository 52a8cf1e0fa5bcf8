// open(2), close(2), pwrite(2) and access(2) through the addon (native/file-calls.cc), for the files a start
// opens and the program it looks for. The first call of each of Node's fs functions in a process runs
// JavaScript it compiles then (openSync, fstatSync, writeSync, accessSync: a few tenths of a millisecond
// each here); the addon's cost their system call. They behave as Node's: descriptors close-on-exec, a
// string path encoded as Node encodes it, errors with code, errno and syscall. Where the addon cannot load
// or predates them (a working tree not rebuilt), Node's own answer.
import { accessSync, closeSync, openSync, writeSync } from 'node:fs';

import { addonFunction } from './native';

const calls = {
  open: undefined as ReturnType<typeof addonFunction<'openFile'>> | undefined,
  close: undefined as ReturnType<typeof addonFunction<'closeFile'>> | undefined,
  write: undefined as ReturnType<typeof addonFunction<'writeAt'>> | undefined,
  access: undefined as ReturnType<typeof addonFunction<'canAccess'>> | undefined,
};

/** open(2) of `path` with `flags` (fs.constants) and, for a created file, `mode`: a close-on-exec descriptor. */
export function openFile(path: string | Buffer, flags: number, mode = 0o666): number {
  if (calls.open === undefined) calls.open = addonFunction('openFile');
  return calls.open === null ? openSync(path, flags, mode) : calls.open(path, flags, mode);
}

export function closeFile(fd: number): void {
  if (calls.close === undefined) calls.close = addonFunction('closeFile');
  if (calls.close === null) closeSync(fd);
  else calls.close(fd);
}

/** One write of `text` (UTF-8) at `position`: the bytes written, which may be fewer, as writeSync's. */
export function writeAt(fd: number, text: string, position: number): number {
  if (calls.write === undefined) calls.write = addonFunction('writeAt');
  return calls.write === null ? writeSync(fd, text, position) : calls.write(fd, text, position);
}

/** access(2) with the real ids: throws when `mode` (fs.constants X_OK...) is refused, as accessSync does. */
export function checkAccess(path: string | Buffer, mode: number): void {
  if (calls.access === undefined) calls.access = addonFunction('canAccess');
  if (calls.access === null) accessSync(path, mode);
  else calls.access(path, mode);
}
