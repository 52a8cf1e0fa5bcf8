'use strict';
// The observations of ../behaviour.js, for a pm2 app (lib/observe.js).
const fs = require('node:fs');
const path = require('node:path');
const { appRuns, startArgs, newToken } = require('./tool');
const lib = require('../lib');
const { OBS, caller, lockOn, observeDaemon, exitText, said, stubbornProgram } = require('../lib/observe');

/** bench/behaviour.js's observations, for an app started by `pm2 start` (cold) from the same marked caller. */
async function behaviourRows(ctx, pm2, node, bin, sleep, dir, tokens) {
  const base = { subject: 'pm2', compare: { tool: 'pm2' }, unit: null };
  const rows = [];
  const row = (measure, value, detail) => rows.push({ ...base, measure, status: 'observed', value, detail });
  try {
    ctx.log('pm2: observations');
    if (pm2.god() !== null) pm2.kill();
    const marker = path.join(dir, 'marker');
    fs.writeFileSync(marker, 'the caller\'s extra descriptors\n');
    const token = newToken(tokens);
    const name = `obs${token}`;
    const r = lib.timedSpawn(...caller(marker, [node, bin, ...startArgs(sleep, name, token)]),
      { env: pm2.env, stderrFile: path.join(dir, 'obs.err') });
    lib.checkExit('pm2 start', r);
    const pid = lib.waitFor(() => appRuns(pm2, name, token), 3000);
    if (!pid) throw new Error('pm2 start: the app did not start');
    const log = path.join(pm2.home, 'logs', `${name}-out.log`);
    rows.push(...observeDaemon(pid, { marker, output: log, pidfile: pm2.pidfileOf(name), base }));
    const lock = pm2.pidfileOf(name) && lockOn(pm2.pidfileOf(name));
    row(OBS.lock, lock ? 'yes' : 'no', 'PM2_HOME/pids/NAME-ID.pid');

    const second = newToken(tokens);
    const again = pm2.run(startArgs(sleep, name, second));
    const twin = lib.waitFor(() => lib.pidsWithToken(second).length > 0, 500) !== null;
    row(OBS.second, twin ? `second instance started, ${exitText(again)}` : `refused, ${exitText(again)}`,
      `same --name; first app ${lib.isGone(pid) ? 'gone' : 'still running'} afterwards${said(again) ? `; said: ${said(again)}` : ''}`);

    const missing = newToken(tokens);
    const gone = pm2.run(['start', `/nonexistent/daemonize-bench-${missing}`, '--name', `m${missing}`]);
    row(OBS.missing, exitText(gone), said(gone) ? `said: ${said(gone)}` : undefined);

    const stubborn = newToken(tokens);
    const stubName = `stub${stubborn}`;
    const [shell, ...shellArgs] = stubbornProgram(sleep, stubborn);
    pm2.ok(['start', shell, '--name', stubName, '--', ...shellArgs]);
    const stub = lib.waitFor(() => appRuns(pm2, stubName, stubborn), 3000);
    if (!stub) {
      row(OBS.stop, 'could not start the program');
    } else {
      const s = pm2.run(['stop', stubName]);
      row(OBS.stop, lib.isGone(stub) ? `waits: gone when it returns (${exitText(s)} after ${lib.fmtMs(s.ms)})`
        : `returns (${exitText(s)} after ${lib.fmtMs(s.ms)}) before the program is gone`, 'pm2 stop N: SIGINT, then SIGKILL after kill_timeout (1600 ms by default)');
    }
    row(OBS.foreground, 'not measured', 'pm2-runtime is its foreground mode; not run here');
  } catch (error) {
    rows.push({ ...base, measure: 'observations', status: 'error', reason: error.message });
  }
  return rows;
}

module.exports = { behaviourRows };
