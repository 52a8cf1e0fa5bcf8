// The launcher's wait: synchronously (the launcher has nothing else to do, and its event loop may hold
// the app's own start-up work) it polls the readiness pipe and the daemon's stderr pipe, copying stderr
// through as it comes, until the daemon reports, dies (EOF with no report) or the deadline passes.
import { readSync } from 'node:fs';

import { native } from '../native';
import { parseReport, type ReadyReport } from './ready-report';

export type ReadyOutcome =
  | { kind: 'reported'; report: ReadyReport }
  | { kind: 'died' }
  | { kind: 'timeout' };

const POLLNVAL = 0x20;
/** After the outcome, what is already in the stderr pipe is copied for at most this long. */
const DRAIN_MS = 500;
/** After a failure or a kill, how long to wait for the daemon to be gone (its readiness pipe closed). */
const GONE_MS = 5000;

export interface WaitPipes {
  readyFd: number;
  stderrFd: number;
  /** Receives every chunk the daemon writes to stderr. */
  relay: (chunk: Buffer) => void;
  /** 0: no limit. */
  timeoutMs: number;
  /** Called once when the timeout passes (the launcher kills the daemon). */
  onTimeout: () => void;
  now?: () => number;
}

class StderrPipe {
  private open = true;
  private readonly buffer = Buffer.alloc(65536);

  constructor(private readonly fd: number, private readonly relay: (chunk: Buffer) => void) {}

  get isOpen(): boolean {
    return this.open;
  }

  /** Copies one read's worth; notes EOF (the caller closes the descriptor). */
  copyOnce(): void {
    const n = readSync(this.fd, this.buffer, 0, this.buffer.length, null);
    if (n === 0) this.open = false;
    else this.relay(this.buffer.subarray(0, n));
  }

  /** Copies what is already there (programs the daemon started may keep the pipe open forever). */
  drain(now: () => number): void {
    const deadline = now() + DRAIN_MS;
    while (this.open && now() < deadline && native.poll([this.fd], 0)[0] !== 0) this.copyOnce();
  }
}

function check(revents: number): number {
  if (revents & POLLNVAL) throw new Error('poll: a readiness pipe descriptor is not open');
  return revents;
}

/**
 * Waits for the outcome. A failure (a report of one, a timeout, which `onTimeout` answers with a kill)
 * is returned only once the daemon is gone, or GONE_MS later: Node prints an uncaught exception's
 * stack after the 'exit' listeners that report it, and the last words of a daemon should all be shown.
 */
export function waitForReady(pipes: WaitPipes): ReadyOutcome {
  const now = pipes.now ?? Date.now;
  const stderr = new StderrPipe(pipes.stderrFd, pipes.relay);
  const buffer = Buffer.alloc(4096);
  let text = '';
  let outcome: ReadyOutcome | null = null;
  let deadline = pipes.timeoutMs > 0 ? now() + pipes.timeoutMs : Infinity;
  const fail = (failure: ReadyOutcome): void => {
    outcome = failure;
    deadline = now() + GONE_MS;
  };
  for (;;) {
    const left = deadline - now();
    if (left <= 0) {
      if (outcome !== null) break;
      fail({ kind: 'timeout' });
      pipes.onTimeout();
      continue;
    }
    const fds = stderr.isOpen ? [pipes.readyFd, pipes.stderrFd] : [pipes.readyFd];
    const [readyEvents, stderrEvents = 0] = native.poll(fds, left === Infinity ? -1 : Math.min(Math.ceil(left), 2 ** 31 - 1));
    if (check(stderrEvents) !== 0) stderr.copyOnce();
    if (check(readyEvents) === 0) continue;
    const n = readSync(pipes.readyFd, buffer, 0, buffer.length, null);
    if (n === 0) {
      outcome ??= { kind: 'died' };
      break;
    }
    if (outcome !== null) continue;
    text += buffer.toString('utf8', 0, n);
    const end = text.indexOf('\n');
    if (end < 0) continue;
    const report = parseReport(text.slice(0, end));
    if (report?.ok) {
      outcome = { kind: 'reported', report };
      break;
    }
    fail(report === null ? { kind: 'died' } : { kind: 'reported', report });
  }
  stderr.drain(now);
  return outcome as ReadyOutcome;
}
