// The text after --help's option list: examples and the exit-code table (README.md carries the same).
import { ExitCode } from './exit-codes';

export const USAGE = '[options] [--] command [args...]';

export const DESCRIPTION =
  'Run command as a Unix daemon: double fork, new session, no terminal, signals reset, stdio on /dev/null\n' +
  'or the named files, a locked pidfile written before daemonize exits. Every failure before the program\n' +
  'runs is reported here, with an exit code from the table below.';

export const EXAMPLES = `
Examples:
  daemonize --pidfile /tmp/web.pid --stdout /tmp/web.log --chdir . -- node examples/server.js
  daemonize -n web -o /var/log/web.log -u www-data -- /usr/local/bin/web --port 8080
  daemonize --name web --env NODE_ENV=production -- node /srv/web/server.js

Pidfiles:
  --name NAME uses DIR/NAME.pid, where DIR is --pidfiles, else /run for root, else
  $XDG_RUNTIME_DIR/daemonize, else ~/.local/state/daemonize. The daemon keeps the pidfile
  locked (flock) for its whole life; a second start on a locked pidfile is refused.

Exit status:
  ${ExitCode.OK}    the program is running as a daemon and the pidfile holds its pid
  ${ExitCode.FAILURE}    a step before exec failed (pidfile, chdir, user, log file, fork)
  ${ExitCode.USAGE}    bad options or arguments
  ${ExitCode.ALREADY_RUNNING}    already running: another process holds the pidfile's lock
  ${ExitCode.CANNOT_EXECUTE}  the program was found but cannot be executed
  ${ExitCode.NOT_FOUND}  the program was not found
`;
