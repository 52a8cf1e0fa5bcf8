'use strict';
// Section: launcher start-up. Wall time from spawn until the launcher has exited 0, for
// `daemonize --pidfile P -- sleep 1000.<unique>` and for libslack daemon(1), bmc daemonize(1) and
// start-stop-daemon(8) where installed, each against `node -e 0` in its own interleaved pairs.
const path = require('node:path');
const goals = require('./goals');
const procfs = require('../tools/procfs');
const { nowMs, waitFor, median, runPairs, measureInto } = require('./lib/measure');
const {
  DAEMONIZE, commandPath, nodePath, sleepPath, timedSpawn, checkExit, nodeBaselineOnce, withoutExtraCaCerts, nodeRow, readPid,
} = require('./lib/commands');
const { newToken, makeTmpDir, removeDir, endRun } = require('./lib/cleanup');
const { bmcDaemonizePath } = require('./lib/machine');
const { fmtMs } = require('./lib/format');

/** The subjects: how each launches one `sleep 1000.<token>` daemon, and the pidfiles that name what it started. */
function subjects() {
  const sleep = sleepPath();
  const pids = (pidfile) => [readPid(pidfile)];
  return [
    { subject: 'daemonize', tool: 'daemonize', path: DAEMONIZE, goal: goals.start, pids, command: 'bin/daemonize.cjs --pidfile P -- sleep 1000.N',
      args: (pidfile, token) => ['--pidfile', pidfile, '--', 'sleep', `1000.${token}`] },
    // The CLI's own cost over Node's start, where Node's start parses no certificates on either side.
    ...(process.env.NODE_EXTRA_CA_CERTS === undefined ? [] : [{ subject: 'daemonize, no NODE_EXTRA_CA_CERTS', tool: 'daemonize', path: DAEMONIZE,
      pids, env: withoutExtraCaCerts(), qualifier: 'without NODE_EXTRA_CA_CERTS', command: 'bin/daemonize.cjs --pidfile P -- sleep 1000.N, both sides without NODE_EXTRA_CA_CERTS',
      args: (pidfile, token) => ['--pidfile', pidfile, '--', 'sleep', `1000.${token}`],
      note: 'daemonize, no NODE_EXTRA_CA_CERTS: the bench\'s environment without the variable, for daemonize and node -e 0 alike: '
        + 'what the CLI itself adds to a Node start on a machine that does not set it' }]),
    { subject: 'daemon (libslack)', tool: 'libslack', path: commandPath('daemon'), command: 'daemon --pidfile=P -- sleep 1000.N',
      args: (pidfile, token) => [`--pidfile=${pidfile}`, '--', 'sleep', `1000.${token}`],
      pids: (pidfile) => [readPid(pidfile), readPid(pidfile.replace(/\.pid$/, '.clientpid'))],
      note: 'daemon (libslack): its --pidfile holds its supervisor\'s pid (the client\'s goes to <name>.clientpid), written after '
        + 'the launcher has exited and removed when the daemon stops; so its launch time excludes readiness' },
    // bmc's daemonize wants an absolute program path; the daemon writes its pidfile after the launcher exited.
    { subject: 'daemonize (bmc)', tool: 'bmc', path: bmcDaemonizePath(), pids, command: `daemonize -p P -- ${sleep} 1000.N`,
      args: (pidfile, token) => ['-p', pidfile, '--', sleep, `1000.${token}`] },
    { subject: 'start-stop-daemon', tool: 'ssd', path: commandPath('start-stop-daemon'), pids,
      command: `start-stop-daemon --start --background --make-pidfile --pidfile P --exec ${sleep} -- 1000.N`,
      args: (pidfile, token) => ['--start', '--background', '--make-pidfile', '--pidfile', pidfile, '--exec', sleep, '--', `1000.${token}`] },
  ];
}

/** True once `pid` is a live `sleep` carrying `token`: it has exec'd our program (a launcher's forked child,
 *  not yet exec'd, has the token in its command line too, but not that name). */
const runsToken = (pid, token) => pid != null && (procfs.stat(pid) || {}).comm === 'sleep' && procfs.hasToken(pid, token);

/** One launch: its wall time until the launcher exited. Records whether the pidfiles named the exec'd program
 *  at exit, and when they first did (polled each ms). Kills what it started and checks it is gone. */
function launchOnce(spec, dir, stats, measured) {
  const token = newToken();
  const pidfile = path.join(dir, `${token}.pid`);
  const t0 = nowMs();
  const r = timedSpawn(spec.path, spec.args(pidfile, token), { stderrFile: path.join(dir, `${token}.err`), env: spec.env });
  const readyAtExit = runsToken(spec.pids(pidfile).at(-1), token);
  try {
    checkExit(spec.subject, r);
    const ready = readyAtExit ? r.ms : waitFor(() => {
      const pids = spec.pids(pidfile);
      return pids.every((p) => p !== null) && runsToken(pids.at(-1), token) && nowMs() - t0;
    }, 3000);
    if (!ready) throw new Error(`${spec.subject}: exited 0 but no pidfile named a daemon running sleep 1000.${token} within 3 s`);
    if (measured) {
      stats.readyAtExit += readyAtExit ? 1 : 0;
      stats.readyMs.push(ready);
    }
  } finally {
    endRun(dir, token, spec.pids(pidfile));
  }
  return r.ms;
}

module.exports = {
  id: 'launch',
  title: 'Launcher start-up',
  async run(ctx) {
    const node = nodePath(); // as the shebang of bin/daemonize.cjs finds it, so both sides start the same binary
    const rows = [];
    for (const spec of subjects()) {
      const row = nodeRow(node, { measure: 'launch: spawn -> launcher exit 0', subject: spec.subject, compare: { line: 'launch', tool: spec.tool, qualifier: spec.qualifier },
        command: spec.command, goal: spec.goal || null, notes: spec.note ? [spec.note] : [] });
      rows.push(row);
      if (!spec.path) {
        Object.assign(row, { status: 'not installed', notes: [] });
        continue;
      }
      const pairs = ctx.quick ? goals.pairs.quick : spec.goal ? goals.pairs.judged : goals.pairs.other;
      const dir = makeTmpDir('daemonize-bench-launch-');
      const stats = { readyAtExit: 0, readyMs: [] };
      ctx.log(`launch: ${spec.subject} vs node -e 0, ${pairs} pairs`);
      await measureInto(row, async () => {
        const result = await runPairs({ pairs, warmup: ctx.quick ? 1 : 2, baseline: () => nodeBaselineOnce(node, spec.env),
          subject: (i, warm) => launchOnce(spec, dir, stats, !warm) });
        const readyMedian = median(stats.readyMs);
        row.notes.push(`${spec.subject}: pidfile named the exec'd program when the launcher exited in ${stats.readyAtExit}/${pairs} runs; `
          + `median time from spawn until it did: ${fmtMs(readyMedian)}`);
        return { ...result, pidfileReadyAtExit: { ready: stats.readyAtExit, of: pairs }, readyMedian, readySamples: stats.readyMs };
      });
      removeDir(dir);
    }
    return rows;
  },
};
