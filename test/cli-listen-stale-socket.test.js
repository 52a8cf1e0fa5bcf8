'use strict';
// A Unix --listen path left behind by a SIGKILLed supervisor: the next start removes it (a dead socket,
// in a directory root trusts) and binds again; anything else at that path (a live socket, a regular file,
// a symbolic link, a socket in a directory others may write) is refused with a clear error and left.
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { describe, it, after } = require('node:test');

const proc = require('./helpers/proc');
const { Scratch, runCli, readPidfile, waitFor } = require('./helpers/harness');

const scratch = new Scratch();
after(() => scratch.cleanup());

/** A supervised sleeper holding a Unix socket at `socket`; returns the CLI's result and the pidfile. */
function start(dir, socket) {
  const pidfile = path.join(dir, 'app.pid');
  const result = runCli(['-r', '--pidfile', pidfile, '--listen', socket, '--', ...scratch.sleeper()]);
  if (result.status === 0) scratch.track(readPidfile(pidfile));
  return { result, pidfile };
}

/** A socket file nobody listens on, as a process that bound it and died leaves it. */
function deadSocket(file) {
  const made = spawnSync('python3', ['-c', 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])', file]);
  assert.equal(made.status, 0, String(made.stderr));
  assert.ok(fs.lstatSync(file).isSocket());
}

/** Whether a connection to the Unix socket at `file` is accepted (into the backlog at least). */
function connects(file) {
  return new Promise((resolve) => {
    const socket = net.connect(file);
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

/** Whether no thread of `pid` still runs: each has ended (gone from /proc, or a zombie, as PID 1 here reaps none). */
function everyThreadEnded(pid) {
  let tids;
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return true;
  }
  return tids.every((tid) => {
    try {
      return /\) [ZX] /.test(fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'latin1'));
    } catch {
      return true;
    }
  });
}

/** The socket inode a descriptor of `pid` points at ("socket:[123]"), for each fd. */
function socketsOf(pid) {
  return Object.values(proc.fds(pid)).filter((target) => target.startsWith('socket:'));
}

function refusedLeftInPlace(dir, r, file, why) {
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`^daemonize: fatal: unable to listen on ${file.replace(/[.]/g, '\\.')}: ${why}; it is left in place$`, 'm'));
  assert.deepEqual(fs.readdirSync(dir).filter((name) => /^app\.(pid|status)/.test(name)), [], 'no pidfile or status left');
}

describe('a Unix --listen socket a killed supervisor left behind', () => {
  it('is removed by the next start, which binds it again and hands it to the child', async () => {
    const dir = scratch.dir();
    const socket = path.join(dir, 'app.sock');
    const first = start(dir, socket);
    assert.equal(first.result.status, 0, first.result.stderr);
    const supervisor = readPidfile(first.pidfile);
    const child = JSON.parse(fs.readFileSync(path.join(dir, 'app.status'), 'utf8')).child;
    scratch.track(child);
    process.kill(supervisor, 'SIGKILL');
    // The child dies with its supervisor (PDEATHSIG); the socket file stays, and nobody listens on it. The
    // supervisor's main thread shows Z while its other threads may still be exiting with its descriptors
    // open (the socket among them): gone means every thread of it.
    await waitFor(() => !proc.isAlive(supervisor) && everyThreadEnded(supervisor) && !proc.isAlive(child), 'the supervisor and its child to be gone');
    assert.ok(fs.lstatSync(socket).isSocket(), 'the killed supervisor left its socket file');
    assert.equal(await connects(socket), false);

    const again = start(dir, socket);
    assert.equal(again.result.status, 0, again.result.stderr);
    const second = readPidfile(again.pidfile);
    const secondChild = scratch.track(JSON.parse(fs.readFileSync(path.join(dir, 'app.status'), 'utf8')).child);
    assert.ok(fs.lstatSync(socket).isSocket());
    assert.equal(await connects(socket), true, 'bound and listening again');
    // The child's fd 3 is the socket the new supervisor holds.
    const fd3 = proc.fds(secondChild)['3'];
    assert.match(fd3 ?? '', /^socket:/);
    assert.ok(socketsOf(second).includes(fd3));
    assert.equal(runCli(['--pidfile', again.pidfile, '--stop']).status, 0);
    assert.equal(fs.existsSync(socket), false, 'removed at a clean stop');
  });

  it('a regular file or a symbolic link at the path is refused and left in place', () => {
    const dir = scratch.dir();
    const file = path.join(dir, 'app.sock');
    fs.writeFileSync(file, 'precious\n');
    refusedLeftInPlace(dir, start(dir, file).result, file, 'it is a regular file');
    assert.equal(fs.readFileSync(file, 'utf8'), 'precious\n');

    // A link to a dead socket elsewhere: neither the link nor its target is touched.
    const target = path.join(dir, 'elsewhere.sock');
    deadSocket(target);
    const link = path.join(dir, 'link.sock');
    fs.symlinkSync(target, link);
    refusedLeftInPlace(dir, start(dir, link).result, link, 'it is a symbolic link');
    assert.ok(fs.lstatSync(link).isSymbolicLink());
    assert.ok(fs.lstatSync(target).isSocket());
  });

  it('a socket some process listens on is refused, and that process keeps it', async () => {
    const dir = scratch.dir();
    const socket = path.join(dir, 'app.sock');
    // The supervisor's probe connects and hangs up at once: its EPIPE is no failure here.
    const server = net.createServer((connection) => connection.on('error', () => {}).end('still mine\n')).listen(socket);
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      refusedLeftInPlace(dir, start(dir, socket).result, socket, 'a process is listening on it');
      const said = await new Promise((resolve, reject) => {
        const client = net.connect(socket);
        let text = '';
        client.on('data', (chunk) => { text += chunk; });
        client.on('end', () => resolve(text));
        client.on('error', reject);
      });
      assert.equal(said, 'still mine\n');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('as root: a dead socket in a directory other users may write, or one owned by another user, is refused and left', { skip: process.geteuid() !== 0 && 'needs root' }, () => {
    const open = scratch.dir();
    fs.chmodSync(open, 0o777);
    const socket = path.join(open, 'app.sock');
    deadSocket(socket);
    const r = start(scratch.dir(), socket);
    assert.equal(r.result.status, 1, r.result.stderr);
    assert.match(r.result.stderr, new RegExp(`unable to listen on ${socket.replace(/[.]/g, '\\.')}: its directory ${open.replace(/[.]/g, '\\.')} is writable by other users and not sticky \\(mode 0777\\); it is left in place`));
    assert.ok(fs.lstatSync(socket).isSocket());

    const dir = scratch.dir();
    const theirs = path.join(dir, 'theirs.sock');
    deadSocket(theirs);
    fs.lchownSync(theirs, 65534, 65534);
    const refused = start(dir, theirs).result;
    assert.equal(refused.status, 1, refused.stderr);
    assert.match(refused.stderr, /: it is owned by uid 65534, not by root; it is left in place$/m);
    assert.ok(fs.lstatSync(theirs).isSocket());
  });
});
