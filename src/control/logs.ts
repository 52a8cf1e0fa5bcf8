// `--logs`: the last lines of a daemon's stdout, stderr and event log files, each under its path;
// `--follow`: then what they gain, until SIGINT or SIGTERM, across logrotate's renames (the rest of the
// old file first, then the new one from its start) and copytruncate's truncations.
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';

import { besidePidfile } from '../pidfile-location';
import { describe } from '../errors';
import { bytesForLines, lastLines, readTailText } from '../file-tail';
import { inspect, toStatus } from './inspect';

export const DEFAULT_LINES = 20;
/** How often a followed file is looked at. */
export const FOLLOW_MS = 200;

export interface GivenLogs {
  stdout?: string;
  stderr?: string;
  errlog?: string;
}

/**
 * The daemon's files, each once: those the command line names, else those its status record (or, for a
 * daemon without one, its open descriptors 1 and 2) names, else the event log beside its pidfile.
 */
export function logPaths(pidfile: string, given: GivenLogs): string[] {
  const named = [given.stdout, given.stderr, given.errlog];
  let paths = named.filter((path): path is string => path !== undefined);
  if (paths.length === 0) {
    const status = toStatus(inspect(pidfile));
    paths = [status.stdout, status.stderr, status.log].filter((path): path is string => path !== null);
  }
  if (paths.length === 0) {
    const beside = besidePidfile(pidfile, '.log');
    if (exists(beside)) paths = [beside];
  }
  return [...new Set(paths)];
}

function exists(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

export type Write = (text: string) => void;

const header = (path: string): string => `==> ${path} <==\n`;

interface Followed {
  path: string;
  fd: number | null;
  dev: number;
  ino: number;
  /** Where the next read starts. */
  offset: number;
  /** Why it could not be opened. */
  error?: unknown;
}

/** Opens `path` to read it from `atEnd` (its end now) or its start; a file that cannot be opened has fd null. */
function openLog(path: string, atEnd: boolean): Followed {
  try {
    const fd = openSync(path, 'r');
    const stat = fstatSync(fd);
    return { path, fd, dev: stat.dev, ino: stat.ino, offset: atEnd ? stat.size : 0 };
  } catch (error) {
    return { path, fd: null, dev: -1, ino: -1, offset: 0, error };
  }
}

/** Opens the files at their ends. */
export function openLogs(paths: string[]): Followed[] {
  return paths.map((path) => openLog(path, true));
}

/**
 * Each file's last `count` lines (before its offset: what --follow prints next follows them exactly) under
 * its path; a file that cannot be read says why.
 */
export function printTails(files: Followed[], count: number, write: Write): void {
  files.forEach((file, index) => {
    write(`${index > 0 ? '\n' : ''}${header(file.path)}`);
    try {
      if (file.fd === null) throw file.error;
      for (const line of lastLines(readTailText(file.fd, 0, bytesForLines(count), file.offset), count)) write(`${line}\n`);
    } catch (error) {
      write(`(unable to read: ${describe(error)})\n`);
    }
  });
}

export function closeLogs(files: Followed[]): void {
  for (const file of files) if (file.fd !== null) closeSync(file.fd);
}

/** Everything after `file.offset` in its open file, or '' (a truncated file is read again from its start). */
function readMore(file: Followed): string {
  if (file.fd === null) return '';
  const size = fstatSync(file.fd).size;
  if (size < file.offset) file.offset = 0;
  const chunks: Buffer[] = [];
  const buffer = Buffer.alloc(65536);
  for (let got = readSync(file.fd, buffer, 0, buffer.length, file.offset); got > 0; got = readSync(file.fd, buffer, 0, buffer.length, file.offset)) {
    chunks.push(Buffer.from(buffer.subarray(0, got)));
    file.offset += got;
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The path now names another file (renamed away and created again), or a file appeared where none was. */
function replaced(file: Followed): boolean {
  try {
    const stat = statSync(file.path);
    return stat.dev !== file.dev || stat.ino !== file.ino;
  } catch {
    return false; // gone for now: keep reading the old one
  }
}

/**
 * Prints what the files gain from now on, with a header when the output moves from one file to another.
 * Resolves with 0 on SIGINT or SIGTERM.
 */
export function follow(files: Followed[], write: Write): Promise<number> {
  // printTails printed the last file's header last.
  let current = files.at(-1)?.path;
  const show = (file: Followed, text: string): void => {
    if (text === '') return;
    if (file.path !== current) write(`\n${header(file.path)}`);
    current = file.path;
    write(text);
  };
  const look = (): void => {
    for (const file of files) {
      show(file, readMore(file));
      if (replaced(file)) {
        // logrotate renamed it. What the writer put in the old file before it reopened is read now, once
        // more: it may have come after the read above but before the look that found the new file.
        show(file, readMore(file));
        if (file.fd !== null) closeSync(file.fd);
        Object.assign(file, openLog(file.path, false));
        show(file, readMore(file));
      }
    }
  };
  return new Promise((resolve, reject) => {
    const stop = (): void => {
      clearInterval(timer);
      process.removeListener('SIGINT', end);
      process.removeListener('SIGTERM', end);
    };
    // A failure (the reader of stdout gone: EPIPE) ends the follow with its error, in the one shape.
    const lookOrFail = (): boolean => {
      try {
        look();
        return true;
      } catch (error) {
        stop();
        closeLogs(files);
        reject(error);
        return false;
      }
    };
    const timer = setInterval(lookOrFail, FOLLOW_MS);
    const end = (): void => {
      stop();
      if (!lookOrFail()) return;
      closeLogs(files);
      resolve(0);
    };
    process.once('SIGINT', end);
    process.once('SIGTERM', end);
  });
}
