// The text after --help's option list: examples and the exit-code table (README.md carries the same).
import { ExitCode } from './exit-codes';

export const USAGE = '[options] [--] command [args...]';

export const DESCRIPTION =
  'Run command as a Unix daemon (double fork, new session, no terminal, signals reset, stdio on /dev/null ' +
  'or the named files, a locked pidfile written before daemonize exits), in the foreground, or under a ' +
  'supervisor that starts it again; and stop, restart or ask after it. Every failure before the program ' +
  'runs is reported here, with an exit status from the tables below.';

export const EXAMPLES = `
Modes:
  (default)   daemon: double fork, new session, stdio on /dev/null, cwd /, umask 022
  -f          foreground: exec the program in place after the pidfile and stdio set-up;
              its exit status (128+N for signal N, as a shell shows it) is the command's own;
              DAEMONIZE_FOREGROUND=1 tells a Node app using the library to stay in the foreground
  -r          supervise: a daemonized supervisor starts the program again whenever it ends
  -f -r       supervise in the foreground (under systemd, supervisord or a container)

Examples:
  daemonize --pidfile /tmp/web.pid --stdout /tmp/web.log --chdir . -- node examples/server.js
  daemonize -n web -o /var/log/web.log -u www-data -- /usr/local/bin/web --port 8080
  daemonize -n web -r -a 5 -A 3 -L 30 -- node /srv/web/server.js
  daemonize -n web --status        daemonize -n web --stop        daemonize -n web --restart
  daemonize --systemd-unit web -n web -o /var/log/web.log -- node /srv/web/server.js
  daemonize -n test_server          (the program and options from the profile for test_server)

Pidfiles:
  --name NAME uses DIR/NAME.pid, where DIR is --pidfiles, else /run for root, else
  $XDG_RUNTIME_DIR/daemonize, else ~/.local/state/daemonize. The daemon keeps the pidfile
  locked (flock) for its whole life; a second start on a locked pidfile is refused.
  With -r the pidfile holds the supervisor's pid; DIR/NAME.status (JSON) names the child's.
  The supervisor's event log is --errlog, else the --stderr/--output file, else DIR/NAME.log
  (with -f -r: the supervisor's stderr).

Terminal (with -r):
  -p, --pty[=noecho]  each child's stdin, stdout and stderr are a new pseudo-terminal, its controlling
              one; the supervisor copies its output into the --stdout/--output file (else discards
              it); noecho clears ECHO. Not with --stderr or syslog output.

Syslog (with -r):
  --errlog, --stdout, --stderr, --output take syslog or syslog:FACILITY.LEVEL (e.g. local0.notice):
  RFC 3164 lines to /dev/log tagged with --name (else daemonize); the program's output is then read
  through a pipe, line by line (stdout at daemon.info, stderr at daemon.err by default). A missing
  syslog drops lines with one warning in the event log. DAEMONIZE_SYSLOG_SOCKET names another socket.

Profiles (libslack's daemon.conf grammar):
  /etc/daemonize.conf (or -C FILE), then /etc/daemonize.conf.d/* (or FILE.d/*) sorted, then
  $XDG_CONFIG_HOME/daemonize.conf (~/.config/daemonize.conf); -N reads none. Lines:
    NAME option,option=value,...   for --name NAME (options: long options without --,
    * option,...                   for every daemon       and command="PROG ARGS")
    VAR=value                      for $VAR and \${VAR} below; # comments; \ continues a line
  Every * entry, then the name's, then the command line: the later wins. As root, a file
  another user could write is refused. daemonize --name NAME starts a configured service.

Signals to a supervisor (-r):
  TERM, INT   stop: SIGTERM to the program's process group (and to all it left), SIGKILL to
              everything it started after --stop-timeout, then remove the pidfile and exit 0
  HUP         passed to the program; the supervisor reopens its event log
  USR1        start the program again now (not counted as a failure)
  QUIT USR2 ALRM WINCH CONT TSTP TTIN TTOU URG PWR   passed to the program
  --stop-signal SIG   replaces TERM as what asks the program to stop (nginx wants QUIT)

Readiness and held sockets (-r):
  --ready notify        a child is started once it sends READY=1 to its NOTIFY_SOCKET (a socket
                        of its own; only messages from its process tree count)
  --ready tcp:H:P       ... once H:P accepts a connection (for programs that do not notify)
  --ready-timeout S     a first child not ready in S seconds (default 60) fails the start: exit 4
  --listen [NAME=]ADDR  bound once by the supervisor, held for its whole life, and passed to every
                        child at fd 3.. with LISTEN_FDS, LISTEN_FDNAMES and LISTEN_PID (its own pid);
                        --restart then starts the new child before it stops the old: no downtime
  -f -r under systemd   READY=1 to systemd's NOTIFY_SOCKET once the child is ready (Type=notify)

Watchdog, health and memory (with -r):
  each restarts the program (a new copy, as on USR1), the reason in the event log
  --health-cmd CMD     sh -c CMD as the program's user once it has started, every --health-interval
                       (10 s), killed with its group after --health-timeout (5 s); --health-retries (3)
                       failures in a row restart it, its last output in the log
  --max-memory SIZE    the program's whole process tree over SIZE (512M, 2G) for 3 samples (1 a second)
  --watchdog SECONDS   WATCHDOG_USEC for the program; no WATCHDOG=1 that long: SIGABRT, SIGKILL after
                       --stop-timeout, restart (a Node app using the library pings on its own)

Why it died (-r):
  Each end of the program is one event-log line: how (exit status, signal, core dumped), after
  how long, who (--stop, --restart, a probe, the kernel's OOM killer), what next; then its last
  lines (10 at most) on its --stderr/--output file. NAME.status and --status --json: lastExit.
  --on-exit CMD runs sh -c CMD after each end (--stop-timeout at most), as --user, with
  DAEMONIZE_NAME, _PIDFILE, _CHILD_PID, _EXIT_CODE, _EXIT_SIGNAL, _REASON, _UPTIME, _RESTARTS,
  _STDERR_TAIL (a file with the last lines).
  --logs [--lines N] [--follow]: the last N (20) lines of stdout, stderr and the event log;
  --follow goes on across logrotate's renames until SIGINT or SIGTERM (exit 0).

Exit status of a start:
  ${ExitCode.OK}    the program is running and the pidfile holds its pid (with -r: the supervisor's)
  ${ExitCode.FAILURE}    a step before exec failed (pidfile, chdir, user, log file, fork)
  ${ExitCode.USAGE}    bad options or arguments
  ${ExitCode.ALREADY_RUNNING}    already running: another process holds the pidfile's lock
  ${ExitCode.NOT_READY}    (library mode, or -r --ready) the program exited or timed out before it was ready
  ${ExitCode.CANNOT_EXECUTE}  the program was found but cannot be executed
  ${ExitCode.NOT_FOUND}  the program was not found

Exit status of the verbs:
  (the daemon is whoever holds the pidfile's lock; no other process is ever signalled)
  --running   0 running, 1 not running (a crash-loop pause is not running)
  --status    0 running, 1 dead but the pidfile remains, 3 not running (or paused), 4 unknown (LSB);
              --json prints an object, --list --json an array
  --stop      0 stopped (the daemon and its session are gone), 1 not running (a stale pidfile is
              removed) or not permitted; waits the daemon's own --stop-timeout + 5 s unless given
  --restart   0 restarted, else as a start; --signal: 0 sent, 1 not running; 2 for usage errors
  --list      0, 1 when the directory cannot be read; a bad pidfile gets its own line
  --logs      0, 1 when no file is known (give --stdout, --stderr, --output or --errlog)
  Durations are at most 2147483 s; --attempts and --limit at most 1000000.
`;
