// The local syslog: `syslog[:FACILITY.LEVEL]` as --errlog, --stdout, --stderr and --output take it, and
// one sender that puts RFC 3164 lines ("<PRI>Mmm dd hh:mm:ss TAG[PID]: MSG") into the local socket as
// datagrams, through the addon (Node has no AF_UNIX datagram sockets). A missing or stalled syslog never
// stops anything: lines are dropped, and the first drop of each outage is reported once.
import { DaemonizeError, describe } from './errors';
import { ExitCode } from './exit-codes';
import { native } from './native';

/** The syslog socket; tests point DAEMONIZE_SYSLOG_SOCKET at a socket of their own. */
export const SYSLOG_SOCKET_ENV = 'DAEMONIZE_SYSLOG_SOCKET';
export const DEFAULT_SYSLOG_SOCKET = '/dev/log';

const FACILITIES: Record<string, number> = {
  kern: 0, user: 1, mail: 2, daemon: 3, auth: 4, syslog: 5, lpr: 6, news: 7, uucp: 8, cron: 9, authpriv: 10,
  ftp: 11, local0: 16, local1: 17, local2: 18, local3: 19, local4: 20, local5: 21, local6: 22, local7: 23,
};
const LEVELS: Record<string, number> = {
  emerg: 0, alert: 1, crit: 2, err: 3, error: 3, warning: 4, warn: 4, notice: 5, info: 6, debug: 7,
};
export const DEFAULT_FACILITY = FACILITIES.daemon;
export const INFO = LEVELS.info;
export const ERR = LEVELS.err;

/** Where one stream's lines go: the facility and level, or only the facility (each stream's default level). */
export interface SyslogTarget {
  facility: number;
  /** undefined: the stream's own default (info for stdout and the event log, err for stderr). */
  level?: number;
}

const SYSLOG_VALUE = /^syslog(?::(.*))?$/;

/** True when an option's value names the syslog rather than a file (a file named so is written ./syslog). */
export function isSyslogValue(value: unknown): value is string {
  return typeof value === 'string' && SYSLOG_VALUE.test(value);
}

/** Parses `syslog` or `syslog:FACILITY.LEVEL`; a usage error naming `option` for anything else. */
export function parseSyslogTarget(option: string, value: string): SyslogTarget {
  const spec = SYSLOG_VALUE.exec(value)?.[1];
  if (spec === undefined) return { facility: DEFAULT_FACILITY };
  const [facility, level, ...rest] = spec.toLowerCase().split('.');
  if (rest.length > 0 || !(facility in FACILITIES) || level === undefined || !(level in LEVELS)) {
    throw new DaemonizeError(`bad ${option} ${JSON.stringify(value)}: expected syslog or syslog:FACILITY.LEVEL ` +
      `(FACILITY: ${Object.keys(FACILITIES).join(', ')}; LEVEL: emerg, alert, crit, err, warning, notice, info, debug)`,
    ExitCode.USAGE);
  }
  return { facility: FACILITIES[facility], level: LEVELS[level] };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number): string => String(n).padStart(2, '0');

/** RFC 3164's local time stamp: "Mmm dd hh:mm:ss", the day padded with a space. */
export function syslogTimestamp(date: Date): string {
  return `${MONTHS[date.getMonth()]} ${String(date.getDate()).padStart(2, ' ')} ` +
    `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}`;
}

/** The header of one line: "<PRI>TIMESTAMP TAG[PID]: ". */
export function syslogHeader(facility: number, level: number, tag: string, pid: number, date: Date): string {
  return `<${facility * 8 + level}>${syslogTimestamp(date)} ${tag}[${pid}]: `;
}

/** An outage is over only after this long since its warning: a syslog that keeps falling behind a flood
 * (EAGAIN, then a line through, then EAGAIN...) is one outage, not two log lines per hiccup. */
export const SYSLOG_QUIET_MS = 10000;

/** In an outage, a line is tried at most this often; the others are dropped at once (a flood of failing
 * sends, each a thrown error, would keep the supervisor busy for seconds). */
export const SYSLOG_RETRY_MS = 10;

/**
 * Sends lines to the local syslog. `warn` hears, once per outage, that lines are being dropped (and
 * when they get through again, with how many were dropped); it must not send through this sender.
 */
export class SyslogSender {
  /** In an outage: when it was reported, when a send last failed, and the lines dropped since. */
  private outage: { since: number; failed: number; dropped: number } | null = null;

  constructor(private readonly tag: string, private readonly warn: (message: string) => void,
    private readonly socket = process.env[SYSLOG_SOCKET_ENV] || DEFAULT_SYSLOG_SOCKET) {}

  send(facility: number, level: number, pid: number, message: string | Buffer): void {
    if (this.outage !== null && Date.now() - this.outage.failed < SYSLOG_RETRY_MS) {
      this.outage.dropped += 1;
      return;
    }
    const header = syslogHeader(facility, level, this.tag, pid, new Date());
    const datagram = typeof message === 'string' ? `${header}${message}` : Buffer.concat([Buffer.from(header), message]);
    try {
      // Never blocking: a syslog daemon that stops reading must not stop the supervisor.
      native.notify(this.socket, datagram, true);
      const outage = this.outage;
      if (outage !== null && Date.now() - outage.since >= SYSLOG_QUIET_MS) {
        this.warn(`syslog ${this.socket} takes lines again (${outage.dropped} dropped)`);
        this.outage = null;
      }
    } catch (error) {
      if (this.outage === null) {
        this.warn(`unable to send to syslog ${this.socket}: ${describe(error)}: dropping lines until it works`);
        this.outage = { since: Date.now(), failed: 0, dropped: 0 };
      }
      this.outage.failed = Date.now();
      this.outage.dropped += 1;
    }
  }
}

/** What goes to the syslog under a supervisor: the tag, and each stream that goes there. */
export interface SyslogStreams {
  /** The --name, else "daemonize". */
  tag: string;
  errlog?: SyslogTarget;
  stdout?: SyslogTarget;
  stderr?: SyslogTarget;
}

interface OutputOptions {
  output?: string;
  stdout?: string;
  stderr?: string;
  errlog?: string;
}

/**
 * Takes the `syslog` values out of --output, --stdout, --stderr and --errlog: returns the options with
 * only files left (for the settings), and the streams that go to the syslog (undefined when none does).
 */
export function takeSyslogOptions<T extends OutputOptions>(options: T, tag: string): { files: T; syslog?: SyslogStreams } {
  const files = { ...options };
  const streams: SyslogStreams = { tag };
  if (isSyslogValue(options.output)) {
    if (options.stdout !== undefined || options.stderr !== undefined) {
      throw new DaemonizeError('--output names the file for both streams: use it without --stdout and --stderr', ExitCode.USAGE);
    }
    streams.stdout = streams.stderr = parseSyslogTarget('--output', options.output);
    files.output = undefined;
  }
  for (const name of ['stdout', 'stderr', 'errlog'] as const) {
    const value = options[name];
    if (!isSyslogValue(value)) continue;
    streams[name] = parseSyslogTarget(`--${name}`, value);
    files[name] = undefined;
  }
  const any = streams.stdout !== undefined || streams.stderr !== undefined || streams.errlog !== undefined;
  return any ? { files, syslog: streams } : { files };
}
