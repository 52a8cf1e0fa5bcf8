'use strict';
// Section: what the daemon each tool makes actually gets, observed once per tool through /proc (no timings).
// Every start comes from a caller that ignores SIGHUP and SIGUSR1 and holds two extra descriptors (a low and
// a high one), the way a shell `trap` or a careless parent leaves them:
//   bash -c 'trap "" HUP USR1; exec 7<FILE 200<FILE; exec TOOL ...'
// (A low descriptor alone can mislead: a Node tool's own start-up reuses low numbers, closing them by accident.)
// The rows are observations (status 'observed', a short `value`); run.js shows them as one matrix. pm2's
// own observations come from bench/pm2.js, with the same measures (lib/observe.js).
const fs = require('node:fs');
const path = require('node:path');
const { OBS, STOP_GRACE_MS, caller, lockOn, observeDaemon, stubbornProgram, said, exitText } = require('./lib/observe');
const lib = require('./lib');

/** The tools this section drives, each as argument builders. `program` is an absolute argv. */
function tools(dir) {
  const libslack = lib.commandPath('daemon');
  const ssd = lib.commandPath('start-stop-daemon');
  return [
    {
      tool: 'daemonize',
      subject: 'daemonize',
      path: lib.DAEMONIZE,
      pidfile: (name) => path.join(dir, `${name}.pid`),
      start: (name, program, output) => ['--pidfile', path.join(dir, `${name}.pid`), ...(output ? ['--stdout', output] : []), '--', ...program],
      programPid: (name) => lib.readPid(path.join(dir, `${name}.pid`)),
      stop: (name) => ['--pidfile', path.join(dir, `${name}.pid`), '--stop', '--stop-timeout', '1'],
      stopCommand: 'daemonize --pidfile P --stop --stop-timeout 1',
      foreground: (program) => ['-f', '--', ...program],
    },
    {
      tool: 'libslack',
      subject: 'daemon (libslack)',
      path: libslack,
      pidfile: (name) => path.join(dir, `${name}.pid`),
      start: (name, program, output) => [`--pidfiles=${dir}`, `--name=${name}`, ...(output ? [`--stdout=${output}`] : []), '--', ...program],
      // Its pidfile names its own process; the program's pid goes to NAME.clientpid.
      programPid: (name) => lib.readPid(path.join(dir, `${name}.clientpid`)),
      stop: (name) => [`--pidfiles=${dir}`, `--name=${name}`, '--stop'],
      stopCommand: 'daemon --pidfiles=D --name=N --stop',
      foreground: (program) => ['-f', '--', ...program],
    },
    {
      tool: 'bmc',
      subject: 'daemonize (bmc)',
      path: lib.bmcDaemonizePath(),
      pidfile: (name) => path.join(dir, `${name}.pid`),
      // -l on the pidfile is its documented single-instance lock.
      start: (name, program, output) => ['-p', path.join(dir, `${name}.pid`), '-l', path.join(dir, `${name}.pid`),
        ...(output ? ['-a', '-o', output] : []), '--', ...program],
      programPid: (name) => lib.readPid(path.join(dir, `${name}.pid`)),
      stop: null,
      noStop: 'n/a: no stop command',
      foreground: null,
      noForeground: 'n/a: no foreground mode',
    },
    {
      tool: 'ssd',
      subject: 'start-stop-daemon',
      path: ssd,
      pidfile: (name) => path.join(dir, `${name}.pid`),
      start: (name, program, output) => ['--start', '--background', '--make-pidfile', '--pidfile', path.join(dir, `${name}.pid`),
        ...(output ? ['--output', output] : []), '--exec', program[0], '--', ...program.slice(1)],
      programPid: (name) => lib.readPid(path.join(dir, `${name}.pid`)),
      // Without --retry it sends the signal and returns; --retry is how it is asked to wait and escalate.
      stop: (name) => ['--stop', '--pidfile', path.join(dir, `${name}.pid`), '--retry', 'TERM/1/KILL/5'],
      stopCommand: 'start-stop-daemon --stop --pidfile P --retry TERM/1/KILL/5',
      // Without --background it execs the program in place. The pidfile (never made) keeps it from taking
      // any other process running the same binary (npm's `sh`, say) for this one "already running".
      foreground: (program) => ['--start', '--pidfile', path.join(dir, 'foreground.pid'), '--exec', program[0], '--', ...program.slice(1)],
    },
  ];
}

/**
 * Starts `program` with `spec` (from the marked caller when `marker` is given); returns { r, pid } once a
 * process named `comm` with `token` in its argv runs at the pid the tool's pidfile names (pid null if none).
 */
function startVia(spec, dir, name, program, { token, comm = path.basename(program[0]), marker, output } = {}) {
  const args = spec.start(name, program, output);
  const r = marker
    ? lib.timedSpawn(...caller(marker, [spec.path, ...args]), { stderrFile: path.join(dir, `${name}.err`) })
    : lib.timedSpawn(spec.path, args, { stderrFile: path.join(dir, `${name}.err`) });
  const pid = r.status === 0 && token
    ? lib.waitFor(() => {
      const p = spec.programPid(name);
      return p !== null && lib.procName(p) === comm && lib.pidsWithTokenIn([p], token) ? p : null;
    }, 3000)
    : null;
  if (pid !== null) lib.trackPid(pid);
  return { r, pid };
}

/** All observations of one tool. Kills everything it started (by token) before returning. */
async function observeTool(spec, dir, marker, sleep, ctx) {
  const base = { subject: spec.subject, compare: { tool: spec.tool }, unit: null };
  const rows = [];
  const row = (measure, value, detail) => rows.push({ ...base, measure, status: 'observed', value, detail });
  const tokens = [];
  const token = () => {
    const t = lib.uniqueToken();
    lib.trackToken(t);
    tokens.push(t);
    return t;
  };
  try {
    // 1. One daemon with a log file: what it got, and whether its pidfile is locked.
    const first = token();
    const output = path.join(dir, `${first}.out`);
    const name = `b${first}`;
    const { r, pid } = startVia(spec, dir, name, [sleep, `1000.${first}`], { token: first, marker, output });
    if (pid === null) throw new Error(`${spec.subject} did not start a daemon: ${exitText(r)}${said(r) ? `: ${said(r, dir)}` : ''}`);
    rows.push(...observeDaemon(pid, { marker, output, pidfile: spec.pidfile(name), base }));
    const lock = lockOn(spec.pidfile(name));
    row(OBS.lock, lock ? `yes (${lock === 'FLOCK' ? 'flock' : lock === 'POSIX' ? 'fcntl' : lock})` : 'no');

    // 2. A second start on the same pidfile, while the first runs.
    await lib.tick();
    const second = token();
    const again = startVia(spec, dir, name, [sleep, `1000.${second}`], { token: second });
    const twin = again.pid !== null || lib.waitFor(() => lib.pidsWithToken(second).length > 0, 500) !== null;
    const firstAlive = !lib.isGone(pid);
    row(OBS.second, twin ? `second instance started, ${exitText(again.r)}` : `refused, ${exitText(again.r)}`,
      `first daemon ${firstAlive ? 'still running' : 'gone'} afterwards${said(again.r) ? `; said: ${said(again.r, dir)}` : ''}`);
    lib.reap({ token: first });
    lib.reap({ token: second });

    // 3. A program that does not exist.
    await lib.tick();
    const missing = token();
    const gone = startVia(spec, dir, `m${missing}`, [`/nonexistent/daemonize-bench-${missing}`]);
    const leftPidfile = fs.existsSync(spec.pidfile(`m${missing}`));
    row(OBS.missing, exitText(gone.r), `${leftPidfile ? 'a pidfile was left behind' : 'no pidfile left'}`
      + `${said(gone.r) ? `; said: ${said(gone.r, dir)}` : ''}`);

    // 4. Stop a program that ignores SIGTERM and SIGINT (pm2's first signal); its shell ignores them, then execs
    //    sleep, which inherits that.
    await lib.tick();
    if (spec.stop) {
      const stubborn = token();
      const stopName = `s${stubborn}`;
      const started = startVia(spec, dir, stopName, stubbornProgram(sleep, stubborn),
        { token: stubborn, comm: path.basename(sleep) });
      if (started.pid === null) {
        row(OBS.stop, `could not start: ${exitText(started.r)}`);
      } else {
        const s = lib.timedSpawn(spec.path, spec.stop(stopName), { stderrFile: path.join(dir, `${stopName}.stop.err`) });
        const goneAtReturn = lib.isGone(started.pid);
        const t0 = lib.nowMs();
        const goneLater = goneAtReturn || lib.waitFor(() => lib.isGone(started.pid), STOP_GRACE_MS, 5) !== null;
        const after = lib.nowMs() - t0;
        let value;
        if (goneAtReturn) value = `waits: gone when it returns (${exitText(s)} after ${lib.fmtMs(s.ms)})`;
        else if (goneLater) value = `returns first (${exitText(s)} after ${lib.fmtMs(s.ms)}); gone ${lib.fmtMs(after)} later`;
        else value = `returns (${exitText(s)} after ${lib.fmtMs(s.ms)}); program still running ${STOP_GRACE_MS / 1000} s later`;
        row(OBS.stop, value, spec.stopCommand);
      }
      lib.reap({ token: stubborn });
    } else {
      row(OBS.stop, spec.noStop);
    }

    // 5. Foreground: does the tool's exit status carry the program's?
    await lib.tick();
    if (spec.foreground) {
      const fg = lib.timedSpawn(spec.path, spec.foreground(['/bin/sh', '-c', 'exit 7']), { stderrFile: path.join(dir, `${first}.fg.err`) });
      row(OBS.foreground, fg.status === 7 ? 'yes (exit 7)' : `no (${exitText(fg)})`);
    } else {
      row(OBS.foreground, spec.noForeground);
    }
  } catch (error) {
    rows.push({ ...base, measure: 'observations', status: 'error', reason: error.message });
  } finally {
    for (const t of tokens) lib.reap({ token: t });
  }
  ctx.log(`behaviour: ${spec.subject}: ${rows.length} observations`);
  return rows;
}

module.exports = {
  id: 'behaviour',
  title: 'Observed behaviour',
  async run(ctx) {
    const dir = lib.makeTmpDir('daemonize-bench-behaviour-');
    const marker = path.join(dir, 'marker');
    fs.writeFileSync(marker, 'the caller\'s extra descriptors\n');
    const sleep = fs.existsSync('/bin/sleep') ? '/bin/sleep' : lib.commandPath('sleep');
    const rows = [];
    try {
      for (const spec of tools(dir)) {
        if (!spec.path) {
          rows.push({ measure: 'observations', subject: spec.subject, compare: { tool: spec.tool }, status: 'not installed' });
          continue;
        }
        rows.push(...await observeTool(spec, dir, marker, sleep, ctx));
      }
    } finally {
      lib.removeDir(dir);
    }
    return rows;
  },
};
