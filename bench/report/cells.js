'use strict';
// The report's cells, shared by the text and Markdown renderers: a row's figures as text, the side-by-side
// table's lines (one per measure, one column per tool) and the matrix of observations.
const lib = require('../lib');

/** The tools compared, as the side-by-side tables name them; rows say which is theirs in `compare.tool`. */
const TOOLS = [
  { key: 'daemonize', name: 'daemonize' },
  { key: 'libslack', name: 'libslack daemon' },
  { key: 'bmc', name: 'bmc daemonize' },
  { key: 'ssd', name: 'start-stop-daemon' },
  { key: 'pm2', name: 'pm2' },
];

const NO_SUPERVISOR = { bmc: 'no supervisor', ssd: 'no supervisor' };

/** The lines of the side-by-side table: rows whose compare.line matches, one cell per tool. */
const SUMMARY = [
  { line: 'launch', label: 'start a daemon: launcher wall time (ratio to `node -e 0`)' },
  {
    line: 'launch',
    label: 'pidfile names the running program when the launcher returns',
    cell: (row) => (row.pidfileReadyAtExit ? `${row.pidfileReadyAtExit.ready} of ${row.pidfileReadyAtExit.of} runs` : null),
  },
  { line: 'stdout', label: 'program writes 256 MiB to its log file: launch to all written (ratio to a shell redirect)', absent: { pm2: 'not measured' } },
  { line: 'respawn', label: 'respawn: SIGKILL of the program to its successor\'s exec', absent: NO_SUPERVISOR },
  { line: 'stop', label: 'stop: CLI wall time (ratio to `node -e 0`)', absent: { bmc: 'no stop command', ssd: 'not measured' } },
  { line: 'query', label: 'status and running: CLI wall time (ratio to `node -e 0`)', absent: { bmc: 'no such command', ssd: 'not measured', libslack: 'not measured', pm2: 'not measured' } },
  {
    line: 'uss',
    label: 'supervisor memory: USS (RSS)',
    absent: NO_SUPERVISOR,
    cell: (row) => `${lib.fmtValue(row.median, row.unit)}${typeof row.rssMiB === 'number' ? ` (${row.rssMiB.toFixed(1)} MiB)` : ''}`,
  },
  { line: 'cpu-idle', label: 'supervisor CPU, idle program', absent: NO_SUPERVISOR },
  { line: 'restart-failed', label: 'restarts of a live HTTP server: requests failed (request loop on 127.0.0.1)', absent: NO_SUPERVISOR },
  { line: 'restart-serving', label: 'restart: command issued -> new child serving (median)', absent: NO_SUPERVISOR },
  { line: 'cpu-crash', label: 'supervisor CPU, program in a crash loop', absent: { ...NO_SUPERVISOR, pm2: 'not measured' } },
];

const isObservation = (row) => row.status === 'observed';

function statusText(row) {
  return row.status === 'error' ? 'ERROR' : row.status;
}

function valueCell(row) {
  if (isObservation(row)) return row.value;
  if (row.status !== 'ok') return statusText(row);
  return `${lib.fmtValue(row.median, row.unit)}${row.n > 1 ? ` (n=${row.n})` : ''}`;
}

function baselineCell(row) {
  if (row.status === 'ok' && typeof row.baselineMedian === 'number') return `${lib.fmtMs(row.baselineMedian)} ${row.baseline}`;
  return row.baseline && row.baseline !== 'none' ? `- ${row.baseline}` : '-';
}

function ratioCell(row) {
  return row.status === 'ok' && typeof row.ratio === 'number' ? lib.fmtRatio(row.ratio) : '-';
}

function goalCell(row) {
  if (!row.goal) return '-';
  return row.verdict ? `${lib.fmtGoal(row.goal)} ${row.verdict}` : lib.fmtGoal(row.goal);
}

function detailCell(row) {
  if (row.detail) return row.detail;
  if (row.status === 'ok' && row.min !== undefined && row.unit === 'ms') return `min ${lib.fmtMs(row.min)}, max ${lib.fmtMs(row.max)}`;
  return '';
}

const HEADERS = ['measure', 'subject', 'median', 'baseline median', 'ratio', 'goal', 'detail'];

const ALIGN = ['l', 'l', 'r', 'l', 'l', 'l', 'l'];

function rowCells(row) {
  return [row.measure, row.subject, valueCell(row), baselineCell(row), ratioCell(row), goalCell(row), detailCell(row)];
}

/** The notes of a section's rows, each once, with the reasons of rows that did not measure. */
function sectionNotes(rows) {
  const notes = [];
  for (const row of rows) {
    if (row.reason) notes.push(`${row.subject}, ${row.measure}: ${statusText(row)}: ${row.reason}`);
    for (const note of row.notes || []) if (!notes.includes(note)) notes.push(note);
  }
  return notes;
}

/** One cell of the side-by-side table for `tool` on `spec`'s line. */
function summaryCell(results, spec, tool) {
  const rows = results.sections.flatMap((s) => s.rows).filter((r) => r.compare && r.compare.line === spec.line && r.compare.tool === tool);
  if (rows.length === 0) return (spec.absent && spec.absent[tool]) || '-';
  const parts = rows.map((row) => {
    let text;
    if (row.status !== 'ok') text = statusText(row);
    else if (spec.cell) text = spec.cell(row);
    else text = `${lib.fmtValue(row.median, row.unit)}${typeof row.ratio === 'number' ? ` (${lib.fmtRatio(row.ratio)})` : ''}`;
    if (text === null || text === undefined) return null;
    return row.compare.qualifier ? `${row.compare.qualifier}: ${text}` : text;
  }).filter(Boolean);
  return parts.length ? parts.join('; ') : '-';
}

/** Observations (status 'observed') as a matrix: one line per measure, one column per tool. */
function observationMatrix(results) {
  const rows = results.sections.flatMap((s) => s.rows).filter(isObservation);
  const measures = [...new Set(rows.map((r) => r.measure))];
  return {
    measures,
    cell: (measure, tool) => {
      const row = rows.find((r) => r.measure === measure && r.compare && r.compare.tool === tool);
      return row ? row.value : '-';
    },
    details: rows.filter((r) => r.detail).map((r) => ({ tool: r.compare.tool, measure: r.measure, detail: r.detail })),
  };
}

function toolName(key) {
  return (TOOLS.find((t) => t.key === key) || { name: key }).name;
}

// Text

module.exports = { TOOLS, SUMMARY, isObservation, HEADERS, ALIGN, rowCells, sectionNotes, summaryCell, observationMatrix, toolName };
