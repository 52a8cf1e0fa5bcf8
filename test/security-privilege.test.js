'use strict';
// An unprivileged service cannot steer root: each test here is an attack by the service user (nobody) on a
// file root opens for it (the pidfile, its log files, the supervisor's status file and event log), or a
// hostile place to put them, and checks what the OS shows afterwards: file contents, owners, /proc.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');
const { describe, it, after } = require('node:test');

const proc = require('./helpers/proc');
const { ROOT, Scratch, runCli, readPidfile, waitFor } = require('./helpers/harness');

const scratch = new Scratch();
const mounts = [];
after(async () => {
  // --lazy: a process a failed test left with a file open there must not keep the mount (and the directory).
  for (const dir of mounts) spawnSync('umount', ['--lazy', dir]);
  await scratch.cleanup();
});

const NOBODY = 65534;
const NOGROUP = 65534;
const STEAL = path.join(ROOT, 'test', 'fixtures', 'priv-steal-pidfile.js');
const PLANT = path.join(ROOT, 'test', 'fixtures', 'priv-plant-link.sh');
const SECRET = 'root only\n';
const needsRoot = { skip: process.getuid() !== 0 && 'needs root to become nobody' };

/** A scratch directory others may enter (the daemon runs as nobody), writable by root alone. */
function rootDir() {
  const dir = scratch.dir();
  fs.chmodSync(dir, 0o755);
  return dir;
}

/** A directory the service user owns: its log directory, where it may plant whatever it likes. */
function nobodyDir(parent, name) {
  const dir = path.join(parent, name);
  fs.mkdirSync(dir);
  fs.chownSync(dir, NOBODY, NOGROUP);
  return dir;
}

/** A root-only file (mode 0600), the target of every planted link. */
function secretFile(dir) {
  const file = path.join(dir, 'secret');
  fs.writeFileSync(file, SECRET, { mode: 0o600 });
  return file;
}

/** Whether some process holds a flock on `file`, asked of util-linux flock(1) from another process. */
function lockHeld(file) {
  return spawnSync('flock', ['--nonblock', '--shared', file, 'true']).status !== 0;
}

/** The open flags of descriptor `fd` of `pid`, from /proc/PID/fdinfo (octal there). */
function fdFlags(pid, fd) {
  const text = fs.readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8');
  return parseInt(/^flags:\s*([0-7]+)$/m.exec(text)[1], 8);
}

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

function read(file) {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

describe('the pidfile cannot be changed by the daemon that holds its lock', () => {
  it('locks a read-only descriptor; a --user nobody daemon cannot write a victim\'s pid, and --stop spares the victim', needsRoot, async () => {
    const dir = rootDir();
    const pidfile = path.join(dir, 'steal.pid');
    const out = path.join(dir, 'steal.out');
    const victim = spawn('sleep', [`1000.${scratch.token()}`], { stdio: 'ignore' });
    scratch.track(victim.pid);
    const result = runCli(['--pidfile', pidfile, '--user', 'nobody', '--stdout', out, '--',
      process.execPath, STEAL, String(victim.pid)]);
    assert.equal(result.status, 0, result.stderr);
    const daemon = scratch.track(readPidfile(pidfile));
    const report = await waitFor(() => readJson(out), 'the daemon\'s report');

    const held = report.find((entry) => entry.target === pidfile);
    assert.ok(held, `the daemon inherited the pidfile: ${JSON.stringify(report)}`);
    assert.deepEqual(held, { fd: held.fd, target: pidfile, write: 'EBADF', truncate: 'EINVAL', reopen: 'EACCES', path: 'EACCES' });
    for (const entry of report) {
      for (const how of ['write', 'truncate', 'reopen', 'path']) {
        assert.notEqual(entry[how], 'done', `${how} succeeded on ${entry.target}`);
      }
    }
    assert.equal(fdFlags(daemon, held.fd) & 0o3, fs.constants.O_RDONLY, 'the inherited descriptor is read-only');
    assert.equal(fs.readFileSync(pidfile, 'utf8'), `${daemon}\n`);
    assert.ok(lockHeld(pidfile), 'the daemon still holds the lock');

    const stop = runCli(['--pidfile', pidfile, '--stop']);
    assert.equal(stop.status, 0, stop.stderr);
    assert.ok(!proc.isAlive(daemon), 'the daemon is gone');
    assert.ok(proc.isAlive(victim.pid), 'the victim is untouched');
    assert.equal(victim.signalCode, null);
  });

  it('is emptied when the lock is taken, so a locked pidfile never names the previous run\'s pid', () => {
    const dir = rootDir();
    const pidfile = path.join(dir, 'stale.pid');
    fs.writeFileSync(pidfile, `${process.pid}\n`, { mode: 0o666 });
    // Acquire in a process of its own and look from outside while it holds the lock, before any write.
    const script = `
      const fs = require('node:fs');
      const { Pidfile } = require(${JSON.stringify(path.join(ROOT, 'dist', 'pidfile.js'))});
      const p = Pidfile.acquire(process.argv[1]);
      const held = require('node:child_process').spawnSync('flock', ['--nonblock', '--shared', process.argv[1], 'true']).status !== 0;
      const flags = /^flags:\\s*([0-7]+)$/m.exec(fs.readFileSync('/proc/self/fdinfo/' + p.fd, 'utf8'))[1];
      console.log(JSON.stringify({ text: fs.readFileSync(process.argv[1], 'utf8'), held, flags: parseInt(flags, 8) }));
      p.write(4242);
      console.log(JSON.stringify({ text: fs.readFileSync(process.argv[1], 'utf8') }));`;
    const result = spawnSync(process.execPath, ['-e', script, pidfile], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    const [locked, written] = result.stdout.trim().split('\n').map((line) => JSON.parse(line));
    assert.equal(locked.text, '', 'empty as soon as it is locked');
    assert.ok(locked.held);
    assert.equal(locked.flags & 0o3, fs.constants.O_RDONLY);
    assert.equal(written.text, '4242\n');
    assert.equal(fs.statSync(pidfile).mode & 0o777, 0o644, 'no longer writable by others');
  });
});

describe('root refuses a pidfile another user controls', () => {
  it('refuses a pidfile owned by nobody: exit 1, nothing started, the file untouched', needsRoot, () => {
    const dir = rootDir();
    const pidfile = path.join(dir, 'theirs.pid');
    fs.writeFileSync(pidfile, '1\n');
    fs.chownSync(pidfile, NOBODY, NOGROUP);
    const token = scratch.token();
    const result = runCli(['--pidfile', pidfile, '--', 'sleep', `1000.${token}`]);
    assert.equal(result.status, 1);
    assert.equal(result.stderr, `daemonize: fatal: unable to open pidfile ${pidfile}: it is owned by uid ${NOBODY}, not by root\n`);
    assert.deepEqual(proc.findByToken(token), []);
    assert.equal(fs.readFileSync(pidfile, 'utf8'), '1\n');
  });

  it('refuses a pidfile in a world-writable directory without the sticky bit, and in one another user owns', needsRoot, () => {
    const open = rootDir();
    fs.chmodSync(open, 0o777);
    const owned = nobodyDir(rootDir(), 'run');
    for (const [dir, why] of [[open, 'is writable by other users and not sticky (mode 0777)'], [owned, `is owned by uid ${NOBODY}, not by root`]]) {
      const pidfile = path.join(dir, 'x.pid');
      const token = scratch.token();
      const result = runCli(['--pidfile', pidfile, '--', 'sleep', `1000.${token}`]);
      assert.equal(result.status, 1);
      assert.equal(result.stderr, `daemonize: fatal: unable to use pidfile ${pidfile}: its directory ${dir} ${why}\n`);
      assert.deepEqual(proc.findByToken(token), []);
      assert.ok(!fs.existsSync(pidfile));
    }
  });

  it('refuses a directory its group may write (unless that group is root\'s), and not a supervised start either', needsRoot, () => {
    const shared = rootDir();
    fs.chownSync(shared, 0, NOGROUP);
    fs.chmodSync(shared, 0o775);
    const pidfile = path.join(shared, 'g.pid');
    const token = scratch.token();
    const refused = runCli(['--respawn', '--pidfile', pidfile, '--', 'sleep', `1000.${token}`]);
    assert.equal(refused.status, 1);
    assert.equal(refused.stderr, `daemonize: fatal: unable to use pidfile ${pidfile}: its directory ${shared} is writable by other users and not sticky (mode 0775)\n`);
    assert.deepEqual(proc.findByToken(token), []);
    fs.chownSync(shared, 0, 0);
    const accepted = runCli(['--pidfile', pidfile, '--', 'sleep', `1000.${scratch.token()}`]);
    assert.equal(accepted.status, 0, accepted.stderr);
    scratch.track(readPidfile(pidfile));
  });

  it('accepts a root-owned sticky directory like /tmp', needsRoot, () => {
    const dir = rootDir();
    fs.chmodSync(dir, 0o1777);
    const pidfile = path.join(dir, 'ok.pid');
    const result = runCli(['--pidfile', pidfile, '--', 'sleep', `1000.${scratch.token()}`]);
    assert.equal(result.status, 0, result.stderr);
    scratch.track(readPidfile(pidfile));
  });
});

describe('root opens log files only as the operator named them', () => {
  function start(log, extra = []) {
    const pidfile = path.join(rootDir(), 'log.pid');
    const token = scratch.token();
    const result = runCli(['--pidfile', pidfile, ...extra, '--stdout', log, '--', 'sleep', `1000.${token}`]);
    return { result, token, pidfile };
  }

  it('refuses a root-owned log file with a second hard link', needsRoot, () => {
    const dir = rootDir();
    const target = path.join(dir, 'target');
    fs.writeFileSync(target, SECRET, { mode: 0o600 });
    const log = path.join(nobodyDir(dir, 'logs'), 'out.log');
    fs.linkSync(target, log);
    const { result, token, pidfile } = start(log, ['--user', 'nobody']);
    assert.equal(result.status, 1);
    assert.equal(result.stderr, `daemonize: fatal: unable to open ${log}: it is owned by root and has 2 hard links\n`);
    assert.deepEqual(proc.findByToken(token), []);
    assert.ok(!fs.existsSync(pidfile), 'the pidfile is gone again');
    assert.equal(fs.readFileSync(target, 'utf8'), SECRET);
  });

  it('refuses a log file that is a symbolic link, a FIFO, or owned by someone other than root and --user', needsRoot, () => {
    const dir = rootDir();
    const secret = secretFile(dir);
    const link = path.join(dir, 'link.log');
    fs.symlinkSync(secret, link);
    const fifo = path.join(dir, 'fifo.log');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    const stranger = path.join(dir, 'stranger.log');
    fs.writeFileSync(stranger, '');
    fs.chownSync(stranger, 1, 1);
    for (const [log, why, extra] of [
      [link, 'it is a symbolic link', []],
      [fifo, 'it is not a regular file', []],
      [stranger, 'it is owned by uid 1, not by root', []],
      [stranger, `it is owned by uid 1, not by root or the daemon's user (uid ${NOBODY})`, ['--user', 'nobody']],
    ]) {
      const { result, token } = start(log, extra);
      assert.equal(result.status, 1, log);
      assert.equal(result.stderr, `daemonize: fatal: unable to open ${log}: ${why}\n`);
      assert.deepEqual(proc.findByToken(token), []);
    }
    assert.equal(fs.readFileSync(secret, 'utf8'), SECRET);
    assert.equal(fs.readFileSync(stranger, 'utf8'), '');
  });

  it('accepts an existing log owned by the --user, and gives the user a log it creates', needsRoot, () => {
    const dir = rootDir();
    const logs = nobodyDir(dir, 'logs');
    const theirs = path.join(logs, 'theirs.log');
    fs.writeFileSync(theirs, '');
    fs.chownSync(theirs, NOBODY, NOGROUP);
    const first = start(theirs, ['--user', 'nobody']);
    assert.equal(first.result.status, 0, first.result.stderr);
    scratch.track(readPidfile(first.pidfile));
    const fresh = path.join(logs, 'fresh.log');
    const second = start(fresh, ['--user', 'nobody']);
    assert.equal(second.result.status, 0, second.result.stderr);
    scratch.track(readPidfile(second.pidfile));
    assert.equal(fs.statSync(fresh).uid, NOBODY);
  });
});

describe('a root supervisor (-r --user nobody) is not steered by the service user', () => {
  /** Starts the hostile fixture under a root supervisor whose pidfile lives in `dir`. */
  function supervise(dir, args, plant) {
    const pidfile = path.join(dir, 'app.pid');
    const result = runCli(['--respawn', '--user', 'nobody', '--pidfile', pidfile, ...args, '--', PLANT, ...plant]);
    assert.equal(result.status, 0, result.stderr);
    const supervisor = scratch.track(readPidfile(pidfile));
    const statusFile = path.join(dir, 'app.status');
    return { pidfile, supervisor, statusFile, status: () => readJson(statusFile) };
  }

  /** The child the supervisor reports, once it is a live one after the `runs`-th start. */
  function childAfter(d, state, runs) {
    return waitFor(() => {
      const child = d.status()?.child;
      return read(path.join(state, 'runs')).trim() === String(runs) && child && proc.isAlive(child) && child;
    }, `run ${runs} to be up`);
  }

  it('a log replaced by a link to a root-only file: the next child gets /dev/null for it, and the supervisor says so', needsRoot, async () => {
    const dir = rootDir();
    const secret = secretFile(dir);
    const logs = nobodyDir(dir, 'logs');
    const log = path.join(logs, 'out.log');
    const events = path.join(dir, 'events.log');
    const d = supervise(dir, ['--stdout', log, '--errlog', events], [logs, log, secret, 'exit']);
    const second = scratch.track(await childAfter(d, logs, 2));
    assert.equal(read(path.join(logs, 'planted')), 'planted\n');
    assert.equal(fs.readFileSync(secret, 'utf8'), SECRET, 'nothing written through the link');
    assert.equal(fs.readFileSync(`${log}.1`, 'utf8'), 'run 1\n');
    assert.equal(proc.fds(second)[1], '/dev/null');
    await waitFor(() => read(events).includes(`unable to open ${log}: it is a symbolic link: the program's stream goes to /dev/null instead`),
      'the refusal in the event log');
    assert.ok(proc.isAlive(d.supervisor), 'the supervisor goes on');
    assert.equal(d.status().state, 'running');
    assert.ok(fs.lstatSync(log).isSymbolicLink(), 'the link is left for the operator to see');
  });

  it('a log directory swapped for a link by the user who owns the directory above it: refused, not followed', needsRoot, async () => {
    const dir = rootDir();
    // The service user's home holds its app and log directories; elsewhere, a root file of the same name.
    const home = nobodyDir(dir, 'home');
    const app = nobodyDir(home, 'app');
    const log = path.join(nobodyDir(app, 'logs'), 'out.log');
    const victim = path.join(dir, 'victim');
    fs.mkdirSync(path.join(victim, 'logs'), { recursive: true });
    const victimLog = path.join(victim, 'logs', 'out.log');
    fs.writeFileSync(victimLog, SECRET, { mode: 0o600 });
    const events = path.join(dir, 'events.log');
    const d = supervise(dir, ['--stdout', log, '--errlog', events], [home, app, victim, 'exit']);
    const second = scratch.track(await childAfter(d, home, 2));
    assert.ok(fs.lstatSync(app).isSymbolicLink(), 'the app directory is now a link to the victim');
    assert.equal(fs.readFileSync(victimLog, 'utf8'), SECRET, 'nothing written in the other directory');
    assert.equal(proc.fds(second)[1], '/dev/null');
    await waitFor(() => read(events).includes(`unable to open ${log}: its directory ${path.dirname(log)} is no longer the one it was when the supervisor started`),
      'the refusal in the event log');
  });

  it('a status file\'s .new planted as a link (sticky directory): removed, and the record written beside it', needsRoot, async () => {
    const dir = rootDir();
    fs.chmodSync(dir, 0o1777);
    const secret = secretFile(dir);
    const state = nobodyDir(dir, 'state');
    const temporary = path.join(dir, 'app.status.new');
    const d = supervise(dir, [], [state, temporary, secret, 'exit']);
    const second = scratch.track(await childAfter(d, state, 2));
    assert.equal(read(path.join(state, 'planted')), 'planted\n');
    await waitFor(() => d.status()?.child === second, 'the record to name the second child');
    assert.equal(fs.readFileSync(secret, 'utf8'), SECRET, 'nothing written through the link');
    assert.ok(!fs.existsSync(temporary) && !isLink(temporary), 'the planted link is gone');
    const record = fs.lstatSync(d.statusFile);
    assert.ok(record.isFile());
    assert.equal(record.uid, 0);
  });

  it('an event log replaced by a link before SIGHUP: the supervisor keeps the old file and says why', needsRoot, async () => {
    const dir = rootDir();
    const secret = secretFile(dir);
    const logs = nobodyDir(dir, 'logs');
    const events = path.join(logs, 'events.log');
    const d = supervise(dir, ['--errlog', events], [logs, events, secret, 'stay']);
    await waitFor(() => read(path.join(logs, 'planted')) === 'planted\n', 'the link to be planted');
    process.kill(d.supervisor, 'SIGHUP');
    await waitFor(() => read(`${events}.1`).includes(`unable to open ${events}: it is a symbolic link: still logging to the file open before SIGHUP`),
      'the refusal in the rotated log');
    assert.equal(fs.readFileSync(secret, 'utf8'), SECRET, 'nothing written through the link');
    assert.ok(proc.isAlive(d.supervisor), 'the supervisor goes on');
    assert.notEqual(proc.fds(d.supervisor)[2], secret);
  });
});

function isLink(file) {
  try {
    return fs.lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
}

/** Live processes with a descriptor open on a file under `dir`. */
function openedUnder(dir) {
  const found = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || !proc.isAlive(Number(entry))) continue;
    let targets = [];
    try {
      targets = Object.values(proc.fds(Number(entry)));
    } catch {
      continue;
    }
    if (targets.some((target) => target.startsWith(`${dir}/`))) found.push(Number(entry));
  }
  return found;
}

describe('a full disk', () => {
  /** A 64 KiB tmpfs, filled to the last byte; unmounted in cleanup. */
  function fullTmpfs() {
    const dir = path.join(rootDir(), 'full');
    fs.mkdirSync(dir);
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0755', 'tmpfs', dir], { encoding: 'utf8' });
    assert.equal(mounted.status, 0, mounted.stderr);
    mounts.push(dir);
    fill(dir);
    return dir;
  }

  /** Fills the file system `dir` is on to the last byte. */
  function fill(dir) {
    const fd = fs.openSync(path.join(dir, 'filler'), 'w');
    try {
      for (;;) fs.writeSync(fd, Buffer.alloc(4096));
    } catch (error) {
      assert.equal(error.code, 'ENOSPC');
    } finally {
      fs.closeSync(fd);
    }
  }

  it('a supervisor that cannot write its status record removes the old one rather than leave a lie', { skip: process.getuid() !== 0 && 'needs root to mount' }, async () => {
    const dir = path.join(rootDir(), 'small');
    fs.mkdirSync(dir);
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0755', 'tmpfs', dir], { encoding: 'utf8' });
    assert.equal(mounted.status, 0, mounted.stderr);
    mounts.push(dir);
    const pidfile = path.join(dir, 'app.pid');
    const errlog = path.join(path.dirname(dir), 'app.log');
    const token = scratch.token();
    const result = runCli(['--respawn', '--pidfile', pidfile, '--errlog', errlog, '--', 'sleep', `1000.${token}`]);
    assert.equal(result.status, 0, result.stderr);
    const supervisor = scratch.track(readPidfile(pidfile));
    const statusFile = path.join(dir, 'app.status');
    const first = scratch.track(readJson(statusFile).child);
    fill(dir);
    process.kill(first, 'SIGKILL');
    await waitFor(() => read(errlog).includes(`unable to write ${statusFile}: No space left on device\n`), 'the failure in the event log');
    await waitFor(() => !fs.existsSync(statusFile), 'the stale record to go');
    assert.ok(!fs.existsSync(`${statusFile}.new`));
    assert.ok(proc.isAlive(supervisor), 'the supervisor goes on');
    for (const pid of proc.findByToken(token)) scratch.track(pid);
  });

  for (const mode of [[], ['--respawn']]) {
    it(`fails to write the pidfile with a clear message, exit 1, and leaves nothing ${mode.join(' ')}`, { skip: process.getuid() !== 0 && 'needs root to mount' }, async () => {
      const dir = fullTmpfs();
      const pidfile = path.join(dir, 'x.pid');
      const token = scratch.token();
      // The supervisor's event log goes elsewhere, so the pidfile is the only file on the full disk.
      const errlog = mode.length > 0 ? ['--errlog', path.join(path.dirname(dir), 'x.log')] : [];
      const result = runCli(['--pidfile', pidfile, ...mode, ...errlog, '--', 'sleep', `1000.${token}`]);
      assert.equal(result.status, 1);
      assert.equal(result.stderr, `daemonize: fatal: unable to write pidfile ${pidfile}: No space left on device\n`);
      assert.ok(!fs.existsSync(pidfile), 'no pidfile');
      assert.deepEqual(fs.readdirSync(dir), ['filler']);
      await waitFor(() => proc.findByToken(token).length === 0, 'no daemon');
      await waitFor(() => openedUnder(dir).length === 0, 'no process (a supervisor) holding a file there');
    });
  }
});
