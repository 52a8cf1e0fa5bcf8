// -X, --command "CMD ARGS" (or command= in a profile): one string split into the program's words the way
// a shell splits a simple command, with nothing expanded: white space separates words; 'single quotes'
// keep everything; "double quotes" keep everything but \" and \\; a backslash outside quotes keeps the
// next character. No globbing, variables or redirections: the words go to execve as they are.
import { DaemonizeError } from './errors';
import { ExitCode } from './exit-codes';

export function splitCommand(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      continue;
    }
    inWord = true;
    if (c === '\\') {
      if (i + 1 < text.length) word += text[++i];
    } else if (c === "'" || c === '"') {
      const end = findClose(text, i + 1, c);
      if (end < 0) throw new DaemonizeError(`bad --command ${JSON.stringify(text)}: unterminated ${c}`, ExitCode.USAGE);
      const inner = text.slice(i + 1, end);
      word += c === '"' ? inner.replace(/\\(["\\])/g, '$1') : inner;
      i = end;
    } else {
      word += c;
    }
  }
  if (inWord) words.push(word);
  return words;
}

function findClose(text: string, from: number, quote: string): number {
  for (let i = from; i < text.length; i++) {
    if (quote === '"' && text[i] === '\\') i++;
    else if (text[i] === quote) return i;
  }
  return -1;
}
