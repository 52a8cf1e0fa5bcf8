'use strict';
// The probes, end to end: a failing and a stuck --health-cmd, a leaking program under --max-memory, and
// the options' usage errors. The real binary, real processes; what the event log, the status record and
// /proc show.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { describe, it, after } = require('node:test');

const proc = require('./helpers/proc');
const { ROOT, Scratch, runCli, waitFor } = require('./helpers/harness');
const { supervise: superviseWith } = require('./helpers/supervised');

const scratch = new Scratch();
after(() => scratch.cleanup());

const supervise = (args, command, dir) => superviseWith(scratch, args, command, dir);

/** Live `sleep ARG` processes (not the shells whose command lines merely mention ARG). */
const sleeping = (arg) => proc.findByToken(arg).filter((pid) => proc.cmdline(pid)[0] === 'sleep');


describe('--health-cmd', () => {
  it('restarts the program after --health-retries failures in a row, with the reason and the output logged', async () => {
    const dir = scratch.dir();
    const checks = path.join(dir, 'checks');
    const d = supervise(['--health-cmd', `echo run >> ${checks}; echo "GET /health: 503"; echo "db down" >&2; exit 3`,
      '--health-interval', '0.2', '--health-retries', '2'], scratch.sleeper(), dir);
    const first = scratch.track(d.status().child);
    await waitFor(() => /health check failed \(1 of 2\): exited with status 3, output "GET \/health: 503\\ndb down"/.test(d.logText()), 'the first failure');
    const second = await d.nextChild(first);
    assert.equal(proc.isAlive(first), false, 'the old program is gone');
    assert.match(d.logText(), new RegExp(`sleep \\(pid ${first}\\) failed 2 health checks in a row: restarting it; ` +
      'the last exited with status 3, output "GET /health: 503\\\\ndb down"'));
    assert.match(d.logText(), new RegExp(`sleep \\(pid ${first}\\) killed by signal 15 \\(SIGTERM\\) after [\\d.]+ s: restarted: failed 2 health checks in a row; restarting`));
    assert.equal(second.restarts >= 1, true);
    assert.equal(second.failures, 0, 'a health restart is not a crash');
  });

  it('kills a stuck check with its whole process group at --health-timeout and counts it as failed', async () => {
    const dir = scratch.dir();
    const token = scratch.token();
    // The check leaves a background process in its group and then hangs.
    const d = supervise(['--health-cmd', `echo stuck; sleep 1002.${token} & exec sleep 1003.${token}`,
      '--health-interval', '0.2', '--health-timeout', '0.5', '--health-retries', '2'], scratch.sleeper(), dir);
    const first = scratch.track(d.status().child);
    const [background] = await waitFor(() => sleeping(`1003.${token}`).length === 1 && sleeping(`1002.${token}`), 'the stuck check');
    await waitFor(() => d.logText().includes('health check failed (1 of 2): timed out after 0.5 s (killed), output "stuck"'), 'the timeout');
    await waitFor(() => !proc.isAlive(background), 'the check\'s group to be killed');
    await d.nextChild(first);
    assert.match(d.logText(), /failed 2 health checks in a row: restarting it; the last timed out after 0\.5 s \(killed\), output "stuck"/);
    // Never two checks at once: each hung one is killed before the next starts.
    assert.ok(sleeping(`1003.${token}`).length <= 1);
    // Stopped, the supervisor kills a running check's whole group: nothing of the checks is left.
    process.kill(d.supervisor, 'SIGTERM');
    await waitFor(() => !proc.isAlive(d.supervisor), 'the supervisor to stop');
    await waitFor(() => proc.findByToken(token).length === 0, 'every process of the checks to be gone');
  });

  it('runs as the program\'s user, in its directory and environment, and leaves a passing program alone', async () => {
    const dir = scratch.dir();
    const work = path.join(dir, 'work');
    fs.mkdirSync(work);
    fs.chownSync(work, 65534, 65534);
    fs.chmodSync(dir, 0o755);
    const checks = path.join(work, 'checks');
    const d = supervise(['--user', 'nobody', '--chdir', work, '--env', 'PROBE_WORD=hello',
      '--health-cmd', `echo "$(id -u) $(pwd) $PROBE_WORD" >> ${checks}`, '--health-interval', '0.1', '--health-retries', '1'],
    scratch.sleeper(), dir);
    const child = scratch.track(d.status().child);
    await waitFor(() => fs.existsSync(checks) && fs.readFileSync(checks, 'utf8').split('\n').length > 5, 'five checks');
    const lines = fs.readFileSync(checks, 'utf8').trim().split('\n');
    assert.deepEqual([...new Set(lines)], [`65534 ${work} hello`]);
    assert.equal(d.status().child, child, 'no restart');
    assert.ok(!/health|restarting/.test(d.logText()), d.logText());
  });

  it('does not take a check for the program\'s heir: a program that exits 0 while a check runs is restarted, not followed', async () => {
    const dir = scratch.dir();
    const token = scratch.token();
    const d = supervise(['--health-cmd', `exec sleep 1004.${token}`, '--health-interval', '0.1', '--health-timeout', '30'],
      ['sh', '-c', `sleep 1; exit 0`], dir);
    const first = scratch.track(d.status().child);
    await waitFor(() => sleeping(`1004.${token}`).length === 1, 'a check running');
    await d.nextChild(first);
    assert.doesNotMatch(d.logText(), /forked away/);
  });
});

describe('the health checks under attack', () => {
  it('TERM while a check hangs: the check goes with the program, the supervisor exits, nothing is left', async () => {
    const dir = scratch.dir();
    const token = scratch.token();
    const d = supervise(['--health-cmd', `exec sleep 1005.${token}`, '--health-interval', '0.1', '--health-timeout', '600'],
      scratch.sleeper(), dir);
    const [check] = await waitFor(() => sleeping(`1005.${token}`).length === 1 && sleeping(`1005.${token}`), 'a hanging check');
    process.kill(d.supervisor, 'SIGTERM');
    await waitFor(() => !proc.isAlive(d.supervisor), 'the supervisor to exit');
    assert.equal(proc.isAlive(check), false);
    assert.deepEqual(proc.findByToken(token), []);
    assert.equal(fs.existsSync(d.pidfile), false);
    assert.doesNotMatch(d.logText(), /SIGKILL/, 'no wait for --stop-timeout: the check was killed at once');
  });

  it('keeps only the end of a flood of output: the last 10 lines, 4 KiB at most, in one log line', async () => {
    const dir = scratch.dir();
    const d = supervise(['--health-cmd', 'yes line | head -c 5000000; seq 1 20; exit 1', '--health-interval', '0.1', '--health-retries', '1'],
      scratch.sleeper(), dir);
    const first = scratch.track(d.status().child);
    await d.nextChild(first, 'the restart');
    const line = d.logLines().find((l) => l.includes('failed 1 health check in a row'));
    assert.ok(line.length < 4096 + 300, `${line.length} characters`);
    assert.ok(line.endsWith(`output "${Array.from({ length: 10 }, (_, i) => i + 11).join('\\n')}"`), line);
    // A check's pipeline (yes, head) goes with a stopped supervisor, not left to PID 1.
    process.kill(d.supervisor, 'SIGTERM');
    await waitFor(() => !proc.isAlive(d.supervisor), 'the supervisor to stop');
  });

  it('leaks no descriptor over many checks', async () => {
    const dir = scratch.dir();
    const checks = path.join(dir, 'checks');
    const d = supervise(['--health-cmd', `echo x >> ${checks}; echo some output`, '--health-interval', '0.1'], scratch.sleeper(), dir);
    scratch.track(d.status().child);
    const count = () => (fs.existsSync(checks) ? fs.readFileSync(checks, 'utf8').split('\n').length - 1 : 0);
    await waitFor(() => count() >= 2, 'two checks');
    const early = Object.keys(proc.fds(d.supervisor)).length;
    await waitFor(() => count() >= 30, 'thirty checks', 20000);
    // A check may be in flight (its pipe open) at either look; one per check would be 28 more.
    await waitFor(() => Object.keys(proc.fds(d.supervisor)).length <= early, `at most ${early} descriptors`);
  });
});

describe('--max-memory', () => {
  it('restarts a leaking program whose tree stays over the limit for 3 samples, with the figure logged', async () => {
    const dir = scratch.dir();
    const starts = path.join(dir, 'starts');
    // sh stays as the parent: the limit is on the whole tree.
    // The token puts every leaking grandchild within the cleanup's reach, whatever becomes of its parent.
    const d = supervise(['--max-memory', '48M'],
      ['sh', '-c', `python3 ${path.join(ROOT, 'test/fixtures/sv-leak.py')} ${starts} ${scratch.token()}; exit 0`], dir);
    const first = scratch.track(d.status().child);
    const second = await d.nextChild(first, 'the restart for memory');
    const log = d.logText();
    const figure = /sh \(pid (\d+)\) was over --max-memory 48 MiB for 3 samples in a row: restarting it; its tree used ([\d.]+) MiB of resident memory \((\d+) bytes, 2 processes\)/.exec(log);
    assert.ok(figure, log);
    assert.equal(Number(figure[1]), first);
    assert.ok(Number(figure[3]) > 48 * 1024 * 1024, figure[3]);
    const pythons = fs.readFileSync(starts, 'utf8').trim().split('\n').map(Number);
    assert.equal(proc.isAlive(pythons[0]), false, 'the leaking grandchild is gone with its parent');
    assert.equal(second.failures, 0);
    // Stopped, the supervisor takes the whole tree with it.
    process.kill(d.supervisor, 'SIGTERM');
    await waitFor(() => !proc.isAlive(d.supervisor), 'the supervisor to stop');
    for (const pid of fs.readFileSync(starts, 'utf8').trim().split('\n').map(Number)) assert.equal(proc.isAlive(pid), false, `python ${pid}`);
  });
});

describe('the probes\' options', () => {
  const cases = [
    [['--max-memory', '12X'], /bad --max-memory "12X": expected a size such as 512M or 2G, from 1M to 1T/],
    [['--max-memory', '0'], /bad --max-memory "0"/],
    [['--max-memory', '2048G'], /bad --max-memory "2048G"/],
    [['--max-memory', '-5M'], /bad --max-memory "-5M"/],
    [['--health-cmd', 'true', '--health-interval', '0'], /bad --health-interval "0": expected a number of seconds from 0.1 to 2147483/],
    [['--health-cmd', 'true', '--health-timeout', '1e9'], /bad --health-timeout "1e9"/],
    [['--health-cmd', 'true', '--health-retries', '0'], /bad --health-retries "0": expected a whole number from 1 to 1000/],
    [['--health-cmd', 'true', '--health-retries', '2.5'], /bad --health-retries "2.5"/],
    [['--health-cmd', ''], /--health-cmd needs a command/],
    [['--health-interval', '5'], /--health-interval needs --health-cmd/],
    [['--watchdog', 'abc'], /bad --watchdog "abc"/],
    [['--watchdog', '2147484'], /bad --watchdog "2147484"/],
  ];
  for (const [args, message] of cases) {
    it(`refuses ${args.join(' ')} as a usage error, starting nothing`, () => {
      const dir = scratch.dir();
      const pidfile = path.join(dir, 'app.pid');
      const result = runCli(['-r', '--pidfile', pidfile, ...args, '--', 'sleep', '1']);
      assert.equal(result.status, 2, result.stderr);
      assert.match(result.stderr, /^daemonize: usage: /);
      assert.match(result.stderr, message);
      assert.equal(fs.existsSync(pidfile), false);
    });
  }
  it('needs --respawn', () => {
    for (const flag of [['--max-memory', '1G'], ['--health-cmd', 'true'], ['--watchdog', '5']]) {
      const result = runCli([...flag, '--pidfile', path.join(scratch.dir(), 'a.pid'), '--', 'true']);
      assert.equal(result.status, 2, result.stderr);
      assert.match(result.stderr, new RegExp(`daemonize: usage: ${flag[0]} needs --respawn`));
    }
  });
});
