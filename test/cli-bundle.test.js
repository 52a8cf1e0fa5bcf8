'use strict';
// bin/daemonize.cjs runs the one-file bundle (dist/cli-bundle.js) compiled from its V8 code cache, and must
// never run stale or broken code for it: in a working tree where tsc has written dist/ since the bundle was
// made it runs dist/cli.js; a cache made for another bundle is not offered to V8; a cache V8 cannot use
// (garbage, cut short) is rejected and the CLI still works. Each case runs on a copy of bin/ and dist/
// (dates kept), so this tree's build is never touched. The installed package's side (no src/, the cache
// its install wrote) is in package-install.test.js. The CLI reads both files with the addon rather than
// readFileSync (native/file-copy.cc): every choice is the same either way, and the code a CLI runs is its own
// copy, so a bundle rewritten in place or cut short under it changes nothing.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawn, spawnSync: run } = require('node:child_process');
const { describe, it, after } = require('node:test');
const { execFileSync } = require('node:child_process');

const proc = require('./helpers/proc');
const { ROOT, Scratch, readPidfile, waitFor } = require('./helpers/harness');

const scratch = new Scratch();
const mounts = [];
after(async () => {
  for (const dir of mounts) spawnSyncQuiet('umount', [dir]);
  await scratch.cleanup();
});

function spawnSyncQuiet(command, args) {
  return run(command, args, { stdio: 'ignore' });
}

/** A working tree as the CLI sees it: bin/, dist/ (mtimes kept), the addon, node_modules, and a src/. */
function tree() {
  const dir = scratch.dir();
  for (const part of ['bin', 'dist', 'package.json']) {
    fs.cpSync(path.join(ROOT, part), path.join(dir, part), { recursive: true, preserveTimestamps: true });
  }
  fs.mkdirSync(path.join(dir, 'build', 'Release'), { recursive: true });
  fs.copyFileSync(path.join(ROOT, 'build', 'Release', 'daemonize.node'), path.join(dir, 'build', 'Release', 'daemonize.node'));
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  fs.mkdirSync(path.join(dir, 'src'));
  return dir;
}

/**
 * What the copy's bin/daemonize.cjs would run: { bundle, rejected } (rejected: V8 refused the cache offered),
 * the same whether the files are mapped through the addon, as the CLI does, or read.
 */
function choice(dir) {
  const answers = ['loader.loadAddon()', 'null'].map((addon) => {
    const result = run(process.execPath, ['-e', `const loader = require(${JSON.stringify(path.join(dir, 'bin', 'daemonize.cjs'))});
const b = loader.loadBundle(${addon});
console.log(JSON.stringify(b === null ? { bundle: false } : { bundle: true, rejected: b.script.cachedDataRejected === true }));`],
    { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    return JSON.parse(result.stdout);
  });
  assert.deepEqual(answers[0], answers[1], 'mapped and read, the files give the same choice');
  return answers[0];
}

/** Node's module log of one `--version`: which files the CLI was loaded from. */
function modulesLoaded(dir) {
  const result = run(path.join(dir, 'bin', 'daemonize.cjs'), ['--version'], { encoding: 'utf8', env: { ...process.env, NODE_DEBUG: 'module' } });
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stdout.trim(), JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version);
  return result.stderr;
}

/** The copy's CLI starts a real daemon, which is then killed. */
async function startsADaemon(dir) {
  const pidfile = path.join(scratch.dir(), 'bundle.pid');
  const [program, arg] = scratch.sleeper();
  const result = run(path.join(dir, 'bin', 'daemonize.cjs'), ['--pidfile', pidfile, '--', program, arg], { encoding: 'utf8', timeout: 20000 });
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stderr, '');
  const pid = scratch.track(readPidfile(pidfile));
  assert.equal(proc.stat(pid).comm, 'sleep');
  process.kill(pid, 'SIGKILL');
  await waitFor(() => !proc.isAlive(pid), `daemon ${pid} to die`);
}

const CACHE = path.join('dist', 'cli-bundle.cache');

/** The length of the cache's first line: the bundle's, which names it, padded so the cache after it is aligned. */
function idLength(dir) {
  const header = fs.readFileSync(path.join(dir, CACHE)).subarray(0, 256);
  const bundleLine = fs.readFileSync(path.join(dir, 'dist', 'cli-bundle.js'), 'utf8').split('\n')[0];
  assert.equal(header.toString('latin1').split('\n')[0].trimEnd(), bundleLine);
  return header.indexOf(0x0a) + 1;
}

describe('bin/daemonize.cjs: the bundle and its code cache, or dist/cli.js', () => {
  it('a fresh build runs the bundle, with a cache V8 takes: none of dist/ or commander is loaded module by module', async () => {
    const dir = tree();
    assert.deepEqual(choice(dir), { bundle: true, rejected: false });
    assert.doesNotMatch(modulesLoaded(dir), /dist\/cli\.js|commander/);
    await startsADaemon(dir);
  });

  it('after tsc has written dist/ again (dist/cli.js newer than the bundle), it runs dist/cli.js', async () => {
    const dir = tree();
    const later = new Date(Date.now() + 60000);
    fs.utimesSync(path.join(dir, 'dist', 'cli.js'), later, later);
    assert.deepEqual(choice(dir), { bundle: false });
    assert.match(modulesLoaded(dir), /dist\/cli\.js/);
    await startsADaemon(dir);
  });

  it('without a bundle it runs dist/cli.js', () => {
    const dir = tree();
    fs.rmSync(path.join(dir, 'dist', 'cli-bundle.js'));
    assert.deepEqual(choice(dir), { bundle: false });
    assert.match(modulesLoaded(dir), /dist\/cli\.js/);
  });

  it('a cache made for another bundle is never offered; a missing one means compiling', () => {
    const dir = tree();
    const cache = fs.readFileSync(path.join(dir, CACHE));
    // Same length, another build id: V8 itself would check only the length.
    const other = Buffer.from(cache);
    other[idLength(dir) - 2] = other[idLength(dir) - 2] === 0x30 ? 0x31 : 0x30;
    fs.writeFileSync(path.join(dir, CACHE), other);
    assert.deepEqual(choice(dir), { bundle: true, rejected: false }, 'compiled without a cache, nothing to reject');
    fs.rmSync(path.join(dir, CACHE));
    assert.deepEqual(choice(dir), { bundle: true, rejected: false });
    modulesLoaded(dir);
  });

  it('a cache V8 cannot use (garbage, or cut short) is rejected and the CLI still starts a daemon', async () => {
    const dir = tree();
    const cache = fs.readFileSync(path.join(dir, CACHE));
    const id = cache.subarray(0, idLength(dir));
    fs.writeFileSync(path.join(dir, CACHE), Buffer.concat([id, Buffer.alloc(4096, 0xa5)]));
    assert.deepEqual(choice(dir), { bundle: true, rejected: true });
    await startsADaemon(dir);
    fs.writeFileSync(path.join(dir, CACHE), cache.subarray(0, id.length + 2000));
    assert.deepEqual(choice(dir), { bundle: true, rejected: true });
    await startsADaemon(dir);
  });

  it('a bundle with a byte past ASCII is read as UTF-8, not as Latin-1, and the CLI still starts a daemon', async () => {
    const dir = tree();
    const bundle = path.join(dir, 'dist', 'cli-bundle.js');
    fs.appendFileSync(bundle, '\n// caf\u00e9\n');
    const addon = { exports: {} };
    process.dlopen(addon, path.join(dir, 'build', 'Release', 'daemonize.node'));
    assert.equal(addon.exports.readLatin1(bundle), undefined);
    // Longer than the cache was made for: V8 refuses it, and compiles.
    assert.deepEqual(choice(dir), { bundle: true, rejected: true });
    await startsADaemon(dir);
  });

  it('the addon reads a file as its exact text, and a cache only after the id it must start with', () => {
    const dir = tree();
    const addon = { exports: {} };
    process.dlopen(addon, path.join(dir, 'build', 'Release', 'daemonize.node'));
    const bundle = path.join(dir, 'dist', 'cli-bundle.js');
    assert.equal(addon.exports.readLatin1(bundle), fs.readFileSync(bundle, 'utf8'));
    assert.equal(addon.exports.readLatin1(path.join(dir, 'missing.js')), undefined);
    const cache = fs.readFileSync(path.join(dir, CACHE));
    const id = cache.subarray(0, idLength(dir));
    // V8 takes cached data in place only at an aligned address (else it copies all of it).
    assert.equal(id.length % 16, 0);
    assert.deepEqual(Buffer.from(addon.exports.readFileAfter(path.join(dir, CACHE), id)), cache.subarray(id.length));
    const otherId = Buffer.from(id);
    otherId[0] ^= 1;
    assert.equal(addon.exports.readFileAfter(path.join(dir, CACHE), otherId), undefined);
    fs.writeFileSync(path.join(dir, 'empty'), '');
    assert.equal(addon.exports.readFileAfter(path.join(dir, 'empty'), Buffer.alloc(0)), undefined);
    assert.equal(addon.exports.readFileAfter(dir, Buffer.alloc(0)), undefined, 'a directory');
  });

  it('the code a running CLI compiles is its own copy: the bundle rewritten or cut short under it changes nothing', async () => {
    const dir = tree();
    const cli = path.join(dir, 'bin', 'daemonize.cjs');
    const bundle = path.join(dir, 'dist', 'cli-bundle.js');
    const original = fs.readFileSync(bundle);
    const mapsBundle = (pid) => fs.readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n').some((line) => line.endsWith(` ${bundle}`));
    // In place, as cp or esbuild's own writes do: the same file, other text, or none.
    const damages = [() => fs.truncateSync(bundle, 0), () => fs.writeFileSync(bundle, `\n${original.toString('latin1')}`)];

    // A foreground supervisor: its first restart and its stop run code it had not compiled yet.
    for (const damage of damages) {
      const pidfile = path.join(scratch.dir(), 'fg.pid');
      const token = scratch.token();
      const child = spawn(cli, ['-f', '-r', '--pidfile', pidfile, '--', 'sh', '-c', `sleep 1000.${token} & wait`], { stdio: ['ignore', 'ignore', 'pipe'] });
      scratch.track(child.pid);
      let log = '';
      child.stderr.on('data', (data) => { log += data; });
      const done = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
      await waitFor(() => proc.findByToken(token).length === 3, 'the program and its child');
      assert.equal(mapsBundle(child.pid), false, 'the bundle is read, not mapped');
      damage();
      const [shell] = proc.findByToken(token).filter((pid) => proc.stat(pid).ppid === child.pid);
      process.kill(shell, 'SIGKILL');
      await waitFor(() => /killed by signal 9 \(SIGKILL\).*restarting/.test(log), 'the restart in the log');
      await waitFor(() => proc.findByToken(token).length === 3, 'the restarted program and its child');
      process.kill(child.pid, 'SIGTERM');
      assert.deepEqual(await done, { code: 0, signal: null }, log);
      assert.deepEqual(proc.findByToken(token), []);
      fs.writeFileSync(bundle, original);
    }

    // A CLI that waits: --logs --follow until SIGINT, and --stop of a daemon that ignores SIGTERM until its timeout.
    const work = scratch.dir();
    const pidfile = path.join(work, 'stubborn.pid');
    const log = path.join(work, 'out.log');
    const token = scratch.token();
    const started = run(cli, ['--pidfile', pidfile, '--stdout', log, '--', 'sh', '-c', `trap '' TERM; echo up; sleep 1000.${token}; :`],
      { encoding: 'utf8' });
    assert.equal(started.status, 0, started.stderr);
    scratch.track(readPidfile(pidfile));
    for (const [args, damage] of [[['--logs', '--follow', '--stdout', log, '--pidfile', pidfile], damages[0]],
      [['--stop', '--stop-timeout', '2', '--pidfile', pidfile], damages[1]]]) {
      const waiter = spawn(cli, args, { stdio: ['ignore', 'pipe', 'ignore'] });
      scratch.track(waiter.pid);
      let out = '';
      waiter.stdout.on('data', (data) => { out += data; });
      const done = new Promise((resolve) => waiter.on('exit', (code, signal) => resolve({ code, signal })));
      // --follow has printed the tail and handles SIGINT; --stop has sent its SIGTERM (which the shell ignores)
      // and waits in its event loop. Either has read its bundle long before.
      const catchesSigint = () => (BigInt(`0x${/^SigCgt:\s+([0-9a-f]+)$/m.exec(fs.readFileSync(`/proc/${waiter.pid}/status`, 'utf8'))[1]}`) & 2n) !== 0n;
      const inEventLoop = () => fs.readFileSync(`/proc/${waiter.pid}/wchan`, 'utf8') === 'do_epoll_wait';
      await waitFor(() => (args[0] === '--logs' ? out.includes('up') && catchesSigint() : inEventLoop()), `${args[0]} to wait`);
      assert.equal(mapsBundle(waiter.pid), false, 'the bundle is read, not mapped');
      damage();
      if (args[0] === '--logs') process.kill(waiter.pid, 'SIGINT');
      assert.deepEqual(await done, { code: 0, signal: null }, args[0]);
      fs.writeFileSync(bundle, original);
    }
    assert.deepEqual(proc.findByToken(token), []);
  });

  it('bin/daemonize, the name systemd units written by earlier versions run, runs the same CLI', async () => {
    const dir = tree();
    const result = run(path.join(dir, 'bin', 'daemonize'), ['--version'], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout.trim(), JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version);
    const pidfile = path.join(scratch.dir(), 'old-name.pid');
    const [program, arg] = scratch.sleeper();
    const started = run(path.join(dir, 'bin', 'daemonize'), ['--pidfile', pidfile, '--', program, arg], { encoding: 'utf8' });
    assert.equal(started.status, 0, started.stderr);
    const pid = scratch.track(readPidfile(pidfile));
    assert.equal(proc.stat(pid).comm, 'sleep');
    const stopped = run(path.join(dir, 'bin', 'daemonize'), ['--stop', '--pidfile', pidfile], { encoding: 'utf8' });
    assert.equal(stopped.status, 0, stopped.stderr);
    await waitFor(() => !proc.isAlive(pid), `daemon ${pid} to end`);
  });

  it('writing the code cache leaves nothing behind: no child, no lock, no temporary file', () => {
    const dir = tree();
    const temp = scratch.dir();
    // The warm-up starts `true` as a daemon in its temporary directory, with this process its subreaper.
    const result = run(process.execPath, ['-e', `const loader = require(${JSON.stringify(path.join(dir, 'bin', 'daemonize.cjs'))});
loader.writeCache().then((written) => {
  const addon = loader.loadAddon().exports;
  console.log(JSON.stringify({ written, children: addon.hasChildren(), locks: require('fs').readFileSync('/proc/locks', 'utf8')
    .split('\\n').filter((line) => line.includes(' ' + process.pid + ' ')).length }));
});`], { encoding: 'utf8', env: { ...process.env, TMPDIR: temp } });
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), { written: true, children: false, locks: 0 });
    assert.deepEqual(fs.readdirSync(temp), []);
    assert.deepEqual(choice(dir), { bundle: true, rejected: false });
  });

  it('a FIFO in the place of the bundle or of its cache hangs nothing: the CLI reads past it', () => {
    for (const name of ['cli-bundle.js', 'cli-bundle.cache']) {
      const dir = tree();
      fs.rmSync(path.join(dir, 'dist', name));
      execFileSync('mkfifo', [path.join(dir, 'dist', name)]);
      const result = run(path.join(dir, 'bin', 'daemonize.cjs'), ['--version'], { encoding: 'utf8', timeout: 10000 });
      assert.equal(result.signal, null, `${name}: not hung`);
      assert.equal(result.status, 0, result.stderr);
      assert.equal(result.stdout.trim(), JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version);
    }
  });

  it('a full temporary directory still gives a code cache (its warm-ups that need a file there are left out)', () => {
    const dir = tree();
    const small = path.join(scratch.dir(), 'small');
    fs.mkdirSync(small);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', small]);
    mounts.push(small);
    run('dd', ['if=/dev/zero', `of=${path.join(small, 'fill')}`, 'bs=4k'], { stdio: 'ignore' });
    fs.rmSync(path.join(dir, CACHE));
    const result = run(process.execPath, ['-e', `require(${JSON.stringify(path.join(dir, 'bin', 'daemonize.cjs'))}).writeCache()
  .then((written) => console.log(written));`], { encoding: 'utf8', env: { ...process.env, TMPDIR: small } });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout.trim(), 'true');
    assert.deepEqual(choice(dir), { bundle: true, rejected: false });
    assert.deepEqual(fs.readdirSync(small), ['fill']);
  });
});
