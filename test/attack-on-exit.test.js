'use strict';
// Attacks on --on-exit: a hook running as --user (nobody) under a root supervisor that tries to take the
// supervisor down through the private directory root removes after it; hooks that fork themselves away or
// ignore SIGTERM, and a SIGTERM to the supervisor while a hook runs (nothing may survive, no zombie kept);
// a full disk where the hook's private file goes; a tight `ulimit -n`.
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { describe, it } = require('node:test');

const proc = require('./helpers/proc');
const { runCli, readPidfile, waitFor } = require('./helpers/harness');
const { scratchWithDisks } = require('./helpers/full-disk');
const { supervise } = require('./helpers/supervised');
const { startUnderFdLimit } = require('./helpers/fd-limit');

const { scratch, disks } = scratchWithDisks();

const isRoot = process.getuid() === 0;

/** A directory nobody can write into (out/), inside one nobody can only pass through. */
function dropBox() {
  const dir = scratch.dir();
  fs.chmodSync(dir, 0o711);
  const out = path.join(dir, 'out');
  fs.mkdirSync(out);
  fs.chmodSync(out, 0o777);
  return { dir, out };
}

/** Processes, zombies excluded, whose command line holds `token`. */
const survivors = (token) => proc.findByToken(token);

describe('--on-exit under attack', () => {
  it('a hook as --user cannot take the root supervisor down through its private directory (a tree too deep to remove)', async (t) => {
    if (!isRoot) return t.skip('needs root for --user');
    const { dir, out } = dropBox();
    const events = path.join(dir, 'events.log');
    // The hook nests directories in its private directory until the path outgrows PATH_MAX, then says so.
    const hook = `d=$(dirname "$DAEMONIZE_STDERR_TAIL"); cd "$d" || exit 9; i=0; `
      + `while [ $i -lt 700 ] && mkdir aaaaaaaa 2>/dev/null && cd aaaaaaaa; do i=$((i+1)); done; `
      + `echo "$d $i" > ${out}/hook-$DAEMONIZE_CHILD_PID.tmp; mv ${out}/hook-$DAEMONIZE_CHILD_PID.tmp ${out}/hook-$DAEMONIZE_CHILD_PID`;
    const d = supervise(scratch, ['--user', 'nobody', '--errlog', events, '--acceptable', '0', '--on-exit', hook],
      ['sh', '-c', 'sleep 0.2; exit 1'], dir);
    const records = () => fs.readdirSync(out).filter((f) => /^hook-\d+$/.test(f));
    // Two hooks done: the supervisor outlived the first one's cleanup.
    await waitFor(() => records().length >= 2, 'two hooks to finish', 15000);
    const [first] = records();
    const [privateDir] = fs.readFileSync(path.join(out, first), 'utf8').trim().split(' ');
    await waitFor(() => !fs.existsSync(privateDir), `${privateDir} to be removed`);
    assert.ok(proc.isAlive(d.supervisor), `the supervisor died:\n${d.logText()}`);
    assert.doesNotMatch(d.logText(), /ENAMETOOLONG/);
    assert.equal(runCli(['--stop', '--pidfile', d.pidfile]).status, 0);
  });

  it('a hook as --user cannot truncate root\'s event log or write lines that pass for the supervisor\'s', async (t) => {
    if (!isRoot) return t.skip('needs root for --user');
    const { dir, out } = dropBox();
    const events = path.join(dir, 'events.log');
    // Truncate whatever stdout is, then forge a supervisor line.
    const hook = `python3 -c 'import os; os.ftruncate(1, 0)' 2>/dev/null; echo "forged daemonize[1]: all is well"; touch ${out}/done-$DAEMONIZE_CHILD_PID`;
    const d = supervise(scratch, ['--user', 'nobody', '--errlog', events, '--on-exit', hook], ['sh', '-c', 'sleep 0.2; exit 1'], dir);
    const done = await waitFor(() => fs.readdirSync(out).find((f) => f.startsWith('done-')), 'a hook to finish');
    const pid = done.slice('done-'.length);
    await waitFor(() => /on-exit hook \(pid \d+\): forged daemonize\[1\]: all is well$/m.test(d.logText()), 'the hook\'s line, labelled');
    const text = d.logText();
    assert.match(text, new RegExp(`started sh \\(pid ${pid}\\)`), `the log lost its first lines:\n${text}`);
    assert.doesNotMatch(text, /^forged/m);
    assert.equal(runCli(['--stop', '--pidfile', d.pidfile]).status, 0);
  });

  it('under --chroot the hook finds its DAEMONIZE_STDERR_TAIL inside the root', async (t) => {
    if (!isRoot) return t.skip('needs root for --chroot');
    const root = scratch.dir();
    fs.chmodSync(root, 0o755);
    // A root with sh and cat, and the libraries they load.
    for (const program of ['/bin/sh', '/bin/cat', '/bin/sleep']) {
      const real = fs.realpathSync(program);
      const libraries = spawnSync('ldd', [real], { encoding: 'utf8' }).stdout.match(/\/\S+/g) ?? [];
      for (const file of [real, ...libraries]) {
        fs.mkdirSync(path.join(root, path.dirname(file)), { recursive: true });
        fs.copyFileSync(file, path.join(root, file));
      }
      fs.mkdirSync(path.join(root, path.dirname(program)), { recursive: true });
      if (!fs.existsSync(path.join(root, program))) fs.copyFileSync(real, path.join(root, program));
    }
    fs.chmodSync(path.join(root, 'bin', 'sh'), 0o755);
    fs.mkdirSync(path.join(root, 'out'));
    const dir = scratch.dir();
    const d = supervise(scratch, ['--chroot', root, '--stderr', path.join(dir, 'app.err'),
      '--on-exit', 'cat "$DAEMONIZE_STDERR_TAIL" > /out/tail 2>&1'],
    ['/bin/sh', '-c', `[ -e /out/ended-once ] && exec sleep 1000.${scratch.token()}; : > /out/ended-once; echo 'the last words' >&2; exit 1`], dir);
    const tail = path.join(root, 'out', 'tail');
    const copied = await waitFor(() => fs.existsSync(tail) && fs.readFileSync(tail, 'utf8').endsWith('\n') && fs.readFileSync(tail, 'utf8'), 'the hook\'s copy');
    assert.equal(copied, 'the last words\n');
    const child = await waitFor(() => { const s = d.readStatus(); return s?.state === 'running' && proc.isAlive(s.child) && s.child; }, 'the successor');
    scratch.track(child);
    assert.equal(runCli(['--stop', '--pidfile', d.pidfile]).status, 0);
  });

  it('a hook that forks away and ignores SIGTERM: nothing it started survives --stop, and no zombie is kept', async () => {
    const dir = scratch.dir();
    const token = scratch.token();
    const started = path.join(dir, 'started');
    // The hook leaves a session of its own behind (setsid), ignoring TERM, and hangs itself ignoring TERM.
    const hook = `trap '' TERM; setsid sh -c "trap '' TERM; exec sleep 1001.${token}" & echo $! > ${started}; exec sleep 1002.${token}`;
    const d = supervise(scratch, ['--stop-timeout', '1', '--on-exit', hook], ['sh', '-c', 'sleep 0.2; exit 1'], dir);
    await waitFor(() => survivors(`1001.${token}`).length >= 1 && survivors(`1002.${token}`).length >= 1, 'the hook and what it left');
    const before = survivors(token);
    before.forEach((pid) => scratch.track(pid));
    const stop = runCli(['--stop', '--pidfile', d.pidfile]);
    assert.equal(stop.status, 0, stop.stderr);
    await waitFor(() => !proc.isAlive(d.supervisor), 'the supervisor to end');
    for (const pid of before) assert.equal(proc.isAlive(pid), false, `pid ${pid} (${proc.cmdline(pid).join(' ')}) survived --stop`);
    // Dead and reaped: a zombie whose parent is gone would be PID 1's, which reaps nothing.
    await waitFor(() => before.every((pid) => proc.stat(pid) === null || proc.stat(pid).ppid !== d.supervisor), 'no child of the supervisor left');
  });

  it('a process a hook left in a session of its own is never taken for the program: a program that exits 0 is restarted', async () => {
    const dir = scratch.dir();
    const token = scratch.token();
    const marker = path.join(dir, 'ended-once');
    const gate = path.join(dir, 'gate');
    // The first run crashes (its hook leaves a process behind); a later run waits for the test to open the
    // gate, and then exits 0 closing it behind, so the third waits too. Not a timed run: on a loaded machine the
    // hook can take longer than any fixed run time, and the second run would be gone before it was seen.
    const program = ['sh', '-c',
      `[ -e ${marker} ] && { while [ ! -e ${gate} ]; do sleep 0.01; done; rm ${gate}; exit 0; }; touch ${marker}; exit 1`];
    // The hook returns once the process it left has a session of its own (else the hook's group kill may come first).
    const away = path.join(dir, 'away');
    const hook = `setsid sh -c 'echo $$ > ${away}; exec sleep 1005.${token}' & while [ ! -s ${away} ]; do sleep 0.01; done`;
    const d = supervise(scratch, ['--stop-timeout', '1', '--on-exit', hook], program, dir);
    const [left] = await waitFor(() => survivors(`1005.${token}`).length >= 1 && survivors(`1005.${token}`), 'the hook to leave a process');
    scratch.track(left);
    const second = await waitFor(() => { const s = d.readStatus(); return s?.restarts === 1 && s.state === 'running' && s.child; }, 'the second run');
    scratch.track(second);
    fs.writeFileSync(gate, '');
    const third = await d.nextChild(second, 'the program restarted after its exit 0');
    assert.equal(proc.cmdline(third.child)[0], 'sh', `the supervisor follows ${proc.cmdline(third.child).join(' ')}:\n${d.logText()}`);
    assert.doesNotMatch(d.logText(), /forked away/);
    assert.equal(runCli(['--stop', '--pidfile', d.pidfile]).status, 0);
    assert.deepEqual(survivors(token), [], 'what the hooks left goes with the supervisor');
  });

  it('what the last hook (run at --stop) leaves in a session of its own does not outlive the supervisor', async () => {
    const dir = scratch.dir();
    const token = scratch.token();
    // The hook starts its leftover late, after the supervisor has stopped the program's tree (it waits for
    // the hook to end), and that leftover leaves the hook's session and group.
    const hook = `sleep 0.2; setsid sh -c 'exec sleep 1007.${token}' &`;
    const d = supervise(scratch, ['--stop-timeout', '1', '--on-exit', hook], ['sleep', `1008.${token}`], dir);
    const child = await waitFor(() => d.readStatus()?.child, 'the program');
    scratch.track(child);
    assert.equal(runCli(['--stop', '--pidfile', d.pidfile]).status, 0);
    assert.equal(proc.isAlive(d.supervisor), false);
    assert.deepEqual(survivors(token), [], `nothing the last hook started is left:\n${d.logText()}`);
  });

  it('--stop with hanging hooks queued behind a crash loop: the supervisor ends within what --stop waits, and removes its files', async () => {
    const dir = scratch.dir();
    const token = scratch.token();
    const events = path.join(dir, 'events.log');
    const d = supervise(scratch, ['--errlog', events, '--stop-timeout', '2', '--acceptable', '0', '--on-exit', `exec sleep 1006.${token}`],
      ['sh', '-c', 'sleep 0.1; exit 1'], dir);
    // One hook hanging and five ends waiting behind it.
    await waitFor(() => (d.readStatus()?.restarts ?? 0) >= 7, 'a crash loop with hooks queued');
    const stop = runCli(['--stop', '--pidfile', d.pidfile], { timeout: 60000 });
    assert.equal(stop.status, 0, stop.stderr);
    assert.doesNotMatch(stop.stderr, /did not stop in time/, 'the supervisor was SIGKILLed by --stop');
    assert.equal(proc.isAlive(d.supervisor), false);
    assert.equal(fs.existsSync(d.pidfile), false, 'the pidfile removed by the supervisor itself');
    assert.equal(fs.existsSync(d.statusFile), false, 'no record left to lie');
    assert.match(d.logText(), /on-exit hook not run for pid \d+: the supervisor is ending/);
    assert.deepEqual(survivors(token), []);
  });

  it('a program that exits at once, with a hook and no delay between restarts: --stop is heard, no SIGKILL needed', async () => {
    // Each reap once handled every child that had ended by the time it asked, the respawn and the hook it
    // had just started among them: the supervisor never returned to its event loop, and the SIGTERM waited
    // until --stop's deadline (about 25 s) and its SIGKILL.
    const dir = scratch.dir();
    const events = path.join(dir, 'events.log');
    const d = supervise(scratch, ['--errlog', events, '--attempts', '1000000', '--delay', '0', '--on-exit', 'true'],
      ['sh', '-c', 'exit 1'], dir);
    await waitFor(() => (d.readStatus()?.restarts ?? 0) >= 50, 'a crash loop with a hook after each end');
    const stop = runCli(['--stop', '--pidfile', d.pidfile, '--stop-timeout', '5'], { timeout: 60000 });
    assert.equal(stop.status, 0, stop.stderr);
    assert.doesNotMatch(stop.stderr, /did not stop in time/, 'the supervisor was SIGKILLed by --stop');
    assert.equal(proc.isAlive(d.supervisor), false);
    assert.match(d.logText(), /SIGTERM received|stopped/);
    assert.equal(fs.existsSync(d.pidfile), false, 'the pidfile removed by the supervisor itself');
  });

  it('SIGHUP then SIGTERM to the supervisor while a hook hangs: HUP changes nothing, TERM ends it all within --stop-timeout', async () => {
    const dir = scratch.dir();
    const token = scratch.token();
    const ran = path.join(dir, 'ran');
    const events = path.join(dir, 'events.log');
    // The program ends once (its hook then hangs), and its successor sleeps.
    const marker = path.join(dir, 'ended-once');
    // (It ignores HUP, which the supervisor passes on to it.)
    const program = ['sh', '-c', `[ -e ${marker} ] && { trap '' HUP; exec sleep 1000.${token}; }; touch ${marker}; exit 1`];
    const d = supervise(scratch, ['--errlog', events, '--stop-timeout', '1', '--on-exit', `touch ${ran}; exec sleep 1003.${token}`], program, dir);
    const [hook] = await waitFor(() => fs.existsSync(ran) && survivors(`1003.${token}`).length === 1 && survivors(`1003.${token}`), 'the hook to hang');
    scratch.track(hook);
    const running = await waitFor(() => { const s = d.readStatus(); return s?.state === 'running' && proc.isAlive(s.child) && s.child; }, 'the successor');
    scratch.track(running);
    // HUP reopens the log (rotated away here): once the new file is there, the HUP was handled.
    fs.renameSync(events, `${events}.1`);
    process.kill(d.supervisor, 'SIGHUP');
    await waitFor(() => fs.existsSync(events), 'the log reopened by HUP');
    assert.ok(proc.isAlive(d.supervisor) && proc.isAlive(hook) && proc.isAlive(running), 'HUP reopens the log, nothing more');
    process.kill(d.supervisor, 'SIGTERM');
    await waitFor(() => !proc.isAlive(d.supervisor), 'the supervisor to end', 15000);
    assert.equal(proc.isAlive(hook), false, 'the hanging hook was killed');
    assert.deepEqual(survivors(token), []);
    assert.equal(fs.existsSync(d.pidfile), false, 'the pidfile removed');
    assert.equal(fs.existsSync(d.statusFile), false, 'the status record removed');
  });

  it('a full disk where the hook\'s private file goes: the failure is logged, the service keeps running, nothing is left there', async (t) => {
    if (!isRoot) return t.skip('needs root to mount a tmpfs');
    const full = disks.make();
    const dir = scratch.dir();
    const events = path.join(dir, 'events.log');
    const stderr = path.join(dir, 'app.err');
    const marker = path.join(dir, 'ended-once');
    const token = scratch.token();
    const program = ['sh', '-c', `[ -e ${marker} ] && exec sleep 1000.${token}; touch ${marker}; echo 'last words' >&2; exit 1`];
    const pidfile = path.join(dir, 'app.pid');
    const result = runCli(['--respawn', '--pidfile', pidfile, '--errlog', events, '--stderr', stderr,
      '--on-exit', `touch ${dir}/hook-ran`, '--', ...program], { env: { ...process.env, TMPDIR: full } });
    assert.equal(result.status, 0, result.stderr);
    const supervisor = scratch.track(readPidfile(pidfile));
    await waitFor(() => /unable to run the on-exit hook: .*(ENOSPC|no space left on device)/i.test(fs.readFileSync(events, 'utf8')), 'the failure in the log');
    const status = await waitFor(() => {
      try {
        const s = JSON.parse(fs.readFileSync(path.join(dir, 'app.status'), 'utf8'));
        return s.state === 'running' && proc.isAlive(s.child) && s;
      } catch {
        return null;
      }
    }, 'the successor to run');
    scratch.track(status.child);
    assert.deepEqual(fs.readdirSync(full), ['fill'], 'no private directory left on the full disk');
    assert.ok(proc.isAlive(supervisor));
    assert.equal(runCli(['--stop', '--pidfile', pidfile]).status, 0);
  });

  it('under `ulimit -n 24`: a clear error, never a hang or a daemon that half started', () => {
    startUnderFdLimit(scratch, 24, ['--on-exit', 'true']);
  });
});
