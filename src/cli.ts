// The command line. This is the only module that reads argv and calls process.exit.
import { dirname, resolve } from 'node:path';

import { Command, CommanderError } from 'commander';

import { DaemonizeError, unable } from './errors';
import { ExitCode, type ExitCodeValue } from './exit-codes';
import { DESCRIPTION, EXAMPLES, USAGE } from './help';
import { nonUtf8FileOption, rawArgv, rawEnvironment } from './raw-bytes';
import { settle, type DaemonOptions, type Settings } from './settings';
import { isSyslogValue, takeSyslogOptions, type SyslogStreams } from './syslog';
import { exitProcess, writeTo } from './std-streams';
import { setVerbose } from './verbose';

// bin/daemonize.cjs hands over the addon it loaded to read these modules' files (native/file-copy.cc).
export { adoptAddon } from './native';

/** The process table, for bin/daemonize.cjs's cache warm-up, which reaps the daemon it started. Loaded when asked. */
export function processTable(): import('./process-table').ProcessEntry[] {
  return (require('./process-table') as typeof import('./process-table')).processTable();
}

const PROGRAM = 'daemonize';
const TRY_HELP = ` (try '${PROGRAM} --help')`;

interface CliOptions extends DaemonOptions {
  env?: string[];
  foreground?: boolean;
  respawn?: boolean;
  acceptable?: string;
  attempts?: string;
  delay?: string;
  limit?: string;
  errlog?: string;
  childPidfile?: string;
  onExit?: string;
  stopTimeout?: string;
  healthCmd?: string;
  healthInterval?: string;
  healthTimeout?: string;
  healthRetries?: string;
  maxMemory?: string;
  watchdog?: string;
  ready?: string;
  readyTimeout?: string;
  stopSignal?: string;
  listen?: string[];
  running?: boolean;
  status?: boolean;
  stop?: boolean;
  restart?: boolean;
  signal?: string;
  list?: boolean;
  json?: boolean;
  logs?: boolean;
  follow?: boolean;
  lines?: string;
  systemdUnit?: string;
  systemdNotify?: boolean;
  config?: string;
  noconfig?: boolean;
  command?: string;
  envFile?: string[];
  nocore?: boolean;
  verbose?: boolean;
  /** --pty: true, or its value ('noecho'). */
  pty?: boolean | string;
}

const VERB_FLAGS = ['running', 'status', 'stop', 'restart', 'signal', 'list', 'logs'] as const;
const RESPAWN_ONLY = ['acceptable', 'attempts', 'delay', 'limit', 'errlog', 'childPidfile', 'onExit', 'ready', 'readyTimeout', 'stopSignal', 'listen',
  'healthCmd', 'healthInterval', 'healthTimeout', 'healthRetries', 'maxMemory', 'watchdog', 'pty'] as const;
/** Options given more than once that add up, in profiles and on the command line. */
const REPEATABLE = ['env', 'envFile'];

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function version(): string {
  // A require, not a read: the bundle (scripts/bundle-cli.js) then carries it, one file fewer to open.
  return (require('../package.json') as { version: string }).version;
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
    .option('-e, --env <VAR=value>', 'add or set an environment variable (repeatable)', collect)
    .option('--env-file <file>', 'add the KEY=value lines of file to the environment, before --env (repeatable)', collect)
    .option('-u, --user <user[:group]>', 'as root: run as this user (and group), with its HOME, USER, LOGNAME')
    .option('-R, --chroot <dir>', 'as root: run the program with dir as its root (dir owned by root, writable by no one else)')
    .option('-c, --core', 'let the program dump core: raise its core-file limit to the hard limit')
    .option('--nocore', 'no core files: the program\'s core-file limit is 0')
    .option('-o, --output <file>', 'append stdout and stderr to file (default: /dev/null); with -r also syslog[:FACILITY.LEVEL]')
    .option('-O, --stdout <file>', 'append stdout to file (default: /dev/null); with -r also syslog[:FACILITY.LEVEL]')
    .option('-E, --stderr <file>', 'append stderr to file (default: /dev/null); with -r also syslog[:FACILITY.LEVEL]')
    .option('-p, --pty [noecho]', 'with -r: the program\'s stdin, stdout and stderr are a pseudo-terminal; its output goes to the --stdout/--output file (noecho: no echo)')
    .option('-f, --foreground', 'do not fork away: exec the program in place (or supervise it, with -r)')
    .option('-r, --respawn', 'supervise the program: start it again whenever it ends')
    .option('-a, --acceptable <seconds>', 'with -r: a run shorter than this is a failure (default: 10)')
    .option('-A, --attempts <n>', 'with -r: failures in a row before a pause (default: 5)')
    .option('-L, --delay <seconds>', 'with -r: length of the pause (default: 60)')
    .option('-M, --limit <n>', 'with -r: pauses before giving up, 0 for never (default: 0)')
    .option('-l, --errlog <file>', 'with -r: the supervisor\'s event log, or syslog[:FACILITY.LEVEL] (default: see below)')
    .option('--child-pidfile <file>', 'with -r: the pidfile a program that forks itself away writes; follow that pid')
    .option('--on-exit <command>', 'with -r: run `sh -c command` after each end of the program (DAEMONIZE_* variables)')
    .option('--stop-timeout <seconds>', 'seconds from SIGTERM to SIGKILL when stopping (default: 10)')
    .option('--health-cmd <command>', 'with -r: a check run with sh -c, as the program\'s user; failing ones restart it')
    .option('--health-interval <seconds>', 'with --health-cmd: seconds between checks, from readiness (default: 10)')
    .option('--health-timeout <seconds>', 'with --health-cmd: a check still running then is killed and failed (default: 5)')
    .option('--health-retries <n>', 'with --health-cmd: failures in a row that restart the program (default: 3)')
    .option('--max-memory <size>', 'with -r: restart the program when its whole process tree uses more (512M, 2G)')
    .option('--watchdog <seconds>', 'with -r: abort (SIGABRT) and restart a program silent this long (WATCHDOG=1)')
    .option('--stop-signal <signal>', 'with -r: the signal that asks the program to stop (default: TERM; nginx: QUIT)')
    .option('--ready <mode>', 'with -r: when a child is started: exec (default), notify (READY=1), tcp:HOST:PORT')
    .option('--ready-timeout <seconds>', 'with -r: seconds a child has to be ready (default: 60)')
    .option('--listen <[name=]addr>', 'with -r: hold a listening socket (HOST:PORT, [::1]:PORT, :PORT, /path) for every child at fd 3.. (repeatable)', collect)
    .option('--running', 'exit 0 if the daemon is running, 1 if not')
    .option('--status', 'print the daemon\'s state; exit with an LSB status code')
    .option('--stop', 'stop the daemon and everything it started; return once they are gone')
    .option('--restart', 'restart: a new child under the same supervisor, else stop then start')
    .option('--signal <signal>', 'send the daemon a signal (name or number)')
    .option('--list', 'list every pidfile in the pidfile directory with its state')
    .option('--json', 'with --status or --list: print JSON objects (keys in README)')
    .option('--logs', 'print the last lines of the daemon\'s stdout, stderr and event log files')
    .option('--lines <n>', 'with --logs: how many lines of each file (default: 20)')
    .option('--follow', 'with --logs: then print what they gain, across renames, until interrupted')
    .option('--systemd-unit <name>', 'print a systemd unit file that runs this command line, and exit')
    .option('--systemd-notify', 'with --systemd-unit -f: the program sends READY=1 itself (Type=notify)')
    .option('-X, --command <"cmd args">', 'the program and its arguments as one string (instead of after the options)')
    .option('-C, --config <file>', 'read this profile file instead of /etc/daemonize.conf (and file.d/*)')
    .option('-N, --noconfig', 'read no profile file at all')
    .option('-v, --verbose', 'say each step the launcher takes, on stderr')
    .version(version(), '-V, --version', 'print the version and exit')
    .helpOption('-h, --help', 'print this help and exit')
    .argument('[command...]', 'the program to run and its arguments, passed untouched')
    .passThroughOptions()
    .addHelpText('after', EXAMPLES)
    .exitOverride()
    // One line in one shape: commander's "(Did you mean --logs?)" would be a second line, and a poor guess.
    .showSuggestionAfterError(false)
    .configureOutput({
      // Help and errors straight to the descriptors too, never through Node's streams (src/std-streams.ts).
      writeOut: (text) => writeTo(1, text),
      writeErr: (text) => writeTo(2, text),
      // One line in one shape for every failure: "daemonize: usage: ..."
      outputError: (message, write) => write(`${PROGRAM}: usage: ${message.replace(/^error: /, '').trimEnd()}${TRY_HELP}\n`),
    });
}

function fail(error: unknown): never {
  if (error instanceof DaemonizeError) {
    const kind = error.exitCode === ExitCode.USAGE ? 'usage' : 'fatal';
    tell(`${PROGRAM}: ${kind}: ${error.message}\n`);
    process.exit(error.exitCode);
  }
  tell(`${PROGRAM}: fatal: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(ExitCode.FAILURE);
}

/**
 * The directory relative paths are taken from. Node's cwd() throws when it was removed (a shell left in a
 * deleted directory): that is an error in the one shape, and for --status LSB's "unknown" (4).
 */
function workingDirectory(forStatus: boolean): string {
  try {
    return process.cwd();
  } catch (error) {
    const unknown = (require('./control/describe') as typeof import('./control/describe')).StatusCode.UNKNOWN;
    throw unable('read the working directory', error, forStatus ? unknown as ExitCodeValue : ExitCode.FAILURE);
  }
}

function usage(message: string): DaemonizeError {
  return new DaemonizeError(message, ExitCode.USAGE);
}

function print(line: string): void {
  writeTo(1, `${line}\n`);
}

/** A failure's message on stderr; one that cannot be written (EPIPE) is lost, not thrown from the failure. */
function tell(text: string): void {
  try {
    writeTo(2, text);
  } catch {
    // nobody reads our stderr any more
  }
}

/** Runs a control verb; resolves with its exit status. Loaded only when asked for, to keep start-up lean. */
function runVerb(verb: (typeof VERB_FLAGS)[number], options: CliOptions, settings: Settings, words: string[],
  syslog?: SyslogStreams): Promise<number> | number {
  const verbs = require('./control/verbs') as typeof import('./control/verbs');
  if (options.json && verb !== 'status' && verb !== 'list') throw usage(`--json goes with --status or --list, not --${verb}`);
  if (verb === 'logs') return runLogs(options, settings, words);
  if (verb === 'list') {
    const { defaultPidfileDir } = require('./pidfile-location') as typeof import('./pidfile-location');
    const dir = settings.pidfile !== undefined ? dirname(settings.pidfile)
      : options.pidfiles !== undefined ? resolve(options.pidfiles) : defaultPidfileDir(process.env, process.getuid?.() ?? 0);
    return verbs.listVerb(dir, { json: options.json }, print);
  }
  const pidfile = settings.pidfile;
  if (pidfile === undefined) throw usage(`--${verb} needs --name or --pidfile`);
  if (verb !== 'restart' && words.length > 0) throw usage(`--${verb} takes no command`);
  // Given on the command line, --stop-timeout wins; else the daemon's own (its supervisor's record) applies.
  const { checkSeconds } = require('./durations') as typeof import('./durations');
  const stopTimeout = options.stopTimeout === undefined ? undefined : checkSeconds('--stop-timeout', options.stopTimeout, 0);
  return verbs.runPidfileVerb(verb, pidfile, {
    stopTimeout, signal: options.signal, json: options.json,
    start: words.length > 0 ? () => start(options, settings, words, syslog) : undefined,
  }, print);
}

/** --logs [--lines N] [--follow]: the daemon's files, found from its record or the options given. */
function runLogs(options: CliOptions, settings: Settings, words: string[]): Promise<number> | number {
  if (settings.pidfile === undefined) throw usage('--logs needs --name or --pidfile');
  if (words.length > 0) throw usage('--logs takes no command');
  const lines = options.lines === undefined ? undefined : Number(options.lines);
  if (lines !== undefined && !(/^\d+$/.test(options.lines as string) && lines <= 1000000)) {
    throw usage(`bad --lines ${JSON.stringify(options.lines)}: expected a whole number from 0 to 1000000`);
  }
  const logs = require('./control/logs') as typeof import('./control/logs');
  const paths = logs.logPaths(settings.pidfile, {
    stdout: settings.stdout, stderr: settings.stderr, errlog: options.errlog === undefined ? undefined : resolve(options.errlog),
  });
  if (paths.length === 0) {
    throw new DaemonizeError(`unable to find the logs of ${settings.pidfile}: no status record names them; give --stdout, --stderr, --output or --errlog`);
  }
  const write = (text: string): void => writeTo(1, text);
  // Opened once: --follow goes on from exactly where the tails end.
  const files = logs.openLogs(paths);
  logs.printTails(files, lines ?? logs.DEFAULT_LINES, write);
  if (options.follow) return logs.follow(files, write);
  logs.closeLogs(files);
  return ExitCode.OK;
}

/** The flags a unit file passes through as given: everything but paths, which go in absolute. */
function passThroughFlags(options: CliOptions): string[] {
  const flags: string[] = [];
  const valued: [keyof CliOptions, string][] = [['umask', '--umask'], ['user', '--user'], ['acceptable', '--acceptable'],
    ['attempts', '--attempts'], ['delay', '--delay'], ['limit', '--limit'], ['stopTimeout', '--stop-timeout'], ['onExit', '--on-exit'],
    ['healthCmd', '--health-cmd'], ['healthInterval', '--health-interval'], ['healthTimeout', '--health-timeout'],
    ['healthRetries', '--health-retries'], ['maxMemory', '--max-memory'], ['watchdog', '--watchdog'],
    ['ready', '--ready'], ['readyTimeout', '--ready-timeout'], ['stopSignal', '--stop-signal']];
  for (const [key, flag] of valued) if (options[key] !== undefined) flags.push(flag, String(options[key]));
  for (const file of options.envFile ?? []) flags.push('--env-file', resolve(file));
  for (const entry of options.env ?? []) flags.push('--env', entry);
  for (const entry of options.listen ?? []) flags.push('--listen', entry);
  if (options.core) flags.push('--core');
  if (options.nocore) flags.push('--nocore');
  if (options.chroot !== undefined) flags.push('--chroot', resolve(options.chroot));
  // Profiles were read for this command line already: the unit runs exactly it, whatever they later say.
  flags.push('--noconfig');
  for (const [flag, value] of [['--output', options.output], ['--stdout', options.stdout], ['--stderr', options.stderr]]) {
    if (isSyslogValue(value)) flags.push(flag as string, value);
  }
  if (options.errlog !== undefined) flags.push('--errlog', isSyslogValue(options.errlog) ? options.errlog : resolve(options.errlog));
  if (options.childPidfile !== undefined) flags.push('--child-pidfile', resolve(options.childPidfile));
  return flags;
}

function printUnit(name: string, options: CliOptions, settings: Settings, words: string[]): number {
  const { checkName } = require('./pidfile-location') as typeof import('./pidfile-location');
  const { resolveProgramFor } = require('./program') as typeof import('./program');
  const { systemdUnit } = require('./systemd-unit') as typeof import('./systemd-unit');
  checkName(name);
  if (words.length === 0) throw usage(`--systemd-unit needs the command to run${TRY_HELP}`);
  const { absoluteFileArgs } = require('./relative-args') as typeof import('./relative-args');
  if (options.systemdNotify && !options.foreground) throw usage('--systemd-notify needs -f (a forking unit waits for the pidfile)');
  const program = resolveProgramFor(words[0], settings, process.cwd());
  // systemd runs the unit from / long after this: arguments naming files here must say where they are.
  const args = settings.root === undefined ? absoluteFileArgs(words.slice(1), process.cwd(), settings.cwd) : words.slice(1);
  writeTo(1, systemdUnit(name, [program, ...args], settings, {
    foreground: options.foreground === true, respawn: options.respawn === true, notify: options.systemdNotify === true,
    passThrough: passThroughFlags(options),
  }));
  return ExitCode.OK;
}

function warn(message: string): void {
  writeTo(2, `${PROGRAM}: warning: ${message}\n`);
}

/** --pty's mode, checked against the streams it replaces. */
function ptyMode(options: CliOptions, syslog: SyslogStreams | undefined): 'echo' | 'noecho' | undefined {
  if (options.pty === undefined || options.pty === false) return undefined;
  if (options.pty !== true && options.pty !== 'noecho') throw usage(`bad --pty ${JSON.stringify(options.pty)}: expected --pty or --pty=noecho`);
  if (syslog?.stdout !== undefined || syslog?.stderr !== undefined) throw usage('--pty and syslog output cannot be used together');
  if (options.stderr !== undefined) {
    throw usage('--pty gives the program one terminal for stdout and stderr: name its file with --stdout or --output, not --stderr');
  }
  return options.pty === true ? 'echo' : 'noecho';
}

/** Starts the program in the mode the options name; returns the exit status for this process. */
function start(options: CliOptions, settings: Settings, words: string[], syslog?: SyslogStreams): number {
  const choices = { chdirGiven: options.chdir !== undefined, umaskGiven: options.umask !== undefined };
  if (!options.foreground && settings.root === undefined) {
    const { relativeArgWarnings } = require('./relative-args') as typeof import('./relative-args');
    relativeArgWarnings(words.slice(1), process.cwd(), settings.cwd).forEach(warn);
  }
  if (options.respawn) {
    const { settleSupervision } = require('./supervisor/supervision-options') as typeof import('./supervisor/supervision-options');
    const { settleProbes } = require('./supervisor/probe-options') as typeof import('./supervisor/probe-options');
    const supervision = { ...settleSupervision({ ...options, errlog: syslog?.errlog ? undefined : options.errlog }, process.cwd()),
      syslog, pty: ptyMode(options, syslog), probes: settleProbes(options) };
    if (options.foreground) {
      const { superviseForeground } = require('./foreground') as typeof import('./foreground');
      superviseForeground(words, settings, choices, supervision, (code) => process.exit(code));
      return -1;
    }
    const { launchSupervisor } = require('./supervisor/launch-supervisor') as typeof import('./supervisor/launch-supervisor');
    launchSupervisor(words, settings, supervision);
    return ExitCode.OK;
  }
  const given = RESPAWN_ONLY.filter((name) => options[name] !== undefined);
  if (given.length > 0) throw usage(`--${given[0].replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} needs --respawn`);
  if (syslog !== undefined) throw usage('syslog output needs --respawn: only a supervisor is there to read the program\'s output and send it');
  if (options.foreground) {
    const { execForeground } = require('./foreground') as typeof import('./foreground');
    execForeground(words, settings, choices);
  }
  // Loaded here: the control verbs need none of the launch path.
  const { launchDaemon } = require('./launch') as typeof import('./launch');
  launchDaemon(words, settings);
  return ExitCode.OK;
}

/** The program's words: typed after the options, else -X (typed, else from `options`' profile). */
function programWords(given: CliOptions, options: CliOptions, args: string[]): string[] {
  if (args.length > 0 && given.command !== undefined) {
    throw usage('give the program either with --command or after the options, not both');
  }
  if (args.length > 0 || options.command === undefined) return args;
  const { splitCommand } = require('./command-words') as typeof import('./command-words');
  const words = splitCommand(options.command);
  if (words.length === 0) throw usage('--command is empty');
  return words;
}

/** `end` ends the process with a status once all is done (writeCache in bin/daemonize.cjs stubs it). */
export function main(argv: string[], end: (code: number) => never = exitProcess): void {
  const command = buildCommand();
  try {
    // The caller's exact bytes, where Node's decoding would have replaced some (src/raw-bytes.ts).
    command.parse(rawArgv(argv));
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exit(error.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE);
    }
    fail(error);
  }
  const given = command.opts<CliOptions>();
  const args = [...command.args];
  // --pty's value is optional: a word after -p that is not "noecho" is the program, not the value
  // (but --pty=WORD names a value: ptyMode refuses a bad one).
  if (typeof given.pty === 'string' && given.pty !== 'noecho' && !argv.includes(`--pty=${given.pty}`)) {
    args.unshift(given.pty);
    given.pty = true;
  }
  let code: number | Promise<number>;
  try {
    setVerbose(given.verbose === true);
    if (given.config !== undefined && given.noconfig) throw usage('--config and --noconfig cannot be used together');
    const { withProfiles } = require('./config-file/apply') as typeof import('./config-file/apply');
    const cwd = workingDirectory(given.status !== undefined);
    const options = withProfiles(command, given, REPEATABLE, process.env, cwd);
    if (options.core && options.nocore) throw usage('--core and --nocore cannot be used together');
    const verbs = VERB_FLAGS.filter((name) => options[name] !== undefined);
    if (verbs.length > 1) throw usage(`--${verbs[0]} and --${verbs[1]} cannot be used together`);
    if ((given.follow || given.lines !== undefined) && verbs[0] !== 'logs') throw usage(`--${given.follow ? 'follow' : 'lines'} goes with --logs`);
    // A verb other than --restart takes only a command typed here, never a profile's.
    const words = programWords(given, verbs.length === 1 && verbs[0] !== 'restart' ? given : options, args);
    const daemonOptions = { ...options, core: options.nocore ? false : options.core };
    // --list reads a whole directory of pidfiles: --pidfiles without --name is its normal use.
    const badPath = nonUtf8FileOption(options);
    if (badPath !== undefined) throw usage(`${badPath} must name a file by a UTF-8 path`);
    // `syslog[:FACILITY.LEVEL]` in --output, --stdout, --stderr, --errlog: no file (src/syslog.ts).
    const { files, syslog } = takeSyslogOptions(daemonOptions, options.name ?? PROGRAM);
    // Only a start (or a --restart, which may start) hands a program the caller's environment, copied with
    // the bytes Node could not decode: a verb makes no copy.
    const startsProgram = verbs.length === 0 || verbs[0] === 'restart';
    const settings = settle(verbs[0] === 'list' ? { ...files, pidfiles: undefined } : files, cwd, process.env,
      startsProgram ? rawEnvironment(process.env) : process.env);
    if (verbs.length === 1) {
      code = runVerb(verbs[0], options, settings, words, syslog);
    } else if (options.systemdUnit !== undefined) {
      code = printUnit(options.systemdUnit, options, settings, words);
    } else {
      if (words.length === 0) throw usage(`no command given${TRY_HELP}`);
      code = start(options, settings, words, syslog);
    }
  } catch (error) {
    fail(error);
  }
  if (typeof code !== 'number') {
    code.then(end, fail);
    return;
  }
  // A foreground supervisor keeps running; it exits through its own callback.
  if (code >= 0) end(code);
}
