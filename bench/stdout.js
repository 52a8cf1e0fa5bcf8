'use strict';
// Section: stdout throughput. A program (head -c 256MiB /dev/zero) writes to its stdout, which the launcher
// has pointed at a file, against a shell redirect of the same command. The daemon is detached, so its side is
// timed from launch until the file holds every byte and the writer is gone. daemonize, bmc daemonize and
// start-stop-daemon --output give the program the file itself; libslack's daemon copies it from a pipe.
const fs = require('node:fs');
const path = require('node:path');
const goals = require('./goals');
const procfs = require('../tools/procfs');
const { nowMs, waitFor, summarize, runPairs, measureInto } = require('./lib/measure');
const { DAEMONIZE, commandPath, timedSpawn, checkExit, timedOk, readPid } = require('./lib/commands');
const { newToken, makeTmpDir, removeDir, endRun } = require('./lib/cleanup');
const { bmcDaemonizePath } = require('./lib/machine');

const BYTES = 256 * 1024 * 1024;
const MEASURE = 'stdout 256 MiB: launch -> all written';

function fileSize(file) {
  try {
    return fs.statSync(file).size;
  } catch {
    return -1;
  }
}

/** The baseline: sh -c 'head -c N /dev/zero > FILE', timed until sh exits. */
function shellOnce(dir) {
  const token = newToken();
  const file = path.join(dir, `${token}.out`);
  try {
    const ms = timedOk('sh redirect', 'sh', ['-c', `head -c ${BYTES} /dev/zero > "$1"`, 'sh', file], { stderrFile: path.join(dir, `${token}.err`) });
    if (fileSize(file) !== BYTES) throw new Error(`sh redirect: wrote ${fileSize(file)} bytes, expected ${BYTES}`);
    return ms;
  } finally {
    endRun(dir, token);
  }
}

/** The writers: `args(pidfile, file, bytes)` starts a daemon `head -c N /dev/zero` whose stdout is FILE. */
function writers() {
  const head = commandPath('head') || '/usr/bin/head';
  const headArgs = (bytes) => ['-c', String(bytes), '/dev/zero'];
  return [
    { subject: 'daemonize', tool: 'daemonize', path: DAEMONIZE, goal: goals.stdout,
      command: `bin/daemonize.cjs --pidfile P --stdout FILE -- head -c ${BYTES} /dev/zero`,
      args: (pidfile, file, bytes) => ['--pidfile', pidfile, '--stdout', file, '--', 'head', ...headArgs(bytes)] },
    { subject: 'daemonize (bmc)', tool: 'bmc', path: bmcDaemonizePath(), command: `daemonize -p P -a -o FILE -- ${head} -c ${BYTES} /dev/zero`,
      args: (pidfile, file, bytes) => ['-p', pidfile, '-a', '-o', file, '--', head, ...headArgs(bytes)] },
    { subject: 'start-stop-daemon', tool: 'ssd', path: commandPath('start-stop-daemon'),
      command: `start-stop-daemon --start --background --make-pidfile --pidfile P --output FILE --exec ${head} -- -c ${BYTES} /dev/zero`,
      args: (pidfile, file, bytes) => ['--start', '--background', '--make-pidfile', '--pidfile', pidfile, '--output', file,
        '--exec', head, '--', ...headArgs(bytes)] },
    // Its pidfile names its supervisor, which copies the client's output from a pipe into the file and removes
    // the pidfile when it exits; the client's pid goes to NAME.clientpid.
    { subject: 'daemon (libslack)', tool: 'libslack', path: commandPath('daemon'), libslack: true,
      command: `daemon --pidfile=P --stdout=FILE -- head -c ${BYTES} /dev/zero`,
      args: (pidfile, file, bytes) => [`--pidfile=${pidfile}`, `--stdout=${file}`, '--', 'head', ...headArgs(bytes)],
      note: 'daemon (libslack): its supervisor copies the client\'s output from a pipe into the file' },
  ];
}

/** One start; returns { total, afterLaunch } in ms, until every byte is in the file and the writer (libslack:
 *  the supervisor named by the pidfile, or the pidfile gone if never seen) is gone. */
function writeOnce(spec, dir, bytes = BYTES, timeout = 60000) {
  const token = newToken();
  const file = path.join(dir, `${token}.out`);
  const pidfile = path.join(dir, `${token}.pid`);
  const seen = [];
  try {
    const t0 = nowMs();
    const r = timedSpawn(spec.path, spec.args(pidfile, file, bytes), { stderrFile: path.join(dir, `${token}.err`) });
    const launched = nowMs();
    checkExit(spec.subject, r);
    const done = waitFor(() => {
      for (const pid of [readPid(pidfile), spec.libslack && readPid(path.join(dir, `${token}.clientpid`))]) {
        if (pid && !seen.includes(pid)) seen.push(pid);
      }
      const finished = seen.length ? !procfs.isAlive(seen[0]) : spec.libslack && !fs.existsSync(pidfile);
      return fileSize(file) >= bytes && finished && nowMs();
    }, timeout, 1);
    if (!done) {
      throw new Error(`${spec.subject}: ${seen.length ? 'writer not done' : 'no pid in its pidfile'} after ${timeout} ms `
        + `(${fileSize(file) < 0 ? 'no file' : `${fileSize(file)} bytes written`})`);
    }
    if (fileSize(file) !== bytes) throw new Error(`${spec.subject}: wrote ${fileSize(file)} bytes, expected ${bytes}`);
    return { total: done - t0, afterLaunch: done - launched };
  } finally {
    endRun(dir, token, seen);
  }
}

/** Interleaved pairs of a writer against the shell redirect: two rows, end to end and from the launcher's exit. */
async function measureWriter(ctx, spec, dir, pairs) {
  const after = [];
  const result = await runPairs({
    pairs,
    baseline: () => shellOnce(dir),
    subject: (i, warm) => {
      const t = writeOnce(spec, dir);
      if (!warm) after.push(t.afterLaunch);
      return t.total;
    },
    onPair: (i, s, b) => ctx.log(`  pair ${i + 1}/${pairs}: ${spec.subject} ${s.toFixed(0)} ms, sh ${b.toFixed(0)} ms`),
  });
  const mibps = (ms) => (BYTES / 2 ** 20 / (ms / 1000)).toFixed(0);
  const base = { subject: spec.subject, command: spec.command, baseline: 'sh redirect', unit: 'ms',
    baselineCommand: `sh -c 'head -c ${BYTES} /dev/zero > FILE'` };
  return [{ ...base, measure: MEASURE, compare: { line: 'stdout', tool: spec.tool }, goal: spec.goal || null, ...result,
    notes: [`${spec.subject}: ${mibps(result.median)} MiB/s end to end; sh redirect ${mibps(result.baselineMedian)} MiB/s`,
      ...(spec.note ? [spec.note] : [])] },
  { ...base, measure: 'stdout 256 MiB: launcher exit -> all written', goal: null, status: 'ok', ...summarize(after, result.samples.baseline),
    notes: ['launcher exit -> all written: the same runs, timed from the launcher\'s exit (its start-up excluded), against the whole sh redirect'] }];
}

module.exports = {
  id: 'stdout',
  title: 'stdout throughput',
  async run(ctx) {
    const pairs = ctx.quick ? 3 : 9;
    const rows = [];
    const dir = makeTmpDir('daemonize-bench-stdout-');
    try {
      for (const spec of writers()) {
        const row = { measure: MEASURE, subject: spec.subject, compare: { line: 'stdout', tool: spec.tool }, baseline: 'sh redirect',
          goal: spec.goal || null };
        if (!spec.path) {
          rows.push({ ...row, status: 'not installed' });
          continue;
        }
        if (spec.libslack) {
          try {
            writeOnce(spec, dir, 4096, 5000);
          } catch (error) {
            const reason = `--stdout=FILE did not deliver 4096 bytes to the file (${error.message}); some versions take only a syslog spec`;
            rows.push({ ...row, status: 'n/a', reason });
            continue;
          }
        }
        ctx.log(`stdout: ${spec.subject} vs sh redirect, ${pairs} pairs of 256 MiB`);
        const measured = await measureInto({}, async () => ({ rows: await measureWriter(ctx, spec, dir, pairs) }));
        rows.push(...(measured.rows || [Object.assign(row, measured)]));
      }
    } finally {
      removeDir(dir);
    }
    return rows;
  },
};
