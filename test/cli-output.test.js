'use strict';
// What the CLI prints, where it prints it: a pipe its caller made non-blocking and reads late gets every
// line in order; a reader that goes away ends the CLI by SIGPIPE, silently, as it ends a C tool; a full
// stdout is one error line; a status record as large as a long command line is still read.
const assert = require('node:assert/strict');
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { describe, it, after } = require('node:test');

const { CLI, Scratch, runCli, waitFor } = require('./helpers/harness');
const { supervise } = require('./helpers/supervised');

const scratch = new Scratch();
after(() => scratch.cleanup());

/** A log of `count` numbered lines, some of them not ASCII. */
function numberedLog(dir, count) {
  const file = path.join(dir, 'app.log');
  const lines = [];
  for (let i = 0; i < count; i++) lines.push(`line ${String(i).padStart(6, '0')} é ${'x'.repeat(30)}\n`);
  fs.writeFileSync(file, lines.join(''));
  return file;
}

/**
 * Runs the CLI with its stdout a pipe that a Python parent made non-blocking (the flag is on the open file,
 * which the CLI shares) and starts reading only after `delayS`; returns what it read, and the exit status.
 */
function throughNonBlockingPipe(args, delayS) {
  const script = `
import os, subprocess, fcntl, time, sys, json
r, w = os.pipe()
fcntl.fcntl(w, fcntl.F_SETFL, fcntl.fcntl(w, fcntl.F_GETFL) | os.O_NONBLOCK)
p = subprocess.Popen([${JSON.stringify(process.execPath)}, ${JSON.stringify(CLI)}] + json.loads(sys.argv[1]), stdout=w, stderr=subprocess.PIPE)
os.close(w)
time.sleep(${delayS})
data = b''
while True:
    chunk = os.read(r, 1 << 20)
    if not chunk: break
    data += chunk
err = p.stderr.read()
sys.stdout.buffer.write(json.dumps({'status': p.wait(), 'stderr': err.decode('utf8', 'replace')}).encode() + b'\\n' + data)
`;
  const run = spawnSync('python3', ['-c', script, JSON.stringify(args)], { maxBuffer: 64 << 20 });
  assert.equal(run.status, 0, String(run.stderr));
  const cut = run.stdout.indexOf(10);
  return { ...JSON.parse(run.stdout.subarray(0, cut).toString()), stdout: run.stdout.subarray(cut + 1).toString() };
}

describe('the CLI\'s output', () => {
  it('reaches a non-blocking pipe read late whole and in order (--logs of 3 MB, --help)', () => {
    const dir = scratch.dir();
    const log = numberedLog(dir, 60000);
    const logs = throughNonBlockingPipe(['--logs', '--lines', '60000', '--stdout', log, '--pidfile', path.join(dir, 'app.pid')], 0.5);
    assert.equal(logs.status, 0, logs.stderr);
    assert.equal(logs.stdout, `==> ${log} <==\n${fs.readFileSync(log, 'utf8')}`);
    const help = throughNonBlockingPipe(['--help'], 0.3);
    assert.equal(help.status, 0, help.stderr);
    assert.equal(help.stdout, runCli(['--help']).stdout);
    assert.match(help.stdout, /^Usage: daemonize /);
  });

  it('ends by SIGPIPE, without a word, when its reader goes away (--logs | head, --logs --follow | head)', async () => {
    const dir = scratch.dir();
    const log = numberedLog(dir, 60000);
    const pidfile = path.join(dir, 'app.pid');
    // A parent that reads 10 bytes, closes its end and reports how the CLI ended (a negative status: a signal).
    const closedEarly = spawnSync('python3', ['-c', `
import subprocess, sys
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
p.stdout.read(10); p.stdout.close()
err = p.stderr.read()
print(p.wait(), repr(err.decode()))`, process.execPath, CLI, '--logs', '--lines', '60000', '--stdout', log, '--pidfile', pidfile], { encoding: 'utf8' });
    assert.equal(closedEarly.stdout, "-13 ''\n", closedEarly.stderr);

    // Following: the reader goes away; the next lines the log gains end the CLI the same way.
    fs.writeFileSync(log, '');
    const follower = spawn(process.execPath, [CLI, '--logs', '--follow', '--stdout', log, '--pidfile', pidfile], { stdio: ['ignore', 'pipe', 'pipe'] });
    scratch.track(follower.pid);
    let stderr = '';
    follower.stderr.on('data', (d) => { stderr += d; });
    const ended = new Promise((resolve) => follower.on('exit', (code, signal) => resolve({ code, signal })));
    await new Promise((resolve) => follower.stdout.once('data', resolve));
    follower.stdout.destroy();
    for (let i = 0; i < 200 && follower.exitCode === null && follower.signalCode === null; i++) {
      fs.appendFileSync(log, `more ${i}\n`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.deepEqual(await ended, { code: null, signal: 'SIGPIPE' });
    assert.equal(stderr, '');
  });

  it('says so in one line when stdout is full (/dev/full), exit 1', () => {
    const dir = scratch.dir();
    for (const args of [['--status', '--pidfile', path.join(dir, 'none.pid')], ['--help']]) {
      const run = spawnSync(process.execPath, [CLI, ...args], { stdio: ['ignore', fs.openSync('/dev/full', 'w'), 'pipe'], encoding: 'utf8' });
      assert.equal(run.stderr, 'daemonize: fatal: unable to write to the standard output: No space left on device\n');
      assert.equal(run.status, 1);
    }
  });

  it('reads a supervisor\'s status record as large as a long command line (1.2 MB of arguments)', async () => {
    const dir = scratch.dir();
    const args = Array.from({ length: 11 }, (_, i) => `${i}${'a'.repeat(110000)}`);
    const d = supervise(scratch, ['--stop-timeout', '45'], ['/bin/sh', '-c', `exec ${scratch.sleeper().join(' ')}`, ...args], dir);
    scratch.track(d.status().child);
    const record = path.join(dir, `${path.basename(d.pidfile, '.pid')}.status`);
    await waitFor(() => fs.existsSync(record) && fs.statSync(record).size > 1024 * 1024, 'a record over 1 MiB');
    const status = runCli(['--status', '--json', '--pidfile', d.pidfile], { maxBuffer: 16 << 20 });
    assert.equal(status.status, 0, status.stderr);
    const json = JSON.parse(status.stdout);
    assert.equal(json.restarts, 0);
    assert.equal(json.command.length, 14);
    assert.equal(runCli(['--pidfile', d.pidfile, '--stop']).status, 0);
  });
});
