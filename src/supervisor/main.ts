// Entry point of a daemonized supervisor (`daemonize --respawn` without -f). The launcher double-forked
// `node dist/supervisor/main.js CONFIG_FD REPORT_FD`: it writes the configuration into the first pipe
// (src/supervisor/config.ts) and hears on the second whether the first child started.
import { DaemonizeError, unable } from '../errors';
import { ExitCode } from '../exit-codes';
import { restoreExtraCaCerts } from '../extra-ca-certs';
import { receiveConfig, type StartReport } from './config';
import { native } from '../native';
import { report, runSupervisor } from './run';

function descriptor(word: string | undefined): number | undefined {
  return word !== undefined && /^\d+$/.test(word) && Number(word) > 2 ? Number(word) : undefined;
}

function main(): void {
  restoreExtraCaCerts(process.env);
  const configFd = descriptor(process.argv[2]);
  const reportFd = descriptor(process.argv[3]);
  if (configFd === undefined || reportFd === undefined) {
    process.stderr.write('daemonize: fatal: the supervisor is started by daemonize --respawn, not by hand\n');
    process.exit(ExitCode.USAGE);
  }
  try {
    const config = receiveConfig(configFd);
    process.title = `daemonize: supervising ${config.label}`;
    // The launcher hears once the first child is ready (at its exec, with --ready exec), or why it never was.
    // The end: every write of ours was synchronous (the event log, the record, the relayed output drained),
    // so _exit(2) loses nothing process.exit would keep, and skips Node's teardown, which --stop waits for.
    runSupervisor({ ...config, reportFd }, (code) => native.exitNow(code), undefined, (outcome) => {
      report(reportFd, (outcome.ok ? { ok: true, child: outcome.child }
        : { ok: false, exitCode: outcome.error.exitCode, message: outcome.error.message }) satisfies StartReport);
    });
  } catch (error) {
    const failure = error instanceof DaemonizeError ? error : unable('start the supervisor', error);
    report(reportFd, { ok: false, exitCode: failure.exitCode, message: failure.message } satisfies StartReport);
    process.exit(failure.exitCode);
  }
}

main();
