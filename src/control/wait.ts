// Polling with a deadline, without blocking the event loop: the control API is used inside programs too.
// The global timer, not node:timers/promises: that module is a part of every verb's start-up to load.

/**
 * Polls `done` every `stepMs` until it is true or `timeoutMs` pass; resolves with whether it became true.
 * `wake`, when given, is handed a function that makes the next look come at once (an event that may have
 * made `done` true), and returns what stops it calling.
 */
export async function pollUntil(done: () => boolean, timeoutMs: number, stepMs = 10,
  wake?: (lookNow: () => void) => () => void): Promise<boolean> {
  // A deadline on the clock, not one long timer: no 2^31 ms timer limit applies.
  const deadline = Date.now() + timeoutMs;
  let lookNow: (() => void) | null = null;
  const stopWaking = wake?.(() => lookNow?.());
  try {
    for (;;) {
      if (done()) return true;
      if (Date.now() >= deadline) return false;
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        lookNow = resolve;
        timer = setTimeout(resolve, stepMs);
      });
      clearTimeout(timer);
      lookNow = null;
    }
  } finally {
    stopWaking?.();
  }
}
