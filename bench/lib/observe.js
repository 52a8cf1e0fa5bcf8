'use strict';
// Looking at a daemon from outside, through /proc, as the behaviour section and pm2's do: its session,
// signal dispositions, descriptors, stdin, log file and pidfile lock; and the caller every start comes from.
const fs = require('node:fs');
const lib = require('./index');

/** The observations, as the matrix names its lines. */
const OBS = {
  session: 'double fork: the daemon does not lead a session',
  signals: 'signals the caller ignored (HUP, USR1) reset to default',
  fds: 'caller\'s extra descriptors (fd 7, fd 200) closed',
  stdin: 'stdin of the daemon',
  output: 'with a log file: the program writes it itself (no copying)',
  lock: 'pidfile locked while the daemon runs',
  second: 'second start on the same pidfile',
  missing: 'missing program (/nonexistent/...)',
  stop: 'stop a program that ignores SIGTERM and SIGINT',
  foreground: 'foreground mode passes the exit status (program exits 7)',
};

const SIGNALS = { HUP: 1, USR1: 10 };

/** How long a stop that returned early is given before the program is judged "still running". */
const STOP_GRACE_MS = 3000;

/** The caller, as [file, args]: bash, ignoring HUP and USR1, with `marker` open as fd 7 and fd 200, execs argv. */
function caller(marker, argv) {
  return [lib.commandPath('bash') || '/bin/bash', ['-c', 'trap "" HUP USR1; exec 7<"$1" 200<"$1"; shift; exec "$@"', 'bash', marker, ...argv]];
}

/** What the caller (above) says it does, for the report. */
const CALLER = 'bash -c \'trap "" HUP USR1; exec 7<FILE 200<FILE; exec TOOL ...\'';

function fdTarget(pid, fd) {
  try {
    return fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
  } catch {
    return null;
  }
}

function describeTarget(target, file, pidfile, marker) {
  if (target === null) return 'closed';
  if (marker && target === marker) return 'the caller\'s file';
  if (file && target === file) return 'the file';
  if (pidfile && target === pidfile) return 'the pidfile';
  if (target.startsWith('pipe:')) return 'a pipe';
  if (target.startsWith('socket:')) return 'a socket';
  return target;
}

/** Signal names (of SIGNALS) that `pid` still ignores. */
function stillIgnored(pid) {
  let status;
  try {
    status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const match = /^SigIgn:\s+([0-9a-f]+)$/m.exec(status);
  const mask = match ? BigInt(`0x${match[1]}`) : 0n;
  return Object.entries(SIGNALS).filter(([, n]) => (mask >> BigInt(n - 1)) & 1n).map(([name]) => name);
}

/** The lock /proc/locks shows on `file` ('FLOCK', 'POSIX', ...), or null. */
function lockOn(file) {
  let inode;
  try {
    inode = fs.statSync(file).ino;
  } catch {
    return null;
  }
  const line = fs.readFileSync('/proc/locks', 'utf8').split('\n').find((l) => new RegExp(`:${inode} `).test(l));
  return line ? line.trim().split(/\s+/)[1] : null;
}

/**
 * What the running daemon `pid` got: the rows for OBS.session, signals, fds, stdin and (with `output`, the
 * log file it was given) output. `base` is spread into each row ({ subject, compare }).
 */
function observeDaemon(pid, { marker, output, pidfile, base }) {
  const stat = lib.readStat(pid);
  if (!stat) throw new Error(`pid ${pid} is gone`);
  const row = (measure, value, detail) => ({ ...base, measure, status: 'observed', value, detail });
  const ignored = stillIgnored(pid) || [];
  // Each descriptor read once; one closed between the listing and its readlink is left out.
  const targets = new Map(fs.readdirSync(`/proc/${pid}/fd`).map(Number).sort((x, y) => x - y)
    .map((fd) => [fd, fdTarget(pid, fd)]).filter(([, target]) => target !== null));
  const leaked = [...targets.keys()].filter((fd) => targets.get(fd) === marker);
  const rows = [
    row(OBS.session, stat.session === pid ? 'no: it leads its session' : 'yes',
      `pid ${pid}, process group ${stat.pgrp}, session ${stat.session}, tty_nr ${stat.ttyNr}`),
    row(OBS.signals, ignored.length ? `no: ${ignored.join(', ')} still ignored` : 'yes'),
    row(OBS.fds, leaked.length ? `no: leaked (fd ${leaked.join(', ')})` : 'yes',
      `descriptors: ${[...targets].map(([fd, target]) => `${fd} ${describeTarget(target, output, pidfile, marker)}`).join(', ')}`),
    row(OBS.stdin, describeTarget(fdTarget(pid, 0))),
  ];
  if (output) {
    const target = describeTarget(fdTarget(pid, 1), output);
    rows.push(row(OBS.output, target === 'the file' ? 'yes' : `no: stdout is ${target}`));
  }
  return rows;
}

/** A program that ignores SIGTERM and SIGINT: a shell that ignores them, then execs sleep, which inherits that. */
function stubbornProgram(sleep, token) {
  return ['/bin/sh', '-c', `trap "" TERM INT; exec ${sleep} 1000.${token}`];
}

/** The first line a tool wrote to stderr, without colour escapes; '' when none. */
function said(r, dir) {
  const line = `${r.stderr || ''}`.split('\n')[0].replace(/\x1b\[[0-9;]*m/g, '').trim();
  return dir ? line.split(dir).join('DIR') : line;
}

function exitText(r) {
  if (r.error) return `did not run: ${r.error.message}`;
  return r.status === null ? `killed by ${r.signal}` : `exit ${r.status}`;
}

module.exports = { OBS, STOP_GRACE_MS, caller, CALLER, lockOn, observeDaemon, stubbornProgram, said, exitText };
