'use strict';
// Figures as text, goal verdicts, and the plain-text table.

const MiB = 1024 * 1024;


function fmtMs(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return '-';
  return ms >= 100 ? `${ms.toFixed(0)} ms` : ms >= 10 ? `${ms.toFixed(1)} ms` : `${ms.toFixed(2)} ms`;
}

function fmtRatio(r) {
  if (r === null || r === undefined || Number.isNaN(r)) return '-';
  return `${r.toFixed(2)}x`;
}

/** A row's median (or any value) in its own unit: 'ms' (the default), 'MiB' or '%'. */
function fmtValue(value, unit = 'ms') {
  if (value === null || value === undefined || Number.isNaN(value)) return '-';
  if (unit === 'ms') return fmtMs(value);
  if (unit === '%') return `${value.toFixed(3)} %`;
  if (unit === 'MiB') return `${value.toFixed(2)} MiB`;
  return `${value} ${unit}`;
}

/** Within this much over a goal, a result is 'near' rather than 'missed': these machines are noisy. */
const NEAR = 0.05;

/** 'met', 'near' or 'missed' for a measured row with a goal; null otherwise. A relative goal
 *  ({ max }) judges the ratio, an absolute one ({ max, unit, absolute: true }) the median. */
function verdict(row) {
  if (row.status !== 'ok' || !row.goal) return null;
  const value = row.goal.absolute ? row.median : row.ratio;
  if (typeof value !== 'number' || Number.isNaN(value)) return null;
  if (value <= row.goal.max) return 'met';
  return value <= row.goal.max * (1 + NEAR) ? 'near' : 'missed';
}

/** The goal as text: '<= 1.15x' or '<= 8 MiB'. */
function fmtGoal(goal) {
  if (!goal) return '-';
  return goal.absolute ? `<= ${goal.max} ${goal.unit}` : `<= ${goal.max.toFixed(2)}x`;
}

/** Plain-text table with aligned columns; `align` is 'l' or 'r' per column. */
function table(headers, rows, align) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const pad = (cell, i) => (align[i] === 'r' ? String(cell).padStart(widths[i]) : String(cell).padEnd(widths[i]));
  const line = (cells) => cells.map(pad).join(' | ').trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('-+-'), ...rows.map(line)].join('\n');
}

module.exports = { MiB, fmtMs, fmtRatio, fmtValue, NEAR, verdict, fmtGoal, table };
