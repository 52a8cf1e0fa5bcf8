// The end of a file, read with one bounded read: a dead child's last words, `--logs`. Never the whole file.
import { fstatSync, readSync } from 'node:fs';

/** Enough for 10 long lines; a log's tail is read in one read of at most this. */
export const TAIL_BYTES = 16384;

/**
 * The text between `from` (a byte offset; earlier bytes are not ours) and the end of the file open on
 * `fd` (or `size`), at most `maxBytes` of it. A file truncated below `from` (copytruncate) is read from its start.
 * When the read starts inside a line, that partial first line is dropped.
 */
export function readTailText(fd: number, from = 0, maxBytes = TAIL_BYTES, size = fstatSync(fd).size): string {
  const floor = size < from ? 0 : from;
  const start = Math.max(floor, size - maxBytes);
  if (size <= start) return '';
  const bytes = Buffer.alloc(size - start);
  const got = readSync(fd, bytes, 0, bytes.length, start);
  let text = bytes.subarray(0, got).toString('utf8');
  if (start > floor) {
    const newline = text.indexOf('\n');
    text = newline < 0 ? '' : text.slice(newline + 1);
  }
  return text;
}

/** The last `count` non-empty lines of `text`. */
export function lastLines(text: string, count: number): string[] {
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  return count <= 0 ? [] : lines.slice(-count);
}

/** Bytes to read for `count` lines: 1 KiB a line, at least TAIL_BYTES, at most 8 MiB. */
export function bytesForLines(count: number): number {
  return Math.min(Math.max(TAIL_BYTES, count * 1024), 8 * 1024 * 1024);
}
