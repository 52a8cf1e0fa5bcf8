// `daemonize -f`: the service stays in the foreground for a supervisor (systemd, supervisord, a
// container) that wants the process it started to *be* the service. Without --respawn the program is
// exec'd in place, after the pidfile, stdio and signal set-up, so signals reach it directly and its exit
// status is the supervisor's to see. With --respawn this process is the supervisor.
import { DaemonizeError } from './errors';
import { LaunchTransaction } from './core/launch-transaction';
import { explainSpawnFailure, basePlan } from './launch';
// Set for the program in foreground mode, so a Node app using the library stays in the foreground too.
import { FOREGROUND_ENV } from './library/foreground';
import { native } from './native';
import { resolveProgramFor } from './program';
import { writeTo } from './std-streams';
import type { Settings } from './settings';
import { supervisorConfig, type SupervisionSettings } from './supervisor/launch-supervisor';
import { runSupervisor } from './supervisor/run';
import { verbose } from './verbose';

export interface ForegroundChoices {
  /** Only what the user asked for changes in the foreground: no chdir to /, no umask, unless given. */
  chdirGiven: boolean;
  umaskGiven: boolean;
}

function foregroundSettings(settings: Settings): Settings {
  return { ...settings, env: { ...settings.env, [FOREGROUND_ENV]: '1' } };
}

/** Replaces this process with the program. Returns only by throwing, having undone every step. */
export function execForeground(command: string[], given: Settings, choices: ForegroundChoices, baseDir = process.cwd()): never {
  const settings = foregroundSettings(given);
  const file = resolveProgramFor(command[0], settings, baseDir);
  return LaunchTransaction.run((tx) => {
    const pidfile = tx.lockPidfile(settings);
    tx.writePidfile(pidfile, process.pid);
    const stdio = tx.openStdio(settings.stdout, settings.stderr, settings.user);
    const fds = stdio.fds;
    fds[0] = 0;
    if (settings.stdout === undefined) fds[1] = 1;
    if (settings.stderr === undefined) fds[2] = 2;
    const plan = basePlan(file, command, settings);
    verbose(`exec ${file} in place of pid ${process.pid}`);
    try {
      native.spawn({
        ...plan,
        mode: 'exec',
        cwd: choices.chdirGiven ? plan.cwd : undefined,
        umask: choices.umaskGiven ? plan.umask : undefined,
        stdio: fds,
        keepFds: pidfile ? [pidfile.fd] : [],
      });
    } catch (error) {
      throw explainSpawnFailure(error, settings, command[0]);
    }
    throw new DaemonizeError('exec returned without an error');
  });
}

/** Supervises the program from this very process until stopped; calls `exit` with the final status. */
export function superviseForeground(command: string[], given: Settings, choices: ForegroundChoices,
  supervision: SupervisionSettings, exit: (code: number) => void, baseDir = process.cwd()): void {
  const settings = foregroundSettings(given);
  const file = resolveProgramFor(command[0], settings, baseDir);
  const config = supervisorConfig(command, settings, supervision, file, true);
  if (!choices.chdirGiven) config.plan.cwd = undefined;
  if (!choices.umaskGiven) config.plan.umask = undefined;
  LaunchTransaction.run((tx) => {
    // This process is the supervisor: it keeps the pidfile's lock for its whole life.
    const pidfile = tx.lockPidfile(settings);
    tx.writePidfile(pidfile, process.pid);
    runSupervisor(config, (code) => {
      pidfile?.close();
      exit(code);
    }, pidfile, (outcome) => {
      if (!outcome.ok) writeTo(2, `daemonize: fatal: ${outcome.error.message}\n`);
    });
    tx.keepPidfile(pidfile);
  });
}
