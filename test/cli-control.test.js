'use strict';
// The control verbs judge "running" by the pidfile lock and answer with documented exit codes.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { describe, it, after } = require('node:test');

const proc = require('./helpers/proc');
const { Scratch, runCli, readPidfile, waitFor } = require('./helpers/harness');

const scratch = new Scratch();
after(() => scratch.cleanup());

function startNamed(dir, name, extra = []) {
  const result = runCli(['--name', name, '--pidfiles', dir, ...extra, '--', ...scratch.sleeper()]);
  assert.equal(result.status, 0, result.stderr);
  return scratch.track(readPidfile(path.join(dir, `${name}.pid`)));
}

describe('--running and --status', () => {
  it('give 0 while running; 1 / 3 once dead with a pidfile left / with none; 4 when the pidfile cannot be read', async () => {
    const dir = scratch.dir();
    const pid = startNamed(dir, 'web');
    const ask = (...verb) => runCli(['--name', 'web', '--pidfiles', dir, ...verb]);
    assert.equal(ask('--running').status, 0);
    let status = ask('--status');
    assert.equal(status.status, 0);
    assert.match(status.stdout, new RegExp(`^web: running as pid ${pid}, up \\d+\\.\\d s\\n$`));
    process.kill(pid, 'SIGKILL');
    await waitFor(() => !proc.isAlive(pid), 'the daemon to die');
    assert.equal(ask('--running').status, 1);
    status = ask('--status');
    assert.equal(status.status, 1);
    assert.equal(status.stdout, `web: dead, pidfile ${dir}/web.pid remains\n`);
    fs.rmSync(path.join(dir, 'web.pid'));
    status = ask('--status');
    assert.equal(status.status, 3);
    assert.equal(status.stdout, 'web: not running\n');
    status = runCli(['--pidfile', '/etc/passwd/x.pid', '--status']);
    assert.equal(status.status, 4);
  });

  it('a live stranger at the pidfile\'s pid is not "running": only the lock counts', () => {
    const dir = scratch.dir();
    fs.writeFileSync(path.join(dir, 'x.pid'), `${process.pid}\n`);
    assert.equal(runCli(['--name', 'x', '--pidfiles', dir, '--running']).status, 1);
    assert.equal(runCli(['--name', 'x', '--pidfiles', dir, '--status']).status, 1);
  });

  it('--status of a supervised daemon names its child, uptime, restarts and log', () => {
    const dir = scratch.dir();
    const supervisor = startNamed(dir, 'sup', ['--respawn']);
    const status = runCli(['--name', 'sup', '--pidfiles', dir, '--status']);
    assert.equal(status.status, 0);
    const child = JSON.parse(fs.readFileSync(path.join(dir, 'sup.status'), 'utf8')).child;
    scratch.track(child);
    assert.equal(status.stdout,
      `sup: running as pid ${supervisor} (supervisor), child pid ${child}, up ${status.stdout.match(/up (\S+ s)/)[1]}, 0 restarts, log ${dir}/sup.log\n`);
  });
});

describe('--restart, --signal, --list', () => {
  it('--restart gives a supervised daemon a new child under the same supervisor', () => {
    const dir = scratch.dir();
    const supervisor = startNamed(dir, 'sup', ['--respawn']);
    const before = JSON.parse(fs.readFileSync(path.join(dir, 'sup.status'), 'utf8')).child;
    scratch.track(before);
    const result = runCli(['--name', 'sup', '--pidfiles', dir, '--restart']);
    assert.equal(result.status, 0, result.stderr);
    const after = JSON.parse(fs.readFileSync(path.join(dir, 'sup.status'), 'utf8')).child;
    scratch.track(after);
    assert.notEqual(after, before);
    assert.ok(proc.isAlive(after));
    assert.equal(proc.isAlive(before), false);
    assert.equal(readPidfile(path.join(dir, 'sup.pid')), supervisor);
  });

  it('--restart of a plain daemon stops it and starts the command again; without a command it is a usage error', () => {
    const dir = scratch.dir();
    const first = startNamed(dir, 'plain');
    assert.equal(runCli(['--name', 'plain', '--pidfiles', dir, '--restart']).status, 2);
    const result = runCli(['--name', 'plain', '--pidfiles', dir, '--restart', '--', ...scratch.sleeper()]);
    assert.equal(result.status, 0, result.stderr);
    const second = scratch.track(readPidfile(path.join(dir, 'plain.pid')));
    assert.notEqual(second, first);
    assert.equal(proc.isAlive(first), false);
    assert.ok(proc.isAlive(second));
  });

  it('--signal sends a named or numbered signal; bad names are usage errors; nothing running is 1', async () => {
    const dir = scratch.dir();
    const pid = startNamed(dir, 'sig');
    assert.equal(runCli(['--name', 'sig', '--pidfiles', dir, '--signal', 'STOP']).status, 0);
    await waitFor(() => proc.stat(pid).state === 'T', 'the daemon to stop');
    assert.equal(runCli(['--name', 'sig', '--pidfiles', dir, '--signal', '18']).status, 0);
    await waitFor(() => proc.stat(pid).state !== 'T', 'the daemon to continue');
    assert.equal(runCli(['--name', 'sig', '--pidfiles', dir, '--signal', 'NOPE']).status, 2);
    assert.equal(runCli(['--name', 'gone', '--pidfiles', dir, '--signal', 'HUP']).status, 1);
  });

  it('--list shows every pidfile in the directory with its state', async () => {
    const dir = scratch.dir();
    const a = startNamed(dir, 'alpha');
    const b = startNamed(dir, 'beta');
    process.kill(b, 'SIGKILL');
    await waitFor(() => !proc.isAlive(b), 'beta to die');
    const result = runCli(['--pidfiles', dir, '--list']);
    assert.equal(result.status, 0, result.stderr);
    const lines = result.stdout.trim().split('\n');
    assert.match(lines[0], new RegExp(`^alpha: running as pid ${a}`));
    assert.equal(lines[1], `beta: dead, pidfile ${dir}/beta.pid remains`);
  });

  it('refuses two verbs at once and verbs without a pidfile', () => {
    assert.equal(runCli(['--name', 'x', '--stop', '--status']).status, 2);
    assert.match(runCli(['--stop']).stderr, /--stop needs --name or --pidfile/);
  });
});
