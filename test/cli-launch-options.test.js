'use strict';
// libslack daemon's remaining launch options, end to end: --env-file, --core/--nocore (read back from
// /proc/PID/limits), --chroot (/proc/PID/root and cwd of a static program in a minimal root), --verbose.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { describe, it, after } = require('node:test');

const proc = require('./helpers/proc');
const { CLI, Scratch, runCli, readPidfile, waitFor } = require('./helpers/harness');

const scratch = new Scratch();
after(() => scratch.cleanup());

const root = process.getuid() === 0;
const needsRoot = { skip: !root && 'needs root' };

/** The soft and hard "Max core file size" of a process, as /proc shows them ('unlimited' or bytes). */
function coreLimits(pid) {
  const line = fs.readFileSync(`/proc/${pid}/limits`, 'utf8').split('\n').find((l) => l.startsWith('Max core file size'));
  const [soft, hard] = line.slice('Max core file size'.length).trim().split(/\s+/);
  return { soft, hard };
}

/** Runs the CLI under sh with a soft core limit set first (ulimit -S -c, in 1024-byte blocks in bash, 512 in dash). */
function runWithCoreLimit(limit, args) {
  const result = spawnSync('sh', ['-c', `ulimit -S -c ${limit} && exec "$@"`, 'sh', process.execPath, CLI, '-N', ...args],
    { encoding: 'utf8', timeout: 20000 });
  if (result.error) throw result.error;
  return result;
}

describe('--env-file', () => {
  it('adds each file\'s variables in order, before --env, quotes and comments understood', () => {
    const dir = scratch.dir();
    const first = path.join(dir, 'first.env');
    const second = path.join(dir, 'second.env');
    fs.writeFileSync(first, '# app settings\nA=first\nB="two words # not a comment"\nC=\'$NOT_EXPANDED\'\nD=first\n');
    fs.writeFileSync(second, 'export A=second   # overrides first.env\nE=\n');
    const pidfile = path.join(dir, 'x.pid');
    const token = scratch.token();
    const result = runCli(['-N', '--pidfile', pidfile, '--env-file', first, '--env', 'D=cli', '--env-file', 'second.env',
      '--', 'sleep', `1000.${token}`], { cwd: dir });
    assert.equal(result.status, 0, result.stderr);
    const env = proc.environ(scratch.track(readPidfile(pidfile)));
    assert.equal(env.A, 'second');
    assert.equal(env.B, 'two words # not a comment');
    assert.equal(env.C, '$NOT_EXPANDED');
    assert.equal(env.D, 'cli', '--env wins over every env file');
    assert.equal(env.E, '');
  });

  it('refuses a bad line (usage, naming file and line) and a missing file, starting nothing', () => {
    const dir = scratch.dir();
    const file = path.join(dir, 'bad.env');
    fs.writeFileSync(file, 'OK=1\n\nthis is not a variable\n');
    const pidfile = path.join(dir, 'x.pid');
    const bad = runCli(['-N', '--pidfile', pidfile, '--env-file', file, '--', 'sleep', '1000']);
    assert.equal(bad.status, 2);
    assert.equal(bad.stderr, `daemonize: usage: ${file}:3: expected KEY=value, got "this is not a variable"\n`);
    // From a profile: typed on the command line, a missing file is Node's to report (nodejs/node#54232:
    // node checks any --env-file argument, even one after the script, and exits 9 before daemonize runs).
    const conf = path.join(dir, 'env.conf');
    fs.writeFileSync(conf, `* env-file=${path.join(dir, 'nope.env')}\n`);
    const missing = runCli(['-C', conf, '--pidfile', pidfile, '--', 'sleep', '1000']);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /^daemonize: fatal: unable to read env file .*nope\.env: No such file or directory\n$/);
    assert.ok(!fs.existsSync(pidfile));
  });

  it('as root, reads an env file of the --user but refuses one of another user', needsRoot, () => {
    const dir = scratch.dir();
    const file = path.join(dir, 'app.env');
    fs.writeFileSync(file, 'LD_PRELOAD=/tmp/evil.so\n');
    fs.chownSync(file, 65534, 65534);
    const pidfile = path.join(dir, 'x.pid');
    const refused = runCli(['-N', '--pidfile', pidfile, '--env-file', file, '--', 'sleep', '1000']);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /unable to read env file .*app\.env: it is owned by uid 65534, not by root\n$/);
    assert.ok(!fs.existsSync(pidfile));
    fs.writeFileSync(file, 'FROM_USER_FILE=1\n');
    const token = scratch.token();
    const accepted = runCli(['-N', '--pidfile', pidfile, '--user', 'nobody', '--env-file', file, '--', 'sleep', `1000.${token}`]);
    assert.equal(accepted.status, 0, accepted.stderr);
    assert.equal(proc.environ(scratch.track(readPidfile(pidfile))).FROM_USER_FILE, '1');
  });
});

describe('--core and --nocore', () => {
  it('--core raises the daemon\'s soft core limit to the hard limit; --nocore sets it to 0', () => {
    const dir = scratch.dir();
    const raised = path.join(dir, 'raised.pid');
    const result = runWithCoreLimit(0, ['--pidfile', raised, '--core', '--', ...scratch.sleeper()]);
    assert.equal(result.status, 0, result.stderr);
    const pid = scratch.track(readPidfile(raised));
    const limits = coreLimits(pid);
    assert.equal(limits.soft, limits.hard);
    assert.notEqual(limits.soft, '0', 'the hard limit here must be above 0 for this test to mean anything');

    const none = path.join(dir, 'none.pid');
    const zero = runWithCoreLimit(64, ['--pidfile', none, '--nocore', '--', ...scratch.sleeper()]);
    assert.equal(zero.status, 0, zero.stderr);
    assert.equal(coreLimits(scratch.track(readPidfile(none))).soft, '0');

    const kept = path.join(dir, 'kept.pid');
    const inherited = runWithCoreLimit(64, ['--pidfile', kept, '--', ...scratch.sleeper()]);
    assert.equal(inherited.status, 0, inherited.stderr);
    assert.notEqual(coreLimits(scratch.track(readPidfile(kept))).soft, '0', 'without either, the limit is inherited');
  });

  it('applies to every child a supervisor starts, and refuses both at once', async () => {
    const dir = scratch.dir();
    const pidfile = path.join(dir, 'sv.pid');
    const result = runWithCoreLimit(0, ['--pidfile', pidfile, '-r', '--core', '--', ...scratch.sleeper()]);
    assert.equal(result.status, 0, result.stderr);
    scratch.track(readPidfile(pidfile));
    const status = path.join(dir, 'sv.status');
    const child = scratch.track(await waitFor(() => fs.existsSync(status) && JSON.parse(fs.readFileSync(status, 'utf8')).child,
      'the supervisor to name its child'));
    const limits = coreLimits(child);
    assert.equal(limits.soft, limits.hard);
    assert.equal(runCli(['-N', '--core', '--nocore', '--', 'true']).status, 2);
  });
});

describe('--chroot', () => {
  /** A root directory holding one static program (built here with cc -static), or null when none can be built. */
  function makeRoot() {
    const dir = scratch.dir();
    const rootDir = path.join(dir, 'root');
    fs.mkdirSync(path.join(rootDir, 'bin'), { recursive: true, mode: 0o755 });
    fs.mkdirSync(path.join(rootDir, 'work'), { mode: 0o755 });
    fs.chmodSync(rootDir, 0o755);
    const source = path.join(dir, 'pwd-pause.c');
    // Prints its working directory, then waits for a signal: what a chrooted daemon sees as its cwd.
    fs.writeFileSync(source, '#include <stdio.h>\n#include <unistd.h>\nint main(void) { char b[4096];\n' +
      'if (getcwd(b, sizeof b)) printf("%s\\n", b); fflush(stdout); for (;;) pause(); }\n');
    const built = spawnSync('cc', ['-static', '-O2', '-o', path.join(rootDir, 'bin', 'pwd-pause'), source], { encoding: 'utf8' });
    return built.status === 0 ? { dir, rootDir } : null;
  }
  const canBuild = spawnSync('sh', ['-c', 'command -v cc']).status === 0;

  it('runs the program inside the root, in --chdir taken inside it', { skip: (!root && 'needs root') || (!canBuild && 'no C compiler for a static program') }, async () => {
    const made = makeRoot();
    assert.ok(made, 'cc -static failed');
    const { dir, rootDir } = made;
    const pidfile = path.join(dir, 'x.pid');
    const out = path.join(dir, 'out.log');
    const token = scratch.token();
    const result = runCli(['-N', '--pidfile', pidfile, '--chroot', rootDir, '--chdir', '/work', '--stdout', out,
      '--', '/bin/pwd-pause', token]);
    assert.equal(result.status, 0, result.stderr);
    const pid = scratch.track(readPidfile(pidfile));
    assert.equal(fs.readlinkSync(`/proc/${pid}/root`), rootDir);
    assert.equal(fs.readlinkSync(`/proc/${pid}/cwd`), path.join(rootDir, 'work'));
    assert.equal(await waitFor(() => fs.readFileSync(out, 'utf8'), 'the program to print its cwd'), '/work\n');
  });

  it('is checked before anything forks: a program missing inside the root, an unsafe root, a non-root caller', needsRoot, () => {
    const dir = scratch.dir();
    const rootDir = path.join(dir, 'root');
    fs.mkdirSync(rootDir, { mode: 0o755 });
    const pidfile = path.join(dir, 'x.pid');
    const missing = runCli(['-N', '--pidfile', pidfile, '--chroot', rootDir, '--', 'sleep', '1000']);
    assert.equal(missing.status, 127, 'sleep is on this system, but not inside the root');
    fs.chmodSync(rootDir, 0o777);
    const open = runCli(['-N', '--pidfile', pidfile, '--chroot', rootDir, '--', 'sleep', '1000']);
    assert.equal(open.status, 1);
    assert.match(open.stderr, /unable to chroot to .*: it is writable by other users \(mode 0777\)/);
    fs.chmodSync(rootDir, 0o755);
    fs.chmodSync(dir, 0o755);
    const asNobody = spawnSync('setpriv', ['--reuid', 'nobody', '--regid', 'nogroup', '--clear-groups',
      process.execPath, CLI, '-N', '--chroot', rootDir, '--', '/bin/true'], { encoding: 'utf8' });
    assert.equal(asNobody.status, 1);
    assert.match(asNobody.stderr, /unable to chroot to .*: only root can/);
    assert.ok(!fs.existsSync(pidfile));
  });
});

describe('--verbose', () => {
  it('says each step of the launch on stderr, and nothing without it', () => {
    const dir = scratch.dir();
    const pidfile = path.join(dir, 'x.pid');
    const result = runCli(['-N', '-v', '--pidfile', pidfile, '--', ...scratch.sleeper()]);
    assert.equal(result.status, 0, result.stderr);
    const pid = scratch.track(readPidfile(pidfile));
    assert.deepEqual(result.stderr.trim().split('\n'), [
      'daemonize: program /usr/bin/sleep',
      `daemonize: pidfile ${pidfile} locked`,
      'daemonize: stdout /dev/null, stderr /dev/null',
      `daemonize: daemon started: pid ${pid}, in /`,
      `daemonize: pidfile ${pidfile} holds ${pid}`,
    ]);
    const quiet = runCli(['-N', '--pidfile', path.join(dir, 'q.pid'), '--', ...scratch.sleeper()]);
    assert.equal(quiet.stderr, '');
    scratch.track(readPidfile(path.join(dir, 'q.pid')));
  });
});
