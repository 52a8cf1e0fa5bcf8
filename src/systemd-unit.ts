// --systemd-unit NAME: prints a unit file that starts this very command line under systemd.
//   detaching mode: Type=forking with PIDFile= (daemonize returns once the pidfile names the program);
//   -f:             Type=notify (the program, a Node app calling the library's ready(), says READY=1).
// Every path in ExecStart= is absolute: systemd starts services in / with a minimal PATH.
import { join } from 'node:path';

import type { Settings } from './settings';

/** The command-line options that shape the unit, as the user gave them. */
export interface UnitChoices {
  foreground: boolean;
  respawn: boolean;
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
  const execStart = [process.execPath, join(__dirname, '..', 'bin', 'daemonize'), ...daemonizeArgs, '--', ...command]
    .map(quoteForSystemd).join(' ');

  const service = choices.foreground
    ? [
      'Type=notify',
      // Under -f -r the READY=1 comes from the supervisor's child, not from the main process.
      `NotifyAccess=${choices.respawn ? 'all' : 'main'}`,
    ]
    : ['Type=forking', `PIDFile=${pidfile}`];
  return [
    '[Unit]',
    `Description=${name} (started by daemonize)`,
    'After=network.target',
    '',
    '[Service]',
    ...service,
    `ExecStart=${execStart}`,
    'ExecReload=/bin/kill -HUP $MAINPID',
    // With --respawn daemonize itself restarts the program; otherwise let systemd do it.
    ...(choices.respawn ? [] : ['Restart=on-failure']),
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}
