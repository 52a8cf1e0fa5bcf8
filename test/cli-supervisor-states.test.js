'use strict';
// The supervisor's risky (state, event) pairs, end to end: the real binary, real signals, a program that
// leaves a TERM-ignoring process behind when it dies, a log directory moved away, a full disk. What the
// unit test checks cell by cell with fakes, checked here on what /proc, the files and the log show.
const assert = require('node:assert/strict');
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { describe, it, after } = require('node:test');

const proc = require('./helpers/proc');
const { CLI, Scratch, runCli, readPidfile, waitFor } = require('./helpers/harness');
const { supervise: superviseWith } = require('./helpers/supervised');

const scratch = new Scratch();
const mounts = [];
after(async () => {
  // Lazily: the supervisor may still hold its pidfile there until cleanup kills it.
  for (const dir of mounts) spawnSync('umount', ['-l', dir]);
  await scratch.cleanup();
});

const supervise = (args, command, dir) => superviseWith(scratch, args, command, dir);

/**
 * A program that, on its first run, leaves a process that ignores TERM in its group and exits 1; on later
 * runs it just sleeps. Each run appends its pid to DIR/starts.
 */
function leavesStubborn(dir, token) {
  const starts = path.join(dir, 'starts');
  const mark = path.join(dir, 'mark');
  return ['sh', '-c', `echo $$ >> ${starts}; [ -e ${mark} ] && exec sleep 1000.${token}; touch ${mark}; ` +
    `(trap '' TERM; exec sleep 1001.${token}) & sleep 0.3; exit 1`];
}

const leftoverOf = (token) => proc.findByToken(`1001.${token}`)[0];

describe('the supervisor while a dead child\'s processes drain', () => {
  it('logs the crash when it happens, and USR1 then starts one copy, after they are gone', async () => {
    const token = scratch.token();
    const dir = scratch.dir();
    const d = supervise(['--stop-timeout', '2'], leavesStubborn(dir, token), dir);
    // The crash is in the log while what it left still runs: its time is the crash's.
    await waitFor(() => /sh \(pid \d+\) exited with status 1 after [\d.]+ s; restarting/.test(d.logText()), 'the crash in the log');
    const left = leftoverOf(token);
    assert.ok(left && proc.isAlive(left), 'the TERM-ignoring leftover still runs');
    await waitFor(() => d.readStatus()?.state === 'draining', 'the record to say draining');
    process.kill(d.supervisor, 'SIGUSR1');
    await waitFor(() => d.logText().includes('SIGUSR1 received: restarting sh once the processes it left are gone'), 'USR1 heard');
    assert.equal(fs.readFileSync(path.join(dir, 'starts'), 'utf8').trim().split('\n').length, 1, 'nothing started beside it');
    const status = await waitFor(() => {
      const s = d.readStatus();
      return s && s.state === 'running' && s.child !== null && proc.isAlive(s.child) && s;
    }, 'the successor', 15000);
    scratch.track(status.child);
    assert.equal(proc.isAlive(left), false, 'the leftover went first (SIGKILL at --stop-timeout)');
    assert.match(d.logText(), /processes sh left still running after 2 s: sending SIGKILL/);
    assert.equal(fs.readFileSync(path.join(dir, 'starts'), 'utf8').trim().split('\n').length, 2, 'exactly one new copy');
    assert.deepEqual(proc.findByToken(`1000.${token}`), [status.child]);
    assert.equal(status.restarts, 1);
  });

  it('TERM waits for them, SIGKILLs them at --stop-timeout, then exits and removes its files', async () => {
    const token = scratch.token();
    const dir = scratch.dir();
    const d = supervise(['--stop-timeout', '1.5'], leavesStubborn(dir, token), dir);
    await waitFor(() => d.readStatus()?.state === 'draining', 'the drain');
    const left = leftoverOf(token);
    process.kill(d.supervisor, 'SIGTERM');
    await waitFor(() => d.logText().includes('SIGTERM received: stopping once the processes sh left are gone'), 'TERM heard');
    assert.ok(proc.isAlive(left) && proc.isAlive(d.supervisor), 'the supervisor waits while something is left');
    await waitFor(() => !proc.isAlive(d.supervisor), 'the supervisor to exit', 10000);
    assert.equal(proc.isAlive(left), false);
    assert.deepEqual(proc.findByToken(token), []);
    assert.equal(fs.existsSync(d.pidfile), false);
    assert.equal(fs.existsSync(d.statusFile), false);
    assert.match(d.logText(), /still running after 1\.5 s: sending SIGKILL[\s\S]*stopped\n$/);
    assert.equal(fs.readFileSync(path.join(dir, 'starts'), 'utf8').trim().split('\n').length, 1);
  });
});

describe('HUP when the event log cannot be reopened', () => {
  it('warns in the old log and carries on when logrotate\'s olddir moved the directory away', async () => {
    const dir = scratch.dir();
    fs.mkdirSync(path.join(dir, 'logs'));
    const log = path.join(dir, 'logs', 'app.log');
    // The program ignores HUP (the supervisor passes it on).
    const d = supervise(['--errlog', log], ['sh', '-c', `trap '' HUP; exec sleep 1000.${scratch.token()}`], dir);
    const child = scratch.track(d.readStatus().child);
    fs.renameSync(path.join(dir, 'logs'), path.join(dir, 'old'));
    const moved = path.join(dir, 'old', 'app.log');
    process.kill(d.supervisor, 'SIGHUP');
    await waitFor(() => d.logText(moved).includes(`unable to open ${log}: No such file or directory: still logging to the file open before SIGHUP`), 'the warning');
    assert.ok(proc.isAlive(d.supervisor));
    assert.ok(proc.isAlive(child));
    // It still supervises: a killed child is replaced, and that is logged in the file it kept.
    process.kill(child, 'SIGKILL');
    const next = await waitFor(() => { const s = d.readStatus(); return s && s.child !== child && s.child !== null && s.child; }, 'a new child');
    scratch.track(next);
    await waitFor(() => d.logText(moved).includes(`started sh (pid ${next})`), 'the restart in the old log');
  });

  it('warns and carries on when the log became unwritable for the supervisor\'s user (EACCES)', async () => {
    const dir = scratch.dir();
    fs.chownSync(dir, 65534, 65534);
    const pidfile = path.join(dir, 'app.pid');
    const log = path.join(dir, 'app.log');
    const token = scratch.token();
    const result = spawnSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, CLI,
      '--respawn', '--pidfile', pidfile, '--errlog', log, '--', 'sh', '-c', `trap '' HUP; exec sleep 1000.${token}`], { encoding: 'utf8', timeout: 20000 });
    assert.equal(result.status, 0, result.stderr);
    const supervisor = scratch.track(readPidfile(pidfile));
    assert.equal(proc.status(supervisor).Uid.split('\t')[0], '65534');
    fs.chmodSync(log, 0o444);
    process.kill(supervisor, 'SIGHUP');
    await waitFor(() => fs.readFileSync(log, 'utf8').includes(`unable to open ${log}: Permission denied: still logging to the file open before SIGHUP`), 'the warning');
    assert.ok(proc.isAlive(supervisor));
    assert.equal(proc.findByToken(token).length, 1);
  });
});

describe('the status record', () => {
  it('says paused, with the failures and the next attempt, and no child; TERM in the pause stops at once', async () => {
    const d = supervise(['--attempts', '2', '--delay', '600'], ['sh', '-c', 'exit 3']);
    const status = await waitFor(() => d.readStatus()?.state === 'paused' && d.readStatus(), 'the pause');
    assert.equal(status.child, null);
    assert.equal(status.childStarted, null);
    assert.equal(status.failures, 2);
    assert.ok(status.pausedUntil > Date.now() + 500 * 1000 && status.pausedUntil <= Date.now() + 600 * 1000, String(status.pausedUntil));
    assert.equal(status.supervisor, d.supervisor);
    assert.equal(status.stopTimeout, 10);
    assert.equal(status.log, d.log);
    const stop = runCli(['--pidfile', d.pidfile, '--stop']);
    assert.equal(stop.status, 0, stop.stderr);
    assert.equal(proc.isAlive(d.supervisor), false);
    assert.match(d.logText(), /SIGTERM received while paused: stopping\n.*stopped\n$/);
  });

  it('is removed, not left stale, while the disk is full; the supervisor goes on and writes it again later', async () => {
    const dir = scratch.dir();
    const small = path.join(dir, 'small');
    fs.mkdirSync(small);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', small]);
    mounts.push(small);
    const log = path.join(dir, 'events.log');
    const d = supervise(['--errlog', log, '--acceptable', '0'], scratch.sleeper(), small);
    const first = scratch.track(d.readStatus().child);
    // Fill the disk to the last byte.
    spawnSync('dd', ['if=/dev/zero', `of=${path.join(small, 'fill')}`, 'bs=4k']);
    process.kill(first, 'SIGKILL');
    await waitFor(() => /unable to write .*app\.status: No space left on device\n/.test(d.logText()), 'the failure, logged');
    assert.ok(proc.isAlive(d.supervisor));
    const second = await waitFor(() => {
      const m = [...d.logText().matchAll(/started sleep \(pid (\d+)\)/g)];
      return m.length === 2 && Number(m[1][1]);
    }, 'the successor');
    scratch.track(second);
    assert.ok(proc.isAlive(second));
    // Removing the old record freed a page, so a later write may fit: either way no record names the dead child.
    // The log says "started" a moment before the record is written: a record of that moment says "starting".
    await waitFor(() => {
      const record = d.readStatus();
      assert.notEqual(record?.child, first, 'a record naming the dead child');
      return record === null || (record.child === second && record.state === 'running');
    }, 'no record, or one naming the successor');
    fs.rmSync(path.join(small, 'fill'));
    process.kill(second, 'SIGKILL');
    const third = await waitFor(() => { const s = d.readStatus(); return s && s.child !== second && s.child; }, 'the record, written again');
    scratch.track(third);
    assert.equal(d.readStatus().state, 'running');
    assert.match(d.logText(), /app\.status written again/);
  });
});
