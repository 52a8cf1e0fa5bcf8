'use strict';
// Why it died, end to end: the real supervisor, real deaths; the event log's sentence, the program's last
// words read from its stderr file, and `lastExit` in the status record.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { describe, it, after } = require('node:test');

const proc = require('./helpers/proc');
const { Scratch, runCli, waitFor } = require('./helpers/harness');
const { supervise } = require('./helpers/supervised');

const scratch = new Scratch();
after(() => scratch.cleanup());

/** A program that, on its first run only, writes to stderr and kills itself with `signal`; later runs sleep. */
function diesOnce(dir, signal, words) {
  const marker = path.join(dir, 'ran-once');
  const sleep = scratch.sleeper().join(' ');
  const say = words.map((w) => `echo '${w}' >&2;`).join(' ');
  return ['sh', '-c', `[ -e ${marker} ] && exec ${sleep}; touch ${marker}; ${say} kill -${signal} $$`];
}

describe('why it died', () => {
  it('a child killed by SIGSEGV after printing to stderr: the log names the signal and quotes its last line; lastExit has it', async () => {
    const dir = scratch.dir();
    const stderr = path.join(dir, 'app.err');
    fs.writeFileSync(stderr, 'an old line from an earlier run\n');
    const d = supervise(scratch, ['--stderr', stderr], diesOnce(dir, 'SEGV', ['starting up', 'about to crash']), dir);
    const record = await waitFor(() => d.readStatus()?.lastExit && d.readStatus(), 'lastExit in the status record');
    scratch.track(record.child);
    const lines = d.logText(stderr).split('\n');
    const at = lines.findIndex((l) => /daemonize\[\d+\]: sh \(pid \d+\) killed by signal 11 \(SIGSEGV\)(, core dumped)? after \d+\.\d s; restarting/.test(l));
    assert.ok(at >= 0, lines.join('\n'));
    assert.match(lines[at], new RegExp(`; its last words in ${stderr.replace(/[.]/g, '\\.')}:$`));
    assert.match(lines[at + 1], /daemonize\[\d+\]:   > starting up$/);
    assert.match(lines[at + 2], /daemonize\[\d+\]:   > about to crash$/);
    const last = record.lastExit;
    assert.equal(last.signal, 'SIGSEGV');
    assert.equal(last.code, null);
    assert.equal(typeof last.coreDumped, 'boolean');
    assert.deepEqual(last.stderrTail, ['starting up', 'about to crash'], 'only what it wrote since it started');
    assert.match(last.reason, /^sh \(pid \d+\) killed by signal 11 \(SIGSEGV\)/);
    assert.ok(last.uptime >= 0 && last.uptime < 60);
    assert.ok(Math.abs(Date.parse(last.at) - Date.now()) < 60000, last.at);
    assert.deepEqual(record.command.slice(0, 2), ['sh', '-c']);
    assert.equal(record.stderr, stderr);
    assert.equal(record.stdout, null);
    // What the verbs print: --status --json carries it whole; the human line in brief.
    const json = JSON.parse(runCli(['--status', '--json', '--pidfile', d.pidfile]).stdout);
    assert.deepEqual(json.lastExit, last);
    assert.deepEqual(json.command, record.command);
    assert.equal(json.stderr, stderr);
    assert.equal(json.stdout, null);
    assert.match(runCli(['--status', '--pidfile', d.pidfile]).stdout, /, last exit: SIGSEGV(, core dumped)?, \d+\.\d s ago/);
  });

  it('names who ended it: --restart, then --stop', async () => {
    const dir = scratch.dir();
    const d = supervise(scratch, ['--errlog', path.join(dir, 'events.log')], scratch.sleeper(), dir);
    const first = d.status().child;
    assert.equal(runCli(['--restart', '--pidfile', d.pidfile]).status, 0);
    await waitFor(() => d.logLines().some((l) => l.includes(`sleep (pid ${first}) killed by signal 15 (SIGTERM) after`)
      && l.endsWith(': restarted by SIGUSR1 to the supervisor (--restart); restarting')), 'the restart sentence');
    const second = scratch.track(d.status().child);
    assert.equal(d.status().lastExit.signal, 'SIGTERM');
    assert.equal(runCli(['--stop', '--pidfile', d.pidfile]).status, 0);
    assert.ok(d.logLines().some((l) => l.includes(`sleep (pid ${second}) killed by signal 15 (SIGTERM) after`)
      && l.endsWith(': stopped by SIGTERM to the supervisor (--stop); stopping')), d.logLines().join('\n'));
    assert.equal(proc.isAlive(second), false);
  });
});

describe('the OOM killer', () => {
  const MEMORY = '/sys/fs/cgroup/memory';

  /** A fresh v1 memory cgroup with a small limit, or the reason there cannot be one here. */
  function memoryCgroup() {
    if (process.getuid() !== 0) return { skip: 'needs root to make a memory cgroup' };
    if (!fs.existsSync(path.join(MEMORY, 'memory.limit_in_bytes'))) return { skip: `no cgroup v1 memory controller at ${MEMORY}` };
    const dir = path.join(MEMORY, `daemonize-test-${scratch.token()}`);
    try {
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, 'memory.limit_in_bytes'), String(48 * 1024 * 1024));
    } catch (error) {
      try { fs.rmdirSync(dir); } catch { /* never made */ }
      return { skip: `cannot make a memory cgroup here: ${error.message}` };
    }
    return { dir };
  }

  it('a child killed by the OOM killer inside a memory cgroup with a small limit is said to be', async (t) => {
    const cgroup = memoryCgroup();
    if (cgroup.skip) return t.skip(cgroup.skip);
    t.after(async () => {
      // The cgroup can be removed once nothing is in it.
      await waitFor(() => fs.readFileSync(path.join(cgroup.dir, 'cgroup.procs'), 'utf8').trim() === '', 'the cgroup to empty', 10000)
        .catch(() => undefined);
      fs.rmdirSync(cgroup.dir);
    });
    const dir = scratch.dir();
    const marker = path.join(dir, 'ran-once');
    const grow = 'a = []\nwhile True: a.append(bytearray(1 << 20))';
    const program = ['sh', '-c', `[ -e ${marker} ] && exec ${scratch.sleeper().join(' ')}; touch ${marker}; `
      + `echo $$ > ${cgroup.dir}/cgroup.procs; echo growing >&2; exec python3 -c '${grow}'`];
    const stderr = path.join(dir, 'app.err');
    const d = supervise(scratch, ['--stderr', stderr, '--errlog', path.join(dir, 'events.log')], program, dir);
    const record = await waitFor(() => d.readStatus()?.lastExit && d.readStatus(), 'lastExit', 20000);
    scratch.track(record.child);
    const sentence = d.logLines().find((l) => /python3|sh \(pid/.test(l) && /killed by signal 9 \(SIGKILL\)/.test(l));
    assert.ok(sentence, d.logLines().join('\n'));
    assert.match(sentence, /after \d+\.\d s: (probably )?killed by the kernel's OOM killer \(/);
    assert.equal(record.lastExit.signal, 'SIGKILL');
    assert.match(record.lastExit.reason, /killed by the kernel's OOM killer/);
    assert.deepEqual(record.lastExit.stderrTail, ['growing']);
    assert.equal(runCli(['--stop', '--pidfile', d.pidfile]).status, 0);
  });
});

describe('the kernel log', () => {
  const writable = process.getuid() === 0 && (() => {
    try {
      fs.accessSync('/dev/kmsg', fs.constants.W_OK | fs.constants.R_OK);
      return true;
    } catch {
      return false;
    }
  })();

  it('a record naming the child as killed for memory, logged while it ran, is the evidence', async (t) => {
    if (!writable) return t.skip('needs root and a readable, writable /dev/kmsg');
    const dir = scratch.dir();
    const d = supervise(scratch, ['--errlog', path.join(dir, 'events.log'), '-a', '0', '-A', '1000'], scratch.sleeper(), dir);
    const first = await d.nextChild(null);
    // As the kernel words it (root may write a record into the log); SIGKILL from outside, as the OOM killer sends it.
    fs.writeFileSync('/dev/kmsg', `daemonize test: Out of memory: Killed process ${first.child} (sleep) total-vm:1kB\n`);
    process.kill(first.child, 'SIGKILL');
    await d.nextChild(first.child);
    const line = await waitFor(() => d.logLines().find((l) => l.includes(`(pid ${first.child}) killed by signal 9`)), 'the end\'s line');
    assert.match(line, new RegExp(`killed by the kernel's OOM killer \\(the kernel log names pid ${first.child}\\)`));
  });

  it('is read through one descriptor per run, opened as it starts and closed with its end', async (t) => {
    if (!writable) return t.skip('needs root and a readable, writable /dev/kmsg');
    const dir = scratch.dir();
    const d = supervise(scratch, ['--errlog', path.join(dir, 'events.log'), '-a', '0', '-A', '1000'], scratch.sleeper(), dir);
    let child = (await d.nextChild(null)).child;
    const fds = () => fs.readdirSync(`/proc/${d.supervisor}/fd`).map((fd) => {
      try {
        return fs.readlinkSync(`/proc/${d.supervisor}/fd/${fd}`);
      } catch {
        return null; // closed while listed
      }
    }).filter((target) => target !== null);
    const before = fds().length;
    assert.equal(fds().filter((target) => target === '/dev/kmsg').length, 1, 'the running child\'s');
    // Each death from outside is SIGKILL, so each reads the log.
    for (let i = 0; i < 6; i++) {
      process.kill(child, 'SIGKILL');
      child = (await d.nextChild(child)).child;
    }
    await waitFor(() => d.logLines().filter((l) => / killed by signal 9 /.test(l)).length === 6, 'six ends logged');
    assert.equal(fds().length, before, 'no descriptor left behind by seven runs');
    assert.equal(fds().filter((target) => target === '/dev/kmsg').length, 1);
  });
});

describe('--on-exit', () => {
  /** A hook that records its DAEMONIZE_* environment, its uid, its tail file and that file's directory. */
  function recordingHook(dir) {
    const at = (what) => `${dir}/${what}-$DAEMONIZE_CHILD_PID`;
    // The environment last, renamed into place: once it is there, so is the rest.
    return `id -u > ${at('uid')}; cp "$DAEMONIZE_STDERR_TAIL" ${at('tail')}; stat -c '%a %U' "$(dirname "$DAEMONIZE_STDERR_TAIL")" > ${at('dir')}; `
      + `env | grep ^DAEMONIZE_ | sort > ${at('env')}.tmp; mv ${at('env')}.tmp ${at('env')}`;
  }

  function readEnv(file) {
    return Object.fromEntries(fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  }

  it('runs after each end with the end in DAEMONIZE_* variables and the last lines in a private file, removed after', async () => {
    const dir = scratch.dir();
    const stderr = path.join(dir, 'app.err');
    const marker = path.join(dir, 'ran-once');
    const program = ['sh', '-c', `[ -e ${marker} ] && exec ${scratch.sleeper().join(' ')}; touch ${marker}; echo 'disk on fire' >&2; exit 3`];
    const d = supervise(scratch, ['--stderr', stderr, '--on-exit', recordingHook(dir)], program, dir);
    const envOf = (pid) => path.join(dir, `env-${pid}`);
    const first = await waitFor(() => d.readStatus()?.lastExit && d.readStatus(), 'the first end');
    const crashed = Number(/pid (\d+)/.exec(first.lastExit.reason)[1]);
    await waitFor(() => fs.existsSync(envOf(crashed)), 'the hook\'s record', 10000);
    const env = readEnv(envOf(crashed));
    assert.equal(env.DAEMONIZE_NAME, 'app');
    assert.equal(env.DAEMONIZE_PIDFILE, d.pidfile);
    assert.equal(env.DAEMONIZE_CHILD_PID, String(crashed));
    assert.equal(env.DAEMONIZE_EXIT_CODE, '3');
    assert.equal(env.DAEMONIZE_EXIT_SIGNAL, '');
    assert.equal(env.DAEMONIZE_REASON, first.lastExit.reason);
    assert.match(env.DAEMONIZE_REASON, /^sh \(pid \d+\) exited with status 3 after/);
    assert.match(env.DAEMONIZE_UPTIME, /^\d+$/);
    assert.equal(env.DAEMONIZE_RESTARTS, '0');
    assert.equal(fs.readFileSync(path.join(dir, `tail-${crashed}`), 'utf8'), 'disk on fire\n');
    assert.equal(fs.readFileSync(path.join(dir, `dir-${crashed}`), 'utf8').trim(), '700 root');
    await waitFor(() => !fs.existsSync(path.dirname(env.DAEMONIZE_STDERR_TAIL)), 'the private directory to be removed');
    // The hook is no part of the service: the successor runs, and a stop waits for the last end's hook.
    const second = await waitFor(() => { const s = d.readStatus(); return s?.child && s.state === 'running' && s.child; }, 'the successor');
    scratch.track(second);
    assert.equal(runCli(['--stop', '--pidfile', d.pidfile]).status, 0);
    const last = readEnv(envOf(second));
    assert.equal(last.DAEMONIZE_EXIT_SIGNAL, 'SIGTERM');
    assert.equal(last.DAEMONIZE_EXIT_CODE, '');
    assert.equal(last.DAEMONIZE_RESTARTS, '1');
    assert.match(last.DAEMONIZE_REASON, /stopped by SIGTERM to the supervisor \(--stop\); stopping$/);
  });

  it('runs as --user; a failing hook is logged, a hanging one killed after --stop-timeout, and the service lives on', async (t) => {
    if (process.getuid() !== 0) return t.skip('needs root for --user');
    const dir = scratch.dir();
    fs.chmodSync(dir, 0o711); // nobody passes through to out/, and writes nothing else
    const out = path.join(dir, 'out');
    fs.mkdirSync(out, { mode: 0o777 });
    fs.chmodSync(out, 0o777);
    const events = path.join(dir, 'events.log');
    const hook = `${recordingHook(out)}; [ "$DAEMONIZE_RESTARTS" = 0 ] && exit 5; exec sleep 1000.${scratch.token()}`;
    const d = supervise(scratch, ['--user', 'nobody', '--errlog', events, '--stop-timeout', '1', '--acceptable', '0', '--on-exit', hook],
      ['sh', '-c', 'sleep 0.3; exit 1'], dir);
    await waitFor(() => d.logLines().some((l) => /on-exit hook \(pid \d+\) exited with status 5$/.test(l)), 'the failure logged', 10000);
    await waitFor(() => d.logLines().some((l) => /on-exit hook \(pid \d+\) still running after 1 s: sending SIGKILL$/.test(l)), 'the hang cut short', 10000);
    // Only hooks that finished recording (their env renamed into place): the service keeps crashing, and a
    // later hook may be writing its files as we read.
    const done = fs.readdirSync(out).filter((f) => /^env-\d+$/.test(f)).map((f) => f.slice('env-'.length));
    const uids = done.map((pid) => fs.readFileSync(path.join(out, `uid-${pid}`), 'utf8').trim());
    assert.ok(uids.length >= 2 && uids.every((u) => u === '65534'), uids.join(','));
    const dirs = done.map((pid) => fs.readFileSync(path.join(out, `dir-${pid}`), 'utf8').trim());
    assert.ok(dirs.every((x) => x === '711 root'), dirs.join(',')); // root's: the hook cannot build in it
    assert.ok(proc.isAlive(d.supervisor));
    assert.equal(runCli(['--stop', '--pidfile', d.pidfile]).status, 0);
  });
});
