'use strict';
// The native fork-to-exec path under attack: worker threads coming and going at every fork, a privilege
// drop that could be undone, close_range refused by a seccomp filter with leaked descriptors above a low
// open-files limit, and exec in place (-f) failing after it has rearranged the descriptors.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');
const { describe, it, after } = require('node:test');

const proc = require('./helpers/proc');
const { ROOT, CLI, Scratch, waitFor, readPidfile } = require('./helpers/harness');

const scratch = new Scratch();
after(() => scratch.cleanup());

const FIXTURES = path.join(__dirname, 'fixtures');
const HOSTILE = path.join(FIXTURES, 'hostile-start.py');
const NOBODY = 65534;

/** Every descendant of `pid`, found by ppid, deepest last. */
function descendants(pid) {
  const found = [];
  for (const child of proc.childrenOf(pid)) found.push(child, ...descendants(child));
  return found;
}

/**
 * Runs spawn-churn.js and gives each spawn its own deadline: a line must come within `perSpawnMs` of the
 * previous one. On a stall, the fixture and everything under it is killed and the test fails.
 */
function churn(mode, count, ids = NOBODY, churners = 4, perSpawnMs = 15000) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(FIXTURES, 'spawn-churn.js'), mode, String(count), String(ids), String(ids), String(churners)],
      { stdio: ['ignore', 'pipe', 'inherit'] });
    scratch.track(child.pid);
    const lines = [];
    let buffered = '';
    let timer;
    const stall = () => {
      // The hung processes may have left the fixture's tree by setsid: the session leader is its child.
      for (const pid of [...descendants(child.pid), child.pid]) scratch.track(pid);
      child.kill('SIGKILL');
      reject(new Error(`spawn ${lines.length + 1} of ${count} (${mode}) made no progress in ${perSpawnMs} ms; last: ${lines.at(-1)}`));
    };
    timer = setTimeout(stall, perSpawnMs);
    child.stdout.on('data', (data) => {
      buffered += data;
      const complete = buffered.split('\n');
      buffered = complete.pop();
      lines.push(...complete);
      clearTimeout(timer);
      timer = setTimeout(stall, perSpawnMs);
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, lines });
    });
  });
}

describe('the fork path with --user while worker threads start and exit', () => {
  for (const mode of ['daemon', 'child']) {
    it(`${mode} mode: 200 spawns with ids, each within its deadline, all exec'd`, async () => {
      const { code, lines } = await churn(mode, 200);
      assert.deepEqual(lines.filter((line) => !line.startsWith('ok ') && !line.startsWith('mappings ')), ['done']);
      assert.equal(lines.length, 202);
      assert.equal(code, 0);
    });
  }
});

// Without ids, both start in the caller's memory (CLONE_VM) on stacks mapped for them: a daemon's first
// child with the launcher suspended (CLONE_VFORK) and the daemon until its exec; a supervisor's child until
// its exec, the supervisor waiting with every signal blocked.
for (const [mode, title] of [['daemon', 'a daemon\'s first child and the daemon'], ['child', 'a supervisor\'s child']]) {
  describe(`${title} in the caller's own memory until the exec (CLONE_VM)`, () => {
    it('200 spawns without ids while worker threads start and exit, each within its deadline, all exec\'d', async () => {
      const { code, lines } = await churn(mode, 200, 'none');
      assert.deepEqual(lines.filter((line) => !line.startsWith('ok ') && !line.startsWith('mappings ')), ['done']);
      assert.equal(lines.filter((line) => line.startsWith('ok ')).length, 200);
      assert.equal(code, 0);
    });

    it('leaves no stack mapped in the caller: 100 spawns, no more mappings than Node\'s own heap adds', async () => {
      // A stack with a guard page per fork (two for a daemon): a leak would be a hundred mappings or more.
      // Node's own heap may add one or two.
      const { code, lines } = await churn(mode, 100, 'none', 0);
      assert.equal(code, 0);
      assert.equal(lines.at(-1), 'done');
      const grown = Number(lines.at(-2).match(/^mappings \+(\d+)$/)[1]);
      assert.ok(grown < 10, `${grown} more mappings after 99 more spawns`);
    });
  });
}

describe('held sockets placed where the report pipe would be', () => {
  it('the exec is still told apart from a failure, and no child dies on its stack (a supervisor with --listen)', () => {
    // Two free descriptors low down (where pipe(2) puts the report pipe), 30 "held sockets" above them: the
    // child's dup2 of the sockets onto 3.. would close the pipe's write end if it were there.
    const script = `
      const { native } = require(${JSON.stringify(path.join(__dirname, '..', 'dist', 'native.js'))});
      const fs = require('node:fs');
      native.setSubreaper(true);
      const low = [fs.openSync('/dev/null', 'r'), fs.openSync('/dev/null', 'r')];
      const held = [];
      for (let i = 0; i < 30; i++) held.push(fs.openSync('/dev/null', 'r'));
      for (const fd of low) fs.closeSync(fd);
      const ends = [];
      for (let i = 0; i < 50; i++) {
        const pid = native.spawn({ mode: 'child', env: [], keepFds: [], listenFds: held, file: '/bin/true', argv: ['true'] });
        let end;
        do end = native.waitpid(pid, true); while (!end);
        ends.push(end.signal === null ? 'exit ' + end.code : 'signal ' + end.signal);
      }
      let missing = 'started';
      try {
        native.spawn({ mode: 'child', env: [], keepFds: [], listenFds: held, file: '/nonexistent/program', argv: ['x'] });
      } catch (error) {
        missing = error.code;
      }
      console.log(JSON.stringify({ ends: [...new Set(ends)], missing }));
    `;
    const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60000 });
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), { ends: ['exit 0'], missing: 'ENOENT' });
  });
});

describe('dropping to --user', () => {
  it('runs the daemon with every uid and gid of the user, no other groups and no capabilities', async () => {
    const pidfile = path.join(scratch.dir(), 'u.pid');
    const result = spawnSync(process.execPath, [CLI, '--user', 'nobody', '--pidfile', pidfile, '--', ...scratch.sleeper()], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    const pid = scratch.track(readPidfile(pidfile));
    const status = proc.status(pid);
    assert.equal(status.Uid, `${NOBODY}\t${NOBODY}\t${NOBODY}\t${NOBODY}`);
    assert.equal(status.Gid.split('\t')[0], status.Gid.split('\t')[2]);
    assert.equal(status.CapPrm, '0000000000000000');
    assert.equal(status.CapEff, '0000000000000000');
  });

  it('refuses to run the program when root could be taken back after the drop (SECBIT_NO_SETUID_FIXUP)', () => {
    // With no_setuid_fixup the kernel keeps root's capabilities across setresuid: a drop that holds
    // nothing. The child must see that root is still reachable and not exec.
    const token = scratch.token();
    const result = spawnSync('setpriv', ['--securebits', '+no_setuid_fixup', process.execPath, CLI, '--user', 'nobody', '--',
      'sleep', `1000.${token}`], { encoding: 'utf8' });
    assert.equal(result.status, 1);
    assert.equal(result.stderr,
      'daemonize: fatal: unable to switch to user nobody for good (the old ids could be taken back): Operation not permitted\n');
    assert.deepEqual(proc.findByToken(token), []);
  });
});

describe('closing inherited descriptors', () => {
  /** Starts a daemon through hostile-start.py and returns the descriptors the daemon holds above 2. */
  async function daemonFds(hostile, env = {}) {
    const pidfile = path.join(scratch.dir(), 'fd.pid');
    const result = spawnSync('python3', [HOSTILE, ...hostile, '--', process.execPath, CLI, '--pidfile', pidfile, '--',
      ...scratch.sleeper()], { encoding: 'utf8', env: { ...process.env, ...env } });
    assert.equal(result.status, 0, result.stderr);
    const pid = scratch.track(readPidfile(pidfile));
    await waitFor(() => proc.stat(pid)?.comm === 'sleep', 'the exec');
    return Object.entries(proc.fds(pid)).filter(([fd]) => Number(fd) > 2).map(([, target]) => target);
  }

  it('falls back when a seccomp filter answers close_range with EPERM, and finds fds above the soft limit', async () => {
    // A walk up to the soft limit (100) would miss 150 and the highest fd the hard limit allows: the
    // fallback reads /proc/self/fd.
    const held = await daemonFds(['--fd', '150', '--fd', 'top', '--soft-nofile', '100', '--deny-close-range']);
    assert.equal(held.length, 1);
    assert.match(held[0], /fd\.pid$/);
  });

  it('takes the same fallback when the test hook DAEMONIZE_TEST_NO_CLOSE_RANGE skips close_range', async () => {
    const held = await daemonFds(['--fd', '150', '--fd', 'top', '--soft-nofile', '64'], { DAEMONIZE_TEST_NO_CLOSE_RANGE: '1' });
    assert.equal(held.length, 1);
    assert.match(held[0], /fd\.pid$/);
  });
});

/**
 * The functions `entries` reach through direct calls in the addon's code (objdump), and every call
 * among them through the PLT, as `caller -> callee@plt`.
 */
function reachedFrom(addonFile, entries) {
  const listing = spawnSync('objdump', ['-d', '--no-show-raw-insn', addonFile], { encoding: 'utf8', maxBuffer: 1 << 28 });
  assert.equal(listing.status, 0, listing.stderr);
  const calls = new Map();
  const throughGot = new Set();
  let current = null;
  for (const line of listing.stdout.split('\n')) {
    const start = /^[0-9a-f]+ <(.+)>:$/.exec(line);
    if (start) {
      current = start[1];
      calls.set(current, []);
    } else if (current !== null) {
      // callq and jmpq: objdump before binutils 2.35 names them so.
      const direct = /\s(?:call|jmp)q?\s+[0-9a-f]+ <([^>+]+)(?:\+0x[0-9a-f]+)?>/.exec(line);
      if (direct) calls.get(current).push(direct[1]);
      // A function whose address is taken (a callback, such as ForEachOpenFd's visitor) counts as called.
      const address = /\slea\s.*# [0-9a-f]+ <([^>+]+)>$/.exec(line);
      if (address) calls.get(current).push(address[1]);
      if (/\scallq?\s+\*0x[0-9a-f]+\(%rip\)/.test(line)) throughGot.add(current);
    }
  }
  const names = [...calls.keys()];
  // Every function whose name holds an entry's (its .cold part, a clone): none is left out of the walk.
  const queue = entries.flatMap((entry) => {
    const found = names.filter((name) => name.includes(entry));
    assert.ok(found.length > 0, `${entry} is in the addon as a function of its own`);
    return found;
  });
  const reached = new Set();
  const plt = [];
  while (queue.length > 0) {
    const name = queue.shift();
    if (reached.has(name)) continue;
    reached.add(name);
    for (const callee of calls.get(name)) {
      if (callee.endsWith('@plt')) plt.push(`${name} -> ${callee}`);
      // One of the addon's own functions, called directly or (default visibility) through the PLT.
      const own = callee.replace(/@plt$/, '');
      if (calls.has(own)) queue.push(own);
    }
  }
  return { reached, plt, throughGot };
}

describe('the code a child runs before its exec, in the launcher\'s memory', () => {
  // A CLONE_VM child shares the launcher's memory and thread storage: a first call through the PLT would run
  // the dynamic linker's lazy binder in it, beside Node's threads. binding.gyp builds that code without
  // the PLT (the fork_to_exec library), the rest of the addon binds lazily.
  it('calls nothing through the PLT: every function it reaches is bound when the addon loads', {
    skip: process.arch !== 'x64' && 'the listing is read as x86-64 code',
  }, () => {
    // DAEMONIZE_TEST_ADDON: another build to check (this test's own knob, to see it fail on one linked lazily).
    const addon = process.env.DAEMONIZE_TEST_ADDON ?? path.join(ROOT, 'build', 'Release', 'daemonize.node');
    const { reached, plt, throughGot } = reachedFrom(addon, ['RunChildUntilExec', 'RunDaemonUntilExec', 'RunSessionLeader']);
    // Calls through the PLT are bound at load too when the whole addon is (-z now): then any may stay.
    const dynamic = spawnSync('readelf', ['-d', addon], { encoding: 'utf8' });
    assert.equal(dynamic.status, 0, dynamic.stderr);
    const boundAtLoad = /\(FLAGS(?:_1)?\)\s+Flags:.*\bNOW\b/.test(dynamic.stdout);
    // Not a pass by finding nothing: the walk reaches the code that makes the children's system calls.
    assert.ok(reached.size >= 5, `reached only ${[...reached].join(', ')}`);
    if (!boundAtLoad) {
      assert.deepEqual(plt, []);
      assert.ok([...reached].some((name) => throughGot.has(name)), 'the children\'s calls go through the GOT');
    }
  });
});

describe('a child stuck before exec', () => {
  it('is killed after the deadline and reported, so the launcher does not hang (chdir held 31 s by strace)', () => {
    // strace's fault injection delays the daemon's chdir past the 30 s exec deadline: the stand-in for a
    // chdir or execve stuck on a hung network filesystem.
    const dir = scratch.dir();
    const pidfile = path.join(dir, 'stuck.pid');
    const token = scratch.token();
    const result = spawnSync('strace', ['-f', '-qq', '-o', '/dev/null', '-e', 'trace=chdir', '-e', 'inject=chdir:delay_enter=31000000',
      process.execPath, CLI, '--pidfile', pidfile, '--chdir', dir, '--', 'sleep', `1000.${token}`], { encoding: 'utf8', timeout: 120000 });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /^daemonize: fatal: unable to exec sleep \(no exec and no error after 30 s; killed it\): Connection timed out$/m);
    assert.deepEqual(proc.findByToken(token), []);
    assert.equal(fs.existsSync(pidfile), false);
  });
});

describe('a daemon that shares the launcher\'s memory until its exec, when its session leader fails', () => {
  // strace holds the daemon's chdir for seconds; meanwhile its session leader fails. The daemon must not
  // be left running unreported on memory the launcher frees (it read its path from freed memory, then
  // crashed on an unmapped stack, before these were fixed): it is killed, and the start fails cleanly.
  function heldStart(dir, token, extraStrace = [], extraCli = []) {
    const pidfile = path.join(dir, 'held.pid');
    // strace's own record says how each process ended: a crash shows as "killed by SIGSEGV".
    const trace = path.join(dir, 'strace.out');
    const child = spawn('strace', ['-f', '-qq', '-o', trace, '-e', 'trace=chdir,poll', ...extraStrace, '-e', 'inject=chdir:delay_enter=5000000',
      process.execPath, CLI, ...extraCli, '--pidfile', pidfile, '--chdir', dir, '--', 'sleep', `1000.${token}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    scratch.track(child.pid);
    let stderr = '';
    child.stderr.on('data', (data) => { stderr += data; });
    // strace ends with the last process it traces: a daemon left running would keep it (and this test) waiting.
    const ended = new Promise((resolve, reject) => {
      const late = setTimeout(() => reject(new Error(`strace still tracing after 30 s: something it started runs on\n${stderr}`)), 30000);
      child.on('exit', (code, signal) => {
        clearTimeout(late);
        resolve({ code, signal, stderr });
      });
    });
    return { pidfile, child, ended, deaths: () => fs.readFileSync(trace, 'utf8').match(/killed by SIG\w+/g) ?? [] };
  }

  it('the leader\'s wait fails (poll: ENOMEM): the daemon is killed, the start fails with the error, nothing is left', async () => {
    const dir = scratch.dir();
    const token = scratch.token();
    const { pidfile, ended, deaths } = heldStart(dir, token, ['-e', 'inject=poll:error=ENOMEM:when=1']);
    const { code, stderr } = await ended;
    assert.equal(code, 1, stderr);
    assert.match(stderr, /^daemonize: fatal: unable to .*: Cannot allocate memory$/m);
    assert.deepEqual(deaths(), ['killed by SIGKILL'], 'the daemon is killed, and nothing crashes');
    assert.deepEqual(proc.findByToken(token), []);
    assert.equal(fs.existsSync(pidfile), false);
  });

  for (const how of ['shares the memory', 'is forked (--user)']) {
    it(`the leader is SIGKILLed: the daemon is killed too, the start fails, nothing is left (the leader ${how})`, async (t) => {
      if (how !== 'shares the memory' && process.getuid() !== 0) return t.skip('needs root for --user');
      await leaderKilled(how === 'shares the memory' ? [] : ['--user', 'nobody']);
    });
  }

  async function leaderKilled(extraCli) {
    const dir = scratch.dir();
    fs.chmodSync(dir, 0o755); // --user nobody must reach it to chdir there
    const token = scratch.token();
    const { pidfile, child, ended, deaths } = heldStart(dir, token, [], extraCli);
    // The launcher is strace's child; its session leader, a child of the launcher that leads a session.
    const launcher = await waitFor(() => proc.childrenOf(child.pid).find((pid) => proc.cmdline(pid).includes(`1000.${token}`)), 'the launcher');
    const leader = await waitFor(() => proc.childrenOf(launcher).find((pid) => proc.stat(pid)?.session === pid), 'its session leader');
    const daemon = await waitFor(() => proc.childrenOf(leader)[0], 'the daemon');
    scratch.track(leader);
    scratch.track(daemon);
    process.kill(leader, 'SIGKILL');
    const { code, stderr } = await ended;
    assert.equal(code, 1, stderr);
    assert.match(stderr, /^daemonize: fatal: unable to /m);
    await waitFor(() => !proc.isAlive(daemon), 'the daemon to die');
    assert.deepEqual(deaths(), ['killed by SIGKILL', 'killed by SIGKILL'], 'the leader, then the daemon; nothing crashes');
    assert.match(stderr, /^daemonize: fatal: unable to start sleep: the first fork ended before it told whether the exec worked; killed the program$/m);
    assert.deepEqual(proc.findByToken(token), []);
    assert.equal(fs.existsSync(pidfile), false);
  }
});

describe('a start with few descriptors', () => {
  it('under every `ulimit -n` from 20 to 27 it starts, or fails naming the step that ran out, and leaves nothing', async () => {
    for (let limit = 20; limit <= 27; limit++) {
      const dir = scratch.dir();
      const pidfile = path.join(dir, 'few.pid');
      const token = scratch.token();
      const result = spawnSync('bash', ['-c', `ulimit -n ${limit}; exec "$0" "$@"`, process.execPath, CLI, '--pidfile', pidfile, '--',
        'sleep', `1000.${token}`], { encoding: 'utf8', timeout: 20000 });
      if (result.status === 0) {
        const pid = scratch.track(readPidfile(pidfile));
        assert.equal(proc.stat(pid)?.comm, 'sleep', `ulimit -n ${limit}`);
        process.kill(pid, 'SIGKILL');
        await waitFor(() => !proc.isAlive(pid), 'the daemon to die');
      } else {
        assert.equal(result.status, 1, `ulimit -n ${limit}: ${result.stderr}`);
        assert.match(result.stderr, /^daemonize: fatal: unable to .*: Too many open files\n$/, `ulimit -n ${limit}`);
        // The session leader's own pipe is named as such, not as the fork that had worked.
        assert.doesNotMatch(result.stderr, /fork failed/, `ulimit -n ${limit}`);
        assert.equal(fs.existsSync(pidfile), false);
      }
      assert.deepEqual(proc.findByToken(token), [], `ulimit -n ${limit}: nothing left`);
    }
  });
});

describe('closing inherited descriptors without /proc', () => {
  it('walks up to the soft limit when /proc is not mounted (a private mount namespace without it)', async () => {
    const pidfile = path.join(scratch.dir(), 'noproc.pid');
    const command = ['python3', HOSTILE, '--fd', '150', '--soft-nofile', '200', '--', process.execPath, CLI, '--pidfile', pidfile, '--',
      ...scratch.sleeper()].map((word) => `'${word}'`).join(' ');
    const result = spawnSync('unshare', ['--mount', 'sh', '-c', `umount -l /proc && exec ${command}`],
      { encoding: 'utf8', env: { ...process.env, DAEMONIZE_TEST_NO_CLOSE_RANGE: '1' } });
    assert.equal(result.status, 0, result.stderr);
    const pid = scratch.track(readPidfile(pidfile));
    await waitFor(() => proc.stat(pid)?.comm === 'sleep', 'the exec');
    const held = Object.entries(proc.fds(pid)).filter(([fd]) => Number(fd) > 2).map(([, target]) => target);
    assert.deepEqual(held, [pidfile]);
  });
});

describe('exec in place (-f) when the exec fails', () => {
  function badInterpreter() {
    const script = path.join(scratch.dir(), 'bad-interpreter');
    fs.writeFileSync(script, '#!/dz-no-such-interpreter\n', { mode: 0o755 });
    return script;
  }

  it('leaves every descriptor, close-on-exec flag, stdio, umask and directory as they were', () => {
    const out = path.join(scratch.dir(), 'out');
    const result = spawnSync(process.execPath, [path.join(FIXTURES, 'exec-in-place-fds.js'), badInterpreter(), out], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    const { before, after: afterExec, error } = JSON.parse(result.stdout);
    assert.deepEqual(error, { code: 'ENOENT', syscall: 'execve' });
    assert.deepEqual(afterExec, before);
  });

  it('with --user, leaves no thread of the launcher with root\'s ids after the failure', () => {
    const script = badInterpreter();
    fs.chmodSync(path.dirname(script), 0o755);  // so that nobody reaches it, and execve fails for the interpreter
    const out = path.join(path.dirname(script), 'out');
    const result = spawnSync(process.execPath, [path.join(FIXTURES, 'exec-in-place-fds.js'), script, out, 'ids'], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    const { error, threadUids } = JSON.parse(result.stdout);
    assert.deepEqual(error, { code: 'ENOENT', syscall: 'execve' });
    assert.ok(threadUids.length > 1, 'Node has more threads than one');
    for (const uids of threadUids) assert.deepEqual(uids, [NOBODY, NOBODY, NOBODY, NOBODY]);
  });

  it('reports the failed exec on the caller\'s own stderr, not the --stdout file, with 127, under a caller that passes an extra descriptor', () => {
    const dir = scratch.dir();
    const out = path.join(dir, 'out.log');
    const script = badInterpreter();
    for (const program of [script, '/dz-nonexistent']) {
      const result = spawnSync('python3', [HOSTILE, '--fd', '40', '--', process.execPath, CLI, '-f', '--stdout', out, '--', program], { encoding: 'utf8' });
      assert.equal(result.status, 127);
      assert.equal(result.stderr, `daemonize: fatal: unable to exec ${program}: No such file or directory\n`);
    }
    assert.equal(fs.existsSync(out), false, 'a log file this launch created is removed again');
  });
});
