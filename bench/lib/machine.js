'use strict';
// The machine and the peer tools on it, as the report describes them. Nothing here installs anything.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { ROOT, commandPath } = require('./paths');

function gitDescribe() {
  const head = spawnSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' });
  if (head.status !== 0) return null;
  const dirty = spawnSync('git', ['-C', ROOT, 'status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' });
  return `${head.stdout.trim()}${dirty.stdout && dirty.stdout.trim() ? ' (+uncommitted changes)' : ''}`;
}

function readText(file) {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return null;
  }
}

/** First line of a command's output (stdout, else stderr), or null when it cannot run. */
function firstLine(file, args) {
  const r = spawnSync(file, args, { encoding: 'utf8', timeout: 10000 });
  if (r.error) return null;
  const text = `${r.stdout || ''}`.trim() || `${r.stderr || ''}`.trim();
  return text ? text.split('\n')[0].trim() : null;
}

function machineInfo() {
  const cpus = os.cpus();
  let version = null;
  try {
    version = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version;
  } catch {
    // keep null
  }
  return {
    cpu: cpus.length ? cpus[0].model : 'unknown',
    cores: cpus.length,
    node: process.version,
    nodePath: process.execPath,
    npm: firstLine('npm', ['--version']),
    platform: `${os.type()} ${os.arch()}`,
    kernel: os.release(),
    debian: readText('/etc/debian_version'),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    loadavg: os.loadavg().map((x) => Number(x.toFixed(2))),
    tmpdir: os.tmpdir(),
    daemonize: version,
    git: gitDescribe(),
    date: new Date().toISOString(),
  };
}


/** True when `file` is an ELF executable (not a script, such as this package's own bin/daemonize). */
function isElf(file) {
  let fd;
  try {
    fd = fs.openSync(file, 'r');
    const head = Buffer.alloc(4);
    return fs.readSync(fd, head, 0, 4, 0) === 4 && head.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
  } catch {
    return false;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * bmc's daemonize (Debian package `daemonize`), or null. Its command name is this package's too: the first
 * `daemonize` on PATH counts only if it is a compiled binary (ours is a Node script), else Debian's paths.
 */
function bmcDaemonizePath() {
  const found = commandPath('daemonize');
  if (found && isElf(found)) return found;
  return ['/usr/sbin/daemonize', '/usr/bin/daemonize'].find((file) => file !== found && isElf(file)) || null;
}

/** The Debian package that owns `file` and its version, e.g. "daemonize 1.7.8-3", or null. */
function debianPackageOf(file) {
  // Under merged /usr, dpkg may list /sbin/x for what PATH finds as /usr/sbin/x.
  const candidates = [...new Set([file, fs.realpathSync(file), file.replace(/^\/usr\//, '/')])];
  for (const candidate of candidates) {
    const owner = spawnSync('dpkg-query', ['-S', candidate], { encoding: 'utf8' });
    if (owner.status !== 0) continue;
    const pkg = owner.stdout.split(':')[0].trim();
    const version = spawnSync('dpkg-query', ['-W', '-f=${Version}', pkg], { encoding: 'utf8' });
    return version.status === 0 ? `${pkg} ${version.stdout.trim()}` : pkg;
  }
  return null;
}

/** The peer tools on this machine: { key: { name, path, version } }, path null when not installed. */
function peerTools() {
  const libslack = commandPath('daemon');
  const bmc = bmcDaemonizePath();
  const ssd = commandPath('start-stop-daemon');
  const describe = (file, own) => {
    if (!file) return 'not installed';
    const pkg = debianPackageOf(file);
    return [own, pkg && `Debian package ${pkg}`].filter(Boolean).join('; ') || 'unknown version';
  };
  return {
    libslack: { name: 'libslack daemon', path: libslack, version: describe(libslack, libslack && firstLine(libslack, ['--version'])) },
    bmc: { name: 'bmc daemonize', path: bmc, version: describe(bmc, null) },
    ssd: { name: 'start-stop-daemon', path: ssd, version: describe(ssd, ssd && firstLine(ssd, ['--version'])) },
  };
}

module.exports = { machineInfo, bmcDaemonizePath, peerTools };
