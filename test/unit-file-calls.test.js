'use strict';
// The addon's open(2), close(2), pwrite(2) and access(2) (src/file-calls.ts), which a start uses for the
// pidfile, /dev/null and the program's logs: each must do what Node's openSync, closeSync, writeSync and
// accessSync did there, down to close-on-exec and the error codes safe-open.ts reads.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { describe, it, after } = require('node:test');

const { checkAccess, closeFile, openFile, readText, writeAt, writeOut } = require('../dist/file-calls');
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

  it('readText reads as readFileSync(utf8) does, never waits on a FIFO, and stops at its limit', () => {
    const dir = scratch.dir();
    const file = path.join(dir, 'record');
    // Valid UTF-8, a lone 0xff, a cut sequence: decoded as Node decodes them (U+FFFD each).
    fs.writeFileSync(file, Buffer.concat([Buffer.from('{"a":"caf\u00e9"} '), Buffer.from([0xff, 0x41, 0xe2, 0x82])]));
    assert.equal(readText(file, 1000), fs.readFileSync(file, 'utf8'));
    assert.equal(readText(`/proc/${process.pid}/cmdline`, 1 << 20), fs.readFileSync(`/proc/${process.pid}/cmdline`, 'utf8'));
    const big = path.join(dir, 'big');
    fs.writeFileSync(big, 'x'.repeat(20000));
    assert.equal(readText(big, 20000).length, 20000);
    assert.throws(() => readText(big, 19999), { code: 'EFBIG' });
    spawnSync('mkfifo', [path.join(dir, 'fifo')]);
    assert.equal(readText(path.join(dir, 'fifo'), 100), '');
    assert.throws(() => readText(path.join(dir, 'none'), 100), { code: 'ENOENT', syscall: 'open' });
  });

  it('writeOut waits on a full non-blocking pipe until a slow reader has taken every byte, and throws EPIPE', () => {
    // The CLI's stdout a pipe its caller made non-blocking, read by a process that starts late: writeOut
    // must wait (poll) rather than give up, so every byte arrives, in order.
    const probe = `const { writeOut } = require(${JSON.stringify(path.resolve(__dirname, '..', 'dist', 'file-calls'))});
      writeOut(1, 'é'.repeat(150000) + 'end\\n');`;
    const script = `
import os, subprocess, fcntl, time, sys
r, w = os.pipe()
fcntl.fcntl(w, fcntl.F_SETFL, fcntl.fcntl(w, fcntl.F_GETFL) | os.O_NONBLOCK)
p = subprocess.Popen([sys.argv[1], '-e', sys.argv[2]], stdout=w)
os.close(w)
time.sleep(0.3)
data = b''
while True:
    chunk = os.read(r, 4096)
    if not chunk: break
    data += chunk
print(p.wait(), len(data), data.endswith(b'end\\n'))`;
    const run = spawnSync('python3', ['-c', script, process.execPath, probe], { encoding: 'utf8', timeout: 20000 });
    assert.equal(run.stdout, `0 ${300000 + 4} True\n`, run.stderr);
    const [readEnd, writeEnd] = require('../dist/native').native.openPipe();
    closeFile(readEnd);
    try {
      assert.throws(() => writeOut(writeEnd, 'nobody reads\n'), { code: 'EPIPE', syscall: 'write' });
    } finally {
      closeFile(writeEnd);
    }
  });

  it('fall back to Node\'s fs where the addon predates them (a stale working tree), whichever it lacks', () => {
    // An addon from before any of them, and one from between (fileStatus, not the rest: d5e6fbd's).
    const shapes = [['fileStatus', 'fdStatus', 'openFile', 'closeFile', 'writeAt', 'canAccess', 'readText', 'writeOut'],
      ['fdStatus', 'openFile', 'closeFile', 'writeAt', 'canAccess', 'readText', 'writeOut']];
    for (const missing of shapes) {
      const dir = scratch.dir();
      const probe = `const path = require('node:path');
        const dist = ${JSON.stringify(path.resolve(__dirname, '..', 'dist'))};
        const native = require(path.join(dist, 'native'));
        const built = path.resolve(dist, '..', 'build', 'Release', 'daemonize.node');
        const addon = { exports: {} }; process.dlopen(addon, built);
        const older = { ...addon.exports }; for (const name of JSON.parse(process.argv[2])) delete older[name];
        native.adoptAddon(built, older);
        const calls = require(path.join(dist, 'file-calls'));
        const { Pidfile } = require(path.join(dist, 'pidfile'));
        const pidfile = Pidfile.acquire(path.join(process.argv[1], 'x.pid'));
        pidfile.write(4242);
        const text = calls.readText(path.join(process.argv[1], 'x.pid'), 100);
        pidfile.remove(); pidfile.close();
        calls.checkAccess('/bin/sh', 1);
        const left = calls.writeOut(1, JSON.stringify({ text, native: typeof native.native.openFile }));
        process.exitCode = left;`;
      const run = spawnSync(process.execPath, ['-e', probe, dir, JSON.stringify(missing)], { encoding: 'utf8' });
      assert.equal(run.status, 0, run.stderr);
      assert.deepEqual(JSON.parse(run.stdout), { text: '4242\n', native: 'undefined' }, missing.join(' '));
      assert.deepEqual(fs.readdirSync(dir), []);
    }
  });
});
