'use strict';
// Time: a monotonic clock, blocking sleeps, and polling with a deadline.

/** Monotonic time in milliseconds, as a float. */
function nowMs() {
  return Number(process.hrtime.bigint()) / 1e6;
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Blocks the thread for `ms` milliseconds without spinning. */
function sleepMs(ms) {
  Atomics.wait(sleeper, 0, 0, ms);
}

/** Lets the event loop run (signal handlers included) between two measurements. */
function tick() {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Polls `check` every `interval` ms until it returns a truthy value or `ms` elapse; returns that value or null. */
function waitFor(check, ms = 5000, interval = 1) {
  const deadline = nowMs() + ms;
  for (;;) {
    const value = check();
    if (value) return value;
    if (nowMs() > deadline) return null;
    sleepMs(interval);
  }
}

module.exports = { nowMs, sleepMs, tick, waitFor };
