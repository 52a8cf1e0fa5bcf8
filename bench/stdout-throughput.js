'use strict';
// Section 2: stdout throughput. A program (head -c 256MiB /dev/zero) writes to its stdout, which the
// launcher has pointed at a file; against a shell redirect of the same command. The daemon is detached,
// so its side is timed from launch until the file holds every byte and the writer has exited.
// daemonize, bmc daemonize and start-stop-daemon --output give the program the file itself; libslack's
// daemon copies the program's output from a pipe.
const fs = require('node:fs');
const path = require('node:path');

const goals = require('./goals');
const lib = require('./lib');

const BYTES = 256 * lib.MiB;
const DONE_TIMEOUT_MS = 60000;
const POLL_MS = 1;
const MEASURE = 'stdout 256 MiB: launch -> all written';

function fileSize(file) {
  try {
    return fs.statSync(file).size;
  } catch {
    return -1;
  }
}

function removeFiles(dir, prefix) {
  for (const name of fs.readdirSync(dir)) if (name.startsWith(prefix)) fs.rmSync(path.join(dir, name), { force: true });
}

/** The baseline: sh -c 'head -c N /dev/zero > FILE', timed until sh exits. */
function shellOnce(dir, bytes = BYTES) {
  const token = lib.uniqueToken();
  const file = path.join(dir, `${token}.out`);
  try {
    const r = lib.timedSpawn('sh', ['-c', `head -c ${bytes} /dev/zero > "$1"`, 'sh', file], { stderrFile: path.join(dir, `${token}.err`) });
    lib.checkExit('sh redirect', r);
    const size = fileSize(file);
    if (size !== bytes) throw new Error(`sh redirect: wrote ${size} bytes, expected ${bytes}`);
    return r.ms;
  } finally {
    removeFiles(dir, token);
  }
}

/**
 * The launchers that hand the program the file itself. `args(pidfile, file, bytes)` makes one start a daemon
 * `head -c N /dev/zero` whose stdout is FILE and whose pid the pidfile names (written by the launcher before
 * it exits for daemonize, by the daemon soon after for the others).
 */
function directWriters() {
  const head = lib.commandPath('head') || '/usr/bin/head';
  const bmc = lib.bmcDaemonizePath();
  const ssd = lib.commandPath('start-stop-daemon');
  const headArgs = (bytes) => ['-c', String(bytes), '/dev/zero'];
  return [
    {
      subject: 'daemonize',
      tool: 'daemonize',
      path: lib.DAEMONIZE,
      command: `bin/daemonize --pidfile P --stdout FILE -- head -c ${BYTES} /dev/zero`,
      args: (pidfile, file, bytes) => ['--pidfile', pidfile, '--stdout', file, '--', 'head', ...headArgs(bytes)],
      goal: goals.stdout,
    },
    {
      subject: 'daemonize (bmc)',
      tool: 'bmc',
      path: bmc,
      command: `daemonize -p P -a -o FILE -- ${head} -c ${BYTES} /dev/zero`,
      args: (pidfile, file, bytes) => ['-p', pidfile, '-a', '-o', file, '--', head, ...headArgs(bytes)],
      goal: null,
    },
    {
      subject: 'start-stop-daemon',
      tool: 'ssd',
      path: ssd,
      command: `start-stop-daemon --start --background --make-pidfile --pidfile P --output FILE --exec ${head} -- -c ${BYTES} /dev/zero`,
      args: (pidfile, file, bytes) => ['--start', '--background', '--make-pidfile', '--pidfile', pidfile, '--output', file,
        '--exec', head, '--', ...headArgs(bytes)],
      goal: null,
    },
  ];
}

/** One start of a direct writer; returns { total, afterLaunch } in ms, until every byte is in the file and the
 *  writer is gone. */
function directOnce(spec, dir, bytes = BYTES) {
  const token = lib.uniqueToken();
  const file = path.join(dir, `${token}.out`);
  const pidfile = path.join(dir, `${token}.pid`);
  let pid = null;
  try {
    const t0 = lib.nowMs();
    const r = lib.timedSpawn(spec.path, spec.args(pidfile, file, bytes), { stderrFile: path.join(dir, `${token}.err`) });
    const launched = lib.nowMs();
    lib.checkExit(spec.subject, r);
    const done = lib.waitFor(() => {
      if (pid === null) {
        pid = lib.readPid(pidfile);
        lib.trackPid(pid);
      }
      return pid !== null && fileSize(file) >= bytes && lib.isGone(pid) && lib.nowMs();
    }, DONE_TIMEOUT_MS, POLL_MS);
    if (!done) {
      throw new Error(`${spec.subject}: ${pid === null ? 'no pid in its pidfile' : 'writer not done'} after ${DONE_TIMEOUT_MS} ms `
        + `(${fileSize(file) < 0 ? 'no file' : `${fileSize(file)} bytes written`})`);
    }
    const size = fileSize(file);
    if (size !== bytes) throw new Error(`${spec.subject}: wrote ${size} bytes, expected ${bytes}`);
    return { total: done - t0, afterLaunch: done - launched };
  } finally {
    if (pid !== null) lib.reap({ pids: [pid] });
    removeFiles(dir, token);
  }
}

/**
 * libslack: daemon --pidfile=P --stdout=FILE -- head -c N /dev/zero. Its supervisor copies the client's
 * output from a pipe into the file and removes its pidfile when it exits, so "done" is: every byte is
 * in the file and the supervisor (named by the pidfile, whose path carries our token) has gone.
 */
function libslackOnce(daemon, dir, bytes = BYTES, timeout = DONE_TIMEOUT_MS) {
  const token = lib.uniqueToken();
  lib.trackToken(token);
  const file = path.join(dir, `${token}.out`);
  const pidfile = path.join(dir, `${token}.pid`);
  const clientpidfile = path.join(dir, `${token}.clientpid`);
  const seen = new Set();
  try {
    const t0 = lib.nowMs();
    const r = lib.timedSpawn(daemon, [`--pidfile=${pidfile}`, `--stdout=${file}`, '--', 'head', '-c', String(bytes), '/dev/zero'],
      { stderrFile: path.join(dir, `${token}.err`) });
    const launched = lib.nowMs();
    lib.checkExit('daemon', r);
    let supervisor = null;
    const done = lib.waitFor(() => {
      if (supervisor === null) {
        supervisor = lib.readPid(pidfile);
        if (supervisor !== null) {
          seen.add(supervisor);
          lib.trackPid(supervisor);
        }
      }
      const client = lib.readPid(clientpidfile);
      if (client !== null && !seen.has(client)) {
        seen.add(client);
        lib.trackPid(client);
      }
      if (fileSize(file) < bytes) return false;
      // The pidfile is written before the client starts; with every byte out and the pidfile gone
      // (never seen, or seen and since removed), the supervisor has finished.
      const finished = supervisor !== null ? lib.isGone(supervisor) : !fs.existsSync(pidfile);
      return finished && lib.nowMs();
    }, timeout, POLL_MS);
    if (!done) throw new Error(`daemon: not done after ${timeout} ms (${fileSize(file) < 0 ? 'no file' : `${fileSize(file)} bytes written`})`);
    const size = fileSize(file);
    if (size !== bytes) throw new Error(`daemon: wrote ${size} bytes, expected ${bytes}`);
    return { total: done - t0, afterLaunch: done - launched };
  } finally {
    lib.reap({ pids: [...seen], token });
    removeFiles(dir, token);
  }
}

/** Can this libslack daemon append a client's stdout to a file? Returns null if so, else the reason. */
function libslackFileProbe(daemon, dir) {
  const bytes = 4096;
  try {
    libslackOnce(daemon, dir, bytes, 5000);
    return null;
  } catch (error) {
    return `--stdout=FILE did not deliver ${bytes} bytes to the file (${error.message}); some versions take only a syslog spec`;
  }
}

/** Interleaved pairs of a detached writer against the shell redirect: two rows, end to end and after launch. */
async function measureDetached({ ctx, subject, tool, command, once, goal, dir, pairs, warmup }) {
  const after = [];
  const result = await lib.runPairsAsync({
    pairs,
    warmup,
    baseline: () => shellOnce(dir),
    subject: (i, isWarmup) => {
      const t = once();
      if (!isWarmup) after.push(t.afterLaunch);
      return t.total;
    },
    onPair: (i, s, b) => ctx.log(`  pair ${i + 1}/${pairs}: ${subject} ${s.toFixed(0)} ms, sh ${b.toFixed(0)} ms`),
  });
  const mibps = (ms) => (BYTES / lib.MiB) / (ms / 1000);
  const base = {
    subject,
    command,
    baseline: 'sh redirect',
    baselineCommand: `sh -c 'head -c ${BYTES} /dev/zero > FILE'`,
    unit: 'ms',
    status: 'ok',
  };
  const endToEnd = {
    ...base,
    measure: MEASURE,
    compare: { line: 'stdout', tool },
    goal,
    ...result,
    notes: [`${subject}: ${mibps(result.median).toFixed(0)} MiB/s end to end; sh redirect ${mibps(result.baselineMedian).toFixed(0)} MiB/s`],
  };
  const afterLaunch = {
    ...base,
    measure: 'stdout 256 MiB: launcher exit -> all written',
    goal: null,
    ...lib.summarize(after, result.samples.baseline),
    notes: ['launcher exit -> all written: the same runs, timed from the launcher\'s exit (its start-up excluded), against the whole sh redirect'],
  };
  return [endToEnd, afterLaunch];
}

module.exports = {
  id: 'stdout',
  title: 'stdout throughput',
  async run(ctx) {
    const pairs = ctx.quick ? 3 : 9;
    const warmup = 1;
    const rows = [];
    const dir = lib.makeTmpDir('daemonize-bench-stdout-');
    try {
      for (const spec of directWriters()) {
        const row = { measure: MEASURE, subject: spec.subject, compare: { line: 'stdout', tool: spec.tool }, baseline: 'sh redirect', goal: spec.goal };
        if (!spec.path) {
          rows.push({ ...row, status: 'not installed' });
          continue;
        }
        ctx.log(`stdout: ${spec.subject} vs sh redirect, ${pairs} pairs of 256 MiB`);
        try {
          rows.push(...await measureDetached({
            ctx,
            subject: spec.subject,
            tool: spec.tool,
            command: spec.command,
            once: () => directOnce(spec, dir),
            goal: spec.goal,
            dir,
            pairs,
            warmup,
          }));
        } catch (error) {
          rows.push({ ...row, status: 'error', reason: error.message });
        }
      }

      const daemon = lib.commandPath('daemon');
      const libslack = { measure: MEASURE, subject: 'daemon (libslack)', compare: { line: 'stdout', tool: 'libslack' }, baseline: 'sh redirect', goal: null };
      if (!daemon) {
        rows.push({ ...libslack, status: 'not installed' });
      } else {
        const reason = libslackFileProbe(daemon, dir);
        if (reason) {
          rows.push({ ...libslack, status: 'n/a', reason });
        } else {
          ctx.log(`stdout: daemon (libslack) --stdout=FILE vs sh redirect, ${pairs} pairs of 256 MiB`);
          try {
            rows.push(...await measureDetached({
              ctx,
              subject: 'daemon (libslack)',
              tool: 'libslack',
              command: `daemon --pidfile=P --stdout=FILE -- head -c ${BYTES} /dev/zero`,
              once: () => libslackOnce(daemon, dir),
              goal: null,
              dir,
              pairs,
              warmup,
            }));
            rows[rows.length - 2].notes.push('daemon (libslack): its supervisor copies the client\'s output from a pipe into the file');
          } catch (error) {
            rows.push({ ...libslack, status: 'error', reason: error.message });
          }
        }
      }
    } finally {
      lib.removeDir(dir);
    }
    return rows;
  },
};
