// The human line of --status and --list, and the LSB code --status exits with.
import { describeDuration } from '../supervisor/exit-description';
import { startedAt } from '../process-table';
import type { Inspection } from './inspect';

/** LSB init-script status codes: 0 running, 1 dead with a pidfile left, 3 not running, 4 unknown. */
export const StatusCode = { RUNNING: 0, DEAD_WITH_PIDFILE: 1, NOT_RUNNING: 3, UNKNOWN: 4 } as const;

export function statusCode(found: Inspection): number {
  if (found.running) return StatusCode.RUNNING;
  return found.state === 'dead' ? StatusCode.DEAD_WITH_PIDFILE : StatusCode.NOT_RUNNING;
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

function seconds(ms: number): string {
  return describeDuration(Math.max(0, ms) / 1000);
}

/** "paused after 3 failures; next attempt in 27.0 s" */
function pauseWords(found: Inspection, now: number): string {
  const r = found.record;
  const after = r?.failures != null ? `paused after ${plural(r.failures, 'failure')}` : 'paused after repeated failures';
  const next = r?.pausedUntil != null ? `next attempt in ${seconds(r.pausedUntil - now)}` : 'next attempt time unknown';
  return `${after}; ${next}`;
}

export function describeInspection(found: Inspection, now = Date.now()): string {
  const { name } = found;
  if (found.state === 'stopped') return `${name}: not running`;
  if (found.state === 'dead') return `${name}: dead, pidfile ${found.pidfile} remains`;
  const pid = found.pid !== null ? ` as pid ${found.pid}` : '';
  if (!found.supervised) {
    const started = found.pid !== null ? startedAt(found.pid) : null;
    const other = found.identity.daemon === null ? ' (another user\'s: its processes cannot be read)' : '';
    return `${name}: running${pid}${other}${started !== null ? `, up ${seconds(now - started)}` : ''}`;
  }
  const r = found.record;
  const parts: string[] = [];
  if (found.child !== null) parts.push(`child pid ${found.child}`);
  const since = r?.started ?? (found.pid !== null ? startedAt(found.pid) : null);
  if (since !== null) parts.push(`up ${seconds(now - since)}`);
  if (r?.restarts != null) parts.push(plural(r.restarts, 'restart'));
  if (r?.log) parts.push(`log ${r.log}`);
  if (r === null) parts.push('status record missing: read from /proc');
  const details = parts.length > 0 ? `, ${parts.join(', ')}` : '';
  switch (found.state) {
    case 'paused': return `${name}: ${pauseWords(found, now)} (supervisor pid ${found.pid}${details})`;
    case 'stopping': return `${name}: stopping (supervisor pid ${found.pid}${details})`;
    case 'starting': return `${name}: starting, no child yet (supervisor pid ${found.pid}${details})`;
    default: return `${name}: running${pid} (supervisor)${details}`;
  }
}
