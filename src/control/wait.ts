// Polling with a deadline, without blocking the event loop: the control API is used inside programs too.

/** The global timer, not node:timers/promises: that module is a part of every verb's start-up to load. */
const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

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
