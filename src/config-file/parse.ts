// The profile file's grammar (libslack daemon.conf's shape), pure: text in, entries out, no I/O.
//   # a comment (at the start of a line, or after white space, outside double quotes), to the line's end
//   VAR=value                       a variable for $VAR, ${VAR} in later lines (and later files)
//   * option,option=value,...       options for every daemon
//   NAME option,option=value,...    options for `daemonize --name NAME`
// A line ending in a backslash (before any comment) continues on the next. Options are the long options without "--"; a value
// may be double-quoted (then it may hold commas; \" and \\ inside). Values are expanded: $VAR and ${VAR}
// (the file's variables, else the caller's environment; an undefined one is an error), ~ or ~/ at the start.

/** A mistake in a file: the loader reports it as a usage error "FILE:LINE: message". */
export class ConfigSyntaxError extends Error {
  constructor(readonly file: string, readonly line: number, readonly problem: string) {
    super(`${file}:${line}: ${problem}`);
    this.name = 'ConfigSyntaxError';
  }
}

export interface ProfileOption {
  /** The long option without "--" ('stop-timeout'). */
  key: string;
  /** The expanded value; undefined for a flag. */
  value?: string;
  /** "FILE:LINE", for messages. */
  where: string;
}

export interface ProfileEntry {
  /** '*' for every daemon, else the --name it is for. */
  name: string;
  options: ProfileOption[];
}

/** What each option accepted in a file takes; anything else is "unknown". */
export type OptionKinds = ReadonlyMap<string, 'flag' | 'value'>;

export interface ParseContext {
  file: string;
  kinds: OptionKinds;
  /** Variables set so far (by earlier lines and files); VAR=value lines add to it. */
  variables: Map<string, string>;
  /** The caller's environment, for $VAR not set in a file. */
  environment: Readonly<Record<string, string | undefined>>;
  /** What ~ means. */
  home: string;
}

interface LogicalLine {
  text: string;
  line: number;
}

/**
 * Drops each line's comment, then joins a line ending in a backslash with the next (so a continued line
 * may carry a comment after its backslash). Each logical line keeps the number of its first physical line.
 */
function logicalLines(text: string): LogicalLine[] {
  const result: LogicalLine[] = [];
  let pending: LogicalLine | null = null;
  text.split(/\r?\n/).forEach((physical, index) => {
    const current: LogicalLine = pending ?? { text: '', line: index + 1 };
    const content = stripComment(physical).trimEnd();
    const continued = content.endsWith('\\');
    current.text += continued ? content.slice(0, -1) : content;
    pending = continued ? current : null;
    if (!continued) result.push(current);
  });
  if (pending !== null) result.push(pending);
  return result;
}

/** The line without its comment: a # at the start or after white space, outside double quotes. */
function stripComment(text: string): string {
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\\' && quoted) i++;
    else if (c === '"') quoted = !quoted;
    else if (c === '#' && !quoted && (i === 0 || /\s/.test(text[i - 1]))) return text.slice(0, i);
  }
  return text;
}

/** Splits on commas outside double quotes. */
function splitOptions(text: string): string[] {
  const parts: string[] = [];
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\\' && quoted) i++;
    else if (c === '"') quoted = !quoted;
    else if (c === ',' && !quoted) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((part) => part.trim()).filter((part) => part !== '');
}

class LineParser {
  constructor(private readonly context: ParseContext, private readonly line: number) {}

  fail(problem: string): never {
    throw new ConfigSyntaxError(this.context.file, this.line, problem);
  }

  /** Removes one level of double quotes around the whole value. */
  unquote(value: string): string {
    if (!value.startsWith('"')) return value;
    if (value.length < 2 || !value.endsWith('"') || (value.endsWith('\\"') && !value.endsWith('\\\\"'))) {
      this.fail(`unterminated quote in ${value}`);
    }
    return value.slice(1, -1).replace(/\\(["\\])/g, '$1');
  }

  /** $VAR, ${VAR}, and a leading ~ or ~/. A $ not followed by a name or { stays as it is. */
  expand(value: string): string {
    const { variables, environment, home } = this.context;
    const tilde = value === '~' || value.startsWith('~/') ? home + value.slice(1) : value;
    return tilde.replace(/\$(?:\{([^}]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g, (_match, braced?: string, bare?: string) => {
      const name = braced ?? bare ?? '';
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) this.fail(`bad variable name '${name}'`);
      const found = variables.get(name) ?? environment[name];
      if (found === undefined) this.fail(`undefined variable $${name}`);
      return found;
    });
  }

  option(text: string): ProfileOption {
    const at = text.indexOf('=');
    const key = (at < 0 ? text : text.slice(0, at)).trim();
    const kind = this.context.kinds.get(key);
    if (kind === undefined) this.fail(`unknown option '${key}'`);
    const where = `${this.context.file}:${this.line}`;
    if (kind === 'flag') {
      if (at >= 0) this.fail(`option '${key}' takes no value`);
      return { key, where };
    }
    if (at < 0 || text.slice(at + 1).trim() === '') this.fail(`option '${key}' needs a value (${key}=...)`);
    return { key, value: this.expand(this.unquote(text.slice(at + 1).trim())), where };
  }
}

const ASSIGNMENT = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s;

/** Parses one file's text. Variables it sets are added to `context.variables`. */
export function parseConfig(text: string, context: ParseContext): ProfileEntry[] {
  const entries: ProfileEntry[] = [];
  for (const { text: raw, line } of logicalLines(text)) {
    const content = raw.trim();
    if (content === '') continue;
    const parser = new LineParser(context, line);
    const assignment = ASSIGNMENT.exec(content);
    if (assignment) {
      context.variables.set(assignment[1], parser.expand(parser.unquote(assignment[2].trim())));
      continue;
    }
    const space = content.search(/\s/);
    if (space < 0) parser.fail(`'${content}' has no options (expected NAME option,option=value,...)`);
    const name = content.slice(0, space);
    if (name.includes('=')) parser.fail(`bad line: expected VAR=value or NAME option,option=value,...`);
    const options = splitOptions(content.slice(space + 1)).map((part) => parser.option(part));
    entries.push({ name, options });
  }
  return entries;
}
