'use strict';
// Arguments, environment values and the directory reach the program byte for byte, also when they are
// not UTF-8 (Node alone would have turned such bytes into U+FFFD). The CLI is started from bash with
// $'\xff'-style words, since Node's own spawn cannot pass bytes that are not UTF-8.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { describe, it, after } = require('node:test');

const { CLI, Scratch, waitFor, readPidfile } = require('./helpers/harness');
const { decodeBytes, encodeBytes } = require('../dist/raw-bytes');

const scratch = new Scratch();
after(() => scratch.cleanup());

const WRITER = path.join(__dirname, 'fixtures', 'write-bytes.sh');
// Bytes that are not UTF-8: a lone 0xff 0xfe, an encoded UTF-16 surrogate, an overlong '/', a cut-off
// sequence; and valid UTF-8 beside them.
const WORDS = [[0x61, 0xff, 0xfe, 0x62], [0xed, 0xa0, 0x80], [0xc0, 0xaf], [0xe2, 0x82], [0x6f, 0x6b, 0xc3, 0xa9]];

/** bash's $'...' spelling of some bytes. */
function quoted(bytes) {
  return `$'${Buffer.from(bytes).toString('hex').replace(/../g, '\\x$&')}'`;
}

/** Runs `daemonize ARGS -- write-bytes.sh OUT WORDS...` from bash, with $BYTES set to bytes that are not UTF-8. */
function runWithBytes(args, out, dir) {
  const script = [`BYTES=${quoted([0x76, 0xff, 0xfe])}`, 'exec', `"${process.execPath}"`, `"${CLI}"`, ...args,
    '--env', `${quoted([...Buffer.from('E='), 0xc3, 0xa9, 0xff])}`, '--chdir', quoted([...Buffer.from(dir), 0xff]),
    '--', WRITER, out, ...WORDS.map(quoted)].join(' ');
  return spawnSync('bash', ['-c', script], { encoding: 'utf8' });
}

function expected(dir) {
  return Buffer.concat([...WORDS, [0x76, 0xff, 0xfe], [0xc3, 0xa9, 0xff], [...Buffer.from(dir), 0xff]]
    .map((bytes) => Buffer.from([...bytes, 0])));
}

describe('bytes that are not UTF-8', () => {
  for (const mode of [[], ['-f'], ['-r']]) {
    it(`reach the program unchanged: arguments, --env, the caller's environment, --chdir (${mode.join(' ') || 'daemon'})`, async () => {
      const dir = scratch.dir();
      // The --chdir directory sits beside the scratch directory, not in it: removed with it at cleanup.
      const odd = Buffer.from([...Buffer.from(dir), 0xff]);
      fs.mkdirSync(odd);
      scratch.dirs.push(odd);
      const out = path.join(dir, 'record');
      const pidfile = path.join(dir, 'b.pid');
      const result = runWithBytes([...mode, '--pidfile', pidfile], out, dir);
      assert.equal(result.status, 0, result.stderr);
      await waitFor(() => fs.existsSync(out), 'the record');
      if (mode[0] === '-r') {
        const supervisor = scratch.track(readPidfile(pidfile));
        assert.equal(spawnSync(process.execPath, [CLI, '--pidfile', pidfile, '--stop']).status, 0);
        scratch.pids.delete(supervisor);
      }
      assert.deepEqual(fs.readFileSync(out), expected(dir));
    });
  }

  it('reach a library app\'s daemon unchanged: its arguments and the caller\'s environment', async () => {
    const dir = scratch.dir();
    const out = path.join(dir, 'record');
    const app = path.join(__dirname, 'fixtures', 'lib-bytes.js');
    const script = [`BYTES=${quoted([0x76, 0xff, 0xfe])}`, `BYTES_OUT='${out}'`, `BYTES_PIDFILE='${path.join(dir, 'lib.pid')}'`,
      'exec', `"${process.execPath}"`, app, ...WORDS.map(quoted)].join(' ');
    const result = spawnSync('bash', ['-c', script], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    await waitFor(() => fs.existsSync(out), 'the record');
    const words = [process.execPath, app, ...WORDS, [...Buffer.from('BYTES='), 0x76, 0xff, 0xfe]];
    assert.deepEqual(fs.readFileSync(out), Buffer.concat(words.map((word) => Buffer.from([...Buffer.from(word), 0]))));
  });

  it('a file option with such a path is refused as a usage error, and nothing is created', () => {
    const dir = scratch.dir();
    const script = `exec "${process.execPath}" "${CLI}" --stdout ${quoted([...Buffer.from(dir), 0x2f, 0xff])} -- true`;
    const result = spawnSync('bash', ['-c', script], { encoding: 'utf8' });
    assert.equal(result.status, 2);
    assert.equal(result.stderr, 'daemonize: usage: --stdout must name a file by a UTF-8 path\n');
    assert.deepEqual(fs.readdirSync(dir), []);
  });

  it('a named daemon of a user whose XDG_RUNTIME_DIR is not UTF-8: a start, --status, --list and --stop find the same pidfile', (t) => {
    if (process.getuid() !== 0) return t.skip('needs root to run the CLI as nobody');
    const dir = scratch.dir();
    fs.chmodSync(dir, 0o777);
    const token = scratch.token();
    // As nobody (root's pidfiles are in /run), with the directory's name cut off in the middle of a character.
    const run = (args) => spawnSync('bash', ['-c', `XDG_RUNTIME_DIR=${quoted([...Buffer.from(`${dir}/rt-`), 0xe2, 0x82])} exec setpriv `
      + `--reuid nobody --regid nogroup --clear-groups "${process.execPath}" "${CLI}" ${args}`], { encoding: 'utf8' });
    const start = run(`--name bytes -- sleep 1000.${token}`);
    assert.equal(start.status, 0, start.stderr);
    const [pidfile] = fs.readdirSync(dir).map((name) => path.join(dir, name, 'daemonize', 'bytes.pid')).filter((file) => fs.existsSync(file));
    assert.ok(pidfile, 'the pidfile is in one directory under the scratch directory');
    scratch.track(readPidfile(pidfile));
    const status = run('--name bytes --status');
    assert.equal(status.status, 0, status.stdout + status.stderr);
    assert.match(status.stdout, /^bytes: running as pid \d+/);
    assert.match(run('--list').stdout, /^bytes: running as pid \d+/m);
    const stop = run('--name bytes --stop');
    assert.equal(stop.status, 0, stop.stderr);
    assert.equal(fs.existsSync(pidfile), false);
  });

  it('decodeBytes and encodeBytes are inverses on any bytes, and agree with UTF-8 where the bytes are UTF-8', () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % 256;
    };
    for (let n = 0; n < 3000; n++) {
      const bytes = Buffer.from(Array.from({ length: n % 24 }, random));
      assert.deepEqual(encodeBytes(decodeBytes(bytes)), bytes);
    }
    for (const text of ['', 'plain', 'é€😀', '\u{10ffff}']) {
      assert.equal(decodeBytes(Buffer.from(text)), text);
      assert.deepEqual(encodeBytes(text), Buffer.from(text));
    }
  });
});
