'use strict';
// --logs and --logs --follow, end to end: the real CLI reading real files; a follower across a rename.
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { describe, it, after } = require('node:test');

const { CLI, Scratch, runCli, waitFor } = require('./helpers/harness');
const { supervise } = require('./helpers/supervised');

const scratch = new Scratch();
after(() => scratch.cleanup());

/** Starts `daemonize ...args`, collecting its stdout; the process is tracked for cleanup. */
function startCli(args) {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  scratch.track(child.pid);
  const got = { stdout: '', stderr: '', code: undefined, signal: undefined };
  child.stdout.on('data', (d) => { got.stdout += d; });
  child.stderr.on('data', (d) => { got.stderr += d; });
  child.on('exit', (code, signal) => { got.code = code; got.signal = signal; });
  return { child, got };
}

describe('--logs', () => {
  it('prints the last lines of a supervised daemon\'s stdout, stderr and event log, each under its path', async () => {
    const dir = scratch.dir();
    const out = path.join(dir, 'out.log');
    const err = path.join(dir, 'err.log');
    const events = path.join(dir, 'events.log');
    const program = ['sh', '-c', `for i in 1 2 3 4 5; do echo "out $i"; echo "err $i" >&2; done; exec ${scratch.sleeper().join(' ')}`];
    const d = supervise(scratch, ['--stdout', out, '--stderr', err, '--errlog', events], program, dir);
    scratch.track(d.status().child);
    await waitFor(() => fs.existsSync(err) && fs.readFileSync(err, 'utf8').includes('err 5'), 'the program\'s output');
    const result = runCli(['--logs', '--lines', '2', '--pidfile', d.pidfile]);
    assert.equal(result.status, 0, result.stderr);
    const expected = [`==> ${out} <==`, 'out 4', 'out 5', '', `==> ${err} <==`, 'err 4', 'err 5', '', `==> ${events} <==`];
    const lines = result.stdout.split('\n');
    assert.deepEqual(lines.slice(0, expected.length), expected);
    assert.match(lines[expected.length], /daemonize\[\d+\]: started sh \(pid \d+\)$/);
    // The default: 20 lines.
    const all = runCli(['--logs', '--pidfile', d.pidfile]).stdout;
    assert.equal(all.split('\n').filter((l) => /^out \d$/.test(l)).length, 5);
    assert.equal(runCli(['--stop', '--pidfile', d.pidfile]).status, 0);
    // Stopped: no record to read, so the files are named.
    const named = runCli(['--logs', '--lines', '1', '--pidfile', d.pidfile, '--stderr', err]);
    assert.equal(named.stdout, `==> ${err} <==\nerr 5\n`);
    const none = runCli(['--logs', '--pidfile', d.pidfile]);
    assert.equal(none.status, 1);
    assert.match(none.stderr, /^daemonize: fatal: unable to find the logs of .*: no status record names them; give --stdout/);
  });

  it('refuses --follow and --lines without --logs, and a bad --lines', () => {
    assert.match(runCli(['--follow', '--name', 'x']).stderr, /^daemonize: usage: --follow goes with --logs/);
    assert.equal(runCli(['--lines', '3', '--name', 'x']).status, 2);
    assert.match(runCli(['--logs', '--lines', 'many', '--name', 'x']).stderr, /^daemonize: usage: bad --lines "many"/);
  });

  it('--follow keeps printing across logrotate\'s rename: the rest of the old file, then the new one; SIGTERM and SIGINT end it with 0', async () => {
    for (const signal of ['SIGTERM', 'SIGINT']) {
      const dir = scratch.dir();
      const file = path.join(dir, 'app.log');
      fs.writeFileSync(file, 'before\n');
      const { child, got } = startCli(['--logs', '--follow', '--lines', '1', '--pidfile', path.join(dir, 'app.pid'), '--stderr', file]);
      await waitFor(() => got.stdout.includes('before\n'), 'the tail');
      fs.appendFileSync(file, 'grown\n');
      await waitFor(() => got.stdout.includes('grown\n'), 'a line added');
      // As logrotate does: rename; the writer goes on in the old file until it reopens, then writes a new one.
      fs.renameSync(file, `${file}.1`);
      fs.appendFileSync(`${file}.1`, 'late in the old file\n');
      fs.writeFileSync(file, 'first in the new file\n');
      await waitFor(() => got.stdout.includes('first in the new file\n'), 'the new file');
      fs.appendFileSync(file, 'second in the new file\n');
      await waitFor(() => got.stdout.includes('second in the new file\n'), 'the new file growing');
      assert.equal(got.stdout, `==> ${file} <==\nbefore\ngrown\nlate in the old file\nfirst in the new file\nsecond in the new file\n`);
      process.kill(child.pid, signal);
      await waitFor(() => got.code !== undefined, 'the follower to end');
      assert.equal(got.code, 0, `${signal}: ${got.stderr}`);
    }
  });
});
