'use strict';
// Black-box tests of the daemon the CLI makes: each assertion reads /proc of the running daemon.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { describe, it, after } = require('node:test');

const proc = require('./helpers/proc');
const { CLI, Scratch, runCli, readPidfile, waitFor } = require('./helpers/harness');

const scratch = new Scratch();
after(() => scratch.cleanup());

/** Starts `sleep` as a daemon with extra CLI args; returns { pid, pidfile, dir, result }. */
function startSleeper(args = [], options = {}) {
  const dir = scratch.dir();
  const pidfile = path.join(dir, 'sleeper.pid');
  const token = scratch.token();
  const result = runCli(['--pidfile', pidfile, ...args, '--', 'sleep', `1000.${token}`], options);
  assert.equal(result.status, 0, `launcher failed: ${result.stderr}`);
  const pid = scratch.track(readPidfile(pidfile));
  return { pid, pidfile, dir, result, token };
}

describe('the daemon it makes', () => {
  it('is double-forked: a new session it does not lead, no controlling terminal', () => {
    const { pid, result } = startSleeper();
    assert.equal(result.stdout, '');
    assert.equal(result.stderr, '');
    const s = proc.stat(pid);
    assert.ok(proc.isAlive(pid));
    assert.notEqual(s.session, pid, 'the daemon must not lead its session');
    assert.notEqual(s.session, proc.stat(process.pid).session, 'the daemon must leave the caller\'s session');
    assert.equal(s.ttyNr, 0);
    assert.equal(s.comm, 'sleep', 'the pidfile names the exec\'d program itself');
    // The first fork made the session (its pid is the session's id) and exited: the launcher reaped it.
    // Left unreaped, it would be a zombie under a PID 1 that reaps nothing.
    assert.equal(proc.stat(s.session), null, `the session leader ${s.session} is reaped, not left a zombie`);
  });

  it('resets signal dispositions and the mask even when the caller ignored and blocked signals', () => {
    const dir = scratch.dir();
    const pidfile = path.join(dir, 'sig.pid');
    const token = scratch.token();
    // A caller that ignores INT, HUP and TERM and blocks USR1 and USR2, like nohup or a shell trap.
    const script = `
import os, signal, sys
for s in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM):
    signal.signal(s, signal.SIG_IGN)
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1, signal.SIGUSR2})
os.execv(sys.argv[1], sys.argv[1:])`;
    const result = spawnSync('python3', ['-c', script, process.execPath, CLI, '--pidfile', pidfile, '--',
      'sleep', `1000.${token}`], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    const pid = scratch.track(readPidfile(pidfile));
    const status = proc.status(pid);
    assert.equal(status.SigIgn, '0000000000000000');
    assert.equal(status.SigBlk, '0000000000000000');
    // The control: Node itself ignores SIGPIPE, so a daemon that kept its parent's dispositions would not be clean.
    assert.notEqual(proc.status(process.pid).SigIgn, '0000000000000000');
  });

  it('closes every inherited descriptor above 2 except its pidfile lock', () => {
    const dir = scratch.dir();
    const leak = fs.openSync(path.join(dir, 'leaked-file'), 'w');
    const pidfile = path.join(dir, 'fds.pid');
    const token = scratch.token();
    const result = spawnSync(process.execPath, [CLI, '--pidfile', pidfile, '--', 'sleep', `1000.${token}`], {
      encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe', leak, leak, 'pipe'],
    });
    fs.closeSync(leak);
    assert.equal(result.status, 0, result.stderr);
    const pid = scratch.track(readPidfile(pidfile));
    const open = proc.fds(pid);
    const above2 = Object.entries(open).filter(([fd]) => Number(fd) > 2);
    assert.deepEqual(above2.map(([, target]) => target), [pidfile], JSON.stringify(open));
  });

  it('puts stdin, stdout and stderr on /dev/null by default, holding none of the caller\'s sockets', () => {
    const { pid } = startSleeper();
    const open = proc.fds(pid);
    assert.equal(open[0], '/dev/null');
    assert.equal(open[1], '/dev/null');
    assert.equal(open[2], '/dev/null');
  });

  it('returns at once when its own stdio are sockets (spawnSync), though the daemon runs on', () => {
    const started = Date.now();
    const { pid, result } = startSleeper();
    assert.equal(result.signal, null, 'the launcher must not be killed by the spawnSync timeout');
    assert.ok(proc.isAlive(pid));
    assert.ok(Date.now() - started < 15000);
    for (const target of Object.values(proc.fds(pid))) assert.doesNotMatch(target, /^socket:/);
  });

  it('leaves the pipe its stdout and stderr share with the caller blocking, as it found it (-v writes to it)', () => {
    // The launcher ends with _exit(2) after a start; Node's exit would have set back a flag its own stream
    // for stderr set (O_NONBLOCK on the pipe's open file, which the caller and later writers share).
    const dir = scratch.dir();
    const pidfile = path.join(dir, 'verbose.pid');
    const token = scratch.token();
    const script = `
import fcntl, os, subprocess, sys
r, w = os.pipe()
code = subprocess.run(sys.argv[1:], stdout=w, stderr=w).returncode
blocking = not (fcntl.fcntl(w, fcntl.F_GETFL) & os.O_NONBLOCK)
os.close(w)
print(code, blocking, os.read(r, 65536).decode().count('daemonize: '))`;
    const run = spawnSync('python3', ['-c', script, process.execPath, CLI, '-v', '--pidfile', pidfile, '--', 'sleep', `1000.${token}`],
      { encoding: 'utf8' });
    scratch.track(readPidfile(pidfile));
    const [code, blocking, lines] = run.stdout.trim().split(' ');
    assert.equal(code, '0', run.stderr);
    assert.equal(blocking, 'True', 'O_NONBLOCK left on the shared pipe');
    assert.ok(Number(lines) >= 4, `the verbose lines reached the pipe: ${run.stdout}`);
  });

  it('appends stdout and stderr to the named files, created not world-writable', async () => {
    const dir = scratch.dir();
    const out = path.join(dir, 'out.log');
    const err = path.join(dir, 'err.log');
    fs.writeFileSync(out, 'before\n');
    const pidfile = path.join(dir, 'io.pid');
    const result = runCli(['--pidfile', pidfile, '--stdout', out, '--stderr', err, '--',
      'sh', '-c', 'echo to-out; echo to-err >&2']);
    assert.equal(result.status, 0, result.stderr);
    await waitFor(() => fs.readFileSync(out, 'utf8') === 'before\nto-out\n' &&
      fs.readFileSync(err, 'utf8') === 'to-err\n', 'output to reach the files');
    assert.equal(fs.statSync(err).mode & 0o777, 0o640);
  });

  it('sends both streams to one file with --output', async () => {
    const dir = scratch.dir();
    const log = path.join(dir, 'both.log');
    const result = runCli(['--output', log, '--', 'sh', '-c', 'echo one; echo two >&2']);
    assert.equal(result.status, 0, result.stderr);
    await waitFor(() => fs.existsSync(log) && fs.readFileSync(log, 'utf8') === 'one\ntwo\n', 'both lines in the log');
  });

  it('runs in / with umask 022 by default, and honours --chdir and --umask', () => {
    const first = startSleeper();
    assert.equal(fs.readlinkSync(`/proc/${first.pid}/cwd`), '/');
    assert.equal(proc.status(first.pid).Umask, '0022');
    const dir = scratch.dir();
    const second = startSleeper(['--chdir', dir, '--umask', '077']);
    assert.equal(fs.readlinkSync(`/proc/${second.pid}/cwd`), dir);
    assert.equal(proc.status(second.pid).Umask, '0077');
  });

  it('passes the caller\'s environment plus each --env', () => {
    const { pid } = startSleeper(['--env', 'DZ_ONE=1', '-e', 'DZ_TWO=a=b'], { env: { ...process.env, DZ_CALLER: 'yes' } });
    const env = proc.environ(pid);
    assert.equal(env.DZ_CALLER, 'yes');
    assert.equal(env.DZ_ONE, '1');
    assert.equal(env.DZ_TWO, 'a=b');
  });

  it('passes everything after -- (or after the command word) to the program untouched', async () => {
    const dir = scratch.dir();
    const out = path.join(dir, 'args');
    let result = runCli(['--stdout', out, '--', 'sh', '-c', 'printf "%s|" "$@"; echo', 'sh', '--pidfile', '-x', '--', '']);
    assert.equal(result.status, 0, result.stderr);
    await waitFor(() => fs.existsSync(out) && fs.readFileSync(out, 'utf8').includes('\n'), 'the args line');
    assert.equal(fs.readFileSync(out, 'utf8'), '--pidfile|-x|--||\n');
    result = runCli(['-O', out, 'sh', '-c', 'printf "%s|" "$@"; echo', 'sh', '--name', 'x']);
    assert.equal(result.status, 0, result.stderr);
    await waitFor(() => fs.readFileSync(out, 'utf8').split('\n').length === 3, 'the second args line');
    assert.equal(fs.readFileSync(out, 'utf8').split('\n')[1], '--name|x|');
  });

  it('drops to --user after making the pidfile, with HOME, USER and LOGNAME', { skip: process.getuid() !== 0 && 'needs root' }, () => {
    const { pid, pidfile } = startSleeper(['--user', 'nobody', '--env', 'DZ_KEEP=1']);
    const status = proc.status(pid);
    const nobody = spawnSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).stdout.trim();
    assert.deepEqual(status.Uid.split(/\s+/), [nobody, nobody, nobody, nobody]);
    const env = proc.environ(pid);
    assert.equal(env.USER, 'nobody');
    assert.equal(env.LOGNAME, 'nobody');
    assert.equal(env.HOME, spawnSync('sh', ['-c', 'getent passwd nobody | cut -d: -f6'], { encoding: 'utf8' }).stdout.trim());
    assert.equal(env.DZ_KEEP, '1');
    assert.equal(fs.statSync(pidfile).uid, 0, 'the pidfile is made before dropping privileges');
  });

  it('warns, and still starts, when an argument names a file here that the daemon in / will not find', () => {
    const dir = scratch.dir();
    fs.writeFileSync(path.join(dir, 'app.js'), 'setInterval(() => {}, 1000);\n');
    const pidfile = path.join(dir, 'warn.pid');
    let result = runCli(['--pidfile', pidfile, '--', process.execPath, 'app.js'], { cwd: dir });
    assert.equal(result.status, 0, result.stderr);
    scratch.track(readPidfile(pidfile));
    assert.equal(result.stderr,
      "daemonize: warning: 'app.js' is a file here but not in /, where the daemon runs: use --chdir . or an absolute path\n");
    process.kill(readPidfile(pidfile), 'SIGKILL');
    result = runCli(['--pidfile', path.join(dir, 'quiet.pid'), '--chdir', '.', '--', process.execPath, 'app.js'], { cwd: dir });
    assert.equal(result.status, 0, result.stderr);
    scratch.track(readPidfile(path.join(dir, 'quiet.pid')));
    assert.equal(result.stderr, '', 'no warning once the daemon runs where the file is');
  });
});
