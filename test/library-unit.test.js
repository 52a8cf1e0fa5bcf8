'use strict';
// Unit tests of the library's pieces that need no process of their own: option checks, the handle's
// shutdown and reload sequencing (with a fake world: no real signals, no exit), the report line, the switch.
const assert = require('node:assert/strict');
const { describe, it } = require('node:test');

const { checkOptions, settleLibrary, DEFAULT_READY_TIMEOUT } = require('../dist/library/options');
const { DaemonHandle, installSignalHandlers } = require('../dist/library/handle');
const { parseReport } = require('../dist/library/ready-report');
const { foregroundRequested } = require('../dist/library/foreground');
const { EventEmitter } = require('node:events');

describe('checkOptions()', () => {
  it('fills in the defaults: auto readiness, 60 s, background', () => {
    const { choices } = checkOptions(undefined);
    assert.deepEqual(choices, {
      ready: 'auto', readyTimeoutMs: DEFAULT_READY_TIMEOUT * 1000, foreground: false, chdirGiven: false, umaskGiven: false,
    });
    assert.equal(DEFAULT_READY_TIMEOUT, 60);
    assert.equal(checkOptions({ readyTimeout: 0 }).choices.readyTimeoutMs, 0);
    assert.equal(checkOptions({ readyTimeout: 1.5 }).choices.readyTimeoutMs, 1500);
  });

  const bad = [
    ['a string', 'web', /options must be an object; got string/],
    [null, null, /options must be an object; got null/],
    ['an unknown option', { pidFile: 'x' }, /unknown option 'pidFile'/],
    ['a number for a path', { pidfile: 3 }, /option 'pidfile' must be a non-empty string; got 3/],
    ['an empty stdout', { stdout: '' }, /option 'stdout' must be a non-empty string; got ""/],
    ['a boolean umask', { umask: true }, /option 'umask' must be a mask from 0 to 0o777/],
    ['env as a string', { env: 'A=1' }, /option 'env' must be an object of strings/],
    ['ready: true', { ready: true }, /option 'ready' must be 'auto' or 'manual'; got true/],
    ['a negative timeout', { readyTimeout: -1 }, /option 'readyTimeout' must be a number of seconds up to 2147483 \(0 for no limit\); got -1/],
    ['a NaN timeout', { readyTimeout: NaN }, /option 'readyTimeout'/],
    ['a timeout a Node timer cannot hold', { readyTimeout: 2147484 }, /option 'readyTimeout' must be a number of seconds up to 2147483/],
    ['foreground: "yes"', { foreground: 'yes' }, /option 'foreground' must be true or false; got "yes"/],
  ];
  for (const [label, options, pattern] of bad) {
    it(`throws a TypeError for ${label}`, () => {
      assert.throws(() => checkOptions(options), (error) => error instanceof TypeError && pattern.test(error.message));
    });
  }

  it('turns the shared checks\' usage errors into TypeErrors about options', () => {
    const cases = [
      [{ umask: '999' }, /^daemonize\(\): bad option 'umask' "999": expected an octal mask/],
      [{ output: '/a', stdout: '/b' }, /option 'output' names the file for both streams/],
      [{ name: '../x' }, /bad option 'name'/],
      [{ env: ['NOEQUALS'] }, /bad option 'env'/],
    ];
    for (const [options, pattern] of cases) {
      assert.throws(() => settleLibrary(options, '/srv', {}), (error) => error instanceof TypeError && pattern.test(error.message),
        JSON.stringify(options));
    }
  });

  it('settles the shared options like the CLI does', () => {
    const settings = settleLibrary({ pidfile: 'run/web.pid', chdir: 'app', ready: 'manual', foreground: false }, '/srv', { PATH: '/bin' });
    assert.equal(settings.pidfile, '/srv/run/web.pid');
    assert.equal(settings.cwd, '/srv/app');
    assert.deepEqual(settings.env, { PATH: '/bin' });
  });
});

/** A handle over a world that records what it was asked to do. */
function fakeHandle() {
  const calls = [];
  const world = {
    becomeReady: () => calls.push('becomeReady'),
    reopenLogs: () => calls.push('reopenLogs'),
    notify: (message) => {
      calls.push(`notify ${message.split('\n')[0]}`);
      return true;
    },
    exit: (code) => calls.push(`exit ${code}`),
    warn: (line) => calls.push(`warn ${line.split('\n')[0]}`),
  };
  return { handle: new DaemonHandle({ pidfile: '/run/x.pid', foreground: false }, world), calls };
}

describe('DaemonHandle', () => {
  it('ready() acts once', () => {
    const { handle, calls } = fakeHandle();
    assert.equal(handle.isReady, false);
    handle.ready();
    handle.ready();
    assert.equal(handle.isReady, true);
    assert.deepEqual(calls, ['becomeReady']);
    assert.equal(handle.pid, process.pid);
    assert.equal(handle.pidfile, '/run/x.pid');
  });

  it('shutdown: STOPPING=1, then every listener awaited together, then exit 0', async () => {
    const { handle, calls } = fakeHandle();
    handle.on('shutdown', async (signal) => {
      calls.push(`slow ${signal} start`);
      await new Promise((resolve) => setImmediate(resolve));
      calls.push('slow end');
    });
    handle.on('shutdown', (signal) => calls.push(`sync ${signal}`));
    await handle.shutdown('SIGTERM');
    assert.deepEqual(calls, ['notify STOPPING=1', 'slow SIGTERM start', 'sync SIGTERM', 'slow end', 'exit 0']);
  });

  it('shutdown: a failing listener is reported and the exit status is 1, after the others finish', async () => {
    const { handle, calls } = fakeHandle();
    handle.on('shutdown', () => {
      throw new Error('flush failed');
    });
    handle.on('shutdown', async () => {
      await new Promise((resolve) => setImmediate(resolve));
      calls.push('other done');
    });
    await handle.shutdown('SIGINT');
    assert.deepEqual(calls, ['notify STOPPING=1', 'other done', 'warn a shutdown listener failed: Error: flush failed', 'exit 1']);
  });

  it('shutdown: a second signal while the listeners run exits at once with 1', async () => {
    const { handle, calls } = fakeHandle();
    let release;
    handle.once('shutdown', () => new Promise((resolve) => { release = resolve; }));
    const first = handle.shutdown('SIGTERM');
    await handle.shutdown('SIGINT');
    assert.deepEqual(calls, ['notify STOPPING=1', 'warn SIGINT during shutdown: exiting now', 'exit 1']);
    release();
    await first;
  });

  it('reload: reopens the logs, RELOADING=1, listeners, READY=1; one at a time; never exits', async () => {
    const { handle, calls } = fakeHandle();
    handle.ready();
    handle.on('reload', async () => {
      calls.push('listener start');
      await new Promise((resolve) => setImmediate(resolve));
      calls.push('listener end');
    });
    await Promise.all([handle.reload(), handle.reload()]);
    const once = ['reopenLogs', 'notify RELOADING=1', 'listener start', 'listener end', 'notify READY=1'];
    assert.deepEqual(calls, ['becomeReady', ...once, ...once]);
  });

  it('reload before ready: no notifications; a failing reopen or listener is reported, not fatal', async () => {
    const { handle, calls } = fakeHandle();
    handle.on('reload', () => {
      throw new Error('bad config');
    });
    await handle.reload();
    assert.deepEqual(calls, ['reopenLogs', 'warn a reload listener failed: Error: bad config']);
  });

  it('installs TERM, INT and HUP handlers, and removes them', () => {
    const { handle } = fakeHandle();
    const target = new EventEmitter();
    const started = [];
    handle.shutdown = async (signal) => started.push(signal);
    handle.reload = async () => started.push('reload');
    const remove = installSignalHandlers(handle, target);
    target.emit('SIGTERM');
    target.emit('SIGINT');
    target.emit('SIGHUP');
    assert.deepEqual(started, ['SIGTERM', 'SIGINT', 'reload']);
    remove();
    assert.equal(target.listenerCount('SIGTERM') + target.listenerCount('SIGINT') + target.listenerCount('SIGHUP'), 0);
  });
});

describe('the readiness report and the foreground switch', () => {
  it('parses one report line, and nothing else', () => {
    assert.deepEqual(parseReport('{"ok":true}'), { ok: true });
    assert.deepEqual(parseReport('{"ok":false,"exitCode":4,"message":"m"}'), { ok: false, exitCode: 4, message: 'm' });
    for (const line of ['', 'ready', '{"ok":false}', '{"ok":"yes"}', 'null']) assert.equal(parseReport(line), null, line);
  });

  it('DAEMONIZE_FOREGROUND: on unless empty, 0, false, no or off; the option turns it on too', () => {
    assert.equal(foregroundRequested(false, {}), false);
    assert.equal(foregroundRequested(true, {}), true);
    for (const value of ['1', 'yes', 'true', 'TRUE']) assert.equal(foregroundRequested(false, { DAEMONIZE_FOREGROUND: value }), true, value);
    for (const value of ['', '0', 'false', 'No', 'off']) assert.equal(foregroundRequested(false, { DAEMONIZE_FOREGROUND: value }), false, value);
  });
});
