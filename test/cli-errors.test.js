'use strict';
// Every failure is reported by the launcher itself: one line, a documented exit code, and nothing left
// behind (no daemon, no pidfile, no lock, no log file it created).
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { describe, it, after } = require('node:test');

const proc = require('./helpers/proc');
const { CLI, Scratch, runCli } = require('./helpers/harness');

const scratch = new Scratch();
after(() => scratch.cleanup());

/**
 * Runs a launch that must fail; checks the exit code, that stderr is exactly one line matching `message`,
 * and that no daemon, pidfile or created log file remains.
 */
function expectFailure({ args = [], program, status, message, cwd }) {
  const dir = scratch.dir();
  const pidfile = path.join(dir, 'x.pid');
  const log = path.join(dir, 'new.log');
  const token = scratch.token();
  const command = program ?? ['sleep', `1000.${token}`];
  const result = runCli(['--pidfile', pidfile, '--stdout', log, ...args, '--', ...command], { cwd });
  assert.equal(result.status, status, result.stderr);
  assert.match(result.stderr, /^daemonize: [^\n]+\n$/, 'exactly one line on stderr');
  assert.match(result.stderr, message);
  assert.equal(result.stdout, '');
  assert.deepEqual(proc.findByToken(token), [], 'no daemon');
  assert.equal(fs.existsSync(pidfile), false, 'no pidfile');
  assert.equal(fs.existsSync(log), false, 'no log file created by a failed launch');
  return { dir, result };
}

describe('failures before exec', () => {
  it('program not found: 127', () => {
    expectFailure({ program: ['dz-no-such-program'], status: 127,
      message: /^daemonize: fatal: unable to exec dz-no-such-program: not found in PATH$/m });
    expectFailure({ program: ['./missing.sh'], status: 127,
      message: /^daemonize: fatal: unable to exec \.\/missing\.sh: No such file or directory$/m });
  });

  it('program not executable: 126', () => {
    const dir = scratch.dir();
    const script = path.join(dir, 'plain.sh');
    fs.writeFileSync(script, '#!/bin/sh\nsleep 1000\n', { mode: 0o644 });
    expectFailure({ program: [script], status: 126, message: /unable to exec .*plain\.sh: Permission denied$/m });
    expectFailure({ program: [dir], status: 126, message: /unable to exec .*: Permission denied$/m });
  });

  it('exec fails in the daemon itself (no interpreter line): 126, reported through the pipe', () => {
    const dir = scratch.dir();
    const garbage = path.join(dir, 'garbage');
    fs.writeFileSync(garbage, '\x7fNOT-ELF-AT-ALL\n', { mode: 0o755 });
    expectFailure({ program: [garbage], status: 126, message: /unable to exec .*garbage: Exec format error$/m });
  });

  it('chdir fails: 1', () => {
    expectFailure({ args: ['--chdir', '/dz-no-such-dir'], status: 1,
      message: /^daemonize: fatal: unable to chdir to \/dz-no-such-dir: No such file or directory$/m });
    expectFailure({ args: ['--chdir', '/etc/passwd'], status: 1, message: /unable to chdir to \/etc\/passwd: Not a directory$/m });
  });

  it('unknown user or group: 1', () => {
    expectFailure({ args: ['--user', 'dz-no-such-user'], status: 1,
      message: /^daemonize: fatal: unable to find user dz-no-such-user: no such user$/m });
    expectFailure({ args: ['--user', 'root:dz-no-such-group'], status: 1, message: /unable to find group dz-no-such-group/ });
  });

  it('pidfile cannot be made: 1', () => {
    const result = runCli(['--pidfile', '/dz-no-such-dir/x.pid', '--', 'sleep', `1000.${scratch.token()}`]);
    assert.equal(result.status, 1);
    assert.equal(result.stderr, 'daemonize: fatal: unable to open pidfile /dz-no-such-dir/x.pid: No such file or directory\n');
  });

  it('log file cannot be opened: 1, and the pidfile it made is gone', () => {
    expectFailure({ args: ['--stderr', '/dz-no-such-dir/err.log'], status: 1,
      message: /unable to open \/dz-no-such-dir\/err\.log: No such file or directory$/m });
  });

  it('a pre-existing stale pidfile is removed when the launch fails', () => {
    const dir = scratch.dir();
    const pidfile = path.join(dir, 'stale.pid');
    fs.writeFileSync(pidfile, '999999999\n');
    const result = runCli(['--pidfile', pidfile, '--chdir', '/dz-no-such-dir', '--', 'true']);
    assert.equal(result.status, 1);
    assert.equal(fs.existsSync(pidfile), false);
  });
});

describe('a working directory that was removed', () => {
  /** The CLI run from inside a directory removed just before (as a shell left in it would). */
  function inRemoved(args) {
    const dir = path.join(scratch.dir(), 'gone');
    fs.mkdirSync(dir);
    const result = spawnSync('sh', ['-c', 'cd "$1" && rmdir "$1" && shift && exec "$@"', 'sh', dir, process.execPath, CLI, ...args],
      { encoding: 'utf8', timeout: 20000 });
    if (result.error) throw result.error;
    return result;
  }

  it('is an error in the one shape, no stack: exit 1 for a start, LSB\'s 4 for --status', () => {
    const pidfile = path.join(scratch.dir(), 'gone.pid');
    const started = inRemoved(['--pidfile', pidfile, '--', 'sleep', '1']);
    assert.equal(started.status, 1);
    assert.equal(started.stderr, 'daemonize: fatal: unable to read the working directory: No such file or directory\n');
    assert.equal(fs.existsSync(pidfile), false);
    const status = inRemoved(['--status', '--pidfile', pidfile]);
    assert.equal(status.status, 4);
    assert.equal(status.stderr, 'daemonize: fatal: unable to read the working directory: No such file or directory\n');
  });
});

describe('usage errors: 2', () => {
  const cases = [
    [['--bogus'], /^daemonize: usage: unknown option '--bogus' \(try 'daemonize --help'\)$/m],
    [[], /^daemonize: usage: no command given \(try 'daemonize --help'\)$/m],
    [['--umask', '999', '--', 'true'], /bad --umask "999": expected an octal mask from 000 to 777/],
    [['--umask', '0o22', '--', 'true'], /bad --umask/],
    [['--env', 'NOEQUALS', '--', 'true'], /bad --env "NOEQUALS": expected VAR=value/],
    [['--env', '=x', '--', 'true'], /bad --env/],
    [['--name', '../etc', '--', 'true'], /bad --name "\.\.\/etc"/],
    [['--output', 'a', '--stdout', 'b', '--', 'true'], /--output names the file for both streams/],
    [['--pidfiles', '/tmp', '--', 'true'], /--pidfiles needs --name/],
    [['--user', 'a:b:c', '--', 'true'], /bad --user 'a:b:c'/],
    [['--pidfile'], /option '-F, --pidfile <path>' argument missing/],
  ];
  for (const [args, message] of cases) {
    it(`daemonize ${args.join(' ')}`, () => {
      const result = runCli(args);
      assert.equal(result.status, 2, result.stderr);
      assert.match(result.stderr, /^daemonize: usage: [^\n]+\n$/);
      assert.match(result.stderr, message);
    });
  }
});

describe('--help and --version', () => {
  it('--help names every option, examples and the exit codes', () => {
    const result = runCli(['--help']);
    assert.equal(result.status, 0);
    for (const flag of ['-n, --name', '-F, --pidfile', '-P, --pidfiles', '-D, --chdir', '-m, --umask', '-e, --env',
      '-u, --user', '-o, --output', '-O, --stdout', '-E, --stderr', '-V, --version', '-f, --foreground', '-r, --respawn',
      '-a, --acceptable', '-A, --attempts', '-L, --delay', '-M, --limit', '-l, --errlog', '--stop-timeout', '--running',
      '--status', '--stop ', '--restart', '--signal', '--list', 'Modes:', 'Examples:', 'Signals to a supervisor',
      'Exit status of a start:', 'Exit status of the verbs:']) {
      assert.ok(result.stdout.includes(flag), `--help lacks ${flag}`);
    }
    for (const code of [0, 1, 2, 3, 126, 127]) assert.match(result.stdout, new RegExp(`^  ${code} +\\S`, 'm'));
  });

  it('--version prints the package version', () => {
    const result = runCli(['--version']);
    assert.equal(result.status, 0);
    assert.equal(result.stdout.trim(), require('../package.json').version);
  });
});
