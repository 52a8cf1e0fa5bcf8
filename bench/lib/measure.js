'use strict';
// How every figure is taken: a monotonic clock, polling with a deadline, and subject/baseline timings in
// interleaved pairs (alternating which goes first, after unmeasured warm-up rounds), reported as the median
// of each side and the median of the per-pair ratios. Timings are never asserted.

/** Monotonic time in milliseconds, as a float. */
const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

const sleeper = new Int32Array(new SharedArrayBuffer(4));
/** Blocks the thread for `ms` milliseconds without spinning. */
const sleepMs = (ms) => Atomics.wait(sleeper, 0, 0, ms);

/** Lets the event loop run (signal handlers included) between two measurements. */
const tick = () => new Promise((resolve) => setImmediate(resolve));
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

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

function median(values) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Medians and per-pair ratios from two equally long sample lists measured in interleaved pairs. */
function summarize(subject, baseline) {
  const ratio = subject.map((s, i) => s / baseline[i]);
  return { n: subject.length, samples: { subject, baseline, ratio }, median: median(subject), baselineMedian: median(baseline),
    ratio: median(ratio) };
}

/** A row's figures from repeated samples without a baseline. */
function stats(samples) {
  return { status: 'ok', n: samples.length, median: median(samples), min: Math.min(...samples), max: Math.max(...samples), samples };
}

/**
 * Runs `baseline` and `subject` (synchronous, called as (pairIndex, isWarmup), returning ms or throwing) in
 * `pairs` interleaved pairs after `warmup` rounds, yielding to the event loop before each so Ctrl-C can clean up.
 */
async function runPairs({ pairs, warmup = 1, baseline, subject, onPair }) {
  const sides = { baseline: [], subject: [] };
  const run = { baseline, subject };
  for (let i = 0; i < warmup + pairs; i++) {
    const warm = i < warmup;
    const n = warm ? i : i - warmup;
    for (const side of (warm || n % 2 === 0) ? ['baseline', 'subject'] : ['subject', 'baseline']) {
      await tick();
      const ms = run[side](n, warm);
      if (!warm) sides[side][n] = ms;
    }
    if (!warm && onPair) onPair(n, sides.subject[n], sides.baseline[n]);
  }
  return { status: 'ok', ...summarize(sides.subject, sides.baseline) };
}

/** Fills `row` with what `fn` returns, or with the error it throws: a part that fails does not end the run. */
async function measureInto(row, fn) {
  try {
    Object.assign(row, await fn());
  } catch (error) {
    Object.assign(row, { status: 'error', reason: error.message });
  }
  return row;
}

/** The rows `fn` returns, or when it throws, one row that says so. */
async function rowsOrError(measure, fn, subject = '-') {
  try {
    return await fn();
  } catch (error) {
    return [{ measure, subject, status: 'error', reason: error.stack || error.message }];
  }
}

module.exports = { nowMs, sleepMs, tick, pause, waitFor, median, summarize, stats, runPairs, measureInto, rowsOrError };
