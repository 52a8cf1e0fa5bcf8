'use strict';
// Why it died, the pure parts: the end's sentence, the OOM evidence's judgement, cgroup files from
// /proc/PID/cgroup and mountinfo, a file's tail from an offset, the program's last words.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { describe, it, after } = require('node:test');

const { endSentence } = require('../dist/supervisor/child-end');
const { counterFiles, cgroupMounts, oomKillCount, judgeOom } = require('../dist/supervisor/oom-evidence');
const { Forensics, lastWordsIn, quotable } = require('../dist/supervisor/forensics');
const { readTailText, lastLines } = require('../dist/file-tail');
const { step, initialContext } = require('../dist/supervisor/machine');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'daemonize-test-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const END = { label: 'web', pid: 42, code: null, signal: 9, core: false, known: true, uptime: 3.24, cause: null,
  killedBySupervisor: false, next: 'restarting (failure 1 of 5)', restarts: 2 };

const MOUNTINFO = [
  '31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
  '32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu',
  '35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
  '41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
].join('\n');

describe('the end of a child in words', () => {
  it('says how, after how long, who, and what next', () => {
    assert.equal(endSentence(END), 'web (pid 42) killed by signal 9 (SIGKILL) after 3.2 s; restarting (failure 1 of 5)');
    assert.equal(endSentence({ ...END, signal: 11, core: true, cause: 'stopped by SIGTERM to the supervisor (--stop)', next: 'stopping' }),
      'web (pid 42) killed by signal 11 (SIGSEGV), core dumped after 3.2 s: stopped by SIGTERM to the supervisor (--stop); stopping');
    assert.equal(endSentence({ ...END, signal: null, code: 3 }, 'the evidence'), 'web (pid 42) exited with status 3 after 3.2 s: the evidence; restarting (failure 1 of 5)');
    assert.match(endSentence({ ...END, known: false }), /web \(pid 42\) ended \(its exit status went to its own parent\) after/);
  });

  it('a stop past --stop-timeout says the supervisor sent the SIGKILL', () => {
    const stopping = { ...initialContext(), first: false, state: 'stopping', child: 42, childStarted: 0, deadline: 5000,
      killed: true, cause: 'stopped by SIGTERM to the supervisor (--stop)' };
    const r = step(stopping, { type: 'exit', pid: 42, code: null, signal: 9, known: true, heirs: [], named: null }, 20000,
      { label: 'web', policy: { acceptable: 10, attempts: 5, delay: 60, limit: 0 }, stopTimeout: 5 });
    const ended = r.actions.find((a) => a.do === 'ended').end;
    assert.equal(ended.killedBySupervisor, true);
    assert.equal(endSentence(ended), 'web (pid 42) killed by signal 9 (SIGKILL) after 20.0 s: stopped by SIGTERM to the supervisor (--stop), '
      + 'then SIGKILL when --stop-timeout (5 s) was up; stopping');
  });
});

describe('OOM evidence', () => {
  it('finds the counter files of the v1 memory cgroup and the v2 cgroup', () => {
    assert.deepEqual(cgroupMounts(MOUNTINFO), {
      v2: { point: '/sys/fs/cgroup/unified', root: '/' }, memory: { point: '/sys/fs/cgroup/memory', root: '/' },
    });
    const files = counterFiles('9:name=systemd:/\n4:memory:/web\n1:cpu:/\n0::/system.slice/web.service\n', MOUNTINFO);
    assert.deepEqual(files, [
      { cgroup: '/web', file: '/sys/fs/cgroup/memory/web/memory.oom_control' },
      { cgroup: '/system.slice/web.service', file: '/sys/fs/cgroup/unified/system.slice/web.service/memory.events' },
    ]);
    // A namespaced view: the mount's root is the cgroup the namespace starts at.
    const nested = '41 31 0:38 /box /sys/fs/cgroup rw - cgroup2 cgroup2 rw';
    assert.deepEqual(counterFiles('0::/box/web\n', nested), [{ cgroup: '/box/web', file: '/sys/fs/cgroup/web/memory.events' }]);
    assert.deepEqual(counterFiles('0::/elsewhere\n', nested), []);
  });

  it('reads oom_kill from memory.events, memory.oom_control and /proc/vmstat', () => {
    assert.equal(oomKillCount('oom_kill_disable 0\nunder_oom 0\noom_kill 3\n'), 3);
    assert.equal(oomKillCount('low 0\nhigh 0\nmax 12\noom 2\noom_kill 1\noom_group_kill 0\n'), 1);
    assert.equal(oomKillCount('pgfault 10\n'), null);
    assert.equal(oomKillCount(null), null);
  });

  it('is certain from the kernel log or the cgroup, and says "probably" from the system count alone', () => {
    assert.equal(judgeOom(42, { kernelLog: true, cgroups: [], system: null }), "killed by the kernel's OOM killer (the kernel log names pid 42)");
    assert.equal(judgeOom(42, { kernelLog: null, cgroups: [{ cgroup: '/web', by: 1 }], system: 1 }),
      "killed by the kernel's OOM killer (its memory cgroup /web counted 1 OOM kill while it ran)");
    assert.equal(judgeOom(42, { kernelLog: false, cgroups: [], system: 2 }),
      "probably killed by the kernel's OOM killer (the system counted 2 OOM kills while it ran, and nobody here sent SIGKILL)");
    assert.equal(judgeOom(42, { kernelLog: false, cgroups: [], system: 0 }), null);
    assert.equal(judgeOom(42, { kernelLog: null, cgroups: [], system: null }), null);
  });
});

describe('last words', () => {
  it('reads only what was written after the offset, at most the bound, from a whole line', () => {
    const file = path.join(dir, 'err');
    fs.writeFileSync(file, 'before the start\n');
    const from = fs.statSync(file).size;
    fs.appendFileSync(file, 'one\ntwo\nthree\n');
    const fd = fs.openSync(file, 'r');
    try {
      assert.equal(readTailText(fd, from), 'one\ntwo\nthree\n');
      assert.equal(readTailText(fd, from, 8), 'three\n', 'the partial first line is dropped');
      assert.equal(readTailText(fd, 10_000), 'before the start\none\ntwo\nthree\n', 'truncated below the offset: from the start');
    } finally {
      fs.closeSync(fd);
    }
    assert.deepEqual(lastLines('a\n\nb\nc\n', 2), ['b', 'c']);
  });

  it('leaves out the supervisor\'s own lines and control characters, and keeps ten', () => {
    const text = ['2026-11-21T05:31:04.120Z daemonize[4120]: started web (pid 4127)', ...Array.from({ length: 12 }, (_, i) => `line ${i}`),
      'bell\x07 and \x1b[31mred\x1b[0m'].join('\n');
    const words = lastWordsIn(text);
    assert.equal(words.length, 10);
    assert.equal(words[0], 'line 3');
    assert.equal(words.at(-1), 'bell? and ?[31mred?[0m');
    assert.equal(quotable('x'.repeat(1000)).length, 403);
  });
});

describe('each child\'s own run', () => {
  it('two children at once (an overlapping restart): each end quotes what was written since that child started', () => {
    const file = path.join(dir, 'overlap.err');
    fs.writeFileSync(file, 'before anyone\n');
    const fd = fs.openSync(file, 'a');
    const forensics = new Forensics();
    try {
      forensics.prepare(fd);
      forensics.started(100);
      fs.appendFileSync(file, 'old says hello\n');
      forensics.prepare(fd);
      forensics.started(300);
      fs.appendFileSync(file, 'new cannot start\n');
      // The new one ends first; the old one's run is still its own (from where the file ended at its start).
      assert.deepEqual(forensics.explain({ ...END, pid: 300 }).lastWords, ['new cannot start']);
      assert.deepEqual(forensics.explain({ ...END, pid: 100 }).lastWords, ['old says hello', 'new cannot start']);
      // A followed process (never spawned) takes the newest run: its program's.
      forensics.prepare(fd);
      forensics.started(400);
      fs.appendFileSync(file, 'forked away\n');
      assert.deepEqual(forensics.explain({ ...END, pid: 401 }).lastWords, ['forked away']);
      assert.deepEqual(forensics.explain({ ...END, pid: 500 }).lastWords, [], 'nothing left to quote');
    } finally {
      fs.closeSync(fd);
    }
  });
});

describe('runs dropped past the limit', () => {
  it('a child whose run was dropped is told without last words, not with the newest child\'s', () => {
    const file = path.join(dir, 'many.err');
    fs.writeFileSync(file, '');
    const fd = fs.openSync(file, 'a');
    const forensics = new Forensics();
    try {
      // Ten children at once (replaced ones that ignore SIGTERM under a long --stop-timeout): eight are kept.
      for (let pid = 1000; pid < 1010; pid++) {
        forensics.prepare(fd);
        forensics.started(pid);
        fs.appendFileSync(file, `I am ${pid}\n`);
      }
      assert.deepEqual(forensics.explain({ ...END, pid: 1000 }).lastWords, [], 'dropped: nothing of its own to quote');
      assert.deepEqual(forensics.explain({ ...END, pid: 1001 }).lastWords, []);
      assert.deepEqual(forensics.explain({ ...END, pid: 1009 }).lastWords, ['I am 1009']);
      assert.deepEqual(forensics.explain({ ...END, pid: 1002 }).lastWords.at(0), 'I am 1002', 'a kept run is still its own');
    } finally {
      fs.closeSync(fd);
    }
  });
});

describe('--on-exit hooks, with a fake world', () => {
  const { ExitHook, MAX_WAITING } = require('../dist/supervisor/on-exit');

  function fakeWorld() {
    const world = {
      next: 500, spawned: [], killed: [], timers: [], lines: [],
      spawn(plan) { world.spawned.push(plan); return world.next++; },
      kill(pid, signal) { world.killed.push([pid, signal]); },
      setTimer(callback, ms) { const t = { callback, ms }; world.timers.push(t); return t; },
      clearTimer(t) { world.timers = world.timers.filter((x) => x !== t); },
      log(line) { world.lines.push(line); },
      output() {
        const fd = fs.openSync('/dev/null', 'w');
        return { fd, started() { fs.closeSync(fd); }, failed() { fs.closeSync(fd); } };
      },
    };
    return world;
  }
  const settings = { command: 'notify', name: 'web', pidfile: '/run/web.pid', plan: { file: '/x', argv: ['x'], env: ['A=1', 'DAEMONIZE_REASON=old'] }, stopTimeout: 7 };
  const explained = (sentence) => ({ sentence, lastWords: ['bye'], lastExit: {} });

  it('runs one at a time, in order, with the variables; a hang is killed after --stop-timeout; settle waits for the last', () => {
    const world = fakeWorld();
    const hook = new ExitHook(settings, world);
    hook.fire({ ...END, pid: 1, code: 3, signal: null }, explained('first'));
    hook.fire({ ...END, pid: 2 }, explained('second'));
    assert.equal(world.spawned.length, 1, 'never two at once');
    const env = Object.fromEntries(world.spawned[0].env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
    assert.deepEqual(world.spawned[0].argv, ['sh', '-c', 'notify']);
    assert.equal(world.spawned[0].mode, 'child');
    assert.equal(env.A, '1');
    assert.equal(env.DAEMONIZE_REASON, 'first');
    assert.equal(env.DAEMONIZE_EXIT_CODE, '3');
    assert.equal(env.DAEMONIZE_EXIT_SIGNAL, '');
    assert.equal(env.DAEMONIZE_UPTIME, '3');
    assert.equal(fs.readFileSync(env.DAEMONIZE_STDERR_TAIL, 'utf8'), 'bye\n');
    assert.equal(fs.statSync(path.dirname(env.DAEMONIZE_STDERR_TAIL)).mode & 0o777, 0o700);
    assert.equal(world.timers[0].ms, 7000);
    assert.equal(hook.owns(500), true);
    assert.equal(hook.reaped(999, 0, null), false, 'not the hook');
    assert.equal(hook.reaped(500, 1, null), true);
    assert.equal(fs.existsSync(env.DAEMONIZE_STDERR_TAIL), false, 'the private directory is removed');
    assert.match(world.lines[0], /^on-exit hook \(pid 500\) exited with status 1$/);
    assert.equal(world.spawned.length, 2);
    assert.ok(world.spawned[1].env.includes('DAEMONIZE_EXIT_SIGNAL=SIGKILL'));
    let settled = false;
    hook.settle(() => { settled = true; });
    assert.equal(settled, false, 'the supervisor waits for the running hook');
    world.timers[0].callback();
    assert.deepEqual(world.killed.at(-1), [-501, 'SIGKILL']);
    assert.match(world.lines.at(-1), /still running after 7 s: sending SIGKILL/);
    hook.reaped(501, null, 9);
    assert.equal(settled, true);
  });

  it('keeps a bounded number of ends waiting, and says which it dropped', () => {
    const world = fakeWorld();
    const hook = new ExitHook(settings, world);
    for (let pid = 1; pid <= MAX_WAITING + 3; pid++) hook.fire({ ...END, pid }, explained(`end ${pid}`));
    assert.equal(world.spawned.length, 1);
    assert.deepEqual(world.lines, ['on-exit hook still busy: not run for pid 2', 'on-exit hook still busy: not run for pid 3']);
    for (let pid = 500; world.spawned.length < MAX_WAITING + 1; pid++) hook.reaped(pid, 0, null);
    hook.reaped(500 + MAX_WAITING, 0, null);
    assert.equal(world.spawned.length, MAX_WAITING + 1);
    assert.ok(world.spawned.at(-1).env.includes(`DAEMONIZE_CHILD_PID=${MAX_WAITING + 3}`));
    let settled = false;
    hook.settle(() => { settled = true; });
    assert.equal(settled, true);
  });

  it('at the supervisor\'s end, the hooks left get --stop-timeout in all: then the waiting are dropped and the running killed', () => {
    const world = fakeWorld();
    const hook = new ExitHook(settings, world);
    for (let pid = 1; pid <= 3; pid++) hook.fire({ ...END, pid }, explained(`end ${pid}`));
    let settled = false;
    hook.settle(() => { settled = true; });
    const deadline = world.timers.at(-1);
    assert.equal(deadline.ms, 7000);
    deadline.callback();
    assert.deepEqual(world.lines.slice(-3), ['on-exit hook not run for pid 2: the supervisor is ending',
      'on-exit hook not run for pid 3: the supervisor is ending', 'on-exit hook (pid 500) still running 7 s after the stop: sending SIGKILL']);
    assert.deepEqual(world.killed.at(-1), [-500, 'SIGKILL']);
    assert.equal(settled, false, 'not before the hook is reaped');
    hook.reaped(500, null, 9);
    assert.equal(settled, true);
    assert.equal(world.spawned.length, 1, 'nothing more ran');
    assert.deepEqual(world.timers.filter((t) => t !== deadline), [], 'no timer left to keep the supervisor alive');
  });
});
