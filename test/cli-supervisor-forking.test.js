'use strict';
// Programs that daemonize themselves, under `daemonize -r`: a tiny self-forking fixture everywhere, nginx
// without `daemon off;` and gunicorn --daemon where installed. The supervisor must follow the process the
// program forked away as, start no second copy while it lives, restart it when it dies, and stop it and
// everything else it started (setsid or not) on --stop.
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { describe, it, after } = require('node:test');

const proc = require('./helpers/proc');
const { Scratch, runCli, readPidfile, waitFor } = require('./helpers/harness');
const { freePort } = require('./helpers/net');
const { supervise: superviseWith } = require('./helpers/supervised');

const FIXTURES = path.join(__dirname, 'fixtures');
const scratch = new Scratch();
after(() => scratch.cleanup());

const supervise = (args, command, dir) => superviseWith(scratch, args, command, dir);

/** Every live process descended from `root`, found by ppid. */
function descendants(root) {
  const all = fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number)
    .map((pid) => proc.stat(pid)).filter((s) => s && s.state !== 'Z');
  const found = [];
  for (let i = -1; i < found.length; i++) {
    const parent = i < 0 ? root : found[i];
    for (const s of all) if (s.ppid === parent) found.push(s.pid);
  }
  return found;
}

function which(program) {
  return spawnSync('sh', ['-c', `command -v ${program}`], { encoding: 'utf8' }).stdout.trim() || null;
}

function get(port) {
  return new Promise((resolve) => {
    const request = http.get({ host: '127.0.0.1', port, path: '/', timeout: 2000 }, (response) => {
      let body = '';
      response.on('data', (chunk) => { body += chunk; });
      response.on('end', () => resolve({ status: response.statusCode, body }));
    });
    request.on('error', () => resolve(null));
    request.on('timeout', () => request.destroy());
  });
}

async function waitForHttp(port, what) {
  for (const deadline = Date.now() + 15000; Date.now() < deadline;) {
    const reply = await get(port);
    if (reply && reply.status === 200) return reply;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what} on port ${port}`);
}

/** Stops with --stop and checks that nothing the supervisor started or adopted is left. */
function stopAndCheck(d, watched) {
  const result = runCli(['--pidfile', d.pidfile, '--stop']);
  assert.equal(result.status, 0, result.stderr);
  assert.equal(proc.isAlive(d.supervisor), false);
  assert.deepEqual(watched.filter((pid) => proc.isAlive(pid)), [], 'every process it started or adopted is gone');
  assert.equal(fs.existsSync(d.pidfile), false);
}

describe('a program that forks itself away', () => {
  it('is followed as the service (named by --child-pidfile), restarted when it dies, and stopped with its worker', async () => {
    const dir = scratch.dir();
    const token = scratch.token();
    const childPidfile = path.join(dir, 'forker.pid');
    const d = supervise(['--child-pidfile', childPidfile, '--acceptable', '0'],
      ['python3', path.join(FIXTURES, 'sv-self-forking.py'), childPidfile, token], dir);
    const daemon = await waitFor(() => {
      const s = d.readStatus();
      return s && fs.existsSync(childPidfile) && s.child === readPidfile(childPidfile) && s.child;
    }, 'the supervisor to follow the pid the program wrote');
    scratch.track(daemon);
    const status = d.readStatus();
    assert.equal(status.state, 'running');
    assert.equal(status.followed, true);
    assert.equal(status.restarts, 0, 'a program that forked away did not fail');
    // Named by its pidfile while its parent still lingered; reparented to the supervisor (a subreaper) once that one exits.
    await waitFor(() => proc.stat(daemon).ppid === d.supervisor, 'the daemon, reparented to the supervisor');
    assert.notEqual(proc.stat(daemon).session, proc.stat(d.supervisor).session, 'it made a session of its own');
    assert.match(d.logText(), /python3 \(pid \d+\) forked away as pid \d+( \(named by its pidfile\))?; following it; python3 run in the foreground \(its own option for that\) gives a direct child/);
    const worker = await waitFor(() => proc.findByToken(`1001.${token}`)[0], 'its worker');
    // No second copy while it lives.
    assert.equal([...d.logText().matchAll(/started python3/g)].length, 1);

    process.kill(daemon, 'SIGKILL');
    const next = await waitFor(() => {
      const s = d.readStatus();
      return s && s.child !== daemon && s.followed && fs.existsSync(childPidfile) && s.child === readPidfile(childPidfile) && s.child;
    }, 'a new copy, followed in turn');
    scratch.track(next);
    assert.equal(proc.isAlive(worker), false, 'the dead daemon\'s worker went before the new copy started');
    assert.match(d.logText(), new RegExp(`python3 \\(pid ${daemon}\\) killed by signal 9 \\(SIGKILL\\) after [\\d.]+ s; restarting`));
    assert.equal(d.readStatus().restarts, 1);
    const watched = [d.supervisor, next, ...descendants(d.supervisor)];
    stopAndCheck(d, watched);
    assert.deepEqual(proc.findByToken(token), []);
  });

  it('is found without --child-pidfile: the process it left behind, followed through a double fork', async () => {
    const dir = scratch.dir();
    const token = scratch.token();
    const childPidfile = path.join(dir, 'forker.pid');
    const d = supervise([], ['python3', path.join(FIXTURES, 'sv-self-forking.py'), childPidfile, token], dir);
    const daemon = await waitFor(() => {
      const s = d.readStatus();
      return s && fs.existsSync(childPidfile) && s.child === readPidfile(childPidfile) && s.child;
    }, 'the supervisor to follow the process left at the end of the double fork');
    scratch.track(daemon);
    assert.equal([...d.logText().matchAll(/forked away as pid/g)].length, 2, d.logText());
    assert.equal(d.readStatus().restarts, 0);
    stopAndCheck(d, [d.supervisor, ...descendants(d.supervisor)]);
    assert.deepEqual(proc.findByToken(token), []);
  });

  it('never follows, nor stops, a stranger that a stale --child-pidfile names, nor a symlink planted there', async () => {
    for (const plant of ['stale', 'symlink']) {
      const dir = scratch.dir();
      const token = scratch.token();
      const childPidfile = path.join(dir, 'stale.pid');
      // This test's own process: alive, and not the supervisor's to follow or to stop.
      if (plant === 'stale') fs.writeFileSync(childPidfile, `${process.pid}\n`);
      else {
        fs.writeFileSync(path.join(dir, 'elsewhere'), `${process.pid}\n`);
        fs.symlinkSync(path.join(dir, 'elsewhere'), childPidfile);
      }
      const d = supervise(['--child-pidfile', childPidfile], ['sh', '-c', `sleep 1000.${token} & exit 0`], dir);
      const sleeper = await waitFor(() => proc.findByToken(`1000.${token}`)[0], 'the sleep it left');
      scratch.track(sleeper);
      await waitFor(() => d.readStatus()?.child === sleeper, 'the supervisor to follow what the program left');
      assert.doesNotMatch(d.logText(), /named by its pidfile/);
      stopAndCheck(d, [d.supervisor, sleeper]);
    }
  });

  it('--child-pidfile needs --respawn', () => {
    const result = runCli(['--child-pidfile', 'x.pid', '--', 'true']);
    assert.equal(result.status, 2);
    assert.equal(result.stderr, "daemonize: usage: --child-pidfile needs --respawn\n");
  });

  it('--stop ends a grandchild that called setsid', async () => {
    const token = scratch.token();
    const d = supervise([], ['sh', '-c', `setsid sleep 9700.${token} & exec sleep 1000.${token}`]);
    // Found once it is sleep in a session of its own: setsid(1) runs under the same command line first.
    const grandchild = await waitFor(() => proc.findByToken(`9700.${token}`).find((pid) => proc.stat(pid)?.comm === 'sleep' && proc.stat(pid)?.session === pid),
      'the setsid grandchild, in a session of its own');
    scratch.track(grandchild);
    stopAndCheck(d, [d.supervisor, grandchild, ...proc.findByToken(token)]);
    assert.deepEqual(proc.findByToken(token), []);
  });

  it('--stop ends a setsid grandchild that ignores TERM', async () => {
    // Out of the supervisor's session and deaf to its SIGTERM: SIGKILLed by the supervisor's stop,
    // and --stop returns only once it is gone.
    const token = scratch.token();
    const d = supervise(['--stop-timeout', '0.5'], ['sh', '-c',
      `setsid sh -c 'trap "" TERM; while :; do sleep 0.1; done # 9701.${token}' & exec sleep 1000.${token}`]);
    const grandchild = await waitFor(() => proc.findByToken(`9701.${token}`).find((pid) => proc.stat(pid)?.session === pid),
      'the setsid grandchild that ignores TERM');
    scratch.track(grandchild);
    stopAndCheck(d, [d.supervisor, grandchild, ...proc.findByToken(token)]);
    assert.deepEqual(proc.findByToken(token), []);
  });

  it('a Node app using the library stays in the foreground under -r, as a direct child', async () => {
    const dir = scratch.dir();
    const token = scratch.token();
    const d = supervise([], [process.execPath, path.join(FIXTURES, 'lib-app.js'), JSON.stringify({ dir, options: {} }), token], dir);
    const facts = await waitFor(() => {
      try {
        return JSON.parse(fs.readFileSync(path.join(dir, 'facts.json'), 'utf8'));
      } catch {
        return null; // not there yet, or half written
      }
    }, 'the app');
    scratch.track(facts.pid);
    assert.equal(facts.foreground, true);
    assert.equal(d.readStatus().child, facts.pid);
    assert.equal(d.readStatus().followed, false);
    assert.equal(proc.stat(facts.pid).ppid, d.supervisor);
    assert.doesNotMatch(d.logText(), /forked away/);
    stopAndCheck(d, [d.supervisor, facts.pid]);
  });

  it('-f -r follows it too, and a TERM to the foreground supervisor stops it', async () => {
    const dir = scratch.dir();
    const token = scratch.token();
    const childPidfile = path.join(dir, 'forker.pid');
    const { spawn } = require('node:child_process');
    const { CLI } = require('./helpers/harness');
    const supervisor = spawn(process.execPath, [CLI, '-f', '-r', '--child-pidfile', childPidfile, '--',
      'python3', path.join(FIXTURES, 'sv-self-forking.py'), childPidfile, token], { stdio: ['ignore', 'ignore', 'pipe'] });
    scratch.track(supervisor.pid);
    let stderr = '';
    supervisor.stderr.on('data', (chunk) => { stderr += chunk; });
    const exited = new Promise((resolve) => supervisor.on('exit', (code) => resolve(code)));
    await waitFor(() => stderr.includes('following it') && fs.existsSync(childPidfile), 'the fork to be followed');
    const daemon = scratch.track(readPidfile(childPidfile));
    await waitFor(() => proc.stat(daemon)?.ppid === supervisor.pid, 'the daemon, reparented to the supervisor');
    const watched = [daemon, ...descendants(supervisor.pid)];
    supervisor.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
    assert.deepEqual(watched.filter((pid) => proc.isAlive(pid)), []);
  });
});

describe('real self-daemonizing servers', () => {
  const nginx = which('nginx');
  it('nginx without `daemon off;`: followed, serving, one copy, all of it stopped', { skip: nginx ? false : 'nginx is not installed (Debian: nginx-light)' }, async () => {
    const dir = scratch.dir();
    const port = await freePort();
    const conf = path.join(dir, 'nginx.conf');
    const pid = path.join(dir, 'nginx.pid');
    fs.writeFileSync(conf, [
      `pid ${pid};`, `error_log ${path.join(dir, 'error.log')};`, 'worker_processes 2;',
      'events { worker_connections 64; }',
      `http { access_log off; server { listen 127.0.0.1:${port}; location / { return 200 "served by nginx\\n"; } } }`,
    ].join('\n'));
    const d = supervise(['--child-pidfile', pid], [nginx, '-c', conf, '-p', dir], dir);
    const master = await waitFor(() => {
      const s = d.readStatus();
      return s && fs.existsSync(pid) && s.child === readPidfile(pid) && s.child;
    }, 'nginx\'s master, followed');
    scratch.track(master);
    assert.match(d.logText(), /nginx \(pid \d+\) forked away as pid \d+.*; following it; nginx's `daemon off;` gives a direct child/);
    assert.equal((await waitForHttp(port, 'nginx')).body, 'served by nginx\n');
    const workers = await waitFor(() => descendants(master).length === 2 && descendants(master), 'two workers');
    workers.forEach((w) => scratch.track(w));
    assert.equal(d.readStatus().restarts, 0);
    assert.equal([...d.logText().matchAll(/started nginx/g)].length, 1, 'no second copy fighting for the port');
    stopAndCheck(d, [d.supervisor, master, ...workers]);
  });

  const gunicorn = which('gunicorn');
  it('gunicorn --daemon: followed, serving, all of it stopped', { skip: gunicorn ? false : 'gunicorn is not installed (Debian: gunicorn)' }, async () => {
    const dir = scratch.dir();
    const port = await freePort();
    fs.writeFileSync(path.join(dir, 'app.py'), [
      'def app(environ, start_response):',
      "    start_response('200 OK', [('Content-Type', 'text/plain')])",
      "    return [b'served by gunicorn\\n']", '',
    ].join('\n'));
    const pid = path.join(dir, 'gunicorn.pid');
    const d = supervise(['--child-pidfile', pid], [gunicorn, '--daemon', '--pid', pid, '--bind', `127.0.0.1:${port}`,
      '--workers', '2', '--chdir', dir, 'app:app'], dir);
    const master = await waitFor(() => {
      const s = d.readStatus();
      return s && fs.existsSync(pid) && s.child === readPidfile(pid) && s.child;
    }, 'gunicorn\'s master, followed', 15000);
    scratch.track(master);
    assert.match(d.logText(), /forked away as pid \d+.*; following it; gunicorn without --daemon gives a direct child/);
    assert.equal((await waitForHttp(port, 'gunicorn')).body, 'served by gunicorn\n');
    const workers = await waitFor(() => descendants(master).length === 2 && descendants(master), 'two workers');
    assert.equal(d.readStatus().restarts, 0);
    stopAndCheck(d, [d.supervisor, master, ...workers]);
  });
});
