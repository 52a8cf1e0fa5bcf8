'use strict';
// Unit tests of option checking, defaults and pidfile placement (dist/, built by `npm test`).
const assert = require('node:assert/strict');
const { describe, it } = require('node:test');

const { settle, DEFAULT_UMASK } = require('../dist/settings');
const { defaultPidfileDir, pidfilePath } = require('../dist/pidfile-location');
const { ExitCode } = require('../dist/exit-codes');

const usage = (pattern) => (error) => error.exitCode === ExitCode.USAGE && pattern.test(error.message);

describe('settle()', () => {
  it('fills in the daemon(7) defaults: cwd /, umask 022, /dev/null stdio, no pidfile', () => {
    const s = settle({}, '/home/me', { PATH: '/bin' });
    assert.equal(s.cwd, '/');
    assert.equal(s.umask, DEFAULT_UMASK);
    assert.equal(s.stdout, undefined);
    assert.equal(s.stderr, undefined);
    assert.equal(s.pidfile, undefined);
    assert.deepEqual(s.env, { PATH: '/bin' });
  });

  it('resolves every relative path against the caller\'s directory', () => {
    const s = settle({ pidfile: 'run/a.pid', chdir: 'srv', stdout: 'log/out', stderr: '/abs/err' }, '/home/me', {});
    assert.equal(s.pidfile, '/home/me/run/a.pid');
    assert.equal(s.cwd, '/home/me/srv');
    assert.equal(s.stdout, '/home/me/log/out');
    assert.equal(s.stderr, '/abs/err');
  });

  it('--output names both streams', () => {
    const s = settle({ output: 'all.log' }, '/x', {});
    assert.equal(s.stdout, '/x/all.log');
    assert.equal(s.stderr, '/x/all.log');
  });

  it('reads umask as octal text or a number', () => {
    assert.equal(settle({ umask: '077' }, '/', {}).umask, 0o077);
    assert.equal(settle({ umask: '0027' }, '/', {}).umask, 0o027);
    assert.equal(settle({ umask: 0o002 }, '/', {}).umask, 0o002);
    for (const bad of ['8', '1000', '7777', '', 'abc', -1, 0o1000, 1.5]) {
      assert.throws(() => settle({ umask: bad }, '/', {}), usage(/--umask/), String(bad));
    }
  });

  it('adds --env entries over the caller\'s environment, as strings or an object', () => {
    assert.deepEqual(settle({ env: ['A=1', 'B=x=y'] }, '/', { A: '0', C: '3' }).env, { A: '1', B: 'x=y', C: '3' });
    assert.deepEqual(settle({ env: { D: '4' } }, '/', {}).env, { D: '4' });
    for (const bad of [['NOEQ'], ['=v'], ['A\0=1'], { A: 1 }]) {
      assert.throws(() => settle({ env: bad }, '/', {}), usage(/--env/));
    }
  });

  it('rejects empty paths and conflicting output options', () => {
    assert.throws(() => settle({ pidfile: '' }, '/', {}), usage(/--pidfile/));
    assert.throws(() => settle({ output: 'a', stderr: 'b' }, '/', {}), usage(/--output/));
  });
});

describe('pidfile placement', () => {
  it('puts root\'s named pidfiles in /run and other users\' in a per-user directory', () => {
    assert.equal(defaultPidfileDir({}, 0), '/run');
    assert.equal(defaultPidfileDir({ XDG_RUNTIME_DIR: '/run/user/1000' }, 1000), '/run/user/1000/daemonize');
    assert.equal(defaultPidfileDir({ HOME: '/home/u' }, 1000), '/home/u/.local/state/daemonize');
  });

  it('prefers --pidfile, then --pidfiles/<name>.pid', () => {
    assert.equal(pidfilePath({ pidfile: 'p.pid', name: 'web' }, '/cwd', {}), '/cwd/p.pid');
    assert.equal(pidfilePath({ name: 'web', pidfiles: 'pids' }, '/cwd', {}), '/cwd/pids/web.pid');
    assert.equal(pidfilePath({}, '/cwd', {}), undefined);
  });

  it('accepts only plain names', () => {
    for (const good of ['web', 'web-1', 'a.b_c@d']) assert.doesNotThrow(() => pidfilePath({ name: good }, '/', {}));
    for (const bad of ['', '.hidden', '-x', 'a/b', '..', 'sp ace']) {
      assert.throws(() => pidfilePath({ name: bad }, '/', {}), usage(/--name/), bad);
    }
  });
});
