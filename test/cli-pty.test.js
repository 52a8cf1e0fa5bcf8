'use strict';
// -p, --pty[=noecho] under -r: the real program sees a terminal on 0-2 that is its controlling one, its
// output reaches the --stdout/--output file through the supervisor, and each child's pty is closed when
// that child's tree ends.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { describe, it, after } = require('node:test');

const proc = require('./helpers/proc');
const { Scratch, runCli, waitFor } = require('./helpers/harness');
const { supervise } = require('./helpers/supervised');

const scratch = new Scratch();
after(() => scratch.cleanup());

/** The supervisor's descriptors on a pty master. */
const masters = (pid) => Object.values(proc.fds(pid)).filter((target) => target === '/dev/ptmx' || target === '/dev/pts/ptmx');

describe('--pty', () => {
  it('gives the program a controlling terminal on stdin, stdout and stderr; its output reaches the --stdout file', async () => {
    const dir = scratch.dir();
    const out = path.join(dir, 'out.log');
    const script = 'import os,sys; print("tty", os.isatty(0), os.isatty(1), os.isatty(2), os.ttyname(1)); ' +
      'print("err", file=sys.stderr); sys.stdout.flush(); os.execvp("sleep", ["sleep", sys.argv[1]])';
    const d = supervise(scratch, ['--pty', '--stdout', out], ['python3', '-c', script, `1000.${scratch.token()}`], dir);
    const text = await waitFor(() => {
      const t = fs.existsSync(out) ? fs.readFileSync(out, 'utf8') : '';
      return /err/.test(t) && t;
    }, 'the program\'s output in the file');
    const match = /tty True True True (\/dev\/pts\/\d+)/.exec(text);
    assert.ok(match, text);
    const child = d.status().child;
    const stat = proc.stat(child);
    assert.equal(stat.session, child, 'a session of its own');
    assert.equal(stat.pgrp, child, 'and a group of its own, as the supervisor expects');
    assert.notEqual(stat.ttyNr, 0, 'with a controlling terminal');
    const fds = proc.fds(child);
    assert.deepEqual([fds[0], fds[1], fds[2]], [match[1], match[1], match[1]]);
    assert.equal(masters(d.supervisor).length, 1);
    assert.equal(masters(child).length, 0, 'the master stays with the supervisor');
    // A new child gets a new pty; the dead child's is closed.
    process.kill(child, 'SIGKILL');
    const next = await waitFor(() => {
      const c = d.readStatus()?.child;
      return c && c !== child && proc.isAlive(c) && c;
    }, 'the next child');
    scratch.track(next);
    await waitFor(() => fs.readFileSync(out, 'utf8').match(/tty True/g).length === 2, 'the second child\'s output');
    await waitFor(() => masters(d.supervisor).length === 1, 'one master again');
    const stop = runCli(['--pidfile', d.pidfile, '--stop']);
    assert.equal(stop.status, 0, stop.stderr);
  });

  it('-p=noecho clears ECHO on the terminal; plain -p keeps it', async () => {
    for (const [flag, expected] of [['--pty=noecho', /(^|\s)-echo(\s|$)/m], ['-p', /(^|\s)echo(\s|$)/m]]) {
      const dir = scratch.dir();
      const out = path.join(dir, 'out.log');
      const d = supervise(scratch, [flag, '--output', out], ['sh', '-c', `stty -a; echo done; exec sleep 1000.${scratch.token()}`], dir);
      const text = await waitFor(() => {
        const t = fs.existsSync(out) ? fs.readFileSync(out, 'utf8') : '';
        return /done/.test(t) && t;
      }, `stty's output under ${flag}`);
      assert.match(text, expected, text);
      const stop = runCli(['--pidfile', d.pidfile, '--stop']);
      assert.equal(stop.status, 0, stop.stderr);
    }
  });

  it('without a file the output is discarded; -p before the program word is not its value', async () => {
    const dir = scratch.dir();
    const d = supervise(scratch, ['-p'], ['sh', '-c', `test -t 1 && exec sleep 1000.${scratch.token()}`], dir);
    const child = d.status().child;
    await waitFor(() => proc.stat(child)?.comm === 'sleep', 'sh to find a terminal and exec sleep');
    assert.deepEqual(fs.readdirSync(dir).sort(), ['app.log', 'app.pid', 'app.status']);
    const stop = runCli(['--pidfile', d.pidfile, '--stop']);
    assert.equal(stop.status, 0, stop.stderr);
  });

  it('in the foreground (-f -r) without a file, the terminal\'s output goes to the supervisor\'s stdout', () => {
    const dir = scratch.dir();
    const result = runCli(['-f', '-r', '-p', '--pidfile', path.join(dir, 'f.pid'), '-A', '1', '-L', '0', '-M', '1',
      '--', 'sh', '-c', 'tty; test -t 2 && echo stderr-is-a-tty']);
    assert.equal(result.status, 1, result.stderr);
    assert.equal(result.stdout.match(/^\/dev\/pts\/\d+\r?$/gm)?.length, 2, result.stdout);
    assert.equal(result.stdout.match(/stderr-is-a-tty/g)?.length, 2, result.stdout);
    assert.match(result.stderr, /gave up/);
  });

  it('refuses --pty without -r, with --stderr, and with syslog output', () => {
    const dir = scratch.dir();
    const pidfile = path.join(dir, 'x.pid');
    const cases = [
      [['--pty'], /--pty needs --respawn/],
      [['-r', '--pty=loud'], /bad --pty "loud": expected --pty or --pty=noecho/],
      [['-r', '--pty', '--stderr', path.join(dir, 'e.log')], /not --stderr/],
      [['-r', '--pty', '--stdout', 'syslog'], /--pty and syslog output cannot be used together/],
    ];
    for (const [args, message] of cases) {
      const result = runCli(['--pidfile', pidfile, ...args, '--', 'true']);
      assert.equal(result.status, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message);
    }
    assert.deepEqual(fs.readdirSync(dir), []);
  });
});
