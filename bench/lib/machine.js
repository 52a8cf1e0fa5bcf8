'use strict';
// The machine and the peer tools on it, as the report describes them. Nothing here installs anything.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { ROOT, commandPath } = require('./commands');

/** A command's output (stdout, else stderr), trimmed; null when it cannot run, fails or says nothing. */
function output(file, args) {
  const r = spawnSync(file, args, { encoding: 'utf8', timeout: 10000 });
  return r.error || r.status !== 0 ? null : r.stdout.trim() || r.stderr.trim() || null;
}

const firstLine = (file, args) => (output(file, args) || '').split('\n')[0] || null;
const readText = (file) => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim() : null);

function machineInfo() {
  const cpus = os.cpus();
  const head = output('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD']);
  return {
    cpu: cpus.length ? cpus[0].model : 'unknown',
    cores: cpus.length,
    node: process.version,
    nodePath: process.execPath,
    // Variables that change what every Node start costs, `node -e 0` included: NODE_EXTRA_CA_CERTS makes
    // Node parse that certificate file before it runs any JavaScript (most of `node -e 0` on some machines).
    nodeEnv: ['NODE_EXTRA_CA_CERTS', 'NODE_OPTIONS'].filter((name) => process.env[name]).map((name) => `${name}=${process.env[name]}`),
    npm: firstLine('npm', ['--version']),
    platform: `${os.type()} ${os.arch()}`,
    kernel: os.release(),
    debian: readText('/etc/debian_version'),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    loadavg: os.loadavg().map((x) => Number(x.toFixed(2))),
    tmpdir: os.tmpdir(),
    daemonize: JSON.parse(readText(path.join(ROOT, 'package.json'))).version,
    git: head && `${head}${output('git', ['-C', ROOT, 'status', '--porcelain', '--untracked-files=no']) ? ' (+uncommitted changes)' : ''}`,
    date: new Date().toISOString(),
  };
}

/** bmc's daemonize (Debian package `daemonize`), or null. Its command name is ours too: the first `daemonize` on
 *  PATH counts only if it is an ELF binary (ours is a Node script), else Debian's paths. */
function bmcDaemonizePath() {
  const isElf = (file) => {
    try {
      return fs.readFileSync(file).subarray(0, 4).toString('latin1') === '\x7fELF';
    } catch {
      return false;
    }
  };
  return [commandPath('daemonize'), '/usr/sbin/daemonize', '/usr/bin/daemonize'].find((file) => file && isElf(file)) || null;
}

/** The Debian package that owns `file` and its version, e.g. "daemonize 1.7.8-3", or null. Under merged /usr,
 *  dpkg may list /sbin/x for what PATH finds as /usr/sbin/x. */
function debianPackageOf(file) {
  for (const candidate of new Set([file, fs.realpathSync(file), file.replace(/^\/usr\//, '/')])) {
    const owner = output('dpkg-query', ['-S', candidate]);
    if (!owner) continue;
    const pkg = owner.split(':')[0].trim();
    const version = output('dpkg-query', ['-W', '-f=${Version}', pkg]);
    return version ? `${pkg} ${version}` : pkg;
  }
  return null;
}

/** The peer tools on this machine: { key: { name, path, version } }, path null when not installed. */
function peerTools() {
  const peer = (name, file, own) => {
    const pkg = file && debianPackageOf(file);
    const version = file ? [own, pkg && `Debian package ${pkg}`].filter(Boolean).join('; ') || 'unknown version' : 'not installed';
    return { name, path: file, version };
  };
  const libslack = commandPath('daemon');
  const ssd = commandPath('start-stop-daemon');
  return {
    libslack: peer('libslack daemon', libslack, libslack && firstLine(libslack, ['--version'])),
    bmc: peer('bmc daemonize', bmcDaemonizePath(), null),
    ssd: peer('start-stop-daemon', ssd, ssd && firstLine(ssd, ['--version'])),
  };
}

module.exports = { machineInfo, bmcDaemonizePath, peerTools };
