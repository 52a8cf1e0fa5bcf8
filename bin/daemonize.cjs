#!/usr/bin/env node
'use strict';
// The command. A control verb costs little more than Node's own start-up, and most of what the CLI adds
// to it is finding, reading and compiling its modules, commander's among them. So this runs the one-file
// build of the CLI (dist/cli-bundle.js, made by scripts/bundle-cli.js) compiled from V8's code cache
// (dist/cli-bundle.cache, written by writeCache() below at build and at install, so it fits the Node that
// installed), and falls back to dist/cli.js as tsc made it when the bundle is missing or older than it.
// Node 20 has no compile cache of its own (module.enableCompileCache came in Node 22): the bundle goes
// through vm.Script with the cache as cachedData. A cache V8 rejects (another Node, other V8 flags) costs
// only the compile it would have saved.
// Both files are read by the addon when it loads (native/file-copy.cc): readFileSync's way costs a
// tenth of a start's overhead on a VM. The addon is loaded for that first, and handed to the CLI.
// The name ends in .cjs because for any other main script Node first reads the nearest package.json to learn
// whether it is an ES module: half a millisecond of every start. npm links the command as `daemonize`.
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');

const DIST = path.join(__dirname, '..', 'dist');
/** Where src/native.ts looks for the addon, in its order; the CLI takes this one only if it is its own choice. */
const ADDONS = [path.join(__dirname, '..', 'build', 'Release', 'daemonize.node'),
  path.join(__dirname, '..', 'prebuilds', `${process.platform}-${process.arch}`, 'daemonize.glibc.node')];
const BUNDLE = path.join(DIST, 'cli-bundle.js');
/** Opened without waiting: a FIFO in a file's place reads as empty (and so is not used) instead of hanging. */
const NO_WAIT = fs.constants.O_RDONLY | fs.constants.O_NONBLOCK;
const CACHE = path.join(DIST, 'cli-bundle.cache');
/**
 * The bundle's first line: this mark, the mtime of the dist/cli.js it was made from, and a build id. V8
 * checks a cache against the source's length only, so the cache starts with the same line and is used
 * only with the bundle it was made for.
 */
const BUILD_MARK = '// daemonize cli bundle ';
/** What the bundle starts (after its comment lines) and ends with: the function Node wraps a CommonJS module in. */
const WRAPPER = ['(function (exports, require, module, __filename, __dirname) {', '\n});'];

/** The addon's `name`(...args), or undefined when it has none (an addon built before it: a stale working tree). */
function readNatively(addon, name, ...args) {
  return typeof addon?.exports[name] === 'function' ? addon.exports[name](...args) : undefined;
}

/** The addon, { path, exports }, or null when none loads (not built yet, another platform). */
function loadAddon() {
  for (const file of ADDONS) {
    try {
      const addon = { exports: {} };
      process.dlopen(addon, file);
      return { path: file, exports: addon.exports };
    } catch {
      // the next, or none: the files are then read, and the CLI loads (and reports) the addon itself
    }
  }
  return null;
}

/**
 * The bundle's source, or null when there is none, or when this is a working tree (it has src/) where tsc
 * has written dist/ since the bundle was made. An installed package has no src/, and its files' dates are
 * the install's, not the build's.
 */
function bundleSource(addon) {
  try {
    const source = readNatively(addon, 'readLatin1', BUNDLE) ?? fs.readFileSync(BUNDLE, { encoding: 'utf8', flag: NO_WAIT });
    if (!source.startsWith(BUILD_MARK)) return null;
    const madeFrom = Number(source.slice(BUILD_MARK.length, source.indexOf(' ', BUILD_MARK.length)));
    // Within a millisecond: a copy that keeps dates (cp -a, fs.cpSync) may round them. The addon's stat
    // costs a system call; statSync's first call in a process, 0.4 ms of JavaScript.
    const tscOutput = path.join(DIST, 'cli.js');
    const made = (readNatively(addon, 'fileStatus', tscOutput, true, false) ?? fs.statSync(tscOutput)).mtimeMs;
    if (made < madeFrom + 1) return source;
    return fs.existsSync(path.join(DIST, '..', 'src')) ? null : source;
  } catch {
    return null;
  }
}

/**
 * What the cache file starts with: the bundle's first line, padded with spaces to a multiple of 16 bytes.
 * V8 copies cached data that does not start at an aligned address; after this header, the addon's copy does.
 */
function cacheHeader(source) {
  const line = source.slice(0, source.indexOf('\n'));
  return Buffer.from(`${line.padEnd(Math.ceil((line.length + 1) / 16) * 16 - 1)}\n`);
}

/** The cache written for this very bundle, or undefined. */
function cachedData(source, addon) {
  const id = cacheHeader(source);
  const read = readNatively(addon, 'readFileAfter', CACHE, id);
  if (read !== undefined) return read;
  let data;
  try {
    data = fs.readFileSync(CACHE, { flag: NO_WAIT });
  } catch {
    return undefined;
  }
  return data.subarray(0, id.length).equals(id) ? data.subarray(id.length) : undefined;
}

/** Compiles the bundle as Node compiles a CommonJS module, runs it and returns the script and its exports. */
function run(source, data) {
  // The bundle carries the module wrapper itself (WRAPPER): one copy of the source in memory, not two.
  const script = new vm.Script(source, { filename: BUNDLE, cachedData: data });
  const bundle = { exports: {} };
  // Its own requires are Node's modules and the addon by absolute path: this file's require serves.
  script.runInThisContext()(bundle.exports, require, bundle, BUNDLE, DIST);
  return { script, cli: bundle.exports };
}

/**
 * The bundle run with its cache, { script, cli }, or null when there is no bundle fit to run. With `addon`
 * (loadAddon()'s), the addon reads the files.
 */
function loadBundle(addon = null) {
  const source = bundleSource(addon);
  return source === null ? null : run(source, cachedData(source, addon));
}

/** The CLI module: { main, buildCommand, ... }, with the addon loaded here handed to it. */
function load() {
  const addon = loadAddon();
  const cli = loadBundle(addon)?.cli ?? require('../dist/cli.js');
  // dist/cli.js of a stale working tree may be older than adoptAddon.
  if (addon !== null && typeof cli.adoptAddon === 'function') cli.adoptAddon(addon.path, addon.exports);
  return cli;
}

/** Stands in for process.exit while writeCache() runs the CLI. */
class Exit {}

/**
 * A pidfile in `dir` that this process locks and names, with a supervisor's status record beside it: for
 * --running and --status to warm up on the paths of a running, supervised daemon (this process), without
 * starting one. Returns its path and the descriptor that holds the lock, or null when it cannot be made
 * (a full or read-only temporary directory): those two runs are then left out.
 */
function heldPidfile(dir, addon) {
  const pidfile = path.join(dir, 'held.pid');
  let fd;
  try {
    fd = fs.openSync(pidfile, 'w+');
    addon.exports.tryLock(fd, false);
    fs.writeSync(fd, `${process.pid}\n`);
    // The fields the CLI reads of a record (src/supervisor/status-file.ts); the child is this process too.
    const now = Date.now();
    fs.writeFileSync(path.join(dir, 'held.status'), JSON.stringify({ supervisor: process.pid, started: now, state: 'running',
      child: process.pid, childStarted: now, restarts: 0, failures: 0, stopTimeout: 10, command: [process.execPath] }));
    return { pidfile, fd };
  } catch {
    if (fd !== undefined) fs.closeSync(fd);
    return null;
  }
}

/** This process's children, as the CLI's process table has them (src/process-table.ts). */
function ownChildren(cli) {
  return cli.processTable().filter((entry) => entry.ppid === process.pid);
}

/**
 * Reaps what the warm-up start left: the daemon (`true`, which exits at once) and anything it left behind,
 * every one an orphan that came back to this process as the subreaper (and not one of the children it had
 * before, `before`: bundle-cli.js has esbuild's). After 5 s the rest is killed, its session first; after 5 s
 * more whatever is left goes on without us.
 */
function reapWarmupDaemon(cli, addon, before) {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  const killAt = Date.now() + 5000;
  const giveUpAt = killAt + 5000;
  let killed = false;
  for (;;) {
    const adopted = ownChildren(cli).filter((entry) => !before.has(entry.pid));
    // waitpid reaps the ones that have ended; none is reused while it is our unreaped child.
    const left = adopted.filter((entry) => addon.exports.waitpid(entry.pid, false) === null);
    if (left.length === 0 || Date.now() > giveUpAt) return;
    if (!killed && Date.now() > killAt) {
      killed = true;
      for (const { pid, session } of left) {
        for (const target of [-session, pid]) {
          try {
            process.kill(target, 'SIGKILL');
          } catch {
            // gone already, or not a group of ours
          }
        }
      }
    }
    Atomics.wait(pause, 0, 0, 2);
  }
}

/** The system's `true` by its absolute path (not one a PATH of npm's could name), or null. */
function systemTrue() {
  return ['/bin/true', '/usr/bin/true'].find((file) => fs.existsSync(file)) ?? null;
}

/**
 * Writes the bundle's code cache. V8 caches what is compiled by the time it is asked, so the CLI first
 * runs the common paths where they cannot touch anything, in a new empty directory, with exit and output
 * stubbed: a start whose pidfile directory does not exist, the verbs on a pidfile nobody holds, --running
 * and --status on one this process holds (heldPidfile()), and, where this process can be the subreaper
 * that reaps it, a start of `true` as a daemon, which exits at once. Returns false when there is no bundle.
 */
async function writeCache() {
  const source = bundleSource();
  if (source === null) return false;
  const { script, cli } = run(source, undefined);
  const dir = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'daemonize-cache-'));
  const saved = { exit: process.exit, out: process.stdout.write, err: process.stderr.write, writeSync: fs.writeSync };
  // A verb may end later, from a promise: each run is awaited until it calls exit (a few seconds at most).
  let exited = () => undefined;
  let inMain = false;
  process.exit = (code) => {
    exited(code);
    if (inMain) throw new Exit();
  };
  process.stdout.write = process.stderr.write = () => true;
  fs.writeSync = (fd, data, ...rest) => (fd === 1 || fd === 2 ? Buffer.byteLength(data) : saved.writeSync(fd, data, ...rest));
  const addon = loadAddon();
  // As a command does, the CLI takes this addon; its lines go through the addon's writeOut, silenced here too.
  if (addon !== null && typeof cli.adoptAddon === 'function') cli.adoptAddon(addon.path, addon.exports);
  if (typeof addon?.exports.writeOut === 'function') {
    saved.writeOut = addon.exports.writeOut;
    addon.exports.writeOut = (fd, text) => (fd === 1 || fd === 2 ? 0 : saved.writeOut(fd, text));
  }
  let held = null;
  let reaping = null;
  try {
    const pidfile = path.join(dir, 'none.pid');
    const runs = [['--pidfile', path.join(dir, 'missing', 'x.pid'), '--', 'true'], ['--running', '--pidfile', pidfile],
      ['--status', '--pidfile', pidfile], ['--stop', '--pidfile', pidfile]];
    if (addon !== null) {
      held = heldPidfile(dir, addon);
      if (held !== null) runs.push(['--running', '--pidfile', held.pidfile], ['--status', '--pidfile', held.pidfile]);
      const program = systemTrue();
      if (program !== null) {
        const before = new Set(ownChildren(cli).map((entry) => entry.pid));
        if (addon.exports.setSubreaper(true)) {
          reaping = before;
          runs.push(['--pidfile', path.join(dir, 'started.pid'), '--', program]);
        }
      }
    }
    for (const args of runs) {
      const ended = new Promise((resolve) => {
        exited = resolve;
        setTimeout(resolve, 5000).unref();
      });
      inMain = true;
      try {
        // Its own end: the CLI's would be _exit(2) once the addon is loaded.
        cli.main([process.execPath, __filename, ...args], (code) => process.exit(code));
      } catch (error) {
        if (!(error instanceof Exit)) throw error;
      } finally {
        inMain = false;
      }
      await ended;
    }
  } finally {
    process.exit = saved.exit;
    process.stdout.write = saved.out;
    process.stderr.write = saved.err;
    fs.writeSync = saved.writeSync;
    if (saved.writeOut !== undefined) addon.exports.writeOut = saved.writeOut;
    if (held !== null) fs.closeSync(held.fd);
    if (reaping !== null) {
      reapWarmupDaemon(cli, addon, reaping);
      addon.exports.setSubreaper(false);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const temp = `${CACHE}.${process.pid}`;
  fs.writeFileSync(temp, Buffer.concat([cacheHeader(source), script.createCachedData()]));
  fs.renameSync(temp, CACHE);
  return true;
}

if (require.main === module) {
  load().main(process.argv);
} else {
  module.exports = { BUILD_MARK, BUNDLE, DIST, WRAPPER, load, loadAddon, loadBundle, writeCache };
}
