'use strict';
// Unit tests of the profile grammar, the layering of profiles under the command line, -X's word
// splitting and the env-file grammar (dist/, built by `npm test`). Pure functions: no files, no processes.
const assert = require('node:assert/strict');
const { describe, it } = require('node:test');

const { parseConfig, ConfigSyntaxError } = require('../dist/config-file/parse');
const { profileLayers, mergeLayers } = require('../dist/config-file/merge');
const { splitCommand } = require('../dist/command-words');
const { parseEnvFile } = require('../dist/env-file');

const KINDS = new Map([['respawn', 'flag'], ['core', 'flag'], ['nocore', 'flag'], ['output', 'value'], ['stdout', 'value'],
  ['stderr', 'value'], ['env', 'value'], ['user', 'value'], ['command', 'value'], ['stop-timeout', 'value'], ['pidfiles', 'value']]);
const TABLE = { keyOf: new Map([['stop-timeout', 'stopTimeout']]), repeatable: new Set(['env']) };

function parse(text, environment = {}, variables = new Map()) {
  return parseConfig(text, { file: '/etc/daemonize.conf', kinds: KINDS, variables, environment, home: '/home/me' });
}

function syntaxError(line, pattern) {
  return (error) => error instanceof ConfigSyntaxError && error.line === line && pattern.test(error.message) &&
    error.message.startsWith(`/etc/daemonize.conf:${line}: `);
}

describe('parseConfig()', () => {
  it('reads a seed-like file: variables, a * entry, a named entry over continued lines, comments', () => {
    const entries = parse([
      '# daemonize profiles',
      'LOGS=/var/log/app',
      '',
      '* stop-timeout=5, core   # every daemon',
      'test_server respawn,output=${LOGS}/test.log,\\',
      '    command="node server.js --hosts=a,b", \\',
      '    env=GREETING=hello # world',
    ].join('\n'));
    assert.deepEqual(entries.map((e) => e.name), ['*', 'test_server']);
    assert.deepEqual(entries[0].options.map((o) => [o.key, o.value, o.where]),
      [['stop-timeout', '5', '/etc/daemonize.conf:4'], ['core', undefined, '/etc/daemonize.conf:4']]);
    assert.deepEqual(entries[1].options.map((o) => [o.key, o.value]), [['respawn', undefined], ['output', '/var/log/app/test.log'],
      ['command', 'node server.js --hosts=a,b'], ['env', 'GREETING=hello']]);
    assert.equal(entries[1].options[3].where, '/etc/daemonize.conf:5');
  });

  it('expands $VAR and ${VAR} from the file, then the environment, and a leading ~', () => {
    const variables = new Map();
    const entries = parse('DIR=~/srv\nweb output=$DIR/$NAME.log,stdout=~,stderr=a~b$,env=X=${HOME}', { NAME: 'web', HOME: '/root' }, variables);
    assert.deepEqual(entries[0].options.map((o) => o.value), ['/home/me/srv/web.log', '/home/me', 'a~b$', 'X=/root']);
    assert.equal(variables.get('DIR'), '/home/me/srv');
    // Variables carry into the next file.
    assert.equal(parse('x output=$DIR/x', {}, variables)[0].options[0].value, '/home/me/srv/x');
  });

  it('keeps a # inside a word or quotes, and unescapes \\" and \\\\ in quotes', () => {
    const [entry] = parse('web env=A=b#c,command="say \\"#1\\" \\\\"');
    assert.deepEqual(entry.options.map((o) => o.value), ['A=b#c', 'say "#1" \\']);
  });

  it('names the file and line of every mistake', () => {
    assert.throws(() => parse('\n\n* pidfle=/run'), syntaxError(3, /unknown option 'pidfle'/));
    assert.throws(() => parse('* respawn=yes'), syntaxError(1, /'respawn' takes no value/));
    assert.throws(() => parse('* output'), syntaxError(1, /'output' needs a value/));
    assert.throws(() => parse('* output='), syntaxError(1, /'output' needs a value/));
    assert.throws(() => parse('web'), syntaxError(1, /has no options/));
    assert.throws(() => parse('* output=$NOPE'), syntaxError(1, /undefined variable \$NOPE/));
    assert.throws(() => parse('* output=${1x}'), syntaxError(1, /bad variable name/));
    assert.throws(() => parse('#\nweb command="unterminated'), syntaxError(2, /unterminated quote/));
  });
});

describe('profile layers', () => {
  const entries = parse([
    '* stop-timeout=5,output=/var/log/all.log,env=A=1',
    'web respawn,stdout=/var/log/web.out,env=B=2',
    'other user=nobody',
    '* env=C=3',
  ].join('\n'));

  it('puts every * entry first, then the name\'s entries, then the command line, later winning', () => {
    const layers = profileLayers(entries, 'web', TABLE);
    assert.deepEqual(layers[0], { stopTimeout: '5', output: '/var/log/all.log', env: ['A=1', 'C=3'] });
    assert.deepEqual(layers[1], { respawn: true, stdout: '/var/log/web.out', env: ['B=2'] });
    const merged = mergeLayers([...layers, { stopTimeout: '9', env: ['A=cli'] }], TABLE);
    // --stdout from the name's entry drops the generic --output: no "--output with --stdout" conflict.
    assert.deepEqual(merged, { stopTimeout: '9', env: ['A=1', 'C=3', 'B=2', 'A=cli'], respawn: true, stdout: '/var/log/web.out' });
  });

  it('applies only * entries without a name, and lets the command line replace --core with --nocore', () => {
    const layers = profileLayers(parse('* core\nweb respawn'), undefined, TABLE);
    assert.deepEqual(layers, [{ core: true }]);
    assert.deepEqual(mergeLayers([...layers, { nocore: true }], TABLE), { nocore: true });
  });
});

describe('splitCommand()', () => {
  it('splits like a shell with nothing expanded', () => {
    assert.deepEqual(splitCommand('  node  server.js --port 8080 '), ['node', 'server.js', '--port', '8080']);
    assert.deepEqual(splitCommand(`sh -c 'echo $HOME; exit 3' "a \\"b\\"" c\\ d ''`), ['sh', '-c', 'echo $HOME; exit 3', 'a "b"', 'c d', '']);
    assert.deepEqual(splitCommand(''), []);
    assert.throws(() => splitCommand('say "hi'), (e) => e.exitCode === 2 && /unterminated "/.test(e.message));
  });
});

describe('parseEnvFile()', () => {
  it('reads KEY=value lines, comments, export, single and double quotes', () => {
    const env = parseEnvFile([
      '# settings',
      'PLAIN=hello world   # a comment',
      'export EXPORTED=yes',
      "SINGLE='kept $AS \\n written'",
      'DOUBLE="line\\none \\"q\\" $X"',
      'EMPTY=',
      'HASH=a#b',
      '  SPACED = value ',
      'PLAIN=again',
    ].join('\n'), '/srv/app.env');
    assert.deepEqual(env, { PLAIN: 'again', EXPORTED: 'yes', SINGLE: 'kept $AS \\n written', DOUBLE: 'line\none "q" $X', EMPTY: '',
      HASH: 'a#b', SPACED: 'value' });
  });

  it('names the file and line of a bad one', () => {
    const bad = (text, pattern) => assert.throws(() => parseEnvFile(text, '/srv/app.env'),
      (e) => e.exitCode === 2 && pattern.test(e.message));
    bad('OK=1\nnot a variable', /^\/srv\/app\.env:2: expected KEY=value/);
    bad("A='open", /^\/srv\/app\.env:1: unterminated single quote/);
    bad('A="open', /unterminated double quote/);
    bad('A="x" y', /text after the closing quote/);
  });
});
