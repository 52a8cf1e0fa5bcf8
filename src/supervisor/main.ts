// Entry point of a daemonized supervisor (`daemonize --respawn` without -f). The launcher double-forked
// `node dist/supervisor/main.js` with its configuration in one environment variable and a report pipe.
import { DaemonizeError } from '../errors';
import { ExitCode } from '../exit-codes';
import { SUPERVISOR_CONFIG_ENV, type StartReport, type SupervisorConfig } from './config';
import { report, runSupervisor } from './run';

function main(): void {
  const text = process.env[SUPERVISOR_CONFIG_ENV];
  delete process.env[SUPERVISOR_CONFIG_ENV];
  if (text === undefined) {
    process.stderr.write('daemonize: fatal: the supervisor is started by daemonize --respawn, not by hand\n');
    process.exit(ExitCode.USAGE);
  }
  const config = JSON.parse(text) as SupervisorConfig;
  process.title = `daemonize: supervising ${config.label}`;
  try {
    const { firstChild } = runSupervisor(config, (code) => process.exit(code));
    report(config.reportFd, { ok: true, child: firstChild } satisfies StartReport);
  } catch (error) {
    const failure = error instanceof DaemonizeError ? error : new DaemonizeError(String(error));
    report(config.reportFd, { ok: false, exitCode: failure.exitCode, message: failure.message } satisfies StartReport);
    process.exit(failure.exitCode);
  }
}

main();
