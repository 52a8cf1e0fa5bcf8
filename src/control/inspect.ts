// What a pidfile says about its daemon. "Running" means the pidfile's lock is held, never kill(pid, 0).
import { existsSync } from 'node:fs';
import { basename } from 'node:path';

import { describeDuration } from '../supervisor/exit-description';
import { readStatus, statusFileFor, type StatusRecord } from '../supervisor/status-file';
import { isLocked, readPid } from '../pidfile';
import { startedAt } from '../process-table';

export type DaemonState = 'running' | 'dead' | 'absent';

export interface Inspection {
  name: string;
  pidfile: string;
  state: DaemonState;
  pid: number | null;
  /** The supervisor's status file, for a --respawn daemon. */
  supervised: StatusRecord | null;
}

export function nameOf(pidfile: string): string {
  return basename(pidfile).replace(/\.pid$/, '');
}

export function inspect(pidfile: string): Inspection {
  const running = isLocked(pidfile);
  const state: DaemonState = running ? 'running' : existsSync(pidfile) ? 'dead' : 'absent';
  const status = running ? readStatus(statusFileFor(pidfile)) : null;
  const pid = readPid(pidfile);
  return {
    name: nameOf(pidfile),
    pidfile,
    state,
    pid,
    supervised: status !== null && status.supervisor === pid ? status : null,
  };
}

/** The human line of --status and --list. */
export function describeInspection(found: Inspection, now = Date.now()): string {
  if (found.state === 'absent') return `${found.name}: not running`;
  if (found.state === 'dead') {
    return `${found.name}: dead, but pidfile ${found.pidfile} remains${found.pid !== null ? ` (pid ${found.pid})` : ''}`;
  }
  const parts: string[] = [];
  const s = found.supervised;
  if (s) {
    parts.push(s.child !== null ? `child pid ${s.child}` : `no child (${s.state})`);
    parts.push(`up ${describeDuration((now - s.started) / 1000)}`);
    parts.push(`${s.restarts} restart${s.restarts === 1 ? '' : 's'}`);
    if (s.log) parts.push(`log ${s.log}`);
  } else if (found.pid !== null) {
    const started = startedAt(found.pid);
    if (started !== null) parts.push(`up ${describeDuration((now - started) / 1000)}`);
  }
  const pid = found.pid !== null ? ` as pid ${found.pid}` : '';
  return `${found.name}: running${pid}${s ? ' (supervisor)' : ''}${parts.length ? `, ${parts.join(', ')}` : ''}`;
}
