'use strict';
// The tools operators already use, run for real against daemonize's daemons: start-stop-daemon reading
// our pidfiles, logrotate moving a live log, and a supervisor as PID 1 of a namespace that reaps orphans.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');
const { describe, it, after } = require('node:test');

const proc = require('./helpers/proc');
const { CLI, ROOT, Scratch, runCli, readPidfile, waitFor } = require('./helpers/harness');

const scratch = new Scratch();
after(() => scratch.cleanup());

const has = (tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;

describe('start-stop-daemon reads our pidfiles', { skip: !has('start-stop-daemon') && 'start-stop-daemon not installed' }, () => {
  for (const mode of [[], ['--respawn']]) {
    it(`--status and --stop --retry on a ${mode.length ? 'supervised' : 'plain'} daemon`, async () => {
      const dir = scratch.dir();
      const pidfile = path.join(dir, 'ssd.pid');
      const token = scratch.token();
      assert.equal(runCli(['--pidfile', pidfile, ...mode, '--', 'sleep', `1000.${token}`]).status, 0);
      const pid = scratch.track(readPidfile(pidfile));
      await waitFor(() => proc.findByToken(token).length === 1, 'the program');
      assert.equal(spawnSync('start-stop-daemon', ['--status', '--pidfile', pidfile]).status, 0);
      const stopped = spawnSync('start-stop-daemon', ['--stop', '--pidfile', pidfile, '--retry', 'TERM/5/KILL/5'], { encoding: 'utf8' });
      assert.equal(stopped.status, 0, stopped.stderr);
      assert.equal(proc.isAlive(pid), false);
      await waitFor(() => proc.findByToken(token).length === 0, 'the program to be gone too');
      assert.equal(spawnSync('start-stop-daemon', ['--status', '--pidfile', pidfile]).status === 0, false);
    });
  }
});

describe('logrotate', { skip: !has('logrotate') && 'logrotate not installed' }, () => {
  it('moves a live log (create + postrotate HUP, as the README says): no line lost, none twice', async () => {
    const dir = scratch.dir();
    const pidfile = path.join(dir, 'counter.pid');
    const log = path.join(dir, 'counter.log');
    const count = 3000;
    const started = spawnSync(process.execPath, [path.join(ROOT, 'test', 'fixtures', 'ops-counter.js'), pidfile, log, String(count)],
      { encoding: 'utf8' });
    assert.equal(started.status, 0, started.stderr);
    scratch.track(readPidfile(pidfile));
    await waitFor(() => fs.readFileSync(log, 'utf8').split('\n').length > 500, 'the first lines');
    const config = path.join(dir, 'logrotate.conf');
    fs.writeFileSync(config, `${log} {
  create 0640 root root
  rotate 3
  missingok
  nocompress
  postrotate
    "${process.execPath}" "${CLI}" --pidfile "${pidfile}" --signal HUP
  endscript
}
`);
    const rotated = spawnSync('logrotate', ['--force', '--state', path.join(dir, 'state'), config], { encoding: 'utf8' });
    assert.equal(rotated.status, 0, rotated.stderr);
    await waitFor(() => fs.existsSync(log) && fs.readFileSync(log, 'utf8').endsWith('done\n'), 'the last line', 20000);
    const before = fs.readFileSync(`${log}.1`, 'utf8').trim().split('\n');
    const afterRotation = fs.readFileSync(log, 'utf8').trim().split('\n');
    assert.ok(afterRotation.length > 1, 'the new file is written after rotation');
    const numbers = [...before, ...afterRotation].filter((line) => line !== 'done').map(Number);
    assert.equal(numbers.length, count, 'every line exactly once');
    numbers.forEach((n, i) => assert.equal(n, i + 1));
  });
});

describe('a supervisor as a container\'s entry point', () => {
  /** Runs `daemonize -f -r` over a program that orphans a short sleep; checks it is reaped, not a zombie. */
  async function orphanIsReaped(prefix) {
    const token = scratch.token();
    const pidfile = path.join(scratch.dir(), 'entry.pid');
    // The supervisor's own argv holds both words too: look only at the sleep processes.
    const sleeping = (word) => proc.findByToken(word).filter((pid) => proc.stat(pid)?.comm === 'sleep');
    const [orphanWord, mainWord] = [`0.5${token}`, `1000.${token}`];
    const command = [CLI, '-f', '-r', '--pidfile', pidfile, '--', 'sh', '-c', `(sleep ${orphanWord} &); exec sleep ${mainWord}`];
    const child = prefix.length === 0
      ? spawn(process.execPath, command, { stdio: 'ignore' })
      : spawn(prefix[0], [...prefix.slice(1), process.execPath, ...command], { stdio: 'ignore' });
    scratch.track(child.pid);
    await waitFor(() => sleeping(orphanWord).length === 1 && sleeping(mainWord).length === 1, 'the program and its orphan');
    const supervisor = scratch.track(proc.stat(sleeping(mainWord)[0]).ppid);
    const [orphan] = sleeping(orphanWord);
    await waitFor(() => proc.stat(orphan)?.ppid === supervisor, 'the orphan to come to the supervisor');
    await waitFor(() => proc.stat(orphan) === null, 'the orphan to be reaped, not left a zombie', 5000);
    process.kill(supervisor, 'SIGTERM');
    await waitFor(() => !proc.isAlive(supervisor), 'the supervisor to stop');
  }

  it('reaps orphans as a child subreaper', () => orphanIsReaped([]));

  it('reaps orphans as PID 1 of its own pid namespace', { skip: !has('unshare') && 'unshare not installed' }, () =>
    orphanIsReaped(['unshare', '--pid', '--fork']));
});
