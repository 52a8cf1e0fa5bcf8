'use strict';
// The addon's stat(2) and lstat(2) (src/file-status.ts): the answers the trust checks and the profile and
// program searches read must be exactly what Node's statSync and lstatSync give, for every kind of path.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { describe, it, after } = require('node:test');

const { pathExists, statPath, statPathIfAny } = require('../dist/file-status');
const { native } = require('../dist/native');
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

  it('reads a path that is not UTF-8 by its exact bytes, and refuses one with a NUL', () => {
    const dir = scratch.dir();
    // The byte 0xff, carried as U+DCFF (src/raw-bytes.ts), is the file's real name; U+FFFD would be another.
    const bytes = Buffer.concat([Buffer.from(`${dir}/caf`), Buffer.from([0xff])]);
    fs.writeFileSync(bytes, 'x');
    assert.equal(statPath(`${dir}/caf\udcff`).size, 1);
    assert.equal(statPath(bytes).ino, fs.statSync(bytes).ino);
    assert.equal(statPathIfAny(`${dir}/caf\ufffd`), undefined);
    assert.throws(() => statPath(`${dir}/caf\u0000x`), { code: 'EINVAL' });
    assert.throws(() => native.fileStatus(dir, 'yes', true), TypeError);
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
