'use strict';
// Section 1: launcher start-up. Wall time from spawn until the launcher has exited 0, for
// `daemonize --pidfile P -- sleep 1000.<unique>`, and for libslack daemon(1), bmc daemonize(1) and start-stop-daemon(8)
// where installed, each against `node -e 0` in its own interleaved pairs.
const fs = require('node:fs');
const path = require('node:path');

const goals = require('./goals');
const lib = require('./lib');

/** The subjects: each knows how to launch one `sleep 1000.<token>` daemon and how to find what it started. */
function subjects() {
  const sleep = fs.existsSync('/bin/sleep') ? '/bin/sleep' : lib.commandPath('sleep');
  return [
    {
      subject: 'daemonize',
      tool: 'daemonize',
      command: 'bin/daemonize --pidfile P -- sleep 1000.N',
      path: lib.DAEMONIZE,
      goal: goals.start,
      args: (pidfile, token) => ['--pidfile', pidfile, '--', 'sleep', `1000.${token}`],
      // The launcher returns only once the pidfile names the exec'd program.
      pids: (pidfile) => [lib.readPid(pidfile)],
      notes: [],
    },
    {
      subject: 'daemon (libslack)',
      tool: 'libslack',
      command: 'daemon --pidfile=P -- sleep 1000.N',
      path: lib.commandPath('daemon'),
      args: (pidfile, token) => [`--pidfile=${pidfile}`, '--', 'sleep', `1000.${token}`],
      // libslack's --pidfile names its own supervisor process; the client's pid goes to <base>.clientpid.
      // Both are written by the daemon after the launcher has already exited, and removed when it stops.
      pids: (pidfile) => [lib.readPid(pidfile), lib.readPid(pidfile.replace(/\.pid$/, '.clientpid'))],
      notes: [
        'daemon (libslack): its --pidfile holds its supervisor\'s pid (the client\'s goes to <name>.clientpid), written after '
          + 'the launcher has exited and removed when the daemon stops; so its launch time excludes readiness',
      ],
    },
    {
      subject: 'daemonize (bmc)',
      tool: 'bmc',
      command: `daemonize -p P -- ${sleep} 1000.N`,
      path: lib.bmcDaemonizePath(),
      // bmc's daemonize wants an absolute program path.
      args: (pidfile, token) => ['-p', pidfile, '--', sleep, `1000.${token}`],
      // Written by the daemon itself, after daemon(3) has let the launcher exit; never removed.
      pids: (pidfile) => [lib.readPid(pidfile)],
      notes: [],
    },
    {
      subject: 'start-stop-daemon',
      tool: 'ssd',
      command: `start-stop-daemon --start --background --make-pidfile --pidfile P --exec ${sleep} -- 1000.N`,
      path: lib.commandPath('start-stop-daemon'),
      args: (pidfile, token) => ['--start', '--background', '--make-pidfile', '--pidfile', pidfile, '--exec', sleep, '--', `1000.${token}`],
      pids: (pidfile) => [lib.readPid(pidfile)],
      notes: [],
    },
  ];
}

/** True once `pid` is a live `sleep` whose command line carries `token`: it has exec'd our program (a
 *  launcher's forked child, not yet exec'd, has the token in its command line too, but not that name). */
function runsToken(pid, token) {
  return pid !== null && lib.procName(pid) === 'sleep' && lib.pidsWithTokenIn([pid], token);
}

/**
 * One launch: returns its wall time until the launcher exited. Also records, as `stats.readyMs`, when the
 * pidfiles first named the exec'd program (polled each ms after the launcher exits). Kills what it
 * started and checks it is gone before returning.
 */
function launchOnce(spec, dir, stats, measured) {
  const token = lib.uniqueToken();
  lib.trackToken(token);
  const pidfile = path.join(dir, `${token}.pid`);
  const t0 = lib.nowMs();
  const r = lib.timedSpawn(spec.path, spec.args(pidfile, token), { stderrFile: path.join(dir, `${token}.err`) });
  // Readiness at exit: does the pidfile already name the live program running our command?
  const readyAtExit = runsToken(spec.pids(pidfile).at(-1), token);
  try {
    lib.checkExit(spec.subject, r);
    // Daemons that write their pidfiles late: wait for them, for the readiness time and to kill by pid.
    const ready = readyAtExit ? r.ms : lib.waitFor(() => {
      const pids = spec.pids(pidfile);
      return pids.every((p) => p !== null) && runsToken(pids.at(-1), token) && lib.nowMs() - t0;
    }, 3000);
    const pids = spec.pids(pidfile).filter((p) => p !== null);
    pids.forEach(lib.trackPid);
    if (!ready) throw new Error(`${spec.subject}: exited 0 but no pidfile named a daemon running sleep 1000.${token} within 3 s`);
    if (measured) {
      stats.runs += 1;
      if (readyAtExit) stats.readyAtExit += 1;
      stats.readyMs.push(ready);
    }
  } finally {
    const survivors = lib.reap({ pids: spec.pids(pidfile).filter((p) => p !== null), token });
    for (const name of fs.readdirSync(dir)) if (name.startsWith(token)) fs.rmSync(path.join(dir, name), { force: true });
    if (survivors.length) throw new Error(`could not kill ${survivors.join(', ')}`);
  }
  return r.ms;
}

module.exports = {
  id: 'launch',
  title: 'Launcher start-up',
  async run(ctx) {
    const pairs = ctx.quick ? 5 : 21;
    const warmup = ctx.quick ? 1 : 2;
    // `node` as the shebang of bin/daemonize finds it, so both sides start the same binary.
    const node = lib.nodePath();
    const rows = [];
    for (const spec of subjects()) {
      const row = {
        measure: 'launch: spawn -> launcher exit 0',
        subject: spec.subject,
        compare: { line: 'launch', tool: spec.tool },
        command: spec.command,
        baseline: 'node -e 0',
        baselineCommand: `${node} -e 0`,
        unit: 'ms',
        goal: spec.goal || null,
        notes: [],
      };
      rows.push(row);
      if (!spec.path) {
        row.status = 'not installed';
        continue;
      }
      row.notes.push(...spec.notes);
      const dir = lib.makeTmpDir('daemonize-bench-launch-');
      const stats = { runs: 0, readyAtExit: 0, readyMs: [] };
      try {
        ctx.log(`launch: ${spec.subject} vs node -e 0, ${pairs} pairs`);
        Object.assign(row, { status: 'ok' }, await lib.runPairsAsync({
          pairs,
          warmup,
          baseline: () => lib.nodeBaselineOnce(node),
          subject: (i, warm) => launchOnce(spec, dir, stats, !warm),
        }));
        row.pidfileReadyAtExit = { ready: stats.readyAtExit, of: stats.runs };
        row.readyMedian = lib.median(stats.readyMs);
        row.readySamples = stats.readyMs;
        row.notes.push(`${spec.subject}: pidfile named the exec'd program when the launcher exited in ${stats.readyAtExit}/${stats.runs} runs; `
          + `median time from spawn until it did: ${lib.fmtMs(row.readyMedian)}`);
      } catch (error) {
        row.status = 'error';
        row.reason = error.message;
      } finally {
        lib.removeDir(dir);
      }
    }
    return rows;
  },
};
