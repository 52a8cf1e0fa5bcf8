'use strict';
// -f: no fork away. The program is exec'd in place (same pid as the command that was started), its
// exit status and signals pass straight through; with -r the supervisor stays in the foreground.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');
const { describe, it, after } = require('node:test');

const proc = require('./helpers/proc');
const { CLI, Scratch, runCli, readPidfile, waitFor } = require('./helpers/harness');

const scratch = new Scratch();
after(() => scratch.cleanup());

function exited(child) {
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
}

describe('--foreground', () => {
  it('passes the program\'s exit status straight through: 0, 7, and 143 for SIGTERM as a shell sees it', () => {
    assert.equal(runCli(['-f', '--', 'sh', '-c', 'exit 0']).status, 0);
    assert.equal(runCli(['-f', '--', 'sh', '-c', 'exit 7']).status, 7);
    const killed = runCli(['-f', '--', 'sh', '-c', 'kill -TERM $$']);
    assert.equal(killed.signal, 'SIGTERM', 'the process its parent waits for is the program itself');
    const shell = spawnSync('sh', ['-c', `"${process.execPath}" "${CLI}" -f -- sh -c 'kill -TERM $$'; echo $?`], { encoding: 'utf8' });
    assert.equal(shell.stdout.trim(), '143');
  });

  it('execs in place: the pidfile holds the pid its parent started, locked, and signals reach the program', async () => {
    const dir = scratch.dir();
    const pidfile = path.join(dir, 'fg.pid');
    const token = scratch.token();
    const child = spawn(process.execPath, [CLI, '-f', '--pidfile', pidfile, '--', 'sleep', `1000.${token}`], { stdio: 'ignore' });
    scratch.track(child.pid);
    const done = exited(child);
    // The kernel renames a process (comm) before it sets up the new environment: wait for both.
    await waitFor(() => fs.existsSync(pidfile) && proc.stat(child.pid)?.comm === 'sleep' &&
      Object.keys(proc.environ(child.pid)).length > 0, 'the exec');
    assert.equal(readPidfile(pidfile), child.pid);
    assert.equal(proc.stat(child.pid).session, proc.stat(process.pid).session, 'no new session in the foreground');
    const status = proc.status(child.pid);
    assert.equal(status.SigIgn, '0000000000000000');
    assert.equal(status.SigBlk, '0000000000000000');
    // sleep opens and closes its locale files as it starts: a descriptor the daemon was given never closes,
    // so wait (with a deadline) for the start-up ones to go, then require exactly the pidfile's lock.
    const above2 = () => Object.entries(proc.fds(child.pid)).filter(([fd]) => Number(fd) > 2).map(([, t]) => t);
    await waitFor(() => above2().length === 1, 'sleep to close its start-up files', 5000).catch(() => undefined);
    assert.deepEqual(above2(), [pidfile]);
    assert.equal(proc.environ(child.pid).DAEMONIZE_FOREGROUND, '1');
    assert.equal(fs.readlinkSync(`/proc/${child.pid}/cwd`), process.cwd(), 'the directory stays as the supervisor set it');
    process.kill(child.pid, 'SIGTERM');
    assert.deepEqual(await done, { code: null, signal: 'SIGTERM' });
  });

  it('reports exec failures itself, with the documented codes, leaving no pidfile', () => {
    const pidfile = path.join(scratch.dir(), 'bad.pid');
    const result = runCli(['-f', '--pidfile', pidfile, '--chdir', '/dz-no-such-dir', '--', 'true']);
    assert.equal(result.status, 1);
    assert.equal(result.stderr, 'daemonize: fatal: unable to chdir to /dz-no-such-dir: No such file or directory\n');
    assert.equal(fs.existsSync(pidfile), false);
    assert.equal(runCli(['-f', '--', 'dz-no-such-program']).status, 127);
  });

  it('with --respawn, supervises in the foreground and stops everything on SIGTERM, exiting 0', async () => {
    const dir = scratch.dir();
    const pidfile = path.join(dir, 'fgr.pid');
    const token = scratch.token();
    const child = spawn(process.execPath, [CLI, '-f', '-r', '--pidfile', pidfile, '--', 'sh', '-c', `sleep 1000.${token} & wait`],
      { stdio: ['ignore', 'ignore', 'pipe'] });
    scratch.track(child.pid);
    let log = '';
    child.stderr.on('data', (d) => { log += d; });
    const done = exited(child);
    // The token is in three command lines: the supervisor's own, the shell's and its sleep's.
    await waitFor(() => proc.findByToken(token).length === 3, 'the program and its child');
    assert.equal(readPidfile(pidfile), child.pid);
    const [shell] = proc.findByToken(token).filter((pid) => proc.stat(pid).ppid === child.pid);
    process.kill(shell, 'SIGKILL');
    await waitFor(() => /killed by signal 9 \(SIGKILL\).*restarting/.test(log), 'the restart in the log on stderr');
    await waitFor(() => proc.findByToken(token).length === 3, 'the restarted program and its child');
    process.kill(child.pid, 'SIGTERM');
    assert.deepEqual(await done, { code: 0, signal: null });
    assert.deepEqual(proc.findByToken(token), []);
    assert.equal(fs.existsSync(pidfile), false);
  });

  it('with --respawn, takes the program down with it even when the supervisor itself is SIGKILLed', async () => {
    const token = scratch.token();
    const child = spawn(process.execPath, [CLI, '-f', '-r', '--', 'sleep', `1000.${token}`], { stdio: 'ignore' });
    scratch.track(child.pid);
    const sleeping = () => proc.findByToken(token).filter((pid) => proc.stat(pid)?.comm === 'sleep');
    await waitFor(() => sleeping().length === 1, 'the program');
    const [program] = sleeping();
    assert.equal(proc.stat(program).ppid, child.pid);
    process.kill(child.pid, 'SIGKILL');
    await waitFor(() => !proc.isAlive(program), 'the program to die with its supervisor (PR_SET_PDEATHSIG)');
  });
});
