'use strict';
// Readiness (--ready), held sockets (--listen) and overlapping restarts, end to end: the real binary, a
// real HTTP server, real requests on 127.0.0.1, and what /proc, the files and the sockets show.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const path = require('node:path');
const { describe, it, after } = require('node:test');

const proc = require('./helpers/proc');
const { ROOT, Scratch, runCli, runCliAsync, readPidfile, waitFor } = require('./helpers/harness');
const { freePort } = require('./helpers/net');
const { native } = require(path.join(ROOT, 'dist', 'native.js'));

const scratch = new Scratch();
after(() => scratch.cleanup());

const SERVER = path.join(__dirname, 'fixtures', 'sv-http.js');

/** One GET on a new connection; resolves with the serving pid, or rejects. */
function get(port) {
  return new Promise((resolve, reject) => {
    const request = http.get({ host: '127.0.0.1', port, path: '/', agent: false, timeout: 5000 }, (response) => {
      let body = '';
      response.on('data', (d) => { body += d; });
      response.on('end', () => (response.statusCode === 200 ? resolve(Number(body)) : reject(new Error(`status ${response.statusCode}`))));
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error('timeout')));
    request.on('error', reject);
  });
}

/** Requests one after another until stop() is called; then resolves with the counts and the errors seen. */
function requestLoop(port) {
  let stopping = false;
  const counts = { ok: 0, failed: 0, errors: {} };
  const done = (async () => {
    while (!stopping) {
      try {
        await get(port);
        counts.ok++;
      } catch (error) {
        counts.failed++;
        counts.errors[error.code ?? error.message] = (counts.errors[error.code ?? error.message] ?? 0) + 1;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }
    return counts;
  })();
  return { stop: () => { stopping = true; return done; } };
}

/** A connection to 127.0.0.1:port, tried once: true when accepted. */
function accepts(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

function facts(dir, pid) {
  return JSON.parse(fs.readFileSync(path.join(dir, `facts-${pid}.json`), 'utf8'));
}

/** Starts the HTTP fixture under a supervisor; returns its paths and the status reader. */
function startServer(dir, port, args) {
  const token = scratch.token();
  const pidfile = path.join(dir, 'web.pid');
  const result = runCli(['-r', '--pidfile', pidfile, '--stderr', path.join(dir, 'err'), '--ready', 'notify', ...args,
    '--', process.execPath, SERVER, dir, String(port), token]);
  const status = () => JSON.parse(fs.readFileSync(path.join(dir, 'web.status'), 'utf8'));
  if (result.status === 0) {
    scratch.track(readPidfile(pidfile));
    scratch.track(status().child);
  }
  return { result, pidfile, status, token };
}

/** Restarts `times` times, each once the last returned; returns what each printed. */
async function restarts(pidfile, times) {
  const printed = [];
  for (let i = 0; i < times; i++) {
    const r = await runCliAsync(['--pidfile', pidfile, '--restart']);
    assert.equal(r.status, 0, r.stderr);
    printed.push(r.stdout);
  }
  return printed;
}

describe('--listen with readiness at exec (no --ready)', () => {
  it('--restart stops each old child once its successor has exec\'d: one child left, not one per restart', async () => {
    const dir = scratch.dir();
    const pidfile = path.join(dir, 'exec.pid');
    const token = scratch.token();
    const port = await freePort();
    const started = runCli(['-r', '--listen', `127.0.0.1:${port}`, '--pidfile', pidfile, '-l', path.join(dir, 'events.log'), '--', 'sleep', `1000.${token}`]);
    assert.equal(started.status, 0, started.stderr);
    scratch.track(readPidfile(pidfile));
    const sleepers = () => proc.findByToken(token).filter((pid) => proc.isAlive(pid));
    await waitFor(() => sleepers().length === 1, 'the first child');
    for (let i = 0; i < 3; i++) {
      const restarted = runCli(['--restart', '--pidfile', pidfile]);
      assert.equal(restarted.status, 0, restarted.stderr);
      for (const pid of sleepers()) scratch.track(pid);
    }
    await waitFor(() => sleepers().length === 1, 'every replaced child to be gone');
    const record = JSON.parse(fs.readFileSync(path.join(dir, 'exec.status'), 'utf8'));
    assert.deepEqual(sleepers(), [record.child]);
    const log = fs.readFileSync(path.join(dir, 'events.log'), 'utf8');
    assert.equal((log.match(/is ready after \d+\.\d s: stopping pid \d+ with SIGTERM/g) ?? []).length, 3, log);
    assert.equal((log.match(/killed by signal 15 \(SIGTERM\)[^\n]*replaced by pid/g) ?? []).length, 3, log);
    assert.equal(runCli(['--stop', '--pidfile', pidfile]).status, 0);
  });
});

describe('--restart while a replacement is under way', () => {
  it('three at once with --listen and --ready notify: each returns 0 with the one new child, none waits for another', async () => {
    const port = await freePort();
    const dir = scratch.dir();
    const web = startServer(dir, port, ['--listen', `127.0.0.1:${port}`]);
    assert.equal(web.result.status, 0, web.result.stderr);
    const old = web.status().child;
    // The supervisor starts one replacement and ignores the other SIGUSR1s meanwhile: the other two join it.
    const results = await Promise.all([0, 1, 2].map(() => runCliAsync(['--pidfile', web.pidfile, '--restart'])));
    for (const r of results) assert.equal(r.status, 0, r.stderr);
    const record = web.status();
    scratch.track(record.child);
    assert.notEqual(record.child, old);
    assert.equal(record.state, 'running');
    assert.equal(runCli(['--stop', '--pidfile', web.pidfile]).status, 0);
  });
});

describe('zero-downtime restarts with held sockets (--listen)', () => {
  it('serves every request during 20 restarts with --listen and --ready notify; counts a plain restart\'s failures', async (t) => {
    const port = await freePort();
    const dir = scratch.dir();
    const web = startServer(dir, port, ['--listen', `127.0.0.1:${port}`]);
    assert.equal(web.result.status, 0, web.result.stderr);
    const first = web.status().child;
    assert.equal(await get(port), first, 'the start returned once the program serves');
    const loop = requestLoop(port);
    const quiet = await restarts(web.pidfile, 20);
    const counts = await loop.stop();
    assert.deepEqual([...new Set(quiet)], [''], 'nothing was down: nothing to say');
    t.diagnostic(`with --listen: ${counts.ok} requests served, ${counts.failed} failed during 20 restarts`);
    assert.equal(counts.failed, 0, JSON.stringify(counts.errors));
    assert.ok(counts.ok > 20, `requests went on during the restarts (${counts.ok})`);
    assert.equal(web.status().restarts, 20);
    const last = web.status().child;
    assert.notEqual(last, first);
    assert.equal(await get(port), last);
    // Every replaced child was stopped once its successor was ready: one program left.
    await waitFor(() => proc.findByToken(web.token).length === 1, 'the replaced children to be gone');
    assert.equal(runCli(['--pidfile', web.pidfile, '--stop']).status, 0);
    assert.equal(await accepts(port), false, 'the held socket closed with the supervisor');

    // The same loop, the same 20 restarts, without held sockets: the program binds the port itself.
    const plainDir = scratch.dir();
    const plain = startServer(plainDir, port, []);
    assert.equal(plain.result.status, 0, plain.result.stderr);
    const plainLoop = requestLoop(port);
    const said = await restarts(plain.pidfile, 20);
    const plainCounts = await plainLoop.stop();
    for (const line of said) assert.match(line, /^web: restarted; the service was down \d+\.\d s \(--listen avoids that\)\n$/);
    t.diagnostic(`without --listen: ${plainCounts.ok} requests served, ${plainCounts.failed} failed during 20 restarts (${JSON.stringify(plainCounts.errors)})`);
    assert.equal(runCli(['--pidfile', plain.pidfile, '--stop']).status, 0);
  });

  it('hands the sockets at fd 3.. with LISTEN_FDS, LISTEN_FDNAMES and LISTEN_PID equal to the child\'s own pid', async () => {
    const [port, other] = [await freePort(), await freePort()];
    const dir = scratch.dir();
    const unix = path.join(dir, 'web.sock');
    const web = startServer(dir, port, ['--listen', `http=127.0.0.1:${port}`, '--listen', `admin=${unix}`, '--listen', `127.0.0.1:${other}`]);
    assert.equal(web.result.status, 0, web.result.stderr);
    const child = web.status().child;
    const seen = facts(dir, child);
    assert.equal(seen.pid, child);
    assert.equal(seen.env.LISTEN_PID, String(child));
    assert.equal(seen.env.LISTEN_FDS, '3');
    assert.equal(seen.env.LISTEN_FDNAMES, 'http:admin:listen');
    assert.match(seen.env.NOTIFY_SOCKET, /^@daemonize\//);
    const fds = proc.fds(child);
    for (const fd of ['3', '4', '5']) assert.match(fds[fd] ?? '', /^socket:/, `fd ${fd}: ${JSON.stringify(fds)}`);
    assert.ok(fs.lstatSync(unix).isSocket(), 'the Unix socket is bound at its path');
    // The held sockets are the supervisor's: the same inodes in both.
    const supervisorFds = Object.values(proc.fds(readPidfile(web.pidfile)));
    for (const fd of ['3', '4', '5']) assert.ok(supervisorFds.includes(fds[fd]), `${fds[fd]} held by the supervisor`);
    assert.equal(await get(port), child);
    assert.equal(runCli(['--pidfile', web.pidfile, '--stop']).status, 0);
    assert.equal(fs.existsSync(unix), false, 'the Unix socket removed at the end');
  });

  it('a port already taken fails the start (exit 1, the address named), leaving nothing', async () => {
    const port = await freePort();
    const blocker = net.createServer().listen(port, '127.0.0.1');
    await new Promise((resolve) => blocker.once('listening', resolve));
    try {
      const dir = scratch.dir();
      const web = startServer(dir, port, ['--listen', `127.0.0.1:${port}`]);
      assert.equal(web.result.status, 1, web.result.stderr);
      assert.match(web.result.stderr, new RegExp(`^daemonize: fatal: unable to listen on 127\\.0\\.0\\.1:${port}: Address already in use`, 'm'));
      assert.deepEqual(fs.readdirSync(dir), [], 'no pidfile, status or log left');
      assert.deepEqual(proc.findByToken(web.token), []);
    } finally {
      blocker.close();
    }
  });

  it('a restart whose new child fails before ready exits 4 with its error and last words; the old child goes on serving; every end is told', async () => {
    const port = await freePort();
    const dir = scratch.dir();
    const ends = path.join(dir, 'ends');
    const web = startServer(dir, port, ['--listen', `127.0.0.1:${port}`,
      '--on-exit', `printf '%s %s %s\\n' "$DAEMONIZE_CHILD_PID" "$DAEMONIZE_EXIT_CODE" "$DAEMONIZE_REASON" >> ${ends}`]);
    assert.equal(web.result.status, 0, web.result.stderr);
    const old = web.status().child;
    fs.writeFileSync(path.join(dir, 'fail'), 'cannot open the database\n');
    const loop = requestLoop(port);
    const r = await runCliAsync(['--pidfile', web.pidfile, '--restart']);
    const counts = await loop.stop();
    assert.equal(r.status, 4, r.stderr);
    // The new child's reason and its last words, as a first start that fails shows them.
    const said = /^daemonize: fatal: unable to restart web: node \(pid (\d+)\) exited with status 3 after [\d.]+ s before it was ready; pid (\d+) goes on serving; its stderr:\ncannot open the database$/m.exec(r.stderr);
    assert.ok(said, r.stderr);
    assert.equal(Number(said[2]), old);
    assert.equal(counts.failed, 0, JSON.stringify(counts.errors));
    // Its end is told like any other: the record's lastExit is the new child's, with its last words.
    const { lastExit } = web.status();
    assert.equal(lastExit.code, 3);
    assert.match(lastExit.reason, new RegExp(`^node \\(pid ${said[1]}\\) exited with status 3 after [\\d.]+ s before it was ready; pid ${old} goes on serving$`));
    assert.deepEqual(lastExit.stderrTail, ['cannot open the database']);
    await waitFor(() => fs.existsSync(ends) && fs.readFileSync(ends, 'utf8').includes('\n'), '--on-exit for the failed new child');
    assert.match(fs.readFileSync(ends, 'utf8'), new RegExp(`^${said[1]} 3 node \\(pid ${said[1]}\\) exited with status 3 .* pid ${old} goes on serving\n$`));
    assert.equal(web.status().child, old);
    assert.equal(web.status().state, 'running');
    assert.equal(await get(port), old, 'the old child still serves');
    // The deploy fixed, the next restart works; the old child, replaced, ends like any other: lastExit, --on-exit.
    fs.rmSync(path.join(dir, 'fail'));
    await restarts(web.pidfile, 1);
    const fresh = web.status().child;
    assert.equal(await get(port), fresh);
    await waitFor(() => !proc.isAlive(old), 'the replaced child to finish');
    const replacedEnd = new RegExp(`^node \\(pid ${old}\\) exited with status 0 after .*: restarted by SIGUSR1 to the supervisor \\(--restart\\); replaced by pid ${fresh}$`);
    await waitFor(() => replacedEnd.test(web.status().lastExit?.reason ?? ''), 'the replaced child\'s lastExit');
    assert.equal(web.status().lastExit.code, 0);
    await waitFor(() => fs.readFileSync(ends, 'utf8').split('\n').length === 3, '--on-exit for the replaced child');
    const [, second] = fs.readFileSync(ends, 'utf8').split('\n');
    assert.equal(second, `${old} 0 ${web.status().lastExit.reason}`);
    assert.equal(runCli(['--pidfile', web.pidfile, '--stop']).status, 0);
  });
  it('with --user nobody: the held socket reaches the child, which runs as nobody, and restarts still overlap', { skip: process.geteuid() !== 0 && 'needs root' }, async () => {
    const port = await freePort();
    const dir = scratch.dir();
    // Sticky and open to all, like /tmp: root may keep its pidfile here, and nobody may write its facts.
    fs.chmodSync(dir, 0o1777);
    const web = startServer(dir, port, ['--user', 'nobody', '--listen', `127.0.0.1:${port}`]);
    assert.equal(web.result.status, 0, web.result.stderr);
    const supervisor = readPidfile(web.pidfile);
    const uids = (pid) => proc.status(pid).Uid.split(/\s+/);
    assert.deepEqual(uids(supervisor), ['0', '0', '0', '0'], 'the supervisor, which binds, stays root');
    const served = async (child) => {
      assert.deepEqual(uids(child), ['65534', '65534', '65534', '65534'], 'the child runs as nobody: real, effective, saved, fs');
      const fd3 = proc.fds(child)['3'];
      assert.match(fd3 ?? '', /^socket:/);
      assert.ok(Object.values(proc.fds(supervisor)).includes(fd3), 'fd 3 is the socket the supervisor holds');
      assert.equal(facts(dir, child).env.LISTEN_PID, String(child));
      assert.equal(await get(port), child, 'and serves through it');
    };
    const first = web.status().child;
    await served(first);
    const loop = requestLoop(port);
    await restarts(web.pidfile, 3);
    const counts = await loop.stop();
    assert.equal(counts.failed, 0, JSON.stringify(counts.errors));
    const last = web.status().child;
    assert.notEqual(last, first);
    await served(last);
    await waitFor(() => !proc.isAlive(first), 'the first child, replaced, to be gone');
    assert.equal(runCli(['--pidfile', web.pidfile, '--stop']).status, 0);
  });
});

describe('--ready', () => {
  it('a first child that fails before ready: exit 4, its stderr and the reason shown, nothing left', async () => {
    const port = await freePort();
    const dir = scratch.dir();
    fs.writeFileSync(path.join(dir, 'fail'), 'cannot open the database\n');
    const web = startServer(dir, port, ['--listen', `127.0.0.1:${port}`]);
    assert.equal(web.result.status, 4, web.result.stderr);
    assert.match(web.result.stderr, /^daemonize: fatal: node \(pid \d+\) exited with status 3 after [\d.]+ s before it was ready; its stderr:\ncannot open the database$/m);
    assert.doesNotMatch(web.result.stderr, /daemonize\[\d+\]/, 'the supervisor\'s own log lines are not the program\'s stderr');
    assert.deepEqual(fs.readdirSync(dir).sort(), ['fail'], 'no pidfile, status, log or stderr file left');
    assert.deepEqual(proc.findByToken(web.token), []);
    assert.equal(await accepts(port), false, 'the supervisor (and its socket) is gone');
  });

  it('a first child never ready within --ready-timeout: exit 4, stopped, nothing left', () => {
    const dir = scratch.dir();
    const [cmd, arg] = scratch.sleeper();
    const r = runCli(['-r', '--pidfile', path.join(dir, 'app.pid'), '--ready', 'notify', '--ready-timeout', '1', '--', cmd, arg]);
    assert.equal(r.status, 4, r.stderr);
    assert.match(r.stderr, /^daemonize: fatal: sleep \(pid \d+\) was not ready within 1 s$/m);
    assert.deepEqual(fs.readdirSync(dir), []);
    assert.deepEqual(proc.findByToken(arg.split('.')[1]), []);
  });

  it('tcp:HOST:PORT waits for a program that does not notify until its port accepts', async () => {
    const port = await freePort();
    const dir = scratch.dir();
    const token = scratch.token();
    const pidfile = path.join(dir, 'py.pid');
    // It listens only after a second: a start that did not wait would return before the port accepts.
    const r = runCli(['-r', '--pidfile', pidfile, '--ready', `tcp:127.0.0.1:${port}`, '--', 'sh', '-c',
      `sleep 1; exec python3 -m http.server ${port} --bind 127.0.0.1 --directory ${dir} # ${token}`]);
    assert.equal(r.status, 0, r.stderr);
    scratch.track(readPidfile(pidfile));
    assert.equal(await accepts(port), true, 'the port accepts as soon as the start returns');
    const log = fs.readFileSync(path.join(dir, 'py.log'), 'utf8');
    assert.match(log, /sh \(pid \d+\) is ready after (1\.\d|[2-9]\.\d) s/);
    // Ready, it tries no more connections: the supervisor's main thread sleeps (it woke ten times a second).
    const supervisor = readPidfile(pidfile);
    const before = Number(proc.status(supervisor).voluntary_ctxt_switches);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const woke = Number(proc.status(supervisor).voluntary_ctxt_switches) - before;
    assert.ok(woke <= 2, `the supervisor woke ${woke} times while its service ran`);
    // A restart waits for the port again.
    const restart = runCli(['--pidfile', pidfile, '--restart']);
    assert.equal(restart.status, 0, restart.stderr);
    assert.equal(fs.readFileSync(path.join(dir, 'py.log'), 'utf8').match(/is ready after (1\.\d|[2-9]\.\d) s/g).length, 2);
    assert.equal(await accepts(port), true);
    assert.equal(runCli(['--pidfile', pidfile, '--stop']).status, 0);
  });

  it('ignores a READY=1 from a process outside the child\'s tree', async () => {
    const dir = scratch.dir();
    const log = path.join(dir, 'events.log');
    fs.writeFileSync(log, ''); // there before the start: a failed start leaves it, with the lines to check
    const [cmd, arg] = scratch.sleeper();
    const start = runCliAsync(['-r', '--pidfile', path.join(dir, 'app.pid'), '--errlog', log, '--ready', 'notify',
      '--ready-timeout', '3', '--', cmd, arg]);
    const status = path.join(dir, 'app.status');
    const child = await waitFor(() => fs.existsSync(status) && JSON.parse(fs.readFileSync(status, 'utf8')).child, 'the child');
    const socket = await waitFor(() => proc.environ(child)?.NOTIFY_SOCKET, 'its NOTIFY_SOCKET');
    native.notify(socket, 'READY=1');
    const r = await start;
    assert.equal(r.status, 4, 'the stranger\'s READY=1 did not make it ready');
    assert.match(fs.readFileSync(log, 'utf8'), new RegExp(`ignored a notification from pid ${process.pid}, not sleep's: "READY=1"`));
  });
});

describe('under systemd (-f -r with NOTIFY_SOCKET)', () => {
  it('the supervisor sends READY=1 with a STATUS line once its child is ready, from its own pid', async () => {
    const dir = scratch.dir();
    const port = await freePort();
    const address = `@daemonize-test/${scratch.token()}`;
    const systemd = native.notifySocket(address);
    const { spawn } = require('node:child_process');
    const token = scratch.token();
    const supervisor = spawn(process.execPath, [path.join(ROOT, 'bin', 'daemonize.cjs'), '-f', '-r', '--pidfile', path.join(dir, 'web.pid'),
      '--ready', 'notify', '--', process.execPath, SERVER, dir, String(port), token],
    { env: { ...process.env, NOTIFY_SOCKET: address }, stdio: 'ignore' });
    scratch.track(supervisor.pid);
    try {
      const message = await waitFor(() => native.receiveNotify(systemd), 'a notification to systemd');
      assert.equal(message.pid, supervisor.pid, 'sent by the supervisor, the process systemd started');
      assert.match(message.message, /^READY=1\nSTATUS=node \(pid \d+\) ready; 0 restarts$/);
      const child = Number(/pid (\d+)/.exec(message.message)[1]);
      assert.equal(await get(port), child, 'ready means serving');
      // The child got a socket of its own, not systemd's.
      assert.notEqual(facts(dir, child).env.NOTIFY_SOCKET, address);
    } finally {
      supervisor.kill('SIGTERM');
      await waitFor(() => supervisor.exitCode !== null, 'the supervisor to stop');
      require('node:fs').closeSync(systemd);
    }
  });
});
