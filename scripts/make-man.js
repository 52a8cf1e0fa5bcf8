#!/usr/bin/env node
'use strict';
// Writes the man page, man/daemonize.1 (roff, man(7) macros), from what `daemonize --help` prints: the
// commander definition (buildCommand(): usage, description, arguments, options, through commander's own
// Help, as --help formats them) and the sections of src/help.ts after the options. Reads dist/: run it
// after tsc. `npm pack` runs it (prepack). Usage: node scripts/make-man.js [output file]
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');

/** Text made safe for roff: backslashes, dashes (minus, so options copy and paste), quotes, ~ and ^. */
function escape(text) {
  return text
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .replace(/'/g, '\\(aq')
    .replace(/`/g, '\\(ga')
    .replace(/~/g, '\\(ti')
    .replace(/\^/g, '\\(ha');
}

/** A line of text: a leading '.' or '\'' would make it a request, so \& goes first. */
function line(roff) {
  return /^[.']/.test(roff) ? `\\&${roff}` : roff;
}

/** A macro argument in double quotes. */
function quoted(text) {
  return `"${escape(text).replace(/"/g, '\\(dq')}"`;
}

/** A heading in capitals, as man(7) has them; option names (-r) keep their case. */
function upper(heading) {
  return heading.split(' ').map((word) => (/^\(?-/.test(word) ? word : word.toUpperCase())).join(' ');
}

const bold = (text) => `\\fB${escape(text)}\\fR`;
const italic = (text) => `\\fI${escape(text)}\\fR`;

/** "-n, --name <name>" as "\fB\-n\fR, \fB\-\-name\fR \fIname\fR"; [optional] values keep their brackets. */
function optionTerm(term) {
  return term.split(/(,? +)/).map((word) => {
    if (/^,? +$/.test(word)) return word;
    if (word.startsWith('-')) return bold(word);
    const value = /^<(.+)>$/.exec(word);
    if (value) return italic(value[1]);
    const optional = /^\[(.+)\]$/.exec(word);
    return optional ? `[${italic(optional[1])}]` : escape(word);
  }).join('');
}

/** "[options] [--] command [args...]": words in italics, '--' in bold, brackets and dots as they are. */
function usageLine(usage) {
  return usage.replace(/--|[A-Za-z][\w-]*|[^A-Za-z]/g, (word) => {
    if (word === '--') return bold(word);
    return /^[A-Za-z]/.test(word) ? italic(word) : escape(word);
  });
}

/**
 * The text after the options (src/help.ts) as sections: a heading is an unindented line ending in ':',
 * its body the indented lines up to the next heading.
 */
function helpSections(text) {
  const sections = [];
  for (const raw of text.split('\n')) {
    const heading = /^(\S.*):$/.exec(raw);
    if (heading) sections.push({ heading: heading[1], lines: [] });
    else if (sections.length > 0) sections[sections.length - 1].lines.push(raw.trimEnd());
    else if (raw.trim() !== '') throw new Error(`make-man: text before the first heading: ${raw}`);
  }
  for (const section of sections) {
    while (section.lines.length > 0 && section.lines[section.lines.length - 1] === '') section.lines.pop();
  }
  return sections;
}

/**
 * A section's body in roff. Examples are command lines, kept as they are (.nf), one per line (runs of four
 * or more spaces separate commands on one line). A body whose first line has a term, two or more spaces and
 * a description is a table (.TP per term; deeper-indented lines continue the description above). Anything
 * else is prose, with paragraphs at blank lines.
 */
function sectionBody(section) {
  const lines = section.lines;
  const out = [];
  if (/^examples?$/i.test(section.heading)) {
    out.push('.PP', '.RS 4', '.nf');
    for (const text of lines) {
      for (const command of text.trim().split(/ {4,}/)) if (command !== '') out.push(line(escape(command)));
    }
    out.push('.fi', '.RE');
    return out;
  }
  const row = /^( +)(\S.*?) {2,}(\S.*)$/;
  const first = lines.find((text) => text.trim() !== '');
  if (first !== undefined && row.test(first)) {
    const indent = row.exec(first)[1].length;
    let entry = null;
    const flush = () => {
      if (entry) out.push('.TP', line(bold(entry.term)), line(escape(entry.description.join(' '))));
      entry = null;
    };
    for (const text of lines) {
      const match = row.exec(text);
      const depth = text.length - text.trimStart().length;
      if (text.trim() === '') {
        flush();
      } else if (match && depth === indent) {
        flush();
        entry = { term: match[2], description: [match[3]] };
      } else if (entry && depth > indent) {
        entry.description.push(text.trim());
      } else {
        throw new Error(`make-man: section '${section.heading}': cannot place line: ${text}`);
      }
    }
    flush();
    return out;
  }
  let paragraph = [];
  const flush = () => {
    if (paragraph.length > 0) out.push('.PP', line(escape(paragraph.join(' '))));
    paragraph = [];
  };
  for (const text of lines) {
    if (text.trim() === '') flush();
    else paragraph.push(text.trim());
  }
  flush();
  return out;
}

/** The whole page, as a string. `date` is YYYY-MM-DD. */
function manPage(date) {
  const { buildCommand } = require(path.join(ROOT, 'dist', 'cli.js'));
  const { EXAMPLES } = require(path.join(ROOT, 'dist', 'help.js'));
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const command = buildCommand();
  const help = command.createHelp();
  const name = command.name();
  const summary = pkg.description.replace(/\.$/, '');

  const out = [
    `.\\" Generated by scripts/make-man.js from src/cli.ts and src/help.ts (what ${name} --help prints); do not edit.`,
    `.TH ${quoted(name.toUpperCase())} 1 ${quoted(date)} ${quoted(`${name} ${pkg.version}`)} "User Commands"`,
    '.nh',
    '.ad l',
    '.SH NAME',
    line(`${escape(name)} \\- ${escape(summary.charAt(0).toLowerCase() + summary.slice(1))}`),
    '.SH SYNOPSIS',
    `.B ${escape(name)}`,
    line(usageLine(command.usage())),
    '.SH DESCRIPTION',
    line(escape(help.commandDescription(command))),
  ];
  for (const argument of help.visibleArguments(command)) {
    out.push('.TP', line(italic(help.argumentTerm(argument))), line(escape(help.argumentDescription(argument))));
  }
  out.push('.SH OPTIONS');
  for (const option of help.visibleOptions(command)) {
    out.push('.TP', line(optionTerm(help.optionTerm(option))), line(escape(help.optionDescription(option))));
  }

  // The help's sections in their order, except: every "Exit status ..." under one EXIT STATUS, and the
  // examples last, before SEE ALSO, where man-pages(7) puts them.
  let exitStatusDone = false;
  const examples = [];
  const sections = helpSections(EXAMPLES);
  for (const section of sections) {
    if (/^examples?$/i.test(section.heading)) {
      examples.push(...sectionBody(section));
    } else if (/^exit status/i.test(section.heading)) {
      if (exitStatusDone) continue;
      exitStatusDone = true;
      out.push('.SH "EXIT STATUS"');
      for (const part of sections.filter((s) => /^exit status/i.test(s.heading))) {
        out.push(`.SS ${quoted(part.heading)}`, ...sectionBody(part));
      }
    } else {
      out.push(`.SH ${quoted(upper(section.heading))}`, ...sectionBody(section));
    }
  }
  if (examples.length > 0) out.push('.SH EXAMPLES', ...examples);
  out.push(
    '.SH "SEE ALSO"',
    '.BR daemon (7),',
    '.BR setsid (2),',
    '.BR flock (2),',
    '.BR start\\-stop\\-daemon (8)',
    '.PP',
    line(escape(`Library mode, daemonize() at the top of a Node app, and the details of each guarantee: ` +
      `README.md in the package (${pkg.name} on npm).`)),
    '.PP',
    line(`Installed by ${bold(`npm install -g ${pkg.name}`)}, which puts ${bold('daemonize')} on PATH and this page where ${bold('man')} finds it.`),
  );
  return `${out.join('\n')}\n`;
}

/** Today, or SOURCE_DATE_EPOCH's day when set (reproducible builds). */
function pageDate() {
  const epoch = Number(process.env.SOURCE_DATE_EPOCH);
  const when = Number.isFinite(epoch) && process.env.SOURCE_DATE_EPOCH !== '' ? new Date(epoch * 1000) : new Date();
  return when.toISOString().slice(0, 10);
}

if (require.main === module) {
  const target = path.resolve(process.argv[2] ?? path.join(ROOT, 'man', 'daemonize.1'));
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(target, manPage(pageDate()));
}

module.exports = { manPage, escape, line };
