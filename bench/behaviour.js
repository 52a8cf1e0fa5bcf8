'use strict';
// Section: what the daemon each tool makes actually gets, observed once per tool through /proc (no timings; see
// lib/observe.js). Every start comes from a caller that ignores SIGHUP and SIGUSR1 and holds two extra descriptors,
// the way a shell `trap` or a careless parent leaves them. The rows are observations (status 'observed', a short
// `value`), shown as one matrix; pm2's come from pm2.js.
const path = require('node:path');
const { DAEMONIZE, commandPath, sleepPath, readPid } = require('./lib/commands');
const { makeTmpDir, removeDir } = require('./lib/cleanup');
const { bmcDaemonizePath } = require('./lib/machine');
const { observeTool } = require('./lib/observe');

/** The tools, as argument builders (see observeTool); `program` is an absolute argv, NAME.pid the pidfile. */
function tools(dir) {
  const file = (name, ext = 'pid') => path.join(dir, `${name}.${ext}`);
  const common = (bin) => ({ path: bin, argv: (args) => [bin, ...args], pidfile: file, programPid: (name) => readPid(file(name)),
    output: (name) => file(name, 'out'), noForeground: ['n/a: no foreground mode'] });
  const out = (output, flag) => (output ? [flag, output] : []);
  return [
    { ...common(DAEMONIZE), tool: 'daemonize', subject: 'daemonize', stopCommand: 'daemonize --pidfile P --stop --stop-timeout 1',
      start: (name, program, output) => ['--pidfile', file(name), ...out(output, '--stdout'), '--', ...program],
      stop: (name) => ['--pidfile', file(name), '--stop', '--stop-timeout', '1'],
      foreground: (program) => ['-f', '--', ...program] },
    // Its pidfile names its own process; the program's pid goes to NAME.clientpid.
    { ...common(commandPath('daemon')), tool: 'libslack', subject: 'daemon (libslack)', stopCommand: 'daemon --pidfiles=D --name=N --stop',
      programPid: (name) => readPid(file(name, 'clientpid')),
      start: (name, program, output) => [`--pidfiles=${dir}`, `--name=${name}`, ...(output ? [`--stdout=${output}`] : []), '--', ...program],
      stop: (name) => [`--pidfiles=${dir}`, `--name=${name}`, '--stop'],
      foreground: (program) => ['-f', '--', ...program] },
    // -l on the pidfile is its documented single-instance lock. It has no stop command and no foreground mode.
    { ...common(bmcDaemonizePath()), tool: 'bmc', subject: 'daemonize (bmc)',
      start: (name, program, output) => ['-p', file(name), '-l', file(name), ...(output ? ['-a', '-o', output] : []), '--', ...program] },
    // Without --retry its --stop sends the signal and returns. Without --background it execs the program in place;
    // the pidfile (never made) keeps it from taking another process running the same binary for this one.
    { ...common(commandPath('start-stop-daemon')), tool: 'ssd', subject: 'start-stop-daemon',
      stopCommand: 'start-stop-daemon --stop --pidfile P --retry TERM/1/KILL/5',
      start: (name, program, output) => ['--start', '--background', '--make-pidfile', '--pidfile', file(name), ...out(output, '--output'),
        '--exec', program[0], '--', ...program.slice(1)],
      stop: (name) => ['--stop', '--pidfile', file(name), '--retry', 'TERM/1/KILL/5'],
      foreground: (program) => ['--start', '--pidfile', file('foreground'), '--exec', program[0], '--', ...program.slice(1)] },
  ];
}

module.exports = {
  id: 'behaviour',
  title: 'Observed behaviour',
  async run(ctx) {
    const dir = makeTmpDir('daemonize-bench-behaviour-');
    const rows = [];
    try {
      for (const spec of tools(dir)) {
        if (!spec.path) rows.push({ measure: 'observations', subject: spec.subject, compare: { tool: spec.tool }, status: 'not installed' });
        else rows.push(...await observeTool(spec, dir, sleepPath()));
        ctx.log(`behaviour: ${spec.subject}: done`);
      }
    } finally {
      removeDir(dir);
    }
    return rows;
  },
};
