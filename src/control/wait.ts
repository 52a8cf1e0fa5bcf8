// Polling with a deadline, without blocking the event loop: the control API is used inside programs too.
import { setTimeout as delay } from 'node:timers/promises';

/** Polls `done` every `stepMs` until it is true or `timeoutMs` pass; resolves with whether it became true. */
export async function pollUntil(done: () => boolean, timeoutMs: number, stepMs = 10): Promise<boolean> {
  // A deadline on the clock, not one long timer: no 2^31 ms timer limit applies.
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (done()) return true;
    if (Date.now() >= deadline) return false;
    await delay(stepMs);
  }
}
