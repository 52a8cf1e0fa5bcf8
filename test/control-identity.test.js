'use strict';
// The verbs act on whoever holds the pidfile's lock, never on the number written in it (issue 8): a stale
// pidfile naming a live stranger, naming 1 or 0, a pidfile through a symlinked directory, another user's
// daemon, a bad entry in --list, and starts racing a --status loop.
const assert = require('node:assert/strict');
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { describe, it, after } = require('node:test');

const proc = require('./helpers/proc');
const { CLI, ROOT, Scratch, runCli, readPidfile, waitFor } = require('./helpers/harness');

const api = require(path.join(ROOT, 'dist', 'index.js'));

const scratch = new Scratch();
after(() => scratch.cleanup());

/** A live process in a session of its own that has nothing to do with any pidfile. */
async function stranger() {
  const token = scratch.token();
  const child = spawn('setsid', ['sleep', `1000.${token}`], { stdio: 'ignore', detached: true });
  child.unref();
  // setsid(1) may fork first: wait for the sleep itself, leading its own session.
  const [pid] = await waitFor(() => {
    const found = proc.findByToken(token).filter((p) => proc.stat(p)?.comm === 'sleep' && proc.stat(p)?.session === p);
    return found.length === 1 && found;
  }, 'the stranger to start');
  return scratch.track(pid);
}

function startDaemon(pidfile, extra = []) {
  const result = runCli(['--pidfile', pidfile, ...extra, '--', ...scratch.sleeper()]);
  assert.equal(result.status, 0, result.stderr);
  return scratch.track(readPidfile(pidfile));
}

describe('a stale pidfile naming a live process', () => {
  it('a stranger in another session: --stop leaves it alive, exits 1 and removes the stale file', async () => {
    const victim = await stranger();
    const session = proc.stat(victim).session;
    const pidfile = path.join(scratch.dir(), 'x.pid');
    fs.writeFileSync(pidfile, `${victim}\n`);
    assert.equal(runCli(['--pidfile', pidfile, '--running']).status, 1);
    const status = runCli(['--pidfile', pidfile, '--status']);
    assert.equal(status.status, 1);
    assert.equal(status.stdout, `x: dead, pidfile ${pidfile} remains\n`);
    const signal = runCli(['--pidfile', pidfile, '--signal', 'HUP']);
    assert.equal(signal.status, 1);
    assert.equal(signal.stderr, 'daemonize: fatal: unable to signal x: not running\n');
    const stop = runCli(['--pidfile', pidfile, '--stop', '--stop-timeout', '0.2']);
    assert.equal(stop.status, 1);
    assert.equal(stop.stderr, `daemonize: fatal: unable to stop x: not running; removed its stale pidfile ${pidfile}\n`);
    assert.equal(fs.existsSync(pidfile), false);
    assert.ok(proc.isAlive(victim), 'the stranger is alive');
    assert.equal(proc.stat(victim).state === 'T', false);
    assert.equal(proc.stat(victim).session, session);
  });

  it('--stop keeps a stale pidfile that was replaced after it looked (only the same, unlocked inode goes)', () => {
    // A pidfile that a live daemon holds is never removed by a --stop of a stale one: the lock is the test.
    const pidfile = path.join(scratch.dir(), 'held.pid');
    const daemon = startDaemon(pidfile);
    fs.writeFileSync(path.join(path.dirname(pidfile), 'other.pid'), `${daemon}\n`);
    const stop = runCli(['--pidfile', path.join(path.dirname(pidfile), 'other.pid'), '--stop']);
    assert.equal(stop.status, 1);
    assert.ok(proc.isAlive(daemon), 'the daemon named in an unlocked file is not signalled');
    assert.equal(readPidfile(pidfile), daemon);
    assert.equal(runCli(['--pidfile', pidfile, '--running']).status, 0);
  });

  it('1 in the file: init is never signalled (a pid namespace whose init records every signal)', () => {
    const dir = scratch.dir();
    const pidfile = path.join(dir, 'init.pid');
    const trapped = path.join(dir, 'trapped');
    const results = path.join(dir, 'results');
    const cli = `"${process.execPath}" "${CLI}" --pidfile "${pidfile}"`;
    const script = [
      `trap 'echo TERM >> "${trapped}"' TERM`, `trap 'echo HUP >> "${trapped}"' HUP`, `trap 'echo KILL-ish >> "${trapped}"' USR1`,
      `echo 1 > "${pidfile}"`,
      `${cli} --stop --stop-timeout 0.2; echo "stop $?" >> "${results}"`,
      `echo 1 > "${pidfile}"`,
      `${cli} --signal TERM; echo "signal $?" >> "${results}"`,
      `${cli} --restart; echo "restart $?" >> "${results}"`,
      `${cli} --status; echo "status $?" >> "${results}"`,
      // The trap must be able to fire: prove it with a signal we do send.
      'kill -USR1 1', 'true',
    ].join('\n');
    const run = spawnSync('unshare', ['--fork', '--pid', '--mount-proc', 'sh', '-c', script], { encoding: 'utf8', timeout: 30000 });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(fs.readFileSync(results, 'utf8'), 'stop 1\nsignal 1\nrestart 2\nstatus 1\n');
    assert.equal(fs.readFileSync(trapped, 'utf8'), 'KILL-ish\n', 'init got no signal from the verbs');
  });
});

describe('--stop reaches everything the daemon started', () => {
  it('a grandchild that left the session with setsid, and one that ignores SIGTERM, are gone when --stop returns', async () => {
    const pidfile = path.join(scratch.dir(), 'tree.pid');
    const token = scratch.token();
    const result = runCli(['--pidfile', pidfile, '--', 'sh', '-c',
      // The grandchild closes its inherited descriptors (the pidfile's among them): no lock holder, and
      // alone in a new session, it is reachable only as a descendant.
      `python3 -c 'import os; os.closerange(3, 65536); os.execvp("setsid", ["setsid", "sleep", "1000.${token}1"])' & ` +
      `sh -c 'trap "" TERM; while :; do sleep 0.1; done # ${token}2' & wait`]);
    assert.equal(result.status, 0, result.stderr);
    const daemon = scratch.track(readPidfile(pidfile));
    const escaped = await waitFor(() => proc.findByToken(`${token}1`).find((pid) => proc.stat(pid)?.comm === 'sleep' && proc.stat(pid)?.session === pid),
      'the grandchild in a session of its own');
    scratch.track(escaped);
    assert.notEqual(proc.stat(escaped).session, proc.stat(daemon).session);
    assert.deepEqual(Object.keys(proc.fds(escaped)).filter((fd) => Number(fd) > 2), [], 'it holds no lock');
    const stop = runCli(['--pidfile', pidfile, '--stop', '--stop-timeout', '0.5']);
    assert.equal(stop.status, 0, stop.stderr);
    assert.equal(proc.isAlive(daemon), false);
    assert.equal(proc.isAlive(escaped), false, 'the setsid grandchild is stopped too');
    assert.deepEqual(proc.findByToken(token), []);
  });

  it('a process the daemon starts as it stops (after --stop read the table), holding no lock, is gone when --stop returns', async () => {
    const dir = scratch.dir();
    const pidfile = path.join(dir, 'late.pid');
    const late = path.join(dir, 'late-child');
    const token = scratch.token();
    // On SIGTERM the daemon starts a sleeper in its session, which closes the inherited lock descriptor,
    // and exits: only a new reading of the table can find it.
    const sleeper = `python3 -c 'import os; os.closerange(3, 65536); os.execvp("sleep", ["sleep", "1000.${token}"])'`;
    const result = runCli(['--pidfile', pidfile, '--', 'sh', '-c',
      `trap '${sleeper.replace(/'/g, `'"'"'`)} & echo $! > ${late}; exit 0' TERM; while :; do sleep 0.05; done`]);
    assert.equal(result.status, 0, result.stderr);
    const daemon = scratch.track(readPidfile(pidfile));
    const stop = runCli(['--pidfile', pidfile, '--stop', '--stop-timeout', '0.5']);
    assert.equal(stop.status, 0, stop.stderr);
    const child = Number(fs.readFileSync(late, 'utf8'));
    scratch.track(child);
    assert.match(stop.stderr, /did not stop in time: sent SIGKILL/, 'it outlived the timeout: --stop waited for it');
    assert.equal(proc.isAlive(daemon), false);
    assert.equal(proc.isAlive(child), false, 'the late sleeper is gone');
    assert.deepEqual(proc.findByToken(token), []);
  });
});

describe('--stop\'s looks at the table, pushed', () => {
  /** A daemon that, on SIGTERM, first runs `before` (shell), then starts a sleeper in its session that keeps no descriptor, and exits. */
  function lateDaemon(dir, before = 'true') {
    const pidfile = path.join(dir, 'late.pid');
    const late = path.join(dir, 'late-child');
    const token = scratch.token();
    const sleeper = `python3 -c 'import os; os.closerange(3, 65536); os.execvp("sleep", ["sleep", "1000.${token}"])'`;
    const script = `trap '${before}; ${sleeper.replace(/'/g, `'"'"'`)} & echo $! > ${late}; exit 0' TERM; while :; do sleep 0.05; done`;
    return { pidfile, late, token, script };
  }

  it('under ulimit -n 16 to 24 it finds what the daemon leaves as it stops, or says it cannot: never 0 with it alive', async () => {
    // Node itself needs most of these descriptors (it may not even start at the lowest); at one of them a
    // look at /proc has a single descriptor left.
    let stopped = 0;
    for (let limit = 16; limit <= 24; limit++) {
      const { pidfile, late, token, script } = lateDaemon(scratch.dir());
      const result = runCli(['--pidfile', pidfile, '--', 'sh', '-c', script]);
      assert.equal(result.status, 0, result.stderr);
      scratch.track(readPidfile(pidfile));
      const stop = spawnSync('sh', ['-c', `ulimit -n ${limit}; exec "${process.execPath}" "${CLI}" --pidfile "${pidfile}" --stop --stop-timeout 0.5`],
        { encoding: 'utf8', timeout: 30000 });
      if (stop.status === 0) {
        stopped += 1;
        await waitFor(() => fs.existsSync(late) && fs.readFileSync(late, 'utf8').endsWith('\n'), 'the late sleeper\'s pid');
        const child = scratch.track(Number(fs.readFileSync(late, 'utf8')));
        assert.equal(proc.isAlive(child), false, `ulimit -n ${limit}: --stop said 0 with the daemon's sleeper alive`);
        assert.deepEqual(proc.findByToken(token), []);
      } else if (/^daemonize: /m.test(stop.stderr)) {
        assert.match(stop.stderr, /^daemonize: fatal: unable to stop late: /m, `ulimit -n ${limit}`);
        assert.doesNotMatch(stop.stderr, /\n\s+at /, 'a message, not a stack');
      }
      // Whatever is left of this round goes before the next.
      runCli(['--pidfile', pidfile, '--stop', '--stop-timeout', '0.5']);
      if (fs.existsSync(late)) scratch.track(Number(fs.readFileSync(late, 'utf8')));
      for (const pid of proc.findByToken(token)) process.kill(pid, 'SIGKILL');
    }
    assert.ok(stopped >= 3, `--stop worked under ${stopped} of the limits`);
  });

  it('a pid handed out again during the stop (ns_last_pid set back) is read again: the sleeper that took a stranger\'s pid is waited for', {
    skip: process.getuid() !== 0 ? 'needs root (a pid namespace of its own)' : false,
  }, async () => {
    const dir = scratch.dir();
    // In a pid namespace of its own (its PID 1, this shell, reaps): a stranger in a session of its own is
    // alive at --stop's first look and gone soon after; on SIGTERM the daemon waits for it to be reaped,
    // sets the namespace's last pid to just below the stranger's and starts its sleeper, which gets that pid.
    const daemon = lateDaemon(dir, 'while kill -0 $STRANGER 2>/dev/null; do sleep 0.05; done; echo $((STRANGER - 1)) > /proc/sys/kernel/ns_last_pid');
    const outcome = path.join(dir, 'outcome');
    const inside = [
      'setsid sleep 0.6 & export STRANGER=$!',
      `"${process.execPath}" "${CLI}" --pidfile "${daemon.pidfile}" -- sh -c "$SCRIPT" || exit 2`,
      `"${process.execPath}" "${CLI}" --pidfile "${daemon.pidfile}" --stop --stop-timeout 3 2>"${dir}/stop.err"; code=$?`,
      `late=$(cat "${daemon.late}")`,
      'state=$(cut -d" " -f3 /proc/$late/stat 2>/dev/null || echo gone)',
      `echo "$code $STRANGER $late $state" > "${outcome}"`,
      'kill -9 $late 2>/dev/null; true',
    ].join('\n');
    const run = spawnSync('unshare', ['--pid', '--fork', '--mount-proc', 'sh', '-c', inside],
      { encoding: 'utf8', timeout: 60000, env: { ...process.env, SCRIPT: daemon.script } });
    assert.equal(run.status, 0, run.stderr);
    const [code, stranger, late, state] = fs.readFileSync(outcome, 'utf8').trim().split(' ');
    assert.equal(late, stranger, 'the sleeper took the stranger\'s pid (else this proves nothing)');
    assert.equal(code, '0', fs.readFileSync(path.join(dir, 'stop.err'), 'utf8'));
    assert.match(fs.readFileSync(path.join(dir, 'stop.err'), 'utf8'), /did not stop in time: sent SIGKILL/, '--stop waited for it');
    assert.ok(state === 'gone' || state === 'Z', `the sleeper is ${state} after --stop returned`);
  });
});

describe('a locked pidfile that names no holder', () => {
  it('0 in the file: --signal HUP reaches the lock holder, not the caller\'s process group', async () => {
    const dir = scratch.dir();
    const pidfile = path.join(dir, 'zero.pid');
    const token = scratch.token();
    fs.writeFileSync(pidfile, '0\n');
    // flock(1) holds the lock and its child inherits the descriptor: two holders, the top one is "the daemon".
    const holder = spawn('setsid', ['flock', pidfile, 'sleep', `1000.${token}`], { stdio: 'ignore', detached: true });
    holder.unref();
    const [sleeper] = await waitFor(() => { const f = proc.findByToken(token).filter((pid) => proc.stat(pid).comm === 'sleep'); return f.length === 1 && f; },
      'the lock holder to start');
    const flockPid = scratch.track(proc.stat(sleeper).ppid);
    scratch.track(sleeper);
    await waitFor(() => fs.readFileSync('/proc/locks', 'utf8').includes(`:${fs.statSync(pidfile).ino} `), 'the lock');
    const caught = path.join(dir, 'caught');
    const script = `trap 'echo HUP >> "${caught}"' HUP; "${process.execPath}" "${CLI}" --pidfile "${pidfile}" --signal HUP; echo "$?" > "${dir}/code"; true`;
    const run = spawnSync('setsid', ['sh', '-c', script], { encoding: 'utf8', timeout: 20000 });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(fs.readFileSync(path.join(dir, 'code'), 'utf8'), '0\n');
    assert.equal(fs.existsSync(caught), false, 'the caller\'s process group got no SIGHUP');
    await waitFor(() => !proc.isAlive(flockPid), 'the top holder (flock) to die of SIGHUP');
    assert.ok(proc.isAlive(sleeper), 'only the top holder was signalled');
    const status = runCli(['--pidfile', pidfile, '--status']);
    assert.equal(status.status, 0);
    assert.match(status.stdout, new RegExp(`^zero: running as pid ${sleeper},`));
  });
});

describe('paths', () => {
  it('a pidfile reached through a symlinked directory (/var/run -> /run): --status and --stop work', async () => {
    const base = scratch.dir();
    const real = path.join(base, 'realdir');
    const link = path.join(base, 'linkdir');
    fs.mkdirSync(real);
    fs.symlinkSync(real, link);
    const daemon = startDaemon(path.join(real, 'x.pid'));
    const status = runCli(['--pidfile', path.join(link, 'x.pid'), '--status']);
    assert.equal(status.status, 0, status.stderr);
    assert.match(status.stdout, new RegExp(`^x: running as pid ${daemon},`));
    assert.equal(runCli(['--pidfile', path.join(link, 'x.pid'), '--running']).status, 0);
    const stop = runCli(['--pidfile', path.join(link, 'x.pid'), '--stop']);
    assert.equal(stop.status, 0, stop.stderr);
    assert.equal(proc.isAlive(daemon), false);
    assert.equal(fs.existsSync(path.join(real, 'x.pid')), false);
  });

  it('a pidfile that is itself a symlink is refused, naming it, and its target is not touched', () => {
    const dir = scratch.dir();
    const daemon = startDaemon(path.join(dir, 'real.pid'));
    fs.symlinkSync(path.join(dir, 'real.pid'), path.join(dir, 'link.pid'));
    const status = runCli(['--pidfile', path.join(dir, 'link.pid'), '--status']);
    assert.equal(status.status, 4);
    assert.match(status.stderr, /^daemonize: fatal: unable to open pidfile .*link\.pid: it is a symbolic link\n$/);
    assert.equal(runCli(['--pidfile', path.join(dir, 'link.pid'), '--stop']).status, 1);
    assert.ok(proc.isAlive(daemon));
  });
});

describe('another user', () => {
  const asNobody = (args) => spawnSync('setpriv', ['--reuid', 'nobody', '--regid', 'nogroup', '--clear-groups', process.execPath, CLI, ...args],
    { encoding: 'utf8', timeout: 20000 });

  it('a non-root --stop, --signal or --restart of root\'s daemon says "permission denied" at once and signals nothing', () => {
    const dir = scratch.dir();
    fs.chmodSync(dir, 0o755);
    const pidfile = path.join(dir, 'web.pid');
    const daemon = startDaemon(pidfile);
    const supervisor = startDaemon(path.join(dir, 'sup.pid'), ['--respawn', '--stop-timeout', '30']);
    for (const verb of [['--stop'], ['--signal', 'TERM']]) {
      const result = asNobody(['--pidfile', pidfile, ...verb]);
      assert.equal(result.status, 1, result.stderr);
      const what = verb[0] === '--stop' ? 'stop' : 'signal';
      assert.equal(result.stderr, `daemonize: fatal: unable to ${what} web: permission denied (pid ${daemon} belongs to root)\n`);
    }
    const restart = asNobody(['--pidfile', path.join(dir, 'sup.pid'), '--restart']);
    assert.equal(restart.status, 1);
    assert.equal(restart.stderr, `daemonize: fatal: unable to restart sup: permission denied (pid ${supervisor} belongs to root)\n`);
    const stop = asNobody(['--pidfile', path.join(dir, 'sup.pid'), '--stop']);
    assert.equal(stop.stderr, `daemonize: fatal: unable to stop sup: permission denied (pid ${supervisor} belongs to root)\n`);
    assert.ok(proc.isAlive(daemon) && proc.isAlive(supervisor));
    // Root's daemon is still "running" to another user: the kernel lists the lock.
    assert.equal(asNobody(['--pidfile', pidfile, '--running']).status, 0);
    assert.equal(asNobody(['--pidfile', pidfile, '--status']).status, 0);
    assert.equal(runCli(['--pidfile', path.join(dir, 'sup.pid'), '--stop']).status, 0);
  });
});

describe('a user with its own daemon', () => {
  it('nobody\'s verbs find nobody\'s daemon by its descriptors and stop it', async () => {
    const dir = scratch.dir();
    fs.chmodSync(dir, 0o755);
    const own = path.join(dir, 'nobody');
    fs.mkdirSync(own);
    const nobody = Number(spawnSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).stdout.trim());
    fs.chownSync(own, nobody, nobody);
    const pidfile = path.join(own, 'mine.pid');
    const asNobody = (args) => spawnSync('setpriv', ['--reuid', 'nobody', '--regid', 'nogroup', '--clear-groups', process.execPath, CLI, ...args],
      { encoding: 'utf8', timeout: 20000, cwd: '/' });
    const started = asNobody(['--pidfile', pidfile, '--', ...scratch.sleeper()]);
    assert.equal(started.status, 0, started.stderr);
    const daemon = scratch.track(readPidfile(pidfile));
    assert.equal(proc.status(daemon).Uid.split('\t')[0], String(nobody));
    const status = asNobody(['--pidfile', pidfile, '--status']);
    assert.equal(status.status, 0, status.stderr);
    assert.match(status.stdout, new RegExp(`^mine: running as pid ${daemon}, up `));
    const stop = asNobody(['--pidfile', pidfile, '--stop']);
    assert.equal(stop.status, 0, stop.stderr);
    assert.equal(proc.isAlive(daemon), false);
    assert.equal(fs.existsSync(pidfile), false);
  });
});

describe('a pidfile root may not trust', () => {
  it('root\'s verbs refuse a pidfile another user owns and holds, and signal nothing', async () => {
    const dir = scratch.dir();
    fs.chmodSync(dir, 0o755);
    const pidfile = path.join(dir, 'theirs.pid');
    const token = scratch.token();
    fs.writeFileSync(pidfile, '');
    const nobody = Number(spawnSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).stdout.trim());
    fs.chownSync(pidfile, nobody, nobody);
    const holder = spawn('setpriv', ['--reuid', 'nobody', '--regid', 'nogroup', '--clear-groups', 'flock', pidfile, 'sleep', `1000.${token}`],
      { stdio: 'ignore', detached: true });
    holder.unref();
    const [sleeper] = await waitFor(() => { const f = proc.findByToken(token).filter((pid) => proc.stat(pid).comm === 'sleep'); return f.length === 1 && f; },
      'nobody\'s lock holder');
    scratch.track(sleeper);
    scratch.track(proc.stat(sleeper).ppid);
    const why = `unable to open pidfile ${pidfile}: it is owned by uid ${nobody}, not by root`;
    for (const verb of [['--stop'], ['--signal', 'TERM'], ['--restart']]) {
      const result = runCli(['--pidfile', pidfile, ...verb]);
      assert.equal(result.status, 1, `${verb[0]}: ${result.stderr}`);
      assert.equal(result.stderr, `daemonize: fatal: ${why}\n`);
    }
    const status = runCli(['--pidfile', pidfile, '--status']);
    assert.equal(status.status, 4);
    assert.equal(runCli(['--pidfile', pidfile, '--running']).status, 1);
    const list = runCli(['--pidfiles', dir, '--list']);
    assert.equal(list.stdout, `theirs: unknown: ${why}\n`);
    assert.ok(proc.isAlive(sleeper), 'nothing was signalled');
  });
});

describe('bounds on durations and counts', () => {
  it('a duration a Node timer cannot hold is a usage error; the largest one is accepted', () => {
    const pidfile = path.join(scratch.dir(), 'none.pid');
    for (const args of [['--stop-timeout', '2147484'], ['--stop-timeout', '99999999999999999999']]) {
      const result = runCli(['--pidfile', pidfile, '--stop', ...args]);
      assert.equal(result.status, 2, result.stderr);
      assert.match(result.stderr, /^daemonize: usage: bad --stop-timeout "\d+": expected a number of seconds from 0 to 2147483\n$/);
    }
    assert.equal(runCli(['--pidfile', pidfile, '--stop', '--stop-timeout', '2147483']).status, 1, 'accepted: nothing runs');
    for (const [flag, value] of [['-L', '3000000'], ['--acceptable', '2147484'], ['--stop-timeout', '2147484'],
      ['--attempts', '1000001'], ['--limit', '99999999']]) {
      const result = runCli(['-r', '--pidfile', pidfile, flag, value, '--', 'true']);
      assert.equal(result.status, 2, `${flag} ${value}: ${result.stderr}`);
      assert.match(result.stderr, /^daemonize: usage: bad --[a-z-]+ "\d+": expected/);
    }
    assert.equal(fs.existsSync(pidfile), false);
  });
});

describe('--list', () => {
  it('shows every good entry and each bad one on its own line; exit 0', async () => {
    const dir = scratch.dir();
    const a = startDaemon(path.join(dir, 'alpha.pid'));
    const z = startDaemon(path.join(dir, 'zulu.pid'));
    fs.symlinkSync(path.join(dir, 'alpha.pid'), path.join(dir, 'bad-link.pid'));
    fs.mkdirSync(path.join(dir, 'bad-dir.pid'));
    spawnSync('mkfifo', [path.join(dir, 'bad-fifo.pid')]);
    fs.writeFileSync(path.join(dir, 'stale.pid'), `${process.pid}\n`);
    const result = runCli(['--pidfiles', dir, '--list']);
    assert.equal(result.status, 0, result.stderr);
    const lines = result.stdout.trim().split('\n');
    assert.equal(lines.length, 6, result.stdout);
    assert.match(lines[0], new RegExp(`^alpha: running as pid ${a},`));
    assert.match(lines[1], /^bad-dir: unknown: unable to open pidfile .*bad-dir\.pid: it is not a regular file$/);
    assert.match(lines[2], /^bad-fifo: unknown: unable to open pidfile .*bad-fifo\.pid: it is not a regular file$/);
    assert.match(lines[3], /^bad-link: unknown: unable to open pidfile .*bad-link\.pid: it is a symbolic link$/);
    assert.equal(lines[4], `stale: dead, pidfile ${dir}/stale.pid remains`);
    assert.match(lines[5], new RegExp(`^zulu: running as pid ${z},`));
    const json = runCli(['--pidfiles', dir, '--list', '--json']);
    assert.equal(json.status, 0, json.stderr);
    const entries = JSON.parse(json.stdout);
    assert.deepEqual(entries.map((e) => [e.name, e.state, e.pid]),
      [['alpha', 'running', a], ['bad-dir', 'unknown', null], ['bad-fifo', 'unknown', null], ['bad-link', 'unknown', null],
        ['stale', 'dead', null], ['zulu', 'running', z]]);
    assert.match(entries[3].error, /symbolic link/);
  });

  it('exits 1 when the directory itself cannot be read', () => {
    const file = path.join(scratch.dir(), 'not-a-dir');
    fs.writeFileSync(file, '');
    const result = runCli(['--pidfiles', file, '--list']);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /^daemonize: fatal: unable to list /);
  });
});

describe('probing never takes the lock', () => {
  it('40 starts racing a tight --status loop (CLI and API) all succeed', async () => {
    const dir = scratch.dir();
    const pidfile = path.join(dir, 'race.pid');
    // One loop through the CLI, one through the API in a tight loop: neither may ever hold the lock.
    const stopFlag = path.join(dir, 'stop');
    const cliLoop = spawn('sh', ['-c', `while [ ! -e "${stopFlag}" ]; do "${process.execPath}" "${CLI}" --pidfile "${pidfile}" --status >/dev/null; done`],
      { stdio: 'ignore' });
    const apiLoop = spawn(process.execPath, ['-e', `
      const fs = require('node:fs');
      const { status } = require(${JSON.stringify(path.resolve(__dirname, '..', 'dist', 'index.js'))});
      (async () => { let n = 0; while (!fs.existsSync(${JSON.stringify(stopFlag)})) { await status({ pidfile: ${JSON.stringify(pidfile)} }).catch(() => {}); n++;
        await new Promise((resolve) => setTimeout(resolve, 1)); }
        fs.writeFileSync(${JSON.stringify(path.join(dir, 'count'))}, String(n)); })();`], { stdio: 'ignore' });
    scratch.track(cliLoop.pid);
    scratch.track(apiLoop.pid);
    const failures = [];
    try {
      for (let i = 0; i < 40; i++) {
        const start = runCli(['--pidfile', pidfile, '--', ...scratch.sleeper()]);
        if (start.status !== 0) failures.push(`start ${i}: ${start.status} ${start.stderr}`);
        await api.stop({ pidfile }).catch((error) => failures.push(`stop ${i}: ${error.message}`));
      }
    } finally {
      fs.writeFileSync(stopFlag, '');
    }
    await waitFor(() => fs.existsSync(path.join(dir, 'count')), 'the API loop to finish');
    await waitFor(() => cliLoop.exitCode !== null, 'the CLI loop to finish');
    assert.deepEqual(failures, []);
    assert.ok(Number(fs.readFileSync(path.join(dir, 'count'), 'utf8')) > 40, 'the API loop ran throughout');
  });

  it('a tight exclusive-lock loop never finds the pidfile locked while only --status and the API probe it', async () => {
    const dir = scratch.dir();
    const pidfile = path.join(dir, 'probe.pid');
    fs.writeFileSync(pidfile, '');
    const stopFlag = path.join(dir, 'stop');
    const prober = spawn(process.execPath, ['-e', `
      const fs = require('node:fs');
      const { status } = require(${JSON.stringify(path.join(ROOT, 'dist', 'index.js'))});
      (async () => { while (!fs.existsSync(${JSON.stringify(stopFlag)})) await status({ pidfile: ${JSON.stringify(pidfile)} }); })();`],
    { stdio: 'ignore' });
    const cliLoop = spawn('sh', ['-c', `while [ ! -e "${stopFlag}" ]; do "${process.execPath}" "${CLI}" --pidfile "${pidfile}" --status >/dev/null; done`],
      { stdio: 'ignore' });
    scratch.track(prober.pid);
    scratch.track(cliLoop.pid);
    // The addon's flock(LOCK_EX|LOCK_NB), as Pidfile.acquire uses it; a new descriptor each time, so each try
    // stands alone. Any refusal means a probe held the lock.
    const { native } = require(path.join(ROOT, 'dist', 'native.js'));
    // A refusal is a probe's lock only when /proc/locks names another process as the taker. The kernel may
    // keep *our own* previous lock a moment past our close(), while a probe reading our /proc/PID/fdinfo holds
    // a reference to that open file: /proc/locks then names this process, and no probe took anything.
    const ino = String(fs.statSync(pidfile).ino);
    const takers = () => fs.readFileSync('/proc/locks', 'latin1').split('\n')
      .map((line) => line.trim().split(/\s+/)).filter((f) => f[1] === 'FLOCK' && f[5]?.split(':')[2] === ino).map((f) => Number(f[4]));
    let tries = 0;
    let refused = 0;
    let ownLingering = 0;
    const deadline = Date.now() + 4000;
    try {
      while (Date.now() < deadline) {
        const fd = fs.openSync(pidfile, 'r');
        if (!native.tryLock(fd, false)) {
          if (takers().some((pid) => pid !== process.pid)) refused += 1;
          else ownLingering += 1;
        }
        fs.closeSync(fd);
        tries += 1;
        if (tries % 500 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
    } finally {
      fs.writeFileSync(stopFlag, '');
    }
    await waitFor(() => prober.exitCode !== null && cliLoop.exitCode !== null, 'the probes to finish');
    assert.equal(prober.exitCode, 0, 'the API probe never failed');
    assert.equal(refused, 0, `the lock was held by a probe ${refused} times in ${tries} tries (${ownLingering} times our own, lingering)`);
  });
});
