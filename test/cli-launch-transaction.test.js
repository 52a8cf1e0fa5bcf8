'use strict';
// The launch transaction from outside: a start either leaves a daemon with its pidfile, or nothing at all
// (no process, no pidfile, no status file, no file it created), whatever step failed: a full disk under the
// pidfile, a program that cannot start under the supervisor, too few free descriptors. And the -r
// supervisor's configuration reaches it whatever the size of the environment.
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { describe, it, after } = require('node:test');

const { FullDisks } = require('./helpers/full-disk');
const proc = require('./helpers/proc');
const { CLI, Scratch, runCli, readPidfile, waitFor } = require('./helpers/harness');

const scratch = new Scratch();
const disks = new FullDisks(scratch);
after(async () => {
  disks.unmount();
  await scratch.cleanup();
});

/**
 * Live processes whose environment holds DZ_TX=token: the supervisor and its children inherit the
 * launcher's environment, and a renamed process (process.title) still shows its environment.
 */
function startedBy(token) {
  const found = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let environ;
    try {
      environ = fs.readFileSync(`/proc/${entry}/environ`, 'latin1');
    } catch {
      continue;
    }
    if (environ.split('\0').includes(`DZ_TX=${token}`) && proc.isAlive(Number(entry))) found.push(Number(entry));
  }
  return found;
}

function tokenEnv(token, extra = {}) {
  return { ...process.env, DZ_TX: token, ...extra };
}

async function nothingLeft(token, dir, kept = []) {
  await waitFor(() => startedBy(token).length === 0, 'every process of the failed start to be gone');
  assert.deepEqual(fs.readdirSync(dir).sort(), kept.sort());
}

describe('a failed start leaves nothing', () => {
  for (const mode of [[], ['--respawn']]) {
    const what = mode.length ? 'the supervisor it started and its child' : 'the daemon it started';
    it(`${mode.length ? '--respawn' : 'plain'}: a pidfile that cannot be written (full disk) kills ${what}; a retry does the same`, async () => {
      const full = disks.make();
      const pidfile = path.join(full, 'app.pid');
      for (let attempt = 0; attempt < 2; attempt++) {
        const token = scratch.token();
        const result = runCli([...mode, '--pidfile', pidfile, '--', 'sleep', `1000.${token}`], { env: tokenEnv(token) });
        for (const pid of startedBy(token)) scratch.track(pid);
        assert.equal(result.status, 1, result.stderr);
        assert.equal(result.stderr, `daemonize: fatal: unable to write pidfile ${pidfile}: No space left on device\n`);
        // No process, no pidfile, no status file, no event log: only the file that fills the disk.
        await nothingLeft(token, full, ['fill']);
      }
    });
  }

  it('a program that cannot start removes the event log and --stdout file the start created', async () => {
    const dir = scratch.dir();
    const token = scratch.token();
    const result = runCli(['--respawn', '--pidfile', path.join(dir, 'app.pid'), '--stdout', path.join(dir, 'out.log'),
      '--chdir', '/dz-no-such-dir', '--', 'sleep', `1000.${token}`], { env: tokenEnv(token) });
    assert.equal(result.status, 1, result.stderr);
    assert.equal(result.stderr, 'daemonize: fatal: unable to chdir to /dz-no-such-dir: No such file or directory\n');
    await nothingLeft(token, dir);
  });

  it('keeps the files that were there before the start, as they were', async () => {
    const dir = scratch.dir();
    const token = scratch.token();
    fs.writeFileSync(path.join(dir, 'out.log'), 'kept\n');
    const result = runCli(['--respawn', '--pidfile', path.join(dir, 'app.pid'), '--stdout', path.join(dir, 'out.log'),
      '--chdir', '/dz-no-such-dir', '--', 'sleep', `1000.${token}`], { env: tokenEnv(token) });
    assert.equal(result.status, 1, result.stderr);
    await nothingLeft(token, dir, ['out.log']);
    assert.equal(fs.readFileSync(path.join(dir, 'out.log'), 'utf8'), 'kept\n');
  });
});

describe('a supervisor that dies before it reports', () => {
  it('is a failure in the one shape that quotes what it wrote, and leaves nothing', async () => {
    const dir = scratch.dir();
    const token = scratch.token();
    // Loaded by every node this test starts (NODE_OPTIONS): only the supervisor dies of it, at once.
    const preload = path.join(dir, 'preload.js');
    fs.writeFileSync(preload, "if (process.argv[1].endsWith('main.js')) { console.error('no memory for a supervisor'); process.exit(9); }\n");
    const run = path.join(dir, 'run');
    fs.mkdirSync(run);
    const result = runCli(['--respawn', '--pidfile', path.join(run, 'app.pid'), '--', 'sleep', `1000.${token}`],
      { env: tokenEnv(token, { NODE_OPTIONS: `--require=${preload}` }) });
    assert.equal(result.status, 1, result.stderr);
    assert.equal(result.stderr, 'daemonize: fatal: unable to start sleep: the supervisor died before starting it:\nno memory for a supervisor\n');
    await nothingLeft(token, run);
  });
});

describe('the supervisor\'s configuration', () => {
  it('reaches it with a 150 KiB environment (150 variables of 1 KiB and one of 100 KiB), which the child gets whole', () => {
    const dir = scratch.dir();
    const token = scratch.token();
    const extra = { DZ_BIG: 'b'.repeat(100 * 1024) };
    for (let i = 0; i < 150; i++) extra[`DZ_KIB_${i}`] = String(i).padEnd(1024, 'k');
    const pidfile = path.join(dir, 'env.pid');
    const result = runCli(['--respawn', '--pidfile', pidfile, '--', 'sleep', `1000.${token}`], { env: tokenEnv(token, extra) });
    for (const pid of startedBy(token)) scratch.track(pid);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stderr, '');
    const supervisor = readPidfile(pidfile);
    const child = JSON.parse(fs.readFileSync(path.join(dir, 'env.status'), 'utf8')).child;
    assert.equal(proc.stat(child).ppid, supervisor);
    const seen = proc.environ(child);
    assert.equal(seen.DZ_BIG, extra.DZ_BIG);
    for (let i = 0; i < 150; i++) assert.equal(seen[`DZ_KIB_${i}`], extra[`DZ_KIB_${i}`]);
    assert.equal(proc.environ(supervisor).DAEMONIZE_SUPERVISOR_CONFIG, undefined, 'no configuration in the environment');
  });
});

describe('few free descriptors (ulimit -n)', () => {
  for (const mode of [[], ['--respawn']]) {
    it(`${mode.length ? '--respawn' : 'plain'}: from 30 down to 20 descriptors, a start or a one-line "unable to ...", never a stack, nothing left`, async () => {
      const refused = [];
      for (let limit = 30; limit >= 20; limit--) {
        const dir = scratch.dir();
        const token = scratch.token();
        const result = spawnSync('bash', ['-c', `ulimit -n ${limit}; exec "$@"`, 'bash', process.execPath, CLI, ...mode,
          '--pidfile', path.join(dir, 'app.pid'), '--stdout', path.join(dir, 'out.log'), '--', 'sleep', `1000.${token}`],
        { encoding: 'utf8', env: tokenEnv(token), timeout: 20000 });
        if (result.status === 0) {
          for (const pid of startedBy(token)) scratch.track(pid);
          assert.ok(startedBy(token).length > 0, `ulimit -n ${limit}: a start that left no daemon`);
          continue;
        }
        assert.equal(result.status, 1, `ulimit -n ${limit}: ${result.stderr}`);
        assert.match(result.stderr, /^daemonize: fatal: unable to [^\n]+: Too many open files\n$/, `ulimit -n ${limit}`);
        await nothingLeft(token, dir);
        refused.push(limit);
      }
      // The test saw the refusal it is about, not only starts (-r needs more descriptors than 24).
      assert.ok(refused.length > 0, 'no limit was refused');
      if (mode.length) assert.ok(refused.includes(24), `refused at ${refused.join(', ')}`);
    });
  }
});
