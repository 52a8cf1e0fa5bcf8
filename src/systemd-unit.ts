// --systemd-unit NAME: prints a unit file that starts this very command line under systemd.
//   detaching mode: Type=forking with PIDFile= (daemonize returns once the pidfile names the program);
//   -f:             Type=exec (systemd waits for the exec, nothing more), or Type=notify when told that the
//                   program says READY=1 itself (--systemd-notify: a Node app calling the library's ready()).
//                   Type=notify for a program that never notifies (nginx, gunicorn) hangs its start, then
//                   systemd kills it: so notify is never guessed.
// Every unit has Restart=on-failure: with -r it is the backstop for the supervisor itself.
// Every path in ExecStart= is absolute: systemd starts services in / with a minimal PATH.
import { join } from 'node:path';

import type { Settings } from './settings';

/** The command-line options that shape the unit, as the user gave them. */
export interface UnitChoices {
  foreground: boolean;
  respawn: boolean;
  /** The program notifies readiness (sd_notify READY=1): -f units get Type=notify. */
  notify: boolean;
  /** Given flags that pass straight through (policy, umask, env, user), already in argv form. */
  passThrough: string[];
}

const SAFE = /^[A-Za-z0-9_@+=:,./-]+$/;

/** Quotes one word for ExecStart=: specifiers (%) and variables ($) doubled, then C-style double quotes. */
export function quoteForSystemd(word: string): string {
  const escaped = word.replace(/%/g, '%%').replace(/\$/g, '$$$$');
  if (escaped !== '' && SAFE.test(escaped)) return escaped;
  return `"${escaped.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

export function systemdUnit(name: string, command: string[], settings: Settings, choices: UnitChoices): string {
  const pidfile = settings.pidfile ?? join('/run', `${name}.pid`);
  const daemonizeArgs: string[] = [];
  if (choices.foreground) daemonizeArgs.push('--foreground');
  if (choices.respawn) daemonizeArgs.push('--respawn');
  if (!choices.foreground || settings.pidfile !== undefined) daemonizeArgs.push('--pidfile', pidfile);
  if (settings.cwd !== '/') daemonizeArgs.push('--chdir', settings.cwd);
  if (settings.stdout !== undefined && settings.stdout === settings.stderr) {
    daemonizeArgs.push('--output', settings.stdout);
  } else {
    if (settings.stdout !== undefined) daemonizeArgs.push('--stdout', settings.stdout);
    if (settings.stderr !== undefined) daemonizeArgs.push('--stderr', settings.stderr);
  }
  daemonizeArgs.push(...choices.passThrough);
  const execStart = [process.execPath, join(__dirname, '..', 'bin', 'daemonize.cjs'), ...daemonizeArgs, '--', ...command]
    .map(quoteForSystemd).join(' ');

  const service = !choices.foreground ? ['Type=forking', `PIDFile=${pidfile}`]
    : choices.notify ? [
      'Type=notify',
      // Under -f -r the READY=1 comes from the supervisor's child, not from the main process.
      `NotifyAccess=${choices.respawn ? 'all' : 'main'}`,
    ]
    : ['Type=exec'];
  return [
    '[Unit]',
    `Description=${name} (started by daemonize)`,
    'After=network.target',
    '',
    '[Service]',
    ...service,
    `ExecStart=${execStart}`,
    'ExecReload=/bin/kill -HUP $MAINPID',
    // Without --respawn systemd restarts the program; with it, daemonize does, and systemd restarts a
    // supervisor that died (it exits 0 when stopped, and non-zero when it gives up or is killed).
    'Restart=on-failure',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}
