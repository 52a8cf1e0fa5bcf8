'use strict';
// The addon's stat(2) and lstat(2) (src/file-status.ts): the answers the trust checks and the profile and
// program searches read must be exactly what Node's statSync and lstatSync give, for every kind of path.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { describe, it, after } = require('node:test');

const { pathExists, statFd, statPath, statPathIfAny } = require('../dist/file-status');
const { native } = require('../dist/native');
const { checkPidfileTrust } = require('../dist/pidfile');
const { fsPath } = require('../dist/raw-bytes');
const { readTrustedText } = require('../dist/trusted-read');
const { Scratch } = require('./helpers/harness');

const scratch = new Scratch();
after(() => scratch.cleanup());

const FIELDS = ['dev', 'ino', 'mode', 'nlink', 'uid', 'gid', 'size', 'mtimeMs'];
const KINDS = ['isFile', 'isDirectory', 'isSymbolicLink'];

/** What Node says of `file`, in the shape compared. */
function nodeView(stat) {
  return { ...Object.fromEntries(FIELDS.map((f) => [f, stat[f]])), ...Object.fromEntries(KINDS.map((k) => [k, stat[k]()])) };
}

describe('statPath() and statPathIfAny()', () => {
  it('agree with statSync and lstatSync on files, directories, links, devices and /proc', () => {
    const dir = scratch.dir();
    const file = path.join(dir, 'file');
    fs.writeFileSync(file, 'twelve bytes');
    fs.chmodSync(file, 0o640);
    fs.linkSync(file, path.join(dir, 'hard'));
    fs.symlinkSync(file, path.join(dir, 'link'));
    fs.symlinkSync(path.join(dir, 'nowhere'), path.join(dir, 'dangling'));
    fs.mkdirSync(path.join(dir, 'sub'));
    fs.chmodSync(path.join(dir, 'sub'), 0o1777);
    for (const name of [file, path.join(dir, 'link'), path.join(dir, 'sub'), dir, '/dev/null', '/proc/self/exe', '/']) {
      for (const follow of [true, false]) {
        const ours = follow ? statPath(name) : statPath(name, false);
        const theirs = follow ? fs.statSync(name) : fs.lstatSync(name);
        assert.deepEqual(nodeView(ours), nodeView(theirs), `${follow ? 'stat' : 'lstat'} ${name}`);
      }
    }
    // fstat of a descriptor, in the same shape.
    const fd = fs.openSync(file, 'r');
    try {
      assert.deepEqual(nodeView(statFd(fd)), nodeView(fs.fstatSync(fd)));
    } finally {
      fs.closeSync(fd);
    }
    assert.throws(() => statFd(fd), { code: 'EBADF', syscall: 'fstat' });
    // The link itself, not what it names; a hard link counts.
    assert.equal(statPath(path.join(dir, 'link'), false).isSymbolicLink(), true);
    assert.equal(statPath(file).nlink, 2);
    assert.equal(statPath(file).mode & 0o7777, 0o640);
    assert.equal(statPath(path.join(dir, 'sub')).mode & 0o7777, 0o1777);
    // A dangling link: lstat sees it, stat sees nothing.
    assert.equal(statPath(path.join(dir, 'dangling'), false).isSymbolicLink(), true);
    assert.equal(statPathIfAny(path.join(dir, 'dangling')), undefined);
  });

  it('say nothing is there, or throw, exactly where Node does, with the same code', () => {
    const dir = scratch.dir();
    const file = path.join(dir, 'file');
    fs.writeFileSync(file, '');
    const cases = [path.join(dir, 'missing'), path.join(file, 'below-a-file'), path.join(dir, 'missing', 'deeper'), `${dir}/${'x'.repeat(300)}`];
    for (const name of cases) {
      let nodeError;
      try {
        fs.statSync(name);
      } catch (error) {
        nodeError = error;
      }
      assert.throws(() => statPath(name), (error) => error.code === nodeError.code && error.syscall === 'stat'
        && Math.abs(error.errno) === Math.abs(nodeError.errno), name);
      // Only ENOENT is "nothing there"; ENOTDIR and ENAMETOOLONG throw from both.
      const answer = (stat) => {
        try {
          return stat() === undefined ? 'nothing' : 'something';
        } catch (error) {
          return error.code;
        }
      };
      assert.equal(answer(() => statPathIfAny(name)), answer(() => fs.statSync(name, { throwIfNoEntry: false })), name);
      assert.equal(pathExists(name), fs.existsSync(name), name);
    }
    assert.throws(() => statPathIfAny(path.join(file, 'x'), false), { code: 'ENOTDIR', syscall: 'lstat' });
    assert.equal(pathExists(file), true);
  });

  it('names the file Node\'s fs names: a string as Node encodes it, a Buffer by its exact bytes', () => {
    const dir = scratch.dir();
    // The byte 0xff, carried as U+DCFF (src/raw-bytes.ts): Node's fs encodes that string as U+FFFD (another
    // name), and so must a stat that guards what Node opens next; fsPath's Buffer names the byte itself.
    const raw = Buffer.concat([Buffer.from(`${dir}/caf`), Buffer.from([0xff])]);
    fs.writeFileSync(raw, 'x');
    fs.writeFileSync(`${dir}/caf\ufffd`, 'three');
    assert.equal(statPath(fsPath(`${dir}/caf\udcff`)).size, 1);
    assert.equal(statPath(raw).ino, fs.statSync(raw).ino);
    assert.equal(statPath(`${dir}/caf\udcff`).ino, fs.statSync(`${dir}/caf\udcff`).ino);
    assert.equal(statPath(`${dir}/caf\udcff`).size, 5);
    assert.throws(() => statPath(`${dir}/caf\u0000x`), { code: 'EINVAL' });
    assert.throws(() => native.fileStatus(dir, 'yes', true), TypeError);
  });

  it('a profile in a directory spelled with a byte that is not UTF-8 is trusted by the directory it is read from', { skip: process.getuid() !== 0 && 'needs root' }, () => {
    const dir = scratch.dir();
    // d\xff is root's and closed; d\xef\xbf\xbd (what Node's fs makes of "d\udcff") is open to everyone.
    const safe = Buffer.concat([Buffer.from(`${dir}/d`), Buffer.from([0xff])]);
    const open = `${dir}/d\ufffd`;
    fs.mkdirSync(safe, { mode: 0o755 });
    fs.mkdirSync(open);
    fs.chmodSync(open, 0o777);
    fs.writeFileSync(`${open}/conf`, 'unsafe=1\n', { mode: 0o644 });
    assert.throws(() => readTrustedText(`${dir}/d\udcff/conf`, 'profile', [0]), /writable by other users and not sticky/);
    fs.writeFileSync(`${open}/app.pid`, '1\n', { mode: 0o644 });
    assert.throws(() => checkPidfileTrust(`${dir}/d\udcff/app.pid`), /writable by other users and not sticky/);
  });

  it('falls back to Node\'s fs where the addon predates fileStatus (a stale working tree)', () => {
    const dir = scratch.dir();
    fs.writeFileSync(path.join(dir, 'here'), 'x');
    const probe = `const path = require('node:path'); const native = require(${JSON.stringify(path.resolve(__dirname, '..', 'dist', 'native'))});
      const built = path.resolve(${JSON.stringify(path.resolve(__dirname, '..'))}, 'build', 'Release', 'daemonize.node');
      const addon = { exports: {} }; process.dlopen(addon, built);
      const { fileStatus, ...older } = addon.exports;
      native.adoptAddon(built, older);
      const { statPath, statPathIfAny, pathExists } = require(${JSON.stringify(path.resolve(__dirname, '..', 'dist', 'file-status'))});
      process.stdout.write(JSON.stringify({ size: statPath(process.argv[1] + '/here').size, none: statPathIfAny(process.argv[1] + '/none') === undefined,
        exists: pathExists(process.argv[1]), link: statPath('/proc/self/exe', false).isSymbolicLink(), native: typeof native.native.fileStatus }));`;
    const { spawnSync } = require('node:child_process');
    const run = spawnSync(process.execPath, ['-e', probe, dir], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), { size: 1, none: true, exists: true, link: true, native: 'undefined' });
  });

  it('run as another user, answer what that user may see (EACCES in a closed directory)', { skip: process.getuid() !== 0 && 'needs root' }, () => {
    const dir = scratch.dir();
    const closed = path.join(dir, 'closed');
    fs.mkdirSync(closed, { mode: 0o700 });
    fs.writeFileSync(path.join(closed, 'inside'), '');
    fs.chmodSync(dir, 0o755);
    const probe = `const { statPath, pathExists } = require(${JSON.stringify(path.resolve(__dirname, '..', 'dist', 'file-status'))});
      let code = null; try { statPath(process.argv[1]); } catch (e) { code = e.code; }
      process.stdout.write(JSON.stringify({ code, exists: pathExists(process.argv[1]) }));`;
    const { spawnSync } = require('node:child_process');
    const run = spawnSync(process.execPath, ['-e', probe, path.join(closed, 'inside')], { uid: 65534, gid: 65534, encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), { code: 'EACCES', exists: false });
  });
});
