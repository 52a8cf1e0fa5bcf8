'use strict';
// The man page (scripts/make-man.js, run by `npm pack`): made from what --help prints, it says everything
// --help says, and man(1) renders it without a warning. Needs man-db (man, lexgrog) and groff-base.
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { describe, it, before, after } = require('node:test');

const { ROOT, Scratch, runCli } = require('./helpers/harness');
const { escape, line } = require('../scripts/make-man');

const scratch = new Scratch();
after(() => scratch.cleanup());

/** Runs of whitespace as one space: text wrapped at any width compares equal. */
const flat = (text) => text.replace(/\s+/g, ' ').trim();

function run(file, args, env = {}) {
  const result = spawnSync(file, args, { encoding: 'utf8', timeout: 20000, env: { ...process.env, ...env } });
  if (result.error) throw result.error;
  return result;
}

/** --help's option list: [{ flags: ['-n', '--name'], description }], continuation lines joined. */
function helpOptions(help) {
  const options = [];
  const block = help.slice(help.indexOf('\nOptions:\n') + '\nOptions:\n'.length).split('\n\n')[0];
  for (const text of block.split('\n')) {
    const entry = /^ {2}(-\S.*?) {2,}(\S.*)$/.exec(text);
    if (entry) options.push({ flags: entry[1].match(/(?<![\w-])--?[A-Za-z][\w-]*/g), description: entry[2] });
    else options[options.length - 1].description += ` ${text.trim()}`;
  }
  return options;
}

describe('the man page', () => {
  let page;
  let source;
  let rendered;
  let help;

  before(() => {
    assert.equal(run('sh', ['-c', 'command -v man && command -v lexgrog']).status, 0, 'these tests need man-db');
    page = path.join(scratch.dir(), 'daemonize.1');
    const made = run(process.execPath, [path.join(ROOT, 'scripts', 'make-man.js'), page]);
    assert.equal(made.status, 0, made.stderr);
    source = fs.readFileSync(page, 'utf8');
    const man = run('man', ['--warnings=w', '-P', 'cat', '-l', page], { LC_ALL: 'C.UTF-8', MANWIDTH: '80' });
    assert.equal(man.status, 0, man.stderr);
    rendered = { text: man.stdout, stderr: man.stderr };
    help = runCli(['--help']).stdout;
  });

  it('renders with man -l (groff, every warning on) without a warning', () => {
    assert.equal(rendered.stderr, '');
    assert.match(rendered.text, /^DAEMONIZE\(1\) +User Commands +DAEMONIZE\(1\)$/m);
    for (const heading of ['NAME', 'SYNOPSIS', 'DESCRIPTION', 'OPTIONS', 'EXIT STATUS', 'EXAMPLES', 'SEE ALSO']) {
      assert.match(rendered.text, new RegExp(`^${heading}$`, 'm'), `section ${heading}`);
    }
  });

  it('has a NAME line that whatis and apropos can index (lexgrog)', () => {
    const result = run('lexgrog', [page]);
    assert.equal(result.status, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /: "daemonize - \S.*"$/m);
  });

  it('has every option --help lists, with its flags and description', () => {
    const options = helpOptions(help);
    assert.ok(options.length >= 20, `--help lists options (${options.length})`);
    const text = flat(rendered.text);
    for (const { flags, description } of options) {
      for (const flag of flags) {
        assert.match(rendered.text, new RegExp(`(^|[\\s,])${flag}(?=[\\s,]|$)`, 'm'), `${flag} in the man page`);
      }
      assert.ok(text.includes(flat(description)), `description of ${flags.join(', ')}: ${description}`);
    }
    // Each option is a tagged paragraph, its flags set in bold.
    const section = source.slice(source.indexOf('\n.SH OPTIONS\n'), source.indexOf('\n.SH', source.indexOf('\n.SH OPTIONS\n') + 1));
    assert.equal(section.match(/^\.TP\n\\fB\\-/gm).length, options.length);
  });

  it('says everything else --help says: usage, description, and every line of the sections after the options', () => {
    const text = flat(rendered.text);
    const usage = /^Usage: (.*)$/m.exec(help)[1];
    assert.ok(text.includes(flat(usage)), `usage: ${usage}`);
    const description = help.slice(help.indexOf('\n\n') + 2, help.indexOf('\n\nArguments:'));
    assert.ok(text.includes(flat(description)), 'the description');
    const options = help.indexOf('\nOptions:\n');
    const rest = help.slice(help.indexOf('\n\n', options) + 2);
    let lines = 0;
    for (const raw of rest.split('\n')) {
      if (raw.trim() === '') continue;
      const heading = /^(\S.*):$/.exec(raw);
      if (heading) {
        assert.ok(text.toLowerCase().includes(heading[1].toLowerCase()), `heading ${heading[1]}`);
        continue;
      }
      // A table's term and description; an example line may hold several commands apart.
      for (const cell of raw.trim().split(/ {2,}/)) assert.ok(text.includes(flat(cell)), `help text: ${cell}`);
      lines += 1;
    }
    assert.ok(lines >= 20, `the help text after the options has its lines (${lines})`);
  });

  it('escapes what roff would take for requests and escapes', () => {
    assert.equal(line(escape('.hidden \\n -x')), '\\&.hidden \\en \\-x');
    assert.equal(line(escape('\'quoted\' ~/x ^')), '\\(aqquoted\\(aq \\(ti/x \\(ha');
    // No text line of the page starts a request by accident.
    for (const text of source.split('\n')) {
      if (/^[.']/.test(text)) assert.match(text, /^\.(\\"|TH|SH|SS|TP|PP|RS|RE|nf|fi|nh|ad|B|BR) ?/, text);
    }
  });
});
