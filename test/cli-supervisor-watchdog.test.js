'use strict';
// --watchdog end to end: a Node app using the library pings on its own, is restarted when its event loop
// blocks (SIGABRT first), and gets WATCHDOG_USEC and WATCHDOG_PID (its own pid, set before exec); a
// program that never pings is aborted and restarted, the reason in the event log.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { describe, it, after } = require('node:test');

const proc = require('./helpers/proc');
const { spawn } = require('node:child_process');

const { CLI, Scratch, readPidfile, waitFor } = require('./helpers/harness');
const { notifyReceiver } = require('./helpers/notify-receiver');
const { supervise: superviseWith } = require('./helpers/supervised');

const scratch = new Scratch();
after(() => scratch.cleanup());

const supervise = (args, command, dir) => superviseWith(scratch, args, command, dir);
const FIXTURE = path.join(__dirname, 'fixtures', 'lib-watchdog.js');


describe('--watchdog', () => {
  it('restarts a library app whose event loop is blocked: SIGABRT, then a new copy; pings keep a healthy one alive', async () => {
    const dir = scratch.dir();
    const d = supervise(['--watchdog', '1', '--stop-timeout', '3'],
      [process.execPath, FIXTURE, JSON.stringify({ dir, options: {} }), scratch.token()], dir);
    const first = scratch.track(d.status().child);
    // Its environment, as the kernel shows it: the interval, and its own pid (set between fork and exec).
    const environ = proc.environ(first);
    assert.equal(environ.WATCHDOG_USEC, '1000000');
    assert.equal(environ.WATCHDOG_PID, String(first));
    // Alive past several intervals: its pings arrive (the supervisor would have aborted it otherwise).
    await waitFor(() => fs.existsSync(path.join(dir, `facts-${first}.json`)), 'the app');
    const runs = JSON.parse(fs.readFileSync(path.join(dir, `facts-${first}.json`), 'utf8'));
    assert.deepEqual(runs.inherited, []);
    process.kill(first, 'SIGUSR2');
    await waitFor(() => fs.existsSync(path.join(dir, `blocked-${first}`)), 'the block');
    const second = await d.nextChild(first, 'the watchdog\'s restart');
    assert.equal(proc.isAlive(first), false);
    const log = d.logText();
    assert.match(log, new RegExp(`node \\(pid ${first}\\) sent no WATCHDOG=1 for 1 s: sending SIGABRT`));
    assert.match(log, new RegExp(`node \\(pid ${first}\\) killed by signal 6 \\(SIGABRT\\) after [\\d.]+ s: restarted: sent no WATCHDOG=1 for 1 s; restarting`));
    assert.equal(proc.environ(second.child).WATCHDOG_PID, String(second.child));
    // Before the block, nothing fired: the only watchdog line is this one.
    assert.equal(log.match(/sent no WATCHDOG=1/g).length, 2, log);
  });

  it('aborts and restarts a program that never pings, and SIGKILLs one that survives SIGABRT after --stop-timeout', async () => {
    const dir = scratch.dir();
    const token = scratch.token();
    const d = supervise(['--watchdog', '0.5', '--stop-timeout', '1'], ['sh', '-c', `trap '' ABRT; exec sleep 1006.${token}`], dir);
    const first = scratch.track(d.status().child);
    await d.nextChild(first, 'the restart');
    assert.match(d.logText(), new RegExp(`sh \\(pid ${first}\\) sent no WATCHDOG=1 for 0.5 s: sending SIGABRT`));
    assert.match(d.logText(), /still running after 1 s: sending SIGKILL/);
  });

  it('under systemd\'s WatchdogSec= (-f -r), the supervisor pings systemd itself; its child does not inherit the variables', async () => {
    const address = `@daemonize-test-${scratch.token()}`;
    const seen = await notifyReceiver(scratch, address);
    const dir = scratch.dir();
    const pidfile = path.join(dir, 'fg.pid');
    const token = scratch.token();
    // As systemd sets them: WATCHDOG_PID is the service's (the supervisor's) own pid.
    const supervisor = spawn('sh', ['-c', 'export WATCHDOG_PID=$$; exec "$@"', 'sh', process.execPath, CLI, '-f', '-r', '--pidfile', pidfile,
      '--', 'sleep', `1000.${token}`], { env: { ...process.env, NOTIFY_SOCKET: address, WATCHDOG_USEC: '200000' }, stdio: 'ignore' });
    scratch.track(supervisor.pid);
    await waitFor(() => seen.messages.filter((m) => m === 'WATCHDOG=1').length >= 3, 'three pings from the supervisor');
    const child = await waitFor(() => fs.existsSync(pidfile) && readPidfile(pidfile) === supervisor.pid &&
      proc.findByToken(token).find((pid) => proc.cmdline(pid)[0] === 'sleep'), 'the child');
    const environ = proc.environ(child);
    assert.equal(environ.WATCHDOG_USEC, undefined);
    assert.equal(environ.WATCHDOG_PID, undefined);
    assert.notEqual(environ.NOTIFY_SOCKET, address, 'the child talks to its supervisor, not to systemd');
  });
});
