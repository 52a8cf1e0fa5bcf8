'use strict';
// Attacks on syslog output (--output/--stdout/--stderr/--errlog syslog): a program running as --user
// (nobody) that writes lines dressed as syslog headers or as the supervisor's; a disk that fills up under
// the pidfile's directory while the event log goes to the syslog; a HUP (there is no file to reopen); a tight
// `ulimit -n`.
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { describe, it } = require('node:test');

const proc = require('./helpers/proc');
const { runCli, waitFor } = require('./helpers/harness');
const { scratchWithDisks } = require('./helpers/full-disk');
const { supervise } = require('./helpers/supervised');
const { startUnderFdLimit } = require('./helpers/fd-limit');
const { syslogDaemon, withSocket } = require('./helpers/syslog');

const { scratch, disks } = scratchWithDisks();

const isRoot = process.getuid() === 0;

describe('syslog output under attack', () => {
  it('a program as --user nobody cannot pass its lines off as another\'s: each is one message under its own header and pid', async (t) => {
    if (!isRoot) return t.skip('needs root for --user');
    const syslog = await syslogDaemon(scratch);
    fs.chmodSync(path.dirname(syslog.socket), 0o755);
    const token = scratch.token();
    const script = `printf '<0>Dec  1 00:00:00 daemonize[1]: forged emerg\\n'; printf 'one\\rdaemonize[1]: two\\n'; `
      + `printf 'no newline, then the end'; exec sleep 1000.${token}`;
    const d = withSocket(syslog.socket, () => supervise(scratch, ['--user', 'nobody', '--name', 'web', '--stdout', 'syslog', '--errlog', 'syslog'],
      ['sh', '-c', script]));
    const child = scratch.track(d.status().child);
    assert.equal(proc.status(child).Uid.split(/\s+/)[0], '65534');
    const stop = runCli(['--stop', '--pidfile', d.pidfile]);
    assert.equal(stop.status, 0, stop.stderr);
    const got = await waitFor(() => {
      const m = syslog.messages().filter((x) => x.pid === child);
      return m.some((x) => x.text === 'no newline, then the end') && m;
    }, 'the program\'s three lines');
    assert.deepEqual(got.map((m) => [m.pri, m.tag]), Array(3).fill([3 * 8 + 6, 'web']), 'daemon.info under the --name, whatever the line says');
    assert.deepEqual(got.map((m) => m.text), ['<0>Dec  1 00:00:00 daemonize[1]: forged emerg', 'one\rdaemonize[1]: two', 'no newline, then the end']);
    // The supervisor's own events come under its own pid, none of them the program's words.
    const events = syslog.messages().filter((m) => m.pid === d.supervisor);
    assert.ok(events.some((m) => m.text === `started sh (pid ${child})`), JSON.stringify(events));
    assert.ok(!events.some((m) => /forged|two/.test(m.text)));
  });

  it('a disk that fills under the pidfile\'s directory: the syslog hears it, the status record is removed, not left to lie; written again once there is room', async (t) => {
    if (!isRoot) return t.skip('needs root to mount a tmpfs');
    const syslog = await syslogDaemon(scratch);
    const dir = disks.make(false);
    const d = withSocket(syslog.socket, () => supervise(scratch, ['--errlog', 'syslog'], scratch.sleeper(), dir));
    const first = scratch.track(d.status().child);
    disks.fill(dir);
    process.kill(first, 'SIGKILL');
    const statusPath = d.statusFile.replace(/[.]/g, '\\.');
    await waitFor(() => syslog.messages().some((m) => new RegExp(`unable to write ${statusPath}: .*(No space left|ENOSPC)`, 'i').test(m.text)),
      'the failure in the syslog');
    // The restart happened all the same; the record says nothing rather than name the dead child.
    const record = d.readStatus();
    assert.ok(record === null || record.child !== first, JSON.stringify(record));
    // Room again; the next change of state (a restart, SIGUSR1) writes the record.
    fs.rmSync(path.join(dir, 'fill'));
    process.kill(d.supervisor, 'SIGUSR1');
    const second = await d.nextChild(first, 'a record once there is room');
    await waitFor(() => syslog.messages().some((m) => m.text === `${d.statusFile} written again`), 'the recovery in the syslog');
    assert.ok(proc.isAlive(second.child));
    assert.equal(runCli(['--stop', '--pidfile', d.pidfile]).status, 0);
    assert.equal(fs.existsSync(d.pidfile), false);
  });

  it('a program flooding its syslog output: the supervisor still hears --stop, and the event log gets a few warnings, not one per hiccup', async () => {
    const dir = scratch.dir();
    const socket = path.join(dir, 'sink.sock');
    // A syslog that reads as fast as it can and keeps nothing: it sometimes falls behind (EAGAIN), sometimes not.
    const sink = spawn('python3', ['-c', 'import socket,sys\ns=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM)\ns.bind(sys.argv[1])\n'
      + 'while True: s.recv(65536)', socket], { stdio: 'ignore' });
    scratch.track(sink.pid);
    await waitFor(() => fs.existsSync(socket), 'the sink');
    const d = withSocket(socket, () => supervise(scratch, ['--stdout', 'syslog', '--stop-timeout', '2'], ['yes'], dir));
    const child = scratch.track(d.status().child);
    await waitFor(() => d.logText().includes('unable to send to syslog'), 'the flood to outrun the syslog');
    const stop = runCli(['--stop', '--pidfile', d.pidfile], { timeout: 60000 });
    assert.equal(stop.status, 0, stop.stderr);
    assert.doesNotMatch(stop.stderr, /did not stop in time/, 'the supervisor never heard SIGTERM');
    assert.equal(proc.isAlive(child), false);
    assert.match(d.logText(), /SIGTERM received/);
    const warnings = d.logLines().filter((l) => l.includes('syslog'));
    assert.ok(warnings.length <= 4, `${warnings.length} lines about the syslog:\n${warnings.slice(0, 6).join('\n')}`);
  });

  it('HUP with the event log in the syslog (no file to reopen): the supervisor carries on and still logs', async () => {
    const syslog = await syslogDaemon(scratch);
    const d = withSocket(syslog.socket, () => supervise(scratch, ['--errlog', 'syslog'], ['sh', '-c', `trap '' HUP; exec sleep 1000.${scratch.token()}`]));
    const child = scratch.track(d.status().child);
    await waitFor(() => proc.stat(child)?.comm === 'sleep', 'the program to ignore HUP');
    process.kill(d.supervisor, 'SIGHUP');
    process.kill(child, 'SIGKILL');
    await waitFor(() => syslog.messages().some((m) => m.text.includes(`(pid ${child}) killed by signal 9`)), 'the next event in the syslog');
    assert.ok(proc.isAlive(d.supervisor));
    await d.nextChild(child);
    assert.equal(runCli(['--stop', '--pidfile', d.pidfile]).status, 0);
  });

  it('under `ulimit -n 24`: a clear error, never a hang or a daemon that half started', async () => {
    const syslog = await syslogDaemon(scratch);
    withSocket(syslog.socket, () => startUnderFdLimit(scratch, 24, ['--output', 'syslog', '--errlog', 'syslog']));
  });
});
