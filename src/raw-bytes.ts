// Arguments and environment values as the bytes the caller gave, not as Node decoded them. Node decodes
// argv and environ as UTF-8 and turns every byte that is not UTF-8 into U+FFFD, so a program started as
// `daemonize -- printf '\xff'` would get "\xef\xbf\xbd". Linux keeps the original bytes in
// /proc/self/cmdline and /proc/self/environ; they are read here and carried through the CLI as strings in
// which each byte that is not part of valid UTF-8 is a lone surrogate U+DC80..U+DCFF ("surrogateescape",
// as Python does since PEP 383). Valid UTF-8 can never decode to a lone surrogate, so the mapping is
// lossless both ways; such strings survive commander, path.resolve and JSON (the supervisor's config)
// unchanged, and the addon turns them back into the exact bytes (native/bytes.cc). Where Node itself
// takes a path, fsPath() gives it the bytes as a Buffer.
import { readFileSync } from 'node:fs';

const ESCAPE_BASE = 0xdc00;
const ESCAPED = /[\udc80-\udcff]/;

/** Length of the valid UTF-8 sequence at `at`, or 0 if the byte there does not start one. */
function sequenceLength(bytes: Uint8Array, at: number): number {
  const lead = bytes[at];
  if (lead < 0x80) return 1;
  let length: number;
  let min: number;
  if (lead >= 0xc2 && lead <= 0xdf) [length, min] = [2, 0x80];
  else if (lead >= 0xe0 && lead <= 0xef) [length, min] = [3, 0x800];
  else if (lead >= 0xf0 && lead <= 0xf4) [length, min] = [4, 0x10000];
  else return 0;
  if (at + length > bytes.length) return 0;
  let code = lead & (0xff >> (length + 1));
  for (let i = 1; i < length; i++) {
    const next = bytes[at + i];
    if ((next & 0xc0) !== 0x80) return 0;
    code = (code << 6) | (next & 0x3f);
  }
  // Overlong forms, UTF-16 surrogates and code points past U+10FFFF are not UTF-8.
  if (code < min || (code >= 0xd800 && code <= 0xdfff) || code > 0x10ffff) return 0;
  return length;
}

/** Bytes to a string: UTF-8 where they are UTF-8, each other byte as U+DC80..U+DCFF. */
export function decodeBytes(bytes: Uint8Array): string {
  let result = '';
  let start = 0;
  let at = 0;
  while (at < bytes.length) {
    const length = sequenceLength(bytes, at);
    if (length > 0) {
      at += length;
      continue;
    }
    result += Buffer.from(bytes.subarray(start, at)).toString('utf8') + String.fromCharCode(ESCAPE_BASE + bytes[at]);
    at++;
    start = at;
  }
  return result + Buffer.from(bytes.subarray(start)).toString('utf8');
}

/** The inverse of decodeBytes: the exact bytes a string stands for. */
export function encodeBytes(text: string): Buffer {
  if (!ESCAPED.test(text)) return Buffer.from(text, 'utf8');
  const parts: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    // A low surrogate right after a high one is half of a real character, never an escape.
    const paired = i > 0 && text.charCodeAt(i - 1) >= 0xd800 && text.charCodeAt(i - 1) <= 0xdbff;
    if (unit >= 0xdc80 && unit <= 0xdcff && !paired) {
      parts.push(Buffer.from(text.slice(start, i), 'utf8'), Buffer.from([unit - ESCAPE_BASE]));
      start = i + 1;
    }
  }
  parts.push(Buffer.from(text.slice(start), 'utf8'));
  return Buffer.concat(parts);
}

/** A path for Node's fs: the string itself, or its exact bytes when it carries escaped ones. */
export function fsPath(path: string): string | Buffer {
  return ESCAPED.test(path) ? encodeBytes(path) : path;
}

/** True when the string carries bytes that are not UTF-8. */
export function hasEscapedBytes(text: string): boolean {
  return ESCAPED.test(text);
}

/**
 * Whether Node may have lost bytes decoding `text`: it decodes each sequence that is not UTF-8 as U+FFFD,
 * so a word without one is exactly the bytes it came from, and /proc need not be read (a few
 * milliseconds of every start).
 */
function mayHaveLostBytes(text: string): boolean {
  return text.includes('\uFFFD');
}

function readNulSeparated(file: string): string[] | undefined {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch {
    return undefined;  // not Linux, or no /proc: Node's decoding is all there is
  }
  const words: string[] = [];
  let start = 0;
  for (let at = bytes.indexOf(0); at >= 0; at = bytes.indexOf(0, start)) {
    words.push(decodeBytes(bytes.subarray(start, at)));
    start = at + 1;
  }
  return words;
}

/** Whether `raw`, decoded the way Node decodes, is `decoded`: the same word, before Node's losses. */
function sameWord(raw: string, decoded: string): boolean {
  return encodeBytes(raw).toString('utf8') === decoded;
}

/**
 * `argv` (process.argv) with the user's words (from argv[2] on) replaced by their exact bytes from
 * /proc/self/cmdline. Node's own flags come before the script there, so the user's words are its last
 * ones. Anything that does not line up (a changed process.title, no /proc) leaves argv as it is.
 */
export function rawArgv(argv: readonly string[], cmdline = '/proc/self/cmdline'): string[] {
  if (!argv.slice(2).some(mayHaveLostBytes)) return [...argv];
  const raw = readNulSeparated(cmdline);
  const count = argv.length - 2;
  if (raw === undefined || count <= 0 || raw.length < count + 1) return [...argv];
  const words = raw.slice(raw.length - count);
  if (!words.every((word, i) => sameWord(word, argv[2 + i]))) return [...argv];
  return [...argv.slice(0, 2), ...words];
}

/**
 * `env` (process.env) with each value (and name) that Node decoded from bytes that are not UTF-8 replaced
 * by the exact bytes from /proc/self/environ. A variable changed since this process started keeps its
 * current value: /proc/self/environ shows the environment as it was at exec.
 */
export function rawEnvironment(env: NodeJS.ProcessEnv, environ = '/proc/self/environ'): NodeJS.ProcessEnv {
  const result: NodeJS.ProcessEnv = { ...env };
  if (!Object.entries(result).some(([name, value]) => mayHaveLostBytes(name) || mayHaveLostBytes(value ?? ''))) return result;
  for (const entry of readNulSeparated(environ) ?? []) {
    if (!hasEscapedBytes(entry)) continue;
    const at = entry.indexOf('=');
    if (at < 1) continue;
    const [name, value] = [entry.slice(0, at), entry.slice(at + 1)];
    const decodedName = encodeBytes(name).toString('utf8');
    if (env[decodedName] === undefined || !sameWord(value, env[decodedName] as string)) continue;
    delete result[decodedName];
    result[name] = value;
  }
  return result;
}

/** Options naming files that Node's fs opens by path (src/stdio.ts, src/pidfile.ts and the supervisor's). */
const FILE_OPTIONS = ['pidfile', 'pidfiles', 'output', 'stdout', 'stderr', 'errlog'] as const;

/**
 * The first file option whose path is not UTF-8, as `--name`, or undefined. Such a path is refused
 * rather than opened under its U+FFFD spelling (another file): the code that opens those files takes
 * strings. --chdir and the command's own path are not refused: they reach the system as bytes.
 */
export function nonUtf8FileOption(options: Partial<Record<(typeof FILE_OPTIONS)[number], unknown>>): string | undefined {
  const found = FILE_OPTIONS.find((name) => typeof options[name] === 'string' && hasEscapedBytes(options[name] as string));
  return found && `--${found}`;
}
