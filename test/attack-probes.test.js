'use strict';
// Attacks on the probes (--health-cmd, --max-memory, --watchdog): a check under --user seen from /proc
// while it runs; checks that leave processes of their own session behind, which must never be taken for
// the program, nor survive --stop; a full disk under the event log; a tight `ulimit -n`.
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
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
/** Live `sleep ARG` processes (not the shells whose command lines merely mention ARG). */
const sleeping = (arg) => proc.findByToken(arg).filter((pid) => proc.cmdline(pid)[0] === 'sleep');

describe('the probes under attack', () => {
  it('a hanging health check runs as --user: /proc shows its uid and gid, not root\'s', async (t) => {
    if (!isRoot) return t.skip('needs root for --user');
    const token = scratch.token();
    const d = supervise(scratch, ['--user', 'nobody', '--health-cmd', `exec sleep 1001.${token}`, '--health-interval', '0.1', '--health-timeout', '60'],
      scratch.sleeper());
    const [check] = await waitFor(() => sleeping(`1001.${token}`).length === 1 && sleeping(`1001.${token}`), 'a hanging check');
    const status = proc.status(check);
    assert.equal(status.Uid.split(/\s+/).join(' '), '65534 65534 65534 65534');
    assert.equal(status.Gid.split(/\s+/).join(' '), '65534 65534 65534 65534');
    const nobodyGroups = spawnSync('id', ['-G', 'nobody'], { encoding: 'utf8' }).stdout.trim().split(/\s+/).sort();
    assert.deepEqual(status.Groups.split(/\s+/).filter(Boolean).sort(), nobodyGroups, 'nobody\'s groups, none of root\'s');
    assert.equal(proc.stat(check).pgrp, check, 'a process group of its own, killed whole');
    assert.equal(runCli(['--stop', '--pidfile', d.pidfile]).status, 0);
    assert.equal(proc.isAlive(check), false);
  });

  it('a process a check left in a session of its own is never taken for the program: a program that exits 0 is restarted', async () => {
    const token = scratch.token();
    // Each check returns once the process it left has a session of its own (else the check's group kill may come first).
    const away = path.join(scratch.dir(), 'away');
    const check = `setsid sh -c 'echo $$ > ${away}.$$; exec sleep 1002.${token}' & while [ ! -s ${away}.$! ]; do sleep 0.01; done`;
    const d = supervise(scratch, ['--stop-timeout', '1', '--health-cmd', check, '--health-interval', '0.1'], ['sh', '-c', 'sleep 1; exit 0']);
    const first = scratch.track(d.status().child);
    await waitFor(() => sleeping(`1002.${token}`).length >= 1, 'a check to leave a process behind');
    const next = await d.nextChild(first, 'the program restarted');
    assert.equal(proc.cmdline(next.child)[0], 'sh', `the supervisor follows ${proc.cmdline(next.child).join(' ')}:\n${d.logText()}`);
    assert.doesNotMatch(d.logText(), /forked away/);
    assert.equal(runCli(['--stop', '--pidfile', d.pidfile]).status, 0);
    assert.deepEqual(sleeping(`1002.${token}`), [], 'what the checks left goes with the supervisor');
  });

  it('--max-memory counts the program\'s tree only: a big process a check left behind restarts nothing', async () => {
    const dir = scratch.dir();
    const token = scratch.token();
    const away = path.join(dir, 'away');
    const big = `import os,time; a=bytearray(96<<20); open('${away}', 'w').write(str(os.getpid())); time.sleep(1000)`;
    const check = `[ -e ${away} ] || setsid python3 -c "${big}" 1005.${token} & while [ ! -s ${away} ]; do sleep 0.01; done`;
    const d = supervise(scratch, ['--max-memory', '64M', '--health-cmd', check, '--health-interval', '0.1'], scratch.sleeper(), dir);
    const child = scratch.track(d.status().child);
    const leftBehind = await waitFor(() => fs.existsSync(away) && Number(fs.readFileSync(away, 'utf8')), 'the big process');
    scratch.track(leftBehind);
    // Four samples (one a second) with the big process alive: three over the limit would have restarted it.
    const sampled = Date.now();
    await waitFor(() => Date.now() - sampled > 4500 || /max-memory/.test(d.logText()), 'four memory samples', 10000);
    assert.doesNotMatch(d.logText(), /max-memory/);
    assert.equal(d.status().child, child, 'no restart');
    assert.equal(runCli(['--stop', '--pidfile', d.pidfile]).status, 0);
    assert.equal(proc.isAlive(leftBehind), false, 'what the check left goes with the supervisor');
  });

  it('a check cannot feed the program\'s watchdog: WATCHDOG=1 from outside its tree is ignored, a silent program restarted', async (t) => {
    if (!isRoot) return t.skip('needs root for --user');
    const dir = scratch.dir();
    fs.chmodSync(dir, 0o755);
    // The check, as the program's user, finds the program's NOTIFY_SOCKET in /proc and sends WATCHDOG=1 itself.
    const feeder = path.join(dir, 'feed.py');
    fs.writeFileSync(feeder, [
      'import json, os, socket, sys',
      `child = json.load(open('${path.join(dir, 'app.status')}'))['child']`,
      "env = dict(e.split('=', 1) for e in open('/proc/%d/environ' % child).read().split('\\0') if '=' in e)",
      "address = env['NOTIFY_SOCKET']",
      "address = '\\0' + address[1:] if address.startswith('@') else address",
      's = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)',
      "s.sendto(b'WATCHDOG=1', address)",
      "print('fed', child)",
    ].join('\n'));
    fs.chmodSync(feeder, 0o644);
    const d = supervise(scratch, ['--user', 'nobody', '--watchdog', '1', '--health-cmd', `/usr/bin/python3 ${feeder}`, '--health-interval', '0.1'],
      scratch.sleeper(), dir);
    const first = scratch.track(d.status().child);
    await waitFor(() => /ignored a notification from pid \d+/.test(d.logText()), 'the check\'s notification ignored');
    await d.nextChild(first, 'the watchdog\'s restart');
    assert.match(d.logText(), /sent no WATCHDOG=1 for 1 s/);
    assert.equal(runCli(['--stop', '--pidfile', d.pidfile]).status, 0);
  });

  it('checks that fork away and ignore SIGTERM: nothing they started survives --stop, and no zombie is kept', async () => {
    const token = scratch.token();
    const d = supervise(scratch, ['--stop-timeout', '1', '--health-cmd',
      `trap '' TERM; setsid sh -c "trap '' TERM; exec sleep 1003.${token}" & exec sleep 1004.${token}`,
      '--health-interval', '0.1', '--health-timeout', '0.3', '--health-retries', '100'], scratch.sleeper());
    scratch.track(d.status().child);
    await waitFor(() => sleeping(`1003.${token}`).length >= 2, 'two checks to leave processes behind');
    const left = proc.findByToken(token);
    left.forEach((pid) => scratch.track(pid));
    const stop = runCli(['--stop', '--pidfile', d.pidfile]);
    assert.equal(stop.status, 0, stop.stderr);
    assert.equal(proc.isAlive(d.supervisor), false);
    for (const pid of left) assert.equal(proc.isAlive(pid), false, `pid ${pid} (${proc.cmdline(pid).join(' ')}) survived --stop`);
    assert.deepEqual(proc.findByToken(token), []);
  });

  it('HUP then INT to the supervisor while a check hangs ignoring TERM: HUP leaves it be, INT stops everything at once', async () => {
    const token = scratch.token();
    const d = supervise(scratch, ['--health-cmd', `trap '' TERM HUP; exec sleep 1006.${token}`, '--health-interval', '0.1', '--health-timeout', '600'],
      ['sh', '-c', `trap '' HUP; exec sleep 1007.${token}`]);
    const [check] = await waitFor(() => sleeping(`1006.${token}`).length === 1 && sleeping(`1006.${token}`), 'a hanging check');
    scratch.track(check);
    const child = scratch.track(d.status().child);
    fs.renameSync(d.log, `${d.log}.1`);
    process.kill(d.supervisor, 'SIGHUP');
    await waitFor(() => fs.existsSync(d.log), 'the log reopened by HUP');
    assert.ok(proc.isAlive(check) && proc.isAlive(child) && proc.isAlive(d.supervisor));
    process.kill(d.supervisor, 'SIGINT');
    await waitFor(() => !proc.isAlive(d.supervisor), 'the supervisor to stop');
    assert.deepEqual(proc.findByToken(token), []);
    assert.equal(fs.existsSync(d.pidfile), false);
  });

  it('a full disk under the event log: failing checks still restart the program, the status record stays true', async (t) => {
    if (!isRoot) return t.skip('needs root to mount a tmpfs');
    const full = disks.make();
    const d = supervise(scratch, ['--errlog', path.join(full, 'events.log'), '--health-cmd', 'exit 1', '--health-interval', '0.1', '--health-retries', '2'],
      scratch.sleeper());
    const first = scratch.track(d.status().child);
    const next = await d.nextChild(first, 'the restart');
    assert.ok(next.restarts >= 1);
    assert.equal(proc.isAlive(first), false);
    assert.ok(proc.isAlive(d.supervisor));
    assert.equal(runCli(['--stop', '--pidfile', d.pidfile]).status, 0);
  });

  it('under `ulimit -n 24` with every probe on: a clear error, never a hang or a daemon that half started', () => {
    startUnderFdLimit(scratch, 24, ['--health-cmd', 'true', '--health-interval', '0.1', '--max-memory', '1G', '--watchdog', '30']);
  });
});
