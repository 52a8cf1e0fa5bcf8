'use strict';
// The addon's open(2), close(2), pwrite(2) and access(2) (src/file-calls.ts), which a start uses for the
// pidfile, /dev/null and the program's logs: each must do what Node's openSync, closeSync, writeSync and
// accessSync did there, down to close-on-exec and the error codes safe-open.ts reads.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { describe, it, after } = require('node:test');

const { checkAccess, closeFile, openFile, writeAt } = require('../dist/file-calls');
const { Scratch } = require('./helpers/harness');

const scratch = new Scratch();
after(() => scratch.cleanup());

const { O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK, O_APPEND, X_OK, W_OK } = fs.constants;
const O_CLOEXEC = 0o2000000;

/** The flags the kernel shows for a descriptor of this process (/proc/self/fdinfo), as a number. */
function fdFlags(fd) {
  return parseInt(/flags:\s+(\d+)/.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))[1], 8);
}

/** The error code `call` throws, or 'ok'. */
function outcome(call) {
  try {
    call();
    return 'ok';
  } catch (error) {
    return error.code;
  }
}

describe('openFile(), closeFile(), writeAt() and checkAccess()', () => {
  it('open close-on-exec with the flags and mode asked, as openSync does', () => {
    const dir = scratch.dir();
    const file = path.join(dir, 'made');
    const fd = openFile(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NONBLOCK, 0o640);
    try {
      assert.equal(fdFlags(fd) & O_CLOEXEC, O_CLOEXEC);
      assert.equal(fdFlags(fd) & 0o3, O_WRONLY);
      assert.equal(fs.statSync(file).mode & 0o7777, 0o640 & ~process.umask());
      assert.equal(writeAt(fd, '12345\n', 0), 6);
      assert.equal(writeAt(fd, 'ab', 1), 2);
    } finally {
      closeFile(fd);
    }
    assert.equal(fs.readFileSync(file, 'utf8'), '1ab45\n');
    const appender = openFile(file, O_WRONLY | O_APPEND);
    assert.equal(fdFlags(appender) & O_APPEND, O_APPEND);
    closeFile(appender);
    // Closed: the descriptor is gone for the kernel, and a second close says EBADF as closeSync does.
    assert.equal(fs.existsSync(`/proc/self/fd/${appender}`), false);
    assert.equal(outcome(() => closeFile(appender)), outcome(() => fs.closeSync(appender)));
  });

  it('fail where openSync fails, with the same codes: a link, a name taken, a FIFO with no reader, nothing there', () => {
    const dir = scratch.dir();
    const file = path.join(dir, 'file');
    fs.writeFileSync(file, '');
    fs.symlinkSync(file, path.join(dir, 'link'));
    spawnSync('mkfifo', [path.join(dir, 'fifo')]);
    const cases = [
      [path.join(dir, 'link'), O_WRONLY | O_NOFOLLOW],
      [file, O_WRONLY | O_CREAT | O_EXCL],
      [path.join(dir, 'fifo'), O_WRONLY | O_NONBLOCK],
      [path.join(dir, 'none'), O_RDONLY],
      [path.join(file, 'below'), O_RDONLY],
      [dir, O_WRONLY],
    ];
    for (const [name, flags] of cases) {
      const theirs = outcome(() => fs.closeSync(fs.openSync(name, flags)));
      assert.notEqual(theirs, 'ok', name);
      assert.equal(outcome(() => closeFile(openFile(name, flags))), theirs, name);
    }
    assert.equal(outcome(() => openFile(`${file}\u0000x`, O_RDONLY)), 'EINVAL');
    // Node's spelling of a string that carries a byte that is not UTF-8 (U+FFFD), as openSync's.
    fs.writeFileSync(path.join(dir, 'caf\ufffd'), 'x');
    const fd = openFile(path.join(dir, 'caf\udcff'), O_RDONLY);
    assert.equal(fs.fstatSync(fd).ino, fs.statSync(path.join(dir, 'caf\ufffd')).ino);
    closeFile(fd);
  });

  it('checkAccess answers as accessSync does, for root and for another user', () => {
    const dir = scratch.dir();
    const script = path.join(dir, 'run');
    fs.writeFileSync(script, '#!/bin/sh\n', { mode: 0o700 });
    fs.writeFileSync(path.join(dir, 'plain'), '', { mode: 0o644 });
    fs.chmodSync(dir, 0o755);
    for (const [name, mode] of [[script, X_OK], [path.join(dir, 'plain'), X_OK], [path.join(dir, 'none'), X_OK], ['/etc/passwd', W_OK]]) {
      assert.equal(outcome(() => checkAccess(name, mode)), outcome(() => fs.accessSync(name, mode)), name);
    }
    if (process.getuid() !== 0) return;
    const probe = `const { checkAccess } = require(${JSON.stringify(path.resolve(__dirname, '..', 'dist', 'file-calls'))});
      try { checkAccess(process.argv[1], ${X_OK}); process.stdout.write('ok'); } catch (e) { process.stdout.write(e.code); }`;
    const run = spawnSync(process.execPath, ['-e', probe, script], { uid: 65534, gid: 65534, encoding: 'utf8' });
    assert.equal(run.stdout, 'EACCES', run.stderr);
  });

  it('fall back to Node\'s fs where the addon predates them (a stale working tree)', () => {
    const dir = scratch.dir();
    const probe = `const path = require('node:path'); const fs = require('node:fs');
      const native = require(${JSON.stringify(path.resolve(__dirname, '..', 'dist', 'native'))});
      const built = path.resolve(${JSON.stringify(path.resolve(__dirname, '..'))}, 'build', 'Release', 'daemonize.node');
      const addon = { exports: {} }; process.dlopen(addon, built);
      const { openFile: a, closeFile: b, writeAt: c, canAccess: d, fileStatus: e, ...older } = addon.exports;
      native.adoptAddon(built, older);
      const calls = require(${JSON.stringify(path.resolve(__dirname, '..', 'dist', 'file-calls'))});
      const fd = calls.openFile(path.join(process.argv[1], 'f'), fs.constants.O_WRONLY | fs.constants.O_CREAT, 0o600);
      const wrote = calls.writeAt(fd, 'hello', 0); calls.closeFile(fd); calls.checkAccess('/bin/sh', fs.constants.X_OK);
      process.stdout.write(JSON.stringify({ wrote, text: fs.readFileSync(path.join(process.argv[1], 'f'), 'utf8'), native: typeof native.native.openFile }));`;
    const run = spawnSync(process.execPath, ['-e', probe, dir], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), { wrote: 5, text: 'hello', native: 'undefined' });
  });
});
