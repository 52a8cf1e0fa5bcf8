'use strict';
// The report's cells, shared by the text and Markdown renderers: a row's figures as text, a section's tables and
// notes, the side-by-side table (one line per measure, one column per tool) and the matrix of observations.
const { fmtMs, fmtRatio, fmtValue, fmtGoal } = require('../lib/format');

/** The tools compared, as the side-by-side tables name them; rows say which is theirs in `compare.tool`. */
const TOOLS = [['daemonize', 'daemonize'], ['libslack', 'libslack daemon'], ['bmc', 'bmc daemonize'], ['ssd', 'start-stop-daemon'], ['pm2', 'pm2']];

const NO_SUPERVISOR = { bmc: 'no supervisor', ssd: 'no supervisor' };

/** The lines of the side-by-side table: rows whose compare.line matches, one cell per tool. */
const SUMMARY = [
  { line: 'launch', label: 'start a daemon: launcher wall time (ratio to `node -e 0`)' },
  { line: 'launch', label: 'pidfile names the running program when the launcher returns',
    cell: (row) => (row.pidfileReadyAtExit ? `${row.pidfileReadyAtExit.ready} of ${row.pidfileReadyAtExit.of} runs` : null) },
  { line: 'stdout', label: 'program writes 256 MiB to its log file: launch to all written (ratio to a shell redirect)', absent: { pm2: 'not measured' } },
  { line: 'respawn', label: 'respawn: SIGKILL of the program to its successor\'s exec', absent: NO_SUPERVISOR },
  { line: 'stop', label: 'stop: CLI wall time (ratio to `node -e 0`)', absent: { bmc: 'no stop command', ssd: 'not measured' } },
  { line: 'query', label: 'status and running: CLI wall time (ratio to `node -e 0`)',
    absent: { bmc: 'no such command', ssd: 'not measured', libslack: 'not measured', pm2: 'not measured' } },
  { line: 'uss', label: 'supervisor memory: USS (RSS)', absent: NO_SUPERVISOR,
    cell: (row) => `${fmtValue(row.median, row.unit)}${typeof row.rssMiB === 'number' ? ` (${row.rssMiB.toFixed(1)} MiB)` : ''}` },
  { line: 'cpu-idle', label: 'supervisor CPU, idle program', absent: NO_SUPERVISOR },
  { line: 'restart-failed', label: 'restarts of a live HTTP server: requests failed (request loop on 127.0.0.1)', absent: NO_SUPERVISOR },
  { line: 'restart-serving', label: 'restart: command issued -> new child serving (median)', absent: NO_SUPERVISOR },
  { line: 'cpu-crash', label: 'supervisor CPU, program in a crash loop', absent: { ...NO_SUPERVISOR, pm2: 'not measured' } },
];

const isObservation = (row) => row.status === 'observed';
const statusText = (row) => (row.status === 'error' ? 'ERROR' : row.status);
const allRows = (results) => results.sections.flatMap((s) => s.rows);

const HEADERS = ['measure', 'subject', 'median', 'baseline median', 'ratio', 'goal', 'detail'];
const ALIGN = ['l', 'l', 'r', 'l', 'l', 'l', 'l'];

/** A measured row's cells, in HEADERS' order. */
function rowCells(row) {
  const ok = row.status === 'ok';
  return [
    row.measure,
    row.subject,
    ok ? `${fmtValue(row.median, row.unit)}${row.n > 1 ? ` (n=${row.n})` : ''}` : statusText(row),
    ok && typeof row.baselineMedian === 'number' ? `${fmtMs(row.baselineMedian)} ${row.baseline}`
      : row.baseline && row.baseline !== 'none' ? `- ${row.baseline}` : '-',
    ok && typeof row.ratio === 'number' ? fmtRatio(row.ratio) : '-',
    !row.goal ? '-' : `${fmtGoal(row.goal)}${row.verdict ? ` ${row.verdict}` : ''}`,
    row.detail || (ok && row.min !== undefined && row.unit === 'ms' ? `min ${fmtMs(row.min)}, max ${fmtMs(row.max)}` : ''),
  ];
}

/** A section as parts for a renderer: its measured rows, the extra tables rows carry, and its notes (each once,
 *  with the reasons of rows that did not measure). */
function sectionParts(section) {
  const measured = section.rows.filter((r) => !isObservation(r));
  const notes = [];
  for (const row of section.rows) {
    if (row.reason) notes.push(`${row.subject}, ${row.measure}: ${statusText(row)}: ${row.reason}`);
    for (const note of row.notes || []) if (!notes.includes(note)) notes.push(note);
  }
  return { measured, observed: section.rows.filter(isObservation), tables: section.rows.filter((r) => r.table).map((r) => r.table), notes };
}

/** One cell of the side-by-side table for `tool` on `spec`'s line. */
function summaryCell(results, spec, tool) {
  const rows = allRows(results).filter((r) => r.compare && r.compare.line === spec.line && r.compare.tool === tool);
  if (rows.length === 0) return (spec.absent && spec.absent[tool]) || '-';
  const parts = rows.map((row) => {
    const text = row.status !== 'ok' ? statusText(row) : spec.cell ? spec.cell(row)
      : `${fmtValue(row.median, row.unit)}${typeof row.ratio === 'number' ? ` (${fmtRatio(row.ratio)})` : ''}`;
    return text == null ? null : row.compare.qualifier ? `${row.compare.qualifier}: ${text}` : text;
  }).filter(Boolean);
  return parts.length ? parts.join('; ') : '-';
}

/** Observations as a matrix: one line per measure, one column per tool, and the details they carry. */
function observationMatrix(results) {
  const rows = allRows(results).filter(isObservation);
  return {
    lines: [...new Set(rows.map((r) => r.measure))].map((measure) => [measure,
      ...TOOLS.map(([key]) => (rows.find((r) => r.measure === measure && r.compare.tool === key) || { value: '-' }).value)]),
    details: rows.filter((r) => r.detail).map((r) => [(TOOLS.find(([key]) => key === r.compare.tool) || [])[1] || r.compare.tool,
      r.measure, r.detail]),
  };
}

module.exports = { TOOLS, SUMMARY, HEADERS, ALIGN, allRows, rowCells, sectionParts, summaryCell, observationMatrix };
