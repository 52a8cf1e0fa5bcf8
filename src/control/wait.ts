// Polling with a deadline, without blocking the event loop: the control API is used inside programs too.
// The global timers, not node:timers/promises: that module is a part of every verb's start-up to load.

/**
 * Polls `done` every `stepMs` until it is true or `timeoutMs` pass; resolves with whether it became true.
 * The second look comes after one turn of the event loop, not a whole step: a caller that has just sent
 * SIGTERM (--stop) is often answered by then, and a timer set before a script's event loop first runs
 * fires late (about 2 ms for a 1 ms timer here). `wakeOn`, when given, is handed a function that ends the
 * step under way at once: a caller told of the change it waits for (process-exit.ts) looks then, not at
 * the end of the step.
 */
export async function pollUntil(done: () => boolean, timeoutMs: number, stepMs = 10,
  wakeOn?: (wake: () => void) => void): Promise<boolean> {
  // A deadline on the clock, not one long timer: no 2^31 ms timer limit applies.
  const deadline = Date.now() + timeoutMs;
  let endStep: (() => void) | null = null;
  wakeOn?.(() => endStep?.());
  for (let look = 0; ; look++) {
    if (done()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise<void>((resolve) => {
      if (look === 0) {
        setImmediate(resolve);
        return;
      }
      const timer = setTimeout(resolve, stepMs);
      endStep = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    endStep = null;
  }
}
