// The command line. This is the only module that reads argv and calls process.exit.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { Command, CommanderError } from 'commander';

import { DaemonizeError } from './errors';
import { ExitCode } from './exit-codes';
import { DESCRIPTION, EXAMPLES, USAGE } from './help';
import { launchDaemon } from './launch';
import { settle, type DaemonOptions } from './settings';

const PROGRAM = 'daemonize';
const TRY_HELP = ` (try '${PROGRAM} --help')`;

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function version(): string {
  return (JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;
}

export function buildCommand(): Command {
  return new Command(PROGRAM)
    .usage(USAGE)
    .description(DESCRIPTION)
    .option('-n, --name <name>', 'name the daemon; its pidfile is <pidfiles>/<name>.pid')
    .option('-F, --pidfile <path>', 'pidfile to create, lock and write the daemon\'s pid into')
    .option('-P, --pidfiles <dir>', 'directory for named pidfiles (default: /run as root, else per-user)')
    .option('-D, --chdir <dir>', 'working directory of the daemon (default: /)')
    .option('-m, --umask <octal>', 'file mode creation mask of the daemon (default: 022)')
    .option('-e, --env <VAR=value>', 'add or set an environment variable (repeatable)', collect, [])
    .option('-u, --user <user[:group]>', 'as root: run as this user (and group), with its HOME, USER, LOGNAME')
    .option('-o, --output <file>', 'append stdout and stderr to file (default: /dev/null)')
    .option('-O, --stdout <file>', 'append stdout to file (default: /dev/null)')
    .option('-E, --stderr <file>', 'append stderr to file (default: /dev/null)')
    .version(version(), '-V, --version', 'print the version and exit')
    .helpOption('-h, --help', 'print this help and exit')
    .argument('[command...]', 'the program to run and its arguments, passed untouched')
    .passThroughOptions()
    .allowExcessArguments(false)
    .addHelpText('after', EXAMPLES)
    .exitOverride()
    .configureOutput({
      // One line in one shape for every failure: "daemonize: usage: ..."
      outputError: (message, write) => write(`${PROGRAM}: usage: ${message.replace(/^error: /, '').trimEnd()}${TRY_HELP}\n`),
    });
}

function fail(error: unknown): never {
  if (error instanceof DaemonizeError) {
    const kind = error.exitCode === ExitCode.USAGE ? 'usage' : 'fatal';
    process.stderr.write(`${PROGRAM}: ${kind}: ${error.message}\n`);
    process.exit(error.exitCode);
  }
  process.stderr.write(`${PROGRAM}: fatal: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(ExitCode.FAILURE);
}

export function main(argv: string[]): void {
  const command = buildCommand();
  try {
    command.parse(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exit(error.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE);
    }
    fail(error);
  }
  const words = command.args;
  const options = command.opts<DaemonOptions & { env: string[] }>();
  try {
    if (words.length === 0) throw new DaemonizeError(`no command given${TRY_HELP}`, ExitCode.USAGE);
    const settings = settle(options, process.cwd(), process.env);
    launchDaemon(words, settings);
  } catch (error) {
    fail(error);
  }
  process.exit(ExitCode.OK);
}
