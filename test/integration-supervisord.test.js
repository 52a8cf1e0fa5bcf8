'use strict';
// daemonize -f and -f -r under a real supervisord (Debian package "supervisor"), driven through
// supervisorctl: a private supervisord with its own config, unix socket and log in a temp dir.
//
//   fg:    daemonize -f    : the program is exec'd in place, so the pid supervisord knows is the program's.
//   fgr:   daemonize -f -r : daemonize is the process supervisord knows and supervises the program itself.
//          supervisord signals that one process only (stopasgroup=false, its default): a stop must still
//          leave nothing of the program behind, because our supervisor takes its children down itself.
//   stubborn, stubkill: a program that ignores SIGTERM. daemonize's --stop-timeout must run out before
//          supervisord's stopwaitsecs does; when supervisord SIGKILLs daemonize first, see stubkill.
//   exit7, missing: an exit status, the program's or daemonize's own, reaches supervisord.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');
const { describe, it, before, after } = require('node:test');

const proc = require('./helpers/proc');
const { CLI, Scratch, readPidfile, waitFor } = require('./helpers/harness');

const FIXTURES = path.join(__dirname, 'fixtures');

function onPath(name) {
  const r = spawnSync('sh', ['-c', 'command -v "$1"', 'sh', name], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

const SUPERVISORD = onPath('supervisord');
const SUPERVISORCTL = onPath('supervisorctl');
const skip = SUPERVISORD && SUPERVISORCTL ? false
  : 'supervisord and supervisorctl are not on PATH (install the Debian package "supervisor")';

/** One word of a supervisord `command=` line: quoted for its shlex split, % doubled for its interpolation. */
function word(text) {
  const quoted = /^[\w@+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, "'\\''")}'`;
  return quoted.replace(/%/g, '%%');
}

/** A supervisord `command=` line from words. */
function commandLine(...words) {
  return words.map(word).join(' ');
}

/** Whether some process holds a flock on `file`, asked of util-linux flock(1) from another process. */
function lockHeld(file) {
  return spawnSync('flock', ['--nonblock', '--shared', file, 'true']).status !== 0;
}

describe('under supervisord', { skip, timeout: 60000 }, () => {
  const scratch = new Scratch();
  let dir;
  let conf;
  let supervisord; // the ChildProcess; we are its parent, so it is reaped when it ends
  const tokens = {};

  function ctl(...args) {
    const r = spawnSync(SUPERVISORCTL, ['-c', conf, ...args], { encoding: 'utf8', timeout: 30000 });
    if (r.error) throw r.error;
    return r;
  }

  /** One program's line of `supervisorctl status`: { state, pid, line }, or null. */
  function statusOf(name) {
    const out = ctl('status', name).stdout;
    const match = new RegExp(`^${name}\\s+([A-Z]+)\\s*(.*)$`, 'm').exec(out);
    if (!match) return null;
    const pid = /\bpid (\d+)/.exec(match[2]);
    return { state: match[1], pid: pid ? Number(pid[1]) : null, line: match[0] };
  }

  /** supervisord's own log, as `supervisorctl maintail` shows it. */
  function mainLog() {
    return ctl('maintail', '-100000').stdout;
  }

  function start(name) {
    const r = ctl('start', name);
    assert.equal(r.status, 0, `supervisorctl start ${name}: ${r.stdout}${r.stderr}\n${mainLog()}`);
    assert.match(r.stdout, new RegExp(`^${name}: started$`, 'm'));
    const s = statusOf(name);
    assert.equal(s.state, 'RUNNING', s.line);
    assert.ok(s.pid > 0, s.line);
    scratch.track(s.pid);
    return s.pid;
  }

  function stop(name) {
    const r = ctl('stop', name);
    assert.equal(r.status, 0, `supervisorctl stop ${name}: ${r.stdout}${r.stderr}`);
    assert.match(r.stdout, new RegExp(`^${name}: stopped$`, 'm'));
    assert.equal(statusOf(name).state, 'STOPPED');
  }

  function restart(name) {
    const r = ctl('restart', name);
    assert.equal(r.status, 0, `supervisorctl restart ${name}: ${r.stdout}${r.stderr}\n${mainLog()}`);
    assert.match(r.stdout, new RegExp(`^${name}: started$`, 'm'));
    const s = statusOf(name);
    assert.equal(s.state, 'RUNNING', s.line);
    scratch.track(s.pid);
    return s.pid;
  }

  /** Live processes of the program `name` (its token in their argv), daemonize's own supervisor aside. */
  function programProcesses(name) {
    return proc.findByToken(tokens[name]).filter((pid) => !proc.cmdline(pid).includes(CLI));
  }

  /** The program's pid as daemonize's -f -r status file names it; null while there is none. */
  function childOf(pidfile) {
    try {
      return JSON.parse(fs.readFileSync(pidfile.replace(/\.pid$/, '.status'), 'utf8')).child;
    } catch {
      return null;
    }
  }

  before(async () => {
    dir = scratch.dir();
    conf = path.join(dir, 'supervisord.conf');
    for (const name of ['fg', 'fgr', 'stubborn', 'stubkill']) tokens[name] = scratch.token();
    const daemonize = (...args) => commandLine(process.execPath, CLI, ...args);
    const forker = (name) => ['/bin/sh', path.join(FIXTURES, 'sv-forker.sh'), tokens[name]];
    const stubborn = (name) => ['/bin/sh', path.join(FIXTURES, 'sv-stubborn.sh'), tokens[name]];
    const program = (name, command, extra = []) => [
      `[program:${name}]`,
      `command=${command}`,
      'autostart=false',
      'autorestart=false',
      'startretries=0',
      `stdout_logfile=${path.join(dir, `${name}.out`).replace(/%/g, '%%')}`,
      'redirect_stderr=true',
      ...extra,
      '',
    ];
    fs.writeFileSync(conf, [
      '[unix_http_server]',
      `file=${path.join(dir, 'supervisor.sock')}`,
      'chmod=0700',
      '',
      '[supervisord]',
      `logfile=${path.join(dir, 'supervisord.log')}`,
      `pidfile=${path.join(dir, 'supervisord.pid')}`,
      `childlogdir=${dir}`,
      `directory=${dir}`,
      'nodaemon=true',
      'loglevel=info',
      '',
      '[rpcinterface:supervisor]',
      'supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface',
      '',
      '[supervisorctl]',
      `serverurl=unix://${path.join(dir, 'supervisor.sock')}`,
      '',
      // The program has a child of its own; with plain -f that child is the program's business, so
      // supervisord is told to signal the whole group, which exec in place leaves the program leading.
      ...program('fg', daemonize('-f', '-F', path.join(dir, 'fg.pid'), '--', ...forker('fg')),
        ['startsecs=1', 'stopasgroup=true', 'killasgroup=true']),
      // supervisord signals daemonize only: cleaning up the program's group is daemonize's job.
      ...program('fgr', daemonize('-f', '-r', '-F', path.join(dir, 'fgr.pid'), '--', ...forker('fgr')),
        ['startsecs=1', 'stopasgroup=false', 'killasgroup=false']),
      // Ignores SIGTERM: daemonize SIGKILLs its group after 1 s, well inside supervisord's 5 s.
      ...program('stubborn', daemonize('-f', '-r', '--stop-timeout', '1', '-F', path.join(dir, 'stubborn.pid'), '--', ...stubborn('stubborn')),
        ['startsecs=1', 'stopwaitsecs=5', 'stopasgroup=false', 'killasgroup=false']),
      // The other way round: supervisord SIGKILLs daemonize (and its group, which holds daemonize alone)
      // after 1 s, before daemonize's own 5 s are up.
      ...program('stubkill', daemonize('-f', '-r', '--stop-timeout', '5', '-F', path.join(dir, 'stubkill.pid'), '--', ...stubborn('stubkill')),
        ['startsecs=1', 'stopwaitsecs=1', 'stopasgroup=false', 'killasgroup=true']),
      ...program('exit7', daemonize('-f', '-F', path.join(dir, 'exit7.pid'), '--', '/bin/sh', path.join(FIXTURES, 'sv-exit.sh'), '7'),
        ['startsecs=0']),
      ...program('missing', daemonize('-f', '--', path.join(dir, 'no-such-program')), ['startsecs=0']),
    ].join('\n'));
    const out = fs.openSync(path.join(dir, 'supervisord.out'), 'a');
    try {
      supervisord = spawn(SUPERVISORD, ['-n', '-c', conf], { stdio: ['ignore', out, out] });
    } finally {
      fs.closeSync(out);
    }
    supervisord.exited = new Promise((resolve) => supervisord.once('exit', resolve));
    supervisord.once('exit', () => { supervisord.gone = true; });
    await waitFor(() => supervisord.gone || fs.existsSync(path.join(dir, 'supervisor.sock')), 'supervisord\'s socket');
    assert.ok(!supervisord.gone, `supervisord exited at start: ${fs.readFileSync(path.join(dir, 'supervisord.out'), 'utf8')}`);
    await waitFor(() => ctl('pid').stdout.trim() === String(supervisord.pid), 'supervisorctl to reach supervisord');
  });

  after(async () => {
    if (supervisord && !supervisord.gone) {
      try {
        ctl('shutdown');
        await Promise.race([supervisord.exited, new Promise((resolve) => setTimeout(resolve, 10000).unref())]);
      } finally {
        if (!supervisord.gone) {
          process.kill(supervisord.pid, 'SIGKILL');
          await supervisord.exited;
        }
      }
    }
    await scratch.cleanup();
  });

  it('-f: supervisord\'s pid is the program\'s, exec\'d in place; stop leaves nothing and frees the pidfile', async () => {
    const pidfile = path.join(dir, 'fg.pid');
    const pid = start('fg');
    assert.equal(readPidfile(pidfile), pid, 'the pid supervisord reports is the one in the pidfile');
    assert.equal(proc.stat(pid).ppid, supervisord.pid);
    assert.deepEqual(proc.cmdline(pid), ['/bin/sh', path.join(FIXTURES, 'sv-forker.sh'), tokens.fg],
      'daemonize replaced itself with the program');
    assert.equal(proc.environ(pid).DAEMONIZE_FOREGROUND, '1');
    assert.equal(proc.stat(pid).pgrp, pid, 'the program leads the group supervisord made for it');
    const workers = await waitFor(() => {
      const found = proc.findByToken(tokens.fg).filter((p) => p !== pid);
      return found.length > 0 ? found : null;
    }, 'the program\'s own child');
    assert.equal(proc.stat(workers[0]).pgrp, pid, 'its child is in its group');
    assert.ok(lockHeld(pidfile), 'the pidfile is locked while it runs');

    const renewed = restart('fg');
    assert.notEqual(renewed, pid, 'restart gives a new pid');
    assert.ok(!proc.isAlive(pid), 'the first program is gone');
    assert.equal(readPidfile(pidfile), renewed);
    assert.equal(proc.stat(renewed).comm, 'sh');

    stop('fg');
    assert.ok(!proc.isAlive(renewed));
    await waitFor(() => proc.findByToken(tokens.fg).length === 0, 'nothing of fg to be left', 5000);
    await waitFor(() => !lockHeld(pidfile), 'the pidfile\'s lock to be released', 5000);
    assert.equal(spawnSync(process.execPath, [CLI, '-F', pidfile, '--running']).status, 1, 'daemonize --running says not running');
  });

  it('-f -r: supervisord sees one steady supervisor; stop (SIGTERM to it alone) leaves nothing behind', async () => {
    const pidfile = path.join(dir, 'fgr.pid');
    const supervisor = start('fgr');
    assert.equal(readPidfile(pidfile), supervisor, 'the pidfile holds the supervisor supervisord started');
    assert.equal(proc.stat(supervisor).ppid, supervisord.pid);
    const child = await waitFor(() => childOf(pidfile), 'the status file to name the child');
    scratch.track(child);
    assert.equal(proc.stat(child).ppid, supervisor);
    assert.equal(proc.stat(child).pgrp, child, 'the program runs in a process group of its own');
    await waitFor(() => programProcesses('fgr').length === 2, 'the program and its own child');

    // A crash of the program is daemonize's to handle: supervisord keeps seeing the same pid.
    process.kill(child, 'SIGKILL');
    const successor = await waitFor(() => {
      const next = childOf(pidfile);
      return next !== child && next !== null && proc.isAlive(next) ? next : null;
    }, 'a new child after SIGKILL');
    scratch.track(successor);
    await waitFor(() => programProcesses('fgr').length === 2, 'the new program and its own child');
    const steady = statusOf('fgr');
    assert.equal(steady.state, 'RUNNING', steady.line);
    assert.equal(steady.pid, supervisor, 'supervisord saw nothing of the crash');

    // restart: a new supervisor, a new program, nothing left of the old ones.
    const before = programProcesses('fgr');
    const renewed = restart('fgr');
    assert.notEqual(renewed, supervisor, 'restart gives a new supervisor pid');
    for (const pid of [supervisor, ...before]) assert.ok(!proc.isAlive(pid), `pid ${pid} outlived the restart`);
    const renewedChild = await waitFor(() => childOf(pidfile), 'the status file to name the new child');
    assert.ok(![child, successor].includes(renewedChild), 'restart gives a new program pid');
    await waitFor(() => programProcesses('fgr').length === 2, 'the restarted program and its own child');
    const running = programProcesses('fgr');
    running.forEach((pid) => scratch.track(pid));

    // stop: supervisord returns once daemonize has exited; by then its whole program must be gone,
    // with no grace period on our side (a zombie counts as dead).
    stop('fgr');
    assert.ok(!proc.isAlive(renewed), 'the supervisor is gone');
    assert.deepEqual(proc.findByToken(tokens.fgr), [], 'processes left behind after supervisorctl stop');
    for (const pid of running) assert.ok(!proc.isAlive(pid), `pid ${pid} left behind`);
    assert.ok(!fs.existsSync(pidfile), 'the supervisor removed its pidfile');
    assert.ok(!fs.existsSync(pidfile.replace(/\.pid$/, '.status')), 'the supervisor removed its status file');
    assert.match(mainLog(), /stopped: fgr \(exit status 0\)/, 'a clean stop exits 0');
  });

  it('-f -r: a program that ignores SIGTERM is SIGKILLed after --stop-timeout, before supervisord loses patience', async () => {
    const supervisor = start('stubborn');
    await waitFor(() => programProcesses('stubborn').length === 2, 'the program and its own child');
    const program = programProcesses('stubborn');
    program.forEach((pid) => scratch.track(pid));
    const t0 = Date.now();
    stop('stubborn');
    const took = Date.now() - t0;
    assert.ok(!proc.isAlive(supervisor), 'the supervisor is gone');
    assert.deepEqual(proc.findByToken(tokens.stubborn), [], 'processes left behind after supervisorctl stop');
    assert.ok(took >= 900, `the stop took ${took} ms: the program should have had its 1 s to go on SIGTERM`);
    assert.match(mainLog(), /stopped: stubborn \(exit status 0\)/, 'daemonize ended the program itself and exited 0');
  });

  // When supervisord SIGKILLs daemonize itself (stopwaitsecs shorter than --stop-timeout), daemonize cannot
  // stop anything: the kernel kills the program (PR_SET_PDEATHSIG). What the program itself started is the
  // program's to stop; there is no "kill my process group when my parent dies", so the README tells users to
  // keep stopwaitsecs longer than --stop-timeout.
  it('-f -r: when supervisord SIGKILLs daemonize itself, the program does not outlive it', { timeout: 60000 }, async () => {
    start('stubkill');
    await waitFor(() => programProcesses('stubkill').length === 2, 'the program and its own child');
    programProcesses('stubkill').forEach((pid) => scratch.track(pid));
    const [shell] = programProcesses('stubkill').filter((pid) => proc.stat(pid).comm === 'sh');
    stop('stubkill');
    assert.match(mainLog(), /stopped: stubkill \(terminated by SIGKILL\)/, 'supervisord had to SIGKILL daemonize');
    await waitFor(() => !proc.isAlive(shell), 'the program to go with daemonize', 3000);
  });

  it('an exit status reaches supervisord: the program\'s, and daemonize\'s own', async () => {
    ctl('start', 'exit7');
    await waitFor(() => /^EXITED$|^FATAL$|^BACKOFF$/.test(statusOf('exit7').state) && statusOf('exit7'), 'exit7 to end');
    assert.equal(statusOf('exit7').state, 'EXITED');
    await waitFor(() => /exited: exit7 \(exit status 7; not expected\)/.test(mainLog()), 'supervisord to log exit status 7');

    ctl('start', 'missing');
    await waitFor(() => /exited: missing \(exit status 127; not expected\)/.test(mainLog()),
      'supervisord to log daemonize\'s exit status 127 for a missing program');
    const out = fs.readFileSync(path.join(dir, 'missing.out'), 'utf8');
    assert.match(out, /^daemonize: fatal: unable to exec .*no-such-program.*$/m);
  });
});
