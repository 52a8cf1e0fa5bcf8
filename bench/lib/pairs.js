'use strict';
// Interleaved pairs, subject against baseline, and their medians and per-pair ratios: the method of every
// timing here. Timings are never asserted.
const { tick } = require('./clock');

function median(values) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * The measurement plan shared by runPairs and runPairsAsync: `warmup` unmeasured rounds of each side,
 * then `pairs` interleaved pairs, alternating which side goes first. Yields [side, pairIndex, isWarmup].
 */
function* pairSchedule(pairs, warmup) {
  for (let i = 0; i < warmup; i++) {
    yield ['baseline', i, true];
    yield ['subject', i, true];
  }
  for (let i = 0; i < pairs; i++) {
    const order = i % 2 === 0 ? ['baseline', 'subject'] : ['subject', 'baseline'];
    for (const side of order) yield [side, i, false];
  }
}

function pairCollector(onPair) {
  const base = [];
  const subj = [];
  return {
    add(side, i, ms) {
      (side === 'baseline' ? base : subj)[i] = ms;
      if (onPair && base[i] !== undefined && subj[i] !== undefined) onPair(i, subj[i], base[i]);
    },
    result: () => summarize(subj, base),
  };
}

/**
 * Runs `baseline` and `subject` (each synchronous, called as (pairIndex, isWarmup), returning a duration
 * in ms or throwing) in `pairs` interleaved pairs, alternating which of the two goes first, after `warmup`
 * unmeasured rounds of each. Returns the raw samples, the per-pair ratios subject/baseline and their
 * medians. Timings are never asserted.
 */
function runPairs({ pairs, warmup = 1, baseline, subject, onPair }) {
  const collect = pairCollector(onPair);
  for (const [side, i, isWarmup] of pairSchedule(pairs, warmup)) {
    const ms = side === 'baseline' ? baseline(i, isWarmup) : subject(i, isWarmup);
    if (!isWarmup) collect.add(side, i, ms);
  }
  return collect.result();
}

/** runPairs, yielding to the event loop before each measurement so Ctrl-C / SIGTERM can clean up. */
async function runPairsAsync({ pairs, warmup = 1, baseline, subject, onPair }) {
  const collect = pairCollector(onPair);
  for (const [side, i, isWarmup] of pairSchedule(pairs, warmup)) {
    await tick();
    const ms = side === 'baseline' ? baseline(i, isWarmup) : subject(i, isWarmup);
    if (!isWarmup) collect.add(side, i, ms);
  }
  return collect.result();
}

/** The rows `fn` returns, or when it throws, one row that says so: a part that fails does not end the run. */
async function rowsOrError(measure, fn, subject = '-') {
  try {
    return await fn();
  } catch (error) {
    return [{ measure, subject, status: 'error', reason: error.stack || error.message }];
  }
}

/** Medians and per-pair ratios from two equally long sample lists measured in interleaved pairs. */
function summarize(subject, baseline) {
  const ratios = subject.map((s, i) => s / baseline[i]);
  return {
    n: subject.length,
    samples: { subject, baseline, ratio: ratios },
    median: median(subject),
    baselineMedian: median(baseline),
    ratio: median(ratios),
  };
}


module.exports = { median, runPairs, runPairsAsync, rowsOrError, summarize };
