'use strict';
// syslog[:FACILITY.LEVEL] for --errlog, --stdout, --stderr and --output: the real supervisor sends RFC 3164
// lines to a test syslog socket (DAEMONIZE_SYSLOG_SOCKET; /dev/log cannot be replaced safely here), which a
// python receiver binds; each datagram is checked for its PRI, tag, pid and text.
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { describe, it, after } = require('node:test');

const proc = require('./helpers/proc');
const { Scratch, runCli, waitFor } = require('./helpers/harness');
const { supervise } = require('./helpers/supervised');
const { syslogDaemon: startSyslogDaemon, withSocket } = require('./helpers/syslog');
const { LineSplitter } = require('../dist/supervisor/output-relay');
const { parseSyslogTarget, syslogTimestamp } = require('../dist/syslog');

const scratch = new Scratch();
after(() => scratch.cleanup());
const syslogDaemon = () => startSyslogDaemon(scratch);

describe('syslog output', () => {
  it('--stdout syslog and --stderr syslog:local3.warning send the program\'s lines under its pid, long ones split', async () => {
    const syslog = await syslogDaemon();
    const script = 'echo hello; echo oops >&2; head -c 2000 /dev/zero | tr "\\0" x; echo; printf tail; exec sleep 1000';
    const d = withSocket(syslog.socket, () => supervise(scratch, ['--name', 'web', '--stdout', 'syslog', '--stderr', 'syslog:local3.warning'],
      ['sh', '-c', script]));
    const child = d.status().child;
    // "tail" has no newline: it is sent when the pipe ends, so stop the program.
    const stop = runCli(['--pidfile', d.pidfile, '--stop']);
    assert.equal(stop.status, 0, stop.stderr);
    const got = await waitFor(() => {
      const m = syslog.messages();
      return m.some((x) => x.text === 'tail') && m;
    }, 'the program\'s lines');
    for (const m of got) {
      assert.equal(m.tag, 'web');
      assert.equal(m.pid, child);
    }
    assert.deepEqual(got.filter((m) => m.text === 'hello').map((m) => m.pri), [3 * 8 + 6], 'daemon.info');
    assert.deepEqual(got.filter((m) => m.text === 'oops').map((m) => m.pri), [19 * 8 + 4], 'local3.warning');
    const xs = got.filter((m) => /^x+$/.test(m.text)).map((m) => m.text.length);
    assert.deepEqual(xs, [960, 960, 80], 'a 2000-byte line in bounded pieces');
    // Where the event log is a file, the program's lines are not in it.
    assert.doesNotMatch(d.logText(), /hello|oops/);
  });

  it('--output syslog sends stdout at info and stderr at err; the event log stays a file', async () => {
    const syslog = await syslogDaemon();
    const d = withSocket(syslog.socket, () => supervise(scratch, ['--output', 'syslog'], ['sh', '-c', 'echo out; echo err >&2; exec sleep 1000']));
    const got = await waitFor(() => {
      const m = syslog.messages();
      return m.length >= 2 && m;
    }, 'two lines');
    assert.deepEqual(got.map((m) => [m.text, m.pri, m.tag]).sort(), [['err', 27, 'daemonize'], ['out', 30, 'daemonize']]);
    assert.match(d.logText(), /started sh/);
  });

  it('--errlog syslog:local1.notice sends the supervisor\'s events under the supervisor\'s pid', async () => {
    const syslog = await syslogDaemon();
    const d = withSocket(syslog.socket, () => supervise(scratch, ['--name', 'svc', '--errlog', 'syslog:local1.notice'], scratch.sleeper()));
    const child = d.status().child;
    process.kill(child, 'SIGKILL');
    const got = await waitFor(() => {
      const m = syslog.messages();
      return m.some((x) => x.text.includes(`(pid ${child}) killed by signal 9`)) && m;
    }, 'the death in the syslog');
    for (const m of got) assert.deepEqual([m.pri, m.tag, m.pid], [17 * 8 + 5, 'svc', d.supervisor]);
    assert.ok(got.some((m) => m.text === `started sleep (pid ${child})`), JSON.stringify(got));
    assert.equal(d.status().log, null, 'no event log file');
    assert.equal(fs.existsSync(path.join(d.dir, 'syslog')), false, 'no file named syslog');
  });

  it('without a syslog socket, lines are dropped with one warning in the event log; the program runs on', async () => {
    const dir = scratch.dir();
    const missing = path.join(dir, 'no-such.sock');
    const d = withSocket(missing, () => supervise(scratch, ['--stdout', 'syslog'],
      ['sh', '-c', 'for i in 1 2 3 4 5; do echo line $i; done; exec sleep 1000'], dir));
    await waitFor(() => d.logText().includes('unable to send to syslog'), 'the warning');
    const child = d.status().child;
    // Every line was read (the program went on to sleep), and none left a second warning.
    await waitFor(() => fs.readFileSync(`/proc/${child}/cmdline`, 'utf8').startsWith('sleep'), 'the program past its output');
    const warnings = d.logLines().filter((l) => l.includes('syslog'));
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0], new RegExp(`unable to send to syslog ${missing}: .*No such file or directory.*dropping lines until it works`));
    assert.ok(fs.existsSync(`/proc/${d.supervisor}`));
  });

  it('a syslog that stops reading never stalls the supervisor: lines are dropped with one warning, --stop works', async () => {
    const dir = scratch.dir();
    const socket = path.join(dir, 'stuck.sock');
    const stuck = spawn('python3', ['-c', 'import socket,sys,time; s=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM); ' +
      's.bind(sys.argv[1]); time.sleep(1000)', socket], { stdio: 'ignore' });
    scratch.track(stuck.pid);
    await waitFor(() => fs.existsSync(socket), 'the stuck socket');
    const d = withSocket(socket, () => supervise(scratch, ['--stdout', 'syslog'],
      ['sh', '-c', 'i=0; while [ $i -lt 3000 ]; do echo line $i; i=$((i+1)); done; exec sleep 1000'], dir));
    await waitFor(() => d.logText().includes('unable to send to syslog'), 'the warning');
    const child = d.status().child;
    await waitFor(() => proc.stat(child)?.comm === 'sleep', 'the program past its 3000 lines');
    assert.equal(d.logLines().filter((l) => l.includes('syslog')).length, 1, d.logText());
    assert.match(d.logText(), /Resource temporarily unavailable/);
    const stop = runCli(['--pidfile', d.pidfile, '--stop']);
    assert.equal(stop.status, 0, stop.stderr);
  });

  it('refuses syslog without --respawn, bad FACILITY.LEVEL, and --output syslog with --stdout', () => {
    const dir = scratch.dir();
    const pidfile = path.join(dir, 'x.pid');
    const cases = [
      [['--stdout', 'syslog'], /syslog output needs --respawn/],
      [['--output', 'syslog:daemon.info'], /syslog output needs --respawn/],
      [['-r', '--stdout', 'syslog:daemon'], /bad --stdout "syslog:daemon": expected syslog or syslog:FACILITY.LEVEL/],
      [['-r', '--stderr', 'syslog:nosuch.info'], /bad --stderr "syslog:nosuch.info"/],
      [['-r', '--errlog', 'syslog:local0.loud'], /bad --errlog "syslog:local0.loud"/],
      [['-r', '--output', 'syslog', '--stdout', 'x.log'], /--output names the file for both streams/],
    ];
    for (const [args, message] of cases) {
      const result = runCli(['--pidfile', pidfile, ...args, '--', 'true']);
      assert.equal(result.status, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, /^daemonize: usage: /);
      assert.match(result.stderr, message);
    }
    assert.deepEqual(fs.readdirSync(dir), [], 'nothing created');
  });
});

describe('syslog units', () => {
  it('splits lines at newlines and at the bound, keeping a partial line for the end', () => {
    const splitter = new LineSplitter(4);
    assert.deepEqual(splitter.push(Buffer.from('ab\ncdefgh')).map(String), ['ab', 'cdef']);
    assert.deepEqual(splitter.push(Buffer.from('i\n\nj')).map(String), ['ghi', '']);
    assert.deepEqual(splitter.end().map(String), ['j']);
    assert.deepEqual(splitter.end(), []);
  });

  it('parses FACILITY.LEVEL and formats the RFC 3164 time stamp', () => {
    assert.deepEqual(parseSyslogTarget('--stdout', 'syslog'), { facility: 3 });
    assert.deepEqual(parseSyslogTarget('--stdout', 'syslog:LOCAL7.Debug'), { facility: 23, level: 7 });
    assert.equal(syslogTimestamp(new Date(2026, 0, 5, 3, 4, 5)), 'Jan  5 03:04:05');
    assert.equal(syslogTimestamp(new Date(2026, 11, 25, 13, 14, 15)), 'Dec 25 13:14:15');
  });
});
