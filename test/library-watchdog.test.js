'use strict';
// The library's side of the watchdog, as systemd's WatchdogSec= drives it: WATCHDOG_USEC and WATCHDOG_PID
// in the app's environment, WATCHDOG=1 to NOTIFY_SOCKET (a real datagram receiver) from the event loop.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { describe, it, after } = require('node:test');

const { Scratch, waitFor } = require('./helpers/harness');
const { notifyReceiver } = require('./helpers/notify-receiver');
const { watchdogInterval, startWatchdog } = require('../dist/library/watchdog');

const scratch = new Scratch();
after(() => scratch.cleanup());

const FIXTURE = path.join(__dirname, 'fixtures', 'lib-watchdog.js');

/** The fixture in the foreground, exec'd by sh so that WATCHDOG_PID=$$ is its own pid, as systemd sets it. */
function startUnderManager(dir, env, ownPid = true) {
  const token = scratch.token();
  const script = `export WATCHDOG_PID=${ownPid ? '$$' : '1'}; exec "$@"`;
  const child = spawn('sh', ['-c', script, 'sh', process.execPath, FIXTURE,
    JSON.stringify({ dir, options: { foreground: true } }), token], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  return scratch.track(child.pid);
}

describe('the library under a watchdog (systemd WatchdogSec=)', () => {
  it('sends WATCHDOG=1 from the event loop, and its children do not inherit the variables', async () => {
    const address = `@daemonize-test-${scratch.token()}`;
    const seen = await notifyReceiver(scratch, address);
    const dir = scratch.dir();
    const pid = startUnderManager(dir, { NOTIFY_SOCKET: address, WATCHDOG_USEC: '200000' });
    await waitFor(() => seen.messages.filter((m) => m === 'WATCHDOG=1').length >= 4, 'four pings');
    const facts = JSON.parse(fs.readFileSync(path.join(dir, `facts-${pid}.json`), 'utf8'));
    assert.equal(facts.pid, pid);
    assert.deepEqual(facts.inherited, [], 'WATCHDOG_USEC and WATCHDOG_PID are the app\'s alone');
    // Blocked, it says so and then goes silent: whatever comes after STATUS=blocking is not a ping.
    process.kill(pid, 'SIGUSR2');
    await waitFor(() => seen.messages.includes('STATUS=blocking') && fs.existsSync(path.join(dir, `blocked-${pid}`)), 'the block');
  });

  it('sends nothing when WATCHDOG_PID names another process', async () => {
    const address = `@daemonize-test-${scratch.token()}`;
    const seen = await notifyReceiver(scratch, address);
    const dir = scratch.dir();
    const pid = startUnderManager(dir, { NOTIFY_SOCKET: address, WATCHDOG_USEC: '200000' }, false);
    await waitFor(() => fs.existsSync(path.join(dir, `facts-${pid}.json`)), 'the app');
    // READY=1 went out after the point where the first ping would have been sent.
    await waitFor(() => seen.messages.includes('READY=1'), 'READY=1');
    assert.deepEqual(seen.messages.filter((m) => m.startsWith('WATCHDOG')), []);
  });
});

describe('watchdogInterval (sd_watchdog_enabled)', () => {
  it('reads WATCHDOG_USEC for this pid, or for anyone when WATCHDOG_PID is absent', () => {
    assert.equal(watchdogInterval({ WATCHDOG_USEC: '5000000', WATCHDOG_PID: '42' }, 42), 5000);
    assert.equal(watchdogInterval({ WATCHDOG_USEC: '5000000' }, 42), 5000);
    assert.equal(watchdogInterval({ WATCHDOG_USEC: '5000000', WATCHDOG_PID: '43' }, 42), null);
    for (const bad of ['', '0', '-1', '1e6', '5s']) assert.equal(watchdogInterval({ WATCHDOG_USEC: bad }, 42), null, bad);
    assert.equal(watchdogInterval({}, 42), null);
  });

  it('pings at once, removes the variables, and does nothing when not asked', () => {
    const sent = [];
    const env = { WATCHDOG_USEC: '10000000', WATCHDOG_PID: '42', OTHER: 'x' };
    const stop = startWatchdog(env, 42, (message) => sent.push(message));
    assert.deepEqual(sent, ['WATCHDOG=1']);
    assert.deepEqual(env, { OTHER: 'x' });
    stop();
    const quiet = [];
    assert.equal(startWatchdog({ WATCHDOG_USEC: '10000000', WATCHDOG_PID: '7' }, 42, (m) => quiet.push(m)), null);
    assert.deepEqual(quiet, []);
  });
});
