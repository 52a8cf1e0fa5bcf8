'use strict';
// --respawn end to end: the real supervisor, real children, real signals; everything checked via /proc,
// the pidfile, the status file and the event log.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { describe, it, after } = require('node:test');

const proc = require('./helpers/proc');
const { Scratch, runCli, readPidfile, waitFor } = require('./helpers/harness');
const { supervise: superviseWith } = require('./helpers/supervised');

const scratch = new Scratch();
after(() => scratch.cleanup());

const supervise = (args, command) => superviseWith(scratch, args, command);

/** Milliseconds since the epoch of an event-log line. */
const timeOf = (line) => Date.parse(line.slice(0, line.indexOf(' ')));

describe('--respawn', () => {
  it('starts a new child after SIGKILL, under the same supervisor, which holds the pidfile lock', async () => {
    const token = scratch.token();
    const d = supervise([], ['sleep', `1000.${token}`]);
    const first = d.status().child;
    assert.equal(proc.stat(first).ppid, d.supervisor);
    assert.equal(proc.stat(first).pgrp, first, 'the child leads its own process group');
    assert.notEqual(proc.stat(d.supervisor).session, d.supervisor, 'the supervisor is a daemon too');
    assert.deepEqual(Object.values(proc.fds(d.supervisor)).filter((t) => t === d.pidfile), [d.pidfile]);
    process.kill(first, 'SIGKILL');
    const second = await waitFor(() => {
      const child = d.status().child;
      return child !== first && child !== null && proc.isAlive(child) && child;
    }, 'a successor child');
    scratch.track(second);
    assert.equal(readPidfile(d.pidfile), d.supervisor);
    assert.ok(proc.isAlive(d.supervisor));
    assert.deepEqual(proc.findByToken(token), [second]);
    await waitFor(() => d.logLines().some((l) => l.includes(`sleep (pid ${first}) killed by signal 9 (SIGKILL) after`)), 'the log line');
    assert.equal(d.status().restarts, 1);
  });

  it('throttles a crash loop: `attempts` quick restarts, then a pause of `delay` seconds', async () => {
    const d = supervise(['--acceptable', '5', '--attempts', '3', '--delay', '1.5'], ['sh', '-c', 'exit 3']);
    const starts = () => d.logLines().filter((l) => /: started sh/.test(l));
    await waitFor(() => starts().length >= 6, 'six starts', 15000);
    const lines = d.logLines();
    const pause = lines.findIndex((l) => /failure 3 of 3: pausing 1\.5 s before restarting \(pause 1\)/.test(l));
    assert.ok(pause > 0, lines.join('\n'));
    assert.match(lines.find((l) => /failure 2 of 3/.test(l)), /sh \(pid \d+\) exited with status 3 after \d\.\d s; restarting \(failure 2 of 3\)/);
    const resumed = lines.slice(pause + 1).find((l) => /: started sh/.test(l));
    assert.ok(timeOf(resumed) - timeOf(lines[pause]) >= 1500, 'nothing starts during the pause');
    assert.equal(lines.slice(0, pause).filter((l) => /: started sh/.test(l)).length, 3);
  });

  it('resets the failure count after a run of at least --acceptable seconds', async () => {
    const dir = scratch.dir();
    const counter = path.join(dir, 'n');
    fs.writeFileSync(counter, '0');
    // Alternates a quick failure with a run longer than --acceptable: without the reset, two failures would pause it.
    const script = `n=$(cat ${counter}); echo $((n+1)) > ${counter}; [ $((n % 2)) -eq 1 ] && sleep 0.4; exit 1`;
    const d = supervise(['--acceptable', '0.3', '--attempts', '2', '--delay', '30'], ['sh', '-c', script]);
    await waitFor(() => Number(fs.readFileSync(counter, 'utf8')) >= 6, 'six runs', 15000);
    const lines = d.logLines();
    assert.equal(lines.filter((l) => /pausing/.test(l)).length, 0, lines.join('\n'));
    assert.ok(lines.some((l) => /after 0\.\d s; restarting$/.test(l)), 'a healthy run restarts with no failure count');
  });

  it('gives up after --limit pauses: logs why, removes the pidfile and exits', async () => {
    const d = supervise(['--attempts', '2', '--delay', '0.2', '--limit', '1'], ['false']);
    await waitFor(() => !proc.isAlive(d.supervisor), 'the supervisor to give up', 15000);
    assert.equal(fs.existsSync(d.pidfile), false);
    assert.equal(fs.existsSync(d.statusFile), false);
    assert.ok(d.logLines().some((l) => /failure 2 of 2 after 1 pauses: giving up/.test(l)), d.logLines().join('\n'));
  });

  it('passes SIGHUP on to the child and lives on', async () => {
    const dir = scratch.dir();
    const heard = path.join(dir, 'heard');
    const token = scratch.token();
    const d = supervise([], ['sh', '-c', `trap 'echo hup >> ${heard}' HUP; while :; do sleep 0.05; done # ${token}`]);
    const child = d.status().child;
    process.kill(d.supervisor, 'SIGHUP');
    await waitFor(() => fs.existsSync(heard) && fs.readFileSync(heard, 'utf8') === 'hup\n', 'the child to hear HUP');
    assert.ok(proc.isAlive(d.supervisor));
    assert.equal(d.status().child, child);
  });

  it('reports a program that cannot start from the launcher, leaving nothing behind', () => {
    const dir = scratch.dir();
    const pidfile = path.join(dir, 'bad.pid');
    const result = runCli(['--respawn', '--pidfile', pidfile, '--chdir', '/dz-no-such-dir', '--', 'sleep', '1000']);
    assert.equal(result.status, 1);
    assert.equal(result.stderr, 'daemonize: fatal: unable to chdir to /dz-no-such-dir: No such file or directory\n');
    assert.equal(fs.existsSync(pidfile), false);
    assert.equal(fs.existsSync(path.join(dir, 'bad.status')), false);
  });

  it('needs a pidfile', () => {
    const result = runCli(['--respawn', '--', 'true']);
    assert.equal(result.status, 2);
    assert.match(result.stderr, /--respawn needs --pidfile or --name/);
  });
});

describe('--stop', () => {
  it('stops a supervised child that ignores SIGTERM with SIGKILL after --stop-timeout, and leaves nothing', () => {
    const token = scratch.token();
    const d = supervise(['--stop-timeout', '0.5'], ['sh', '-c', `trap '' TERM; while :; do sleep 0.05; done # ${token}`]);
    const result = runCli(['--pidfile', d.pidfile, '--stop', '--stop-timeout', '5']);
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(proc.findByToken(token), []);
    assert.equal(proc.isAlive(d.supervisor), false);
    assert.equal(fs.existsSync(d.pidfile), false);
    assert.equal(fs.existsSync(d.statusFile), false);
    assert.ok(d.logLines().some((l) => /still running after 0\.5 s: sending SIGKILL/.test(l)), d.logLines().join('\n'));
  });

  it('leaves no orphans when the child forked children of its own', async () => {
    const token = scratch.token();
    const d = supervise([], ['sh', '-c', `sleep 1000.${token}1 & sleep 1000.${token}2 & wait`]);
    await waitFor(() => proc.findByToken(token).length === 3, 'the shell and both of its children');
    const result = runCli(['--pidfile', d.pidfile, '--stop']);
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(proc.findByToken(token), []);
  });

  it('stops a plain daemon and everything in its session, escalating to SIGKILL', async () => {
    const dir = scratch.dir();
    const pidfile = path.join(dir, 'plain.pid');
    const token = scratch.token();
    assert.equal(runCli(['--pidfile', pidfile, '--', 'sh', '-c', `trap '' TERM; sleep 1000.${token} & wait; wait`]).status, 0);
    const daemon = scratch.track(readPidfile(pidfile));
    await waitFor(() => proc.findByToken(token).length === 2, 'the daemon and its own child');
    const result = runCli(['--pidfile', pidfile, '--stop', '--stop-timeout', '0.3']);
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(proc.findByToken(token), []);
    assert.equal(proc.isAlive(daemon), false);
    assert.equal(fs.existsSync(pidfile), false, 'a stopped daemon\'s pidfile goes too');
  });

  it('exits 1 with a message when nothing is running', () => {
    const pidfile = path.join(scratch.dir(), 'none.pid');
    const result = runCli(['--pidfile', pidfile, '--stop']);
    assert.equal(result.status, 1);
    assert.equal(result.stderr, 'daemonize: fatal: unable to stop none: not running\n');
  });
});
