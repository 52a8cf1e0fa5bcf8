'use strict';
// What the daemon a tool makes actually gets, looked at from outside through /proc (the behaviour and pm2
// sections): its session, signal dispositions, descriptors, stdin, log file and pidfile lock; a second start, a
// missing program, a stop of a program that ignores SIGTERM, the foreground exit status.
const fs = require('node:fs');
const path = require('node:path');
const procfs = require('../../tools/procfs');
const { nowMs, tick, waitFor } = require('./measure');
const { timedSpawn } = require('./commands');
const { newToken, reap } = require('./cleanup');
const { fmtMs } = require('./format');

/** How long a stop that returned early is given before the program is judged "still running". */
const STOP_GRACE_MS = 3000;

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

/** The caller, as [file, args]: bash, ignoring HUP and USR1, with `marker` open as fd 7 and fd 200, execs argv.
 *  (A low descriptor alone can mislead: a Node tool's own start-up reuses low numbers, closing them by accident.) */
const caller = (marker, argv) => ['/bin/bash', ['-c', 'trap "" HUP USR1; exec 7<"$1" 200<"$1"; shift; exec "$@"', 'bash', marker, ...argv]];
const CALLER = 'bash -c \'trap "" HUP USR1; exec 7<FILE 200<FILE; exec TOOL ...\'';

/** A program that ignores SIGTERM and SIGINT: a shell that ignores them, then execs sleep, which inherits that. */
const stubbornProgram = (sleep, token) => ['/bin/sh', '-c', `trap "" TERM INT; exec ${sleep} 1000.${token}`];

function describeTarget(target, file, pidfile, marker) {
  if (target == null) return 'closed';
  if (marker && target === marker) return 'the caller\'s file';
  if (file && target === file) return 'the file';
  if (pidfile && target === pidfile) return 'the pidfile';
  if (target.startsWith('pipe:')) return 'a pipe';
  if (target.startsWith('socket:')) return 'a socket';
  return target;
}

/** The lock /proc/locks shows on `file` ('FLOCK', 'POSIX', ...), or null. */
function lockOn(file) {
  let inode;
  try {
    inode = fs.statSync(file).ino;
  } catch {
    return null;
  }
  const line = fs.readFileSync('/proc/locks', 'utf8').split('\n').find((l) => l.includes(`:${inode} `));
  return line ? line.trim().split(/\s+/)[1] : null;
}

/** What the running daemon `pid` got: rows for OBS.session, signals, fds, stdin and, given the log file it was
 *  given (`output`), OBS.output. `base` is spread into each row ({ subject, compare }). */
function observeDaemon(pid, { marker, output, pidfile, base }) {
  const stat = procfs.stat(pid);
  if (!stat) throw new Error(`pid ${pid} is gone`);
  const row = (measure, value, detail) => ({ ...base, measure, status: 'observed', value, detail });
  const mask = BigInt(`0x${procfs.status(pid).SigIgn || '0'}`);
  const ignored = Object.entries({ HUP: 1, USR1: 10 }).filter(([, n]) => (mask >> BigInt(n - 1)) & 1n).map(([name]) => name);
  const targets = Object.entries(procfs.fds(pid)).map(([fd, target]) => [Number(fd), target]).sort((x, y) => x[0] - y[0]);
  const leaked = targets.filter(([, target]) => target === marker).map(([fd]) => fd);
  const rows = [
    row(OBS.session, stat.session === pid ? 'no: it leads its session' : 'yes',
      `pid ${pid}, process group ${stat.pgrp}, session ${stat.session}, tty_nr ${stat.ttyNr}`),
    row(OBS.signals, ignored.length ? `no: ${ignored.join(', ')} still ignored` : 'yes'),
    row(OBS.fds, leaked.length ? `no: leaked (fd ${leaked.join(', ')})` : 'yes',
      `descriptors: ${targets.map(([fd, target]) => `${fd} ${describeTarget(target, output, pidfile, marker)}`).join(', ')}`),
    row(OBS.stdin, describeTarget(new Map(targets).get(0))),
  ];
  if (output) {
    const target = describeTarget(new Map(targets).get(1), output);
    rows.push(row(OBS.output, target === 'the file' ? 'yes' : `no: stdout is ${target}`));
  }
  return rows;
}

/** The first line a tool wrote to stderr, without colour escapes (`dir` shown as DIR); '' when none. */
function said(r, dir) {
  const line = `${r.stderr || ''}`.split('\n')[0].replace(/\x1b\[[0-9;]*m/g, '').trim();
  return dir ? line.split(dir).join('DIR') : line;
}

const exitText = (r) => (r.error ? `did not run: ${r.error.message}` : r.status === null ? `killed by ${r.signal}` : `exit ${r.status}`);

/**
 * Starts `program` with `spec` (from the marked caller when `marker` is given); returns { r, pid }, pid once a
 * process named `comm` with `token` in its argv runs at the pid the tool's pidfile names (null if none).
 */
function startVia(spec, dir, name, program, { token, comm = path.basename(program[0]), marker, output } = {}) {
  const [file, ...args] = spec.argv(spec.start(name, program, output));
  const options = { env: spec.env, stderrFile: path.join(dir, `${name}.err`) };
  const r = marker ? timedSpawn(...caller(marker, [file, ...args]), options) : timedSpawn(file, args, options);
  const pid = r.status === 0 && token ? waitFor(() => {
    const p = spec.programPid(name);
    return (procfs.stat(p) || {}).comm === comm && procfs.hasToken(p, token) ? p : null;
  }, 3000) : null;
  return { r, pid };
}

/**
 * All observations of one tool. `spec`: { tool, subject, argv(args) -> [file, ...args], env, start(name, program,
 * output) -> args, pidfile(name), lockDetail, programPid(name), output(name), stop(name) -> args or null, stopCommand,
 * foreground(program) -> args or null, noForeground: [value, detail] }. Kills everything it started.
 */
async function observeTool(spec, dir, sleep) {
  const base = { subject: spec.subject, compare: { tool: spec.tool }, unit: null };
  const rows = [];
  const row = (measure, value, detail) => rows.push({ ...base, measure, status: 'observed', value, detail });
  const tokens = [];
  const marker = path.join(dir, 'marker');
  fs.writeFileSync(marker, 'the caller\'s extra descriptors\n');
  try {
    // 1. One daemon with a log file: what it got, and whether its pidfile is locked.
    const first = newToken(tokens);
    const name = `b${first}`;
    const output = spec.output(name);
    const { r, pid } = startVia(spec, dir, name, [sleep, `1000.${first}`], { token: first, marker, output });
    if (pid === null) throw new Error(`${spec.subject} did not start a daemon: ${exitText(r)}${said(r) ? `: ${said(r, dir)}` : ''}`);
    const pidfile = spec.pidfile(name);
    rows.push(...observeDaemon(pid, { marker, output, pidfile, base }));
    const lock = pidfile && lockOn(pidfile);
    row(OBS.lock, lock ? `yes (${{ FLOCK: 'flock', POSIX: 'fcntl' }[lock] || lock})` : 'no', spec.lockDetail);

    // 2. A second start on the same pidfile (or name), while the first runs.
    await tick();
    const second = newToken(tokens);
    const again = startVia(spec, dir, name, [sleep, `1000.${second}`], { token: second });
    const twin = again.pid !== null || waitFor(() => procfs.findByToken(second).length > 0, 500) !== null;
    row(OBS.second, `${twin ? 'second instance started' : 'refused'}, ${exitText(again.r)}`,
      `first daemon ${procfs.isAlive(pid) ? 'still running' : 'gone'} afterwards${said(again.r) ? `; said: ${said(again.r, dir)}` : ''}`);
    reap({ token: first });
    reap({ token: second });

    // 3. A program that does not exist.
    await tick();
    const missing = newToken(tokens);
    const gone = startVia(spec, dir, `m${missing}`, [`/nonexistent/daemonize-bench-${missing}`]);
    const left = spec.pidfile(`m${missing}`);
    row(OBS.missing, exitText(gone.r), `${left && fs.existsSync(left) ? 'a pidfile was left behind' : 'no pidfile left'}`
      + `${said(gone.r) ? `; said: ${said(gone.r, dir)}` : ''}`);

    // 4. Stop a program that ignores SIGTERM and SIGINT (pm2's first signal).
    await tick();
    const stubborn = newToken(tokens);
    const started = spec.stop
      && startVia(spec, dir, `s${stubborn}`, stubbornProgram(sleep, stubborn), { token: stubborn, comm: path.basename(sleep) });
    if (!spec.stop) row(OBS.stop, 'n/a: no stop command');
    else if (started.pid === null) row(OBS.stop, `could not start: ${exitText(started.r)}`);
    else {
      const [file, ...args] = spec.argv(spec.stop(`s${stubborn}`));
      const s = timedSpawn(file, args, { env: spec.env, stderrFile: path.join(dir, `s${stubborn}.stop.err`) });
      const goneAtReturn = !procfs.isAlive(started.pid);
      const t0 = nowMs();
      const goneLater = goneAtReturn || waitFor(() => !procfs.isAlive(started.pid), STOP_GRACE_MS, 5) !== null;
      const how = `${exitText(s)} after ${fmtMs(s.ms)}`;
      row(OBS.stop, goneAtReturn ? `waits: gone when it returns (${how})` : goneLater ? `returns first (${how}); gone ${fmtMs(nowMs() - t0)} later`
        : `returns (${how}); program still running ${STOP_GRACE_MS / 1000} s later`, spec.stopCommand);
    }

    // 5. Foreground: does the tool's exit status carry the program's?
    await tick();
    if (!spec.foreground) row(OBS.foreground, ...spec.noForeground);
    else {
      const [file, ...args] = spec.argv(spec.foreground(['/bin/sh', '-c', 'exit 7']));
      const fg = timedSpawn(file, args, { stderrFile: path.join(dir, `${first}.fg.err`) });
      row(OBS.foreground, fg.status === 7 ? 'yes (exit 7)' : `no (${exitText(fg)})`);
    }
  } catch (error) {
    rows.push({ ...base, measure: 'observations', status: 'error', reason: error.message });
  } finally {
    for (const t of tokens) reap({ token: t });
  }
  return rows;
}

module.exports = { CALLER, observeTool };
