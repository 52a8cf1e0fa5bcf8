'use strict';
// Attacks on --pty: a program running as --user (nobody) under a root supervisor, which must own its
// terminal and hold nothing of the supervisor's; a program that lets go of its terminal, or leaves it to a
// process of its own session that ignores HUP and TERM; a full disk under the output file; signals while the
// program starts; a tight `ulimit -n`.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { describe, it } = require('node:test');

const proc = require('./helpers/proc');
const { runCli, waitFor } = require('./helpers/harness');
const { scratchWithDisks } = require('./helpers/full-disk');
const { supervise } = require('./helpers/supervised');
const { startUnderFdLimit } = require('./helpers/fd-limit');

const { scratch, disks } = scratchWithDisks();

const isRoot = process.getuid() === 0;
/** The supervisor's descriptors on a pty master. */
const masters = (pid) => Object.values(proc.fds(pid)).filter((target) => target === '/dev/ptmx' || target === '/dev/pts/ptmx');
const text = (file) => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '');

describe('--pty under attack', () => {
  it('as --user nobody: the terminal is the program\'s own (it can open it by name), and it holds nothing of the supervisor\'s', async (t) => {
    if (!isRoot) return t.skip('needs root for --user');
    const dir = scratch.dir();
    fs.chmodSync(dir, 0o755);
    const out = path.join(dir, 'out.log');
    const script = 'import os,sys,time\nn=os.ttyname(0)\ntry:\n  os.close(os.open(n, os.O_RDWR)); r="reopened"\n'
      + 'except OSError as e: r="refused %s" % e.errno\nprint(n, r, flush=True)\ntime.sleep(float(sys.argv[1]))';
    const d = supervise(scratch, ['--user', 'nobody', '--pty', '--stdout', out], ['/usr/bin/python3', '-c', script, `1000.${scratch.token()}`], dir);
    const child = scratch.track(d.status().child);
    const line = await waitFor(() => /^\/dev\/pts\/\d+ .*$/m.exec(text(out)), 'the program\'s line');
    assert.match(line[0], /reopened$/, `the program cannot open its own terminal: ${line[0]}`);
    const slave = line[0].split(' ')[0];
    assert.equal(fs.statSync(slave).uid, 65534, 'the terminal is nobody\'s');
    // Nothing of the supervisor's in its hands: no master, no log, no pidfile, no status record.
    const held = Object.values(proc.fds(child));
    assert.equal(held.filter((target) => /ptmx/.test(target)).length, 0);
    for (const file of [d.pidfile, d.statusFile, d.log]) assert.ok(!held.includes(file), `the program holds ${file}`);
    assert.equal(proc.status(child).Uid.split(/\s+/)[0], '65534');
    assert.equal(runCli(['--stop', '--pidfile', d.pidfile]).status, 0);
  });

  // (Closing the master hangs the terminal up: the program, its session leader, gets SIGHUP, as on any terminal.)
  it('a program that closes its terminal and runs on (ignoring HUP): the supervisor lets go of the master, still stops and restarts it', async () => {
    const dir = scratch.dir();
    const out = path.join(dir, 'out.log');
    const d = supervise(scratch, ['--pty', '--output', out],
      ['sh', '-c', `trap '' HUP; echo before; exec sleep 1000.${scratch.token()} 0<&- 1>&- 2>&-`], dir);
    const child = scratch.track(d.status().child);
    await waitFor(() => text(out).includes('before'), 'its first line');
    await waitFor(() => masters(d.supervisor).length === 0, 'the master closed once no one holds the terminal');
    assert.ok(proc.isAlive(child), 'the program runs on');
    process.kill(child, 'SIGKILL');
    const next = await d.nextChild(child);
    await waitFor(() => text(out).split('before').length === 3, 'the next child on a new terminal');
    assert.ok(proc.isAlive(next.child));
    assert.equal(runCli(['--stop', '--pidfile', d.pidfile]).status, 0);
  });

  it('a process that keeps the terminal and ignores HUP and TERM: one master per child, nothing survives --stop', async () => {
    const dir = scratch.dir();
    const token = scratch.token();
    const program = ['sh', '-c', `setsid sh -c "trap '' HUP TERM; exec sleep 1001.${token}" & sleep 0.3; exit 1`];
    const d = supervise(scratch, ['--pty', '--stop-timeout', '1', '--acceptable', '0'], program, dir);
    await waitFor(() => (d.readStatus()?.restarts ?? 0) >= 3, 'three restarts', 20000);
    assert.ok(masters(d.supervisor).length <= 2, `${masters(d.supervisor).length} masters open`);
    const found = proc.findByToken(token);
    found.forEach((pid) => scratch.track(pid));
    // Looked at again once the scan of /proc is over: a slow scan can find an earlier child's leftover alive
    // just before its drain's SIGKILL, and the next child's processes just after.
    const left = found.filter(proc.isAlive);
    assert.ok(left.length <= 2, `${left.length} processes left by earlier children: ${left.map((pid) => proc.cmdline(pid).join(' ')).join('; ')}`);
    assert.equal(runCli(['--stop', '--pidfile', d.pidfile]).status, 0);
    assert.deepEqual(proc.findByToken(token), []);
  });

  it('a crash loop of a program that exits at once: the supervisor holds one terminal at a time, after hundreds of children', async () => {
    const dir = scratch.dir();
    const d = supervise(scratch, ['--pty', '--attempts', '1000000', '--delay', '0'], ['sh', '-c', 'exit 1'], dir);
    await waitFor(() => (d.readStatus()?.restarts ?? 0) >= 300, 'three hundred restarts', 60000);
    assert.ok(masters(d.supervisor).length <= 2, `${masters(d.supervisor).length} masters open`);
    const open = Object.keys(proc.fds(d.supervisor)).length;
    assert.ok(open < 40, `the supervisor holds ${open} descriptors`);
    assert.equal(d.logLines().filter((l) => /EMFILE|Too many open files/.test(l)).length, 0);
    assert.equal(runCli(['--stop', '--pidfile', d.pidfile]).status, 0);
  });

  it('a full disk under the output file: the log says output is lost (once), the program runs on', async (t) => {
    if (!isRoot) return t.skip('needs root to mount a tmpfs');
    const full = disks.make();
    const dir = scratch.dir();
    const out = path.join(full, 'out.log');
    const events = path.join(dir, 'events.log');
    const d = supervise(scratch, ['--pty', '--stdout', out, '--errlog', events],
      ['sh', '-c', `i=0; while [ $i -lt 50 ]; do echo line $i; i=$((i+1)); done; exec sleep 1000.${scratch.token()}`], dir);
    const child = scratch.track(d.status().child);
    const loss = () => d.logLines().filter((l) => l.includes('unable to write the terminal\'s output'));
    const lost = await waitFor(() => loss().length > 0 && loss(), 'the loss logged');
    await waitFor(() => proc.stat(child)?.comm === 'sleep', 'the program to write all its lines');
    assert.equal(loss().length, 1, loss().join('\n'));
    assert.match(lost[0], new RegExp(`to ${out.replace(/[.]/g, '\\.')}: .*(ENOSPC|no space left).*: dropping it until it works$`, 'i'));
    assert.ok(proc.isAlive(child) && proc.isAlive(d.supervisor));
    assert.equal(runCli(['--stop', '--pidfile', d.pidfile]).status, 0);
  });

  it('SIGTERM to the supervisor as the program starts on its terminal: nothing is left', async () => {
    const dir = scratch.dir();
    const token = scratch.token();
    const d = supervise(scratch, ['--pty'], ['sh', '-c', `trap '' HUP; exec sleep 1002.${token}`], dir);
    process.kill(d.supervisor, 'SIGTERM');
    await waitFor(() => !proc.isAlive(d.supervisor), 'the supervisor to end');
    await waitFor(() => proc.findByToken(token).length === 0, 'the program to be gone');
    assert.equal(fs.existsSync(d.pidfile), false);
  });

  it('under `ulimit -n 24`: a clear error, never a hang or a daemon that half started', () => {
    startUnderFdLimit(scratch, 24, ['--pty', '--output', path.join(scratch.dir(), 'out.log')]);
  });
});
