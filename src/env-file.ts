// --env-file FILE: variables for the program from a file, applied before --env (so --env wins).
//   # a comment line            KEY=value           KEY='single: kept as written'
//   export KEY=value            KEY="double: \n \" \\ \$ understood"       KEY=value # a trailing comment
// Nothing is expanded ($VAR stays as written): the file says exactly what the program gets.
import { DaemonizeError } from './errors';
import { ExitCode } from './exit-codes';
import { readTrustedText } from './trusted-read';
import type { TargetUser } from './user';

const LINE = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*)$/s;
const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '"': '"', '\\': '\\', $: '$' };

function bad(file: string, line: number, problem: string): DaemonizeError {
  return new DaemonizeError(`${file}:${line}: ${problem}`, ExitCode.USAGE);
}

function value(raw: string, file: string, line: number): string {
  if (raw.startsWith("'")) {
    const end = raw.indexOf("'", 1);
    if (end < 0) throw bad(file, line, 'unterminated single quote');
    if (!/^\s*(#.*)?$/.test(raw.slice(end + 1))) throw bad(file, line, 'text after the closing quote');
    return raw.slice(1, end);
  }
  if (raw.startsWith('"')) {
    let result = '';
    for (let i = 1; i < raw.length; i++) {
      const c = raw[i];
      if (c === '"') {
        if (!/^\s*(#.*)?$/.test(raw.slice(i + 1))) throw bad(file, line, 'text after the closing quote');
        return result;
      }
      if (c === '\\' && i + 1 < raw.length) {
        const next = raw[++i];
        result += ESCAPES[next] ?? `\\${next}`;
      } else {
        result += c;
      }
    }
    throw bad(file, line, 'unterminated double quote');
  }
  // Unquoted: up to a # that follows white space, trimmed.
  return raw.replace(/(^|\s)#.*$/, '').trim();
}

/** Parses an env file's text; `file` names it in messages. Later lines win. */
export function parseEnvFile(text: string, file: string): Record<string, string> {
  const result: Record<string, string> = {};
  text.split(/\r?\n/).forEach((raw, index) => {
    const content = raw.trim();
    if (content === '' || content.startsWith('#')) return;
    const match = LINE.exec(content);
    if (!match) throw bad(file, index + 1, `expected KEY=value, got ${JSON.stringify(content.slice(0, 60))}`);
    const parsed = value(match[2], file, index + 1);
    if (parsed.includes('\0')) throw bad(file, index + 1, 'a value may not hold a NUL byte');
    result[match[1]] = parsed;
  });
  return result;
}

/**
 * Reads the env files in order (later files win). As root, a file must be owned by root or by the
 * --user the program runs as: its variables (LD_PRELOAD...) become the program's.
 */
export function readEnvFiles(paths: readonly string[], user: TargetUser | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  const owners = user === undefined || user.uid === 0 ? [0] : [0, user.uid];
  for (const path of paths) Object.assign(result, parseEnvFile(readTrustedText(path, 'env file', owners) as string, path));
  return result;
}
