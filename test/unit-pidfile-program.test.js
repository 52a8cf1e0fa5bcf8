'use strict';
// Unit tests of the pidfile lock (contention proven by a second process) and of the PATH search.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { describe, it, after } = require('node:test');

const { Pidfile, readPid } = require('../dist/pidfile');
const { lockHolders } = require('./helpers/lock');
const { resolveProgram } = require('../dist/program');
const { ExitCode } = require('../dist/exit-codes');
const { Scratch } = require('./helpers/harness');

const scratch = new Scratch();
after(() => scratch.cleanup());

/** Tries to acquire `file` from a separate Node process; returns its exit code and stderr. */
function acquireElsewhere(file) {
  const script = `
    const { Pidfile } = require(${JSON.stringify(path.resolve(__dirname, '..', 'dist', 'pidfile'))});
    try { Pidfile.acquire(process.argv[1]); } catch (e) { process.stderr.write(e.message); process.exit(e.exitCode); }`;
  return spawnSync(process.execPath, ['-e', script, file], { encoding: 'utf8' });
}

describe('Pidfile', () => {
  it('locks against other processes until closed', () => {
    const file = path.join(scratch.dir(), 'p.pid');
    const pidfile = Pidfile.acquire(file);
    pidfile.write(4242);
    assert.equal(readPid(file), 4242);
    assert.deepEqual(lockHolders(file), [process.pid]);
    let other = acquireElsewhere(file);
    assert.equal(other.status, ExitCode.ALREADY_RUNNING);
    // 4242 does not hold the lock: the message names no pid rather than a stranger.
    assert.equal(other.stderr, `unable to lock pidfile ${file}: already running`);
    pidfile.write(process.pid);
    other = acquireElsewhere(file);
    assert.equal(other.stderr, `unable to lock pidfile ${file}: already running as pid ${process.pid}`);
    pidfile.close();
    assert.deepEqual(lockHolders(file), []);
    assert.equal(acquireElsewhere(file).status, 0);
  });

  it('removes the file only while it is still the one it holds', () => {
    const dir = scratch.dir();
    const file = path.join(dir, 'q.pid');
    const pidfile = Pidfile.acquire(file);
    fs.renameSync(file, path.join(dir, 'moved'));
    fs.writeFileSync(file, 'someone else\n');
    pidfile.remove();
    assert.equal(fs.readFileSync(file, 'utf8'), 'someone else\n');
    pidfile.close();
  });

  it('write() truncates: a shorter pid leaves no digits behind', () => {
    const file = path.join(scratch.dir(), 'r.pid');
    const pidfile = Pidfile.acquire(file);
    pidfile.write(1234567);
    pidfile.write(42);
    assert.equal(fs.readFileSync(file, 'utf8'), '42\n');
    pidfile.close();
  });

  it('reads no pid from garbage', () => {
    const file = path.join(scratch.dir(), 's.pid');
    fs.writeFileSync(file, '12abc\n');
    assert.equal(readPid(file), null);
    assert.equal(readPid(path.join(scratch.dir(), 'missing')), null);
  });
});

describe('resolveProgram()', () => {
  it('searches PATH in order, treating an empty entry as the base directory', () => {
    const dir = scratch.dir();
    for (const sub of ['a', 'b']) {
      fs.mkdirSync(path.join(dir, sub));
      fs.writeFileSync(path.join(dir, sub, 'tool'), '#!/bin/sh\n', { mode: 0o755 });
    }
    assert.equal(resolveProgram('tool', `${dir}/b:${dir}/a`, '/'), `${dir}/b/tool`);
    assert.equal(resolveProgram('tool', `:${dir}/a`, path.join(dir, 'a')), `${dir}/a/tool`);
    assert.equal(resolveProgram('sh', undefined, '/'), '/usr/bin/sh');
  });

  it('reports 127 for missing programs and 126 for ones that cannot run', () => {
    const dir = scratch.dir();
    fs.writeFileSync(path.join(dir, 'noexec'), 'x', { mode: 0o644 });
    const code = (fn) => { try { fn(); } catch (e) { return e.exitCode; } return 0; };
    assert.equal(code(() => resolveProgram('dz-missing', dir, '/')), ExitCode.NOT_FOUND);
    assert.equal(code(() => resolveProgram('noexec', dir, '/')), ExitCode.CANNOT_EXECUTE);
    assert.equal(code(() => resolveProgram('./noexec', undefined, dir)), ExitCode.CANNOT_EXECUTE);
    assert.equal(code(() => resolveProgram('', undefined, dir)), ExitCode.NOT_FOUND);
  });
});
