'use strict';
// The package as a user gets it: the real `npm pack` of a copy of this working tree without build/, dist/,
// prebuilds/, man/ or node_modules/ of its own (as a fresh clone has none), then `npm install <tarball>`
// into fresh projects with no dev dependencies, and the installed CLI, require() and import run. Catches
// files missing from the package and build steps that only work in the repo.
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { describe, it, before, after } = require('node:test');

const proc = require('./helpers/proc');
const { ROOT, Scratch, readPidfile, waitFor } = require('./helpers/harness');

const scratch = new Scratch();
after(() => scratch.cleanup());

const PLATFORM = `${process.platform}-${process.arch}`;
/** The prebuild's name, as package.json's prepack has prebuildify make it (--napi --tag-libc). */
const PREBUILD = path.join('prebuilds', PLATFORM, 'daemonize.glibc.node');
const { name: NAME, version: VERSION } = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
/** What a fresh clone does not have: the .gitignore'd build products and dependencies. */
const NOT_IN_A_CLONE = new Set(['.git', 'node_modules', 'build', 'dist', 'prebuilds', 'man']);

/**
 * The environment of a user's shell: none of the npm_* variables `npm test` sets (its
 * npm_config_local_prefix would point every install at this repo), no node_modules/.bin of this repo on PATH.
 */
function userEnv(extra = {}) {
  const env = {};
  for (const [key, value] of Object.entries(process.env)) if (!/^npm_/i.test(key)) env[key] = value;
  env.PATH = (env.PATH ?? '').split(path.delimiter).filter((dir) => !dir.startsWith(ROOT)).join(path.delimiter);
  return { ...env, ...extra };
}

/**
 * A machine without a compiler: cc, c++, make and python (everything node-gyp needs) on PATH fail.
 * Made once; returns the environment.
 */
let noCompiler;
function noCompilerEnv() {
  if (!noCompiler) {
    const bin = path.join(scratch.dir(), 'bin');
    fs.mkdirSync(bin);
    for (const name of ['cc', 'c++', 'gcc', 'g++', 'clang', 'clang++', 'make', 'gmake', 'python3', 'python']) {
      fs.writeFileSync(path.join(bin, name), `#!/bin/sh\necho "no ${name} on this machine" >&2\nexit 127\n`, { mode: 0o755 });
    }
    const env = userEnv();
    noCompiler = { ...env, PATH: `${bin}${path.delimiter}${env.PATH}`, CC: path.join(bin, 'cc'), CXX: path.join(bin, 'c++'), MAKE: path.join(bin, 'make') };
  }
  return noCompiler;
}

function run(file, args, options) {
  const result = spawnSync(file, args, { encoding: 'utf8', timeout: 120000, ...options });
  if (result.error) throw result.error;
  return result;
}

/** The last lines of a failed command's output, for an assertion's message. */
function tail(result) {
  return `${result.stdout}\n${result.stderr}`.trim().split('\n').slice(-30).join('\n');
}

/** `npm install <spec> --omit=dev` in `dir`, a project, as a user runs it. */
function npmInstall(dir, spec, env) {
  return run('npm', ['install', spec, '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: dir, env });
}

/** A fresh project: a directory with a package.json and nothing else. */
function project() {
  const dir = scratch.dir();
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'install-check', version: '1.0.0', private: true }));
  return dir;
}

/** The real `npm pack` of a copy of this working tree as a fresh clone has it; returns the tarball's path. */
function pack() {
  const work = scratch.dir();
  const tree = path.join(work, 'tree');
  fs.cpSync(ROOT, tree, {
    recursive: true,
    filter: (source) => {
      const top = path.relative(ROOT, source).split(path.sep)[0];
      return !NOT_IN_A_CLONE.has(top) && !top.endsWith('.tgz');
    },
  });
  // The dev dependencies (tsc, prebuildify, node-gyp) as `npm ci` installed them.
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(tree, 'node_modules'));
  const out = path.join(work, 'out');
  fs.mkdirSync(out);
  // prebuildify leaves a directory in the temporary directory: this test's own, removed with it.
  const tmp = path.join(work, 'tmp');
  fs.mkdirSync(tmp);
  const result = run('npm', ['pack', '--pack-destination', out], { cwd: tree, env: userEnv({ JOBS: 'max', TMPDIR: tmp }) });
  assert.equal(result.status, 0, `npm pack failed:\n${tail(result)}`);
  const tarballs = fs.readdirSync(out).filter((name) => name.endsWith('.tgz'));
  assert.deepEqual(tarballs, [`${NAME}-${VERSION}.tgz`]);
  return { tarball: path.join(out, tarballs[0]), tree };
}

/** The installed package's directory in project `dir`. */
function packageDir(dir) {
  return path.join(dir, 'node_modules', NAME);
}

/** What a CommonJS script in `dir` sees: require(NAME), the addon path and the .node files mapped. */
function requireProbe(dir) {
  const probe = path.join(dir, 'probe.cjs');
  fs.writeFileSync(probe, `'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { daemonize } = require('${NAME}');
// Not exported (package.json's exports): loaded by its path, as only a test would.
const { addonFile, native } = require(path.join(path.dirname(require.resolve('${NAME}')), 'native.js'));
// The addon is loaded on its first use: a call makes it the one in memory.
native.strerror(2);
const mapped = fs.readFileSync('/proc/self/maps', 'utf8').split('\\n')
  .map((line) => line.split(/\\s+/).slice(5).join(' ')).filter((file) => file.endsWith('.node'));
console.log(JSON.stringify({ type: typeof daemonize, resolved: require.resolve('${NAME}'), addonPath: addonFile(), mapped: [...new Set(mapped)] }));
`);
  const result = run(process.execPath, [probe], { cwd: dir, env: userEnv() });
  assert.equal(result.status, 0, result.stderr);
  return JSON.parse(result.stdout);
}

/** Runs the installed CLI: a `sleep` daemon; checks it and kills it. */
async function startsADaemon(bin) {
  const pidfile = path.join(scratch.dir(), 'cli.pid');
  const [program, arg] = scratch.sleeper();
  const result = run(bin, ['--pidfile', pidfile, '--', program, arg], { env: userEnv(), timeout: 20000 });
  assert.equal(result.status, 0, `launcher failed: ${result.stderr}`);
  assert.equal(result.stderr, '');
  const pid = scratch.track(readPidfile(pidfile));
  assert.ok(proc.isAlive(pid), 'the daemon is alive');
  assert.equal(proc.stat(pid).comm, 'sleep');
  assert.deepEqual(proc.cmdline(pid), [program, arg]);
  process.kill(pid, 'SIGKILL');
  await waitFor(() => !proc.isAlive(pid), `daemon ${pid} to die`);
}

describe('the package as a user installs it (npm pack, npm install <tarball> --omit=dev)', () => {
  let tarball;
  let tree;
  let installed; // a project with the tarball installed on a machine with no compiler

  before(() => {
    ({ tarball, tree } = pack());
  }, { timeout: 300000 });

  it('the tarball has the prebuilt addon, dist/ for every source file, the man page and the fallback build\'s sources; no sources, tests or builds', () => {
    const result = run('tar', ['-tzf', tarball], {});
    assert.equal(result.status, 0, result.stderr);
    const files = new Set(result.stdout.trim().split('\n').map((name) => name.replace(/^package\//, '')));
    const need = ['package.json', 'README.md', 'bin/daemonize.cjs', 'bin/daemonize', 'binding.gyp', 'man/daemonize.1', PREBUILD,
      'dist/cli-bundle.js', 'dist/index.mjs', 'dist/index.d.mts'];
    for (const file of fs.readdirSync(path.join(ROOT, 'native'))) need.push(`native/${file}`);
    for (const file of fs.readdirSync(path.join(tree, 'src'), { recursive: true })) {
      if (file.endsWith('.ts')) need.push(`dist/${file.replace(/\.ts$/, '.js')}`, `dist/${file.replace(/\.ts$/, '.d.ts')}`);
    }
    for (const file of need) assert.ok(files.has(file), `${file} is in the package`);
    for (const file of files) {
      assert.doesNotMatch(file, /^(src|test|build|scripts|node_modules|bench|tools)\//, `${file} does not belong in the package`);
    }
    assert.ok(!files.has('dist/cli-bundle.cache'), 'the code cache is written at install, for the Node that installs');
  });

  it('installs on a machine without a compiler: the prebuilt addon is the one loaded, nothing is built', () => {
    installed = project();
    const result = npmInstall(installed, tarball, noCompilerEnv());
    assert.equal(result.status, 0, `npm install failed:\n${tail(result)}`);
    const root = packageDir(installed);
    assert.ok(fs.existsSync(path.join(root, PREBUILD)));
    assert.ok(!fs.existsSync(path.join(root, 'build')), 'no build/ directory: node-gyp never ran');
    const seen = requireProbe(installed);
    assert.equal(seen.addonPath, path.join(root, PREBUILD));
    assert.deepEqual(seen.mapped, [path.join(root, PREBUILD)], 'the prebuilt file is the addon in memory');
  });

  it('its `daemonize` CLI starts a daemon, from the one-file bundle and the code cache its install wrote', async () => {
    assert.ok(installed, 'installed by the test before');
    const bin = path.join(installed, 'node_modules', '.bin', 'daemonize');
    const version = run(bin, ['--version'], { env: userEnv({ NODE_DEBUG: 'module' }) });
    assert.equal(version.stdout.trim(), VERSION);
    // Node's module debug log names every file required: the bundle runs, not dist/cli.js and its modules.
    assert.doesNotMatch(version.stderr, /dist\/cli\.js|commander/, 'no module of dist/ or commander loaded one by one');
    const root = packageDir(installed);
    assert.ok(fs.existsSync(path.join(root, 'dist', 'cli-bundle.cache')), 'the install wrote the code cache');
    const accepted = run(process.execPath, ['-e', `const b = require(${JSON.stringify(path.join(root, 'bin', 'daemonize.cjs'))}).loadBundle();
      console.log(JSON.stringify({ bundle: b !== null, rejected: b && b.script.cachedDataRejected }));`], { env: userEnv() });
    assert.equal(accepted.status, 0, accepted.stderr);
    assert.deepEqual(JSON.parse(accepted.stdout), { bundle: true, rejected: false }, 'V8 takes the cache');
    await startsADaemon(bin);
  });

  it(`require('${NAME}') and import { daemonize } from '${NAME}' resolve to it; an ES module app daemonizes with it`, async () => {
    assert.ok(installed, 'installed by the test before');
    const main = path.join(packageDir(installed), 'dist', 'index.js');
    const seen = requireProbe(installed);
    assert.equal(seen.type, 'function');
    assert.equal(seen.resolved, main);

    // The import condition: an ES module with the same named exports as the CommonJS entry, the very same
    // objects (one instance), no default export, and nothing but the exports map's entries reachable.
    const probe = path.join(installed, 'probe.mjs');
    fs.writeFileSync(probe, `import { createRequire } from 'node:module';
import * as esm from '${NAME}';
import { daemonize } from '${NAME}';
const require = createRequire(import.meta.url);
const cjs = require('${NAME}');
const refused = (load) => { try { load(); return null; } catch (error) { return error.code; } };
console.log(JSON.stringify({ type: typeof daemonize, resolved: import.meta.resolve('${NAME}'), names: Object.keys(esm).sort(),
  cjsNames: Object.keys(cjs).sort(), same: Object.keys(cjs).every((key) => esm[key] === cjs[key]),
  deep: refused(() => require('${NAME}/dist/native.js')), pkg: require('${NAME}/package.json').name }));
`);
    const esm = run(process.execPath, [probe], { cwd: installed, env: userEnv() });
    assert.equal(esm.status, 0, esm.stderr);
    const got = JSON.parse(esm.stdout);
    assert.deepEqual({ type: got.type, resolved: got.resolved }, { type: 'function', resolved: `file://${main.replace(/\.js$/, '.mjs')}` });
    assert.ok(got.names.includes('daemonize') && got.names.includes('DaemonizeError'), got.names.join(' '));
    assert.deepEqual(got.names, got.cjsNames, 'src/index.mts names every export of src/index.ts');
    assert.ok(got.same, 'one instance for import and require');
    assert.equal(got.deep, 'ERR_PACKAGE_PATH_NOT_EXPORTED');
    assert.equal(got.pkg, NAME);

    // test/fixtures/lib-esm.mjs, run from the project: the installed library makes it a daemon.
    const dir = scratch.dir();
    const app = path.join(installed, 'app.mjs');
    fs.copyFileSync(path.join(ROOT, 'test', 'fixtures', 'lib-esm.mjs'), app);
    const pidfile = path.join(dir, 'app.pid');
    const result = run(process.execPath, [app, JSON.stringify({ dir, options: { pidfile } }), scratch.token()],
      { cwd: installed, env: userEnv(), timeout: 20000 });
    assert.equal(result.status, 0, result.stderr);
    const pid = scratch.track(readPidfile(pidfile));
    const facts = await waitFor(() => {
      try {
        return JSON.parse(fs.readFileSync(path.join(dir, 'facts.json'), 'utf8'));
      } catch {
        return null;
      }
    }, 'the daemon\'s facts.json');
    assert.deepEqual(facts, { pid, isReady: true });
    assert.notEqual(proc.stat(pid).session, pid, 'double-forked');
    process.kill(pid, 'SIGKILL');
    await waitFor(() => !proc.isAlive(pid), `daemon ${pid} to die`);
  });

  it('its control API, imported from the package, sees and stops a daemon its CLI started', async () => {
    assert.ok(installed, 'installed by the test before');
    const pidfile = path.join(scratch.dir(), 'api.pid');
    const [program, arg] = scratch.sleeper();
    const started = run(path.join(installed, 'node_modules', '.bin', 'daemonize'), ['--pidfile', pidfile, '--', program, arg],
      { env: userEnv(), timeout: 20000 });
    assert.equal(started.status, 0, started.stderr);
    const pid = scratch.track(readPidfile(pidfile));
    const probe = path.join(installed, 'api.mjs');
    fs.writeFileSync(probe, `import { running, stop } from '${NAME}';
const target = { pidfile: ${JSON.stringify(pidfile)} };
const before = await running(target);
await stop(target);
console.log(JSON.stringify({ before, after: await running(target) }));
`);
    const result = run(process.execPath, [probe], { cwd: installed, env: userEnv(), timeout: 30000 });
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), { before: true, after: false });
    assert.ok(!proc.isAlive(pid), 'stop() resolved once the daemon was gone');
  });

  it('its types serve a TypeScript app that imports it and one that requires it, and name no internal member', () => {
    assert.ok(installed, 'installed by the test before');
    const dir = path.join(installed, 'types');
    fs.mkdirSync(dir);
    // The same use of the library from an ES module and from CommonJS (node16 resolution follows the
    // exports map's conditions); shutdown() is @internal: calling it must not type-check.
    const body = (load) => `${load}
const handle: DaemonHandle = daemonize({ pidfile: '/tmp/x.pid', ready: 'manual' });
handle.on('shutdown', (signal: NodeJS.Signals) => console.log(signal));
handle.ready();
const code: number = ExitCode.ALREADY_RUNNING;
const failed: boolean = new Error() instanceof DaemonizeError;
// @ts-expect-error: internal, stripped from the declarations
void handle.shutdown('SIGTERM');
console.log(code, failed);
`;
    fs.writeFileSync(path.join(dir, 'app.mts'), body(`import { daemonize, DaemonizeError, ExitCode, type DaemonHandle } from '${NAME}';`));
    fs.writeFileSync(path.join(dir, 'app.cts'), body(`import { daemonize, DaemonizeError, ExitCode, type DaemonHandle } from '${NAME}';`)
      .replace(/^import .*$/m, `import lib = require('${NAME}');\nconst { daemonize, DaemonizeError, ExitCode } = lib;\ntype DaemonHandle = lib.DaemonHandle;`));
    fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { module: 'node16', moduleResolution: 'node16', target: 'es2022', strict: true, noEmit: true,
        types: ['node'], typeRoots: [path.join(ROOT, 'node_modules', '@types')] },
      files: ['app.mts', 'app.cts'],
    }));
    const result = run(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir, '--traceResolution'],
      { cwd: dir, env: userEnv() });
    assert.equal(result.status, 0, `tsc failed:\n${result.stdout.split('\n').filter((l) => /error/.test(l)).join('\n')}`);
    const root = packageDir(installed);
    assert.match(result.stdout, new RegExp(`'${NAME}' was successfully resolved to '${root}/dist/index\\.d\\.mts'`));
    assert.match(result.stdout, new RegExp(`'${NAME}' was successfully resolved to '${root}/dist/index\\.d\\.ts'`));
  });

  /** The tarball, unpacked, changed by `change(packageDir)`, and packed again. */
  function repack(change) {
    const work = scratch.dir();
    assert.equal(run('tar', ['-xzf', tarball, '-C', work], {}).status, 0);
    change(path.join(work, 'package'));
    const changed = path.join(work, 'changed.tgz');
    assert.equal(run('tar', ['-czf', changed, '-C', work, 'package'], {}).status, 0);
    return changed;
  }

  /** Installs `spec` on a machine with a compiler; checks node-gyp built the addon that loads, and the CLI. */
  async function compilesAndWorks(spec) {
    const dir = project();
    const result = npmInstall(dir, spec, userEnv({ JOBS: 'max' }));
    assert.equal(result.status, 0, `npm install failed:\n${tail(result)}`);
    const compiled = path.join(packageDir(dir), 'build', 'Release', 'daemonize.node');
    const seen = requireProbe(dir);
    assert.equal(seen.type, 'function');
    assert.equal(seen.addonPath, compiled);
    assert.deepEqual(seen.mapped, [compiled]);
    await startsADaemon(path.join(dir, 'node_modules', '.bin', 'daemonize'));
  }

  it('without a prebuild for the platform, the install compiles the addon with node-gyp (and needs a compiler to)', async () => {
    const bare = repack((dir) => fs.rmSync(path.join(dir, 'prebuilds'), { recursive: true }));
    const refused = npmInstall(project(), bare, noCompilerEnv());
    assert.notEqual(refused.status, 0, 'with no compiler and no prebuild, the install fails');
    assert.match(tail(refused), /gyp ERR!/, 'in node-gyp');
    await compilesAndWorks(bare);
  });

  it('with a prebuild that does not load here (a glibc too old, say), the install compiles, and the compiled addon is loaded', async () => {
    await compilesAndWorks(repack((dir) => fs.writeFileSync(path.join(dir, PREBUILD), 'not a shared object\n')));
  });

  it('npm install -g puts the CLI on PATH and `man daemonize` finds its page', () => {
    const prefix = scratch.dir();
    const result = run('npm', ['install', '-g', tarball, '--prefix', prefix, '--omit=dev', '--no-audit', '--no-fund',
      '--prefer-offline'], { env: noCompilerEnv() });
    assert.equal(result.status, 0, `npm install -g failed:\n${tail(result)}`);
    const version = run(path.join(prefix, 'bin', 'daemonize'), ['--version'], { env: userEnv() });
    assert.equal(version.stdout.trim(), VERSION);
    const page = path.join(prefix, 'lib', 'node_modules', NAME, 'man', 'daemonize.1');
    assert.equal(fs.realpathSync(path.join(prefix, 'share', 'man', 'man1', 'daemonize.1')), page);
    assert.equal(run('sh', ['-c', 'command -v man'], {}).status, 0, 'this test needs man (Debian package man-db)');
    const found = run('man', ['-w', 'daemonize'], { env: userEnv({ MANPATH: path.join(prefix, 'share', 'man') }) });
    assert.equal(found.status, 0, found.stderr);
    assert.equal(found.stdout.trim(), page);
  });
});
