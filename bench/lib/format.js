'use strict';
// Figures as text, and goal verdicts (goals.js): shared by the sections' notes and the report.

const fmtMs = (ms) => (ms == null || Number.isNaN(ms) ? '-' : `${ms.toFixed(ms >= 100 ? 0 : ms >= 10 ? 1 : 2)} ms`);
const fmtRatio = (r) => (r == null || Number.isNaN(r) ? '-' : `${r.toFixed(2)}x`);

/** A value in its unit: 'ms' (the default), 'MiB', '%' or any other. */
function fmtValue(value, unit = 'ms') {
  if (value == null || Number.isNaN(value)) return '-';
  if (unit === 'ms') return fmtMs(value);
  if (unit === '%') return `${value.toFixed(3)} %`;
  if (unit === 'MiB') return `${value.toFixed(2)} MiB`;
  return `${value} ${unit}`;
}

const round = (value, digits = 2) => (value == null || Number.isNaN(value) ? null : Number(value.toFixed(digits)));

/** Within this much over a goal, a result is 'near' rather than 'missed': these machines are noisy. */
const NEAR = 0.05;

/** 'met', 'near' or 'missed' for a measured row with a goal, else null. A relative goal ({ max }) judges the
 *  ratio to the baseline, an absolute one ({ max, unit, absolute: true }) the median. */
function verdict(row) {
  if (row.status !== 'ok' || !row.goal) return null;
  const value = row.goal.absolute ? row.median : row.ratio;
  if (typeof value !== 'number' || Number.isNaN(value)) return null;
  if (value <= row.goal.max) return 'met';
  return value <= row.goal.max * (1 + NEAR) ? 'near' : 'missed';
}

const fmtGoal = (goal) => (!goal ? '-' : goal.absolute ? `<= ${goal.max} ${goal.unit}` : `<= ${goal.max.toFixed(2)}x`);

module.exports = { fmtMs, fmtRatio, fmtValue, round, NEAR, verdict, fmtGoal };
