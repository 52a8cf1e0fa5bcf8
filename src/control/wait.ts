// The control verbs are short synchronous programs: a blocking sleep between polls is all they need.
const cell = new Int32Array(new SharedArrayBuffer(4));

export function sleepMs(ms: number): void {
  Atomics.wait(cell, 0, 0, ms);
}

/** Polls `done` every `stepMs` until it is true or `timeoutMs` pass; returns whether it became true. */
export function pollUntil(done: () => boolean, timeoutMs: number, stepMs = 5): boolean {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (done()) return true;
    if (Date.now() >= deadline) return false;
    sleepMs(stepMs);
  }
}
