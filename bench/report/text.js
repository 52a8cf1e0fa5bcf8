'use strict';
// The report as plain text, for a terminal.
const { HEADERS, ALIGN, rowCells, sectionParts } = require('./cells');
const { NEAR } = require('../lib/format');

/** Plain-text table with aligned columns; `align` is 'l' or 'r' per column. */
function table(headers, rows, align = []) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const pad = (cell, i) => (align[i] === 'r' ? String(cell).padStart(widths[i]) : String(cell).padEnd(widths[i]));
  const line = (cells) => cells.map(pad).join(' | ').trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('-+-'), ...rows.map(line)].join('\n');
}

function renderText(results) {
  const m = results.machine;
  const out = [
    `daemonize ${m.daemonize ?? '?'}${m.git ? ` @ ${m.git}` : ''} benchmarks, ${m.date}`,
    `machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB; ${m.platform}, kernel ${m.kernel}; Debian ${m.debian ?? '?'}; `
      + `Node ${m.node}, npm ${m.npm ?? '?'}${m.nodeEnv?.length ? ` (${m.nodeEnv.join(', ')})` : ''}`,
    `load average at start: ${m.loadavg.join(' ')}; temp files under ${m.tmpdir}`,
    `peers: ${Object.values(results.peers).map((p) => `${p.name}: ${p.version || 'not installed'}`).join('; ')}`,
    `mode: ${results.settings.quick ? 'quick (smoke test: few pairs, numbers are rough)' : 'full'}; `
      + 'median of each side, ratio = median of per-pair ratios (pairs interleaved, order alternating)',
  ];
  if (results.settings.ignoredArgs.length) out.push(`ignored arguments: ${results.settings.ignoredArgs.join(' ')}`);
  for (const section of results.sections) {
    const { measured, observed, tables, notes } = sectionParts(section);
    out.push('', `== ${section.title} (${section.seconds} s) ==`);
    if (measured.length) out.push(table(HEADERS, measured.map(rowCells), ALIGN));
    const observations = observed.map((r) => [r.measure, r.subject, r.value, r.detail || '']);
    if (observed.length) out.push(table(['observed', 'subject', 'result', 'detail'], observations));
    for (const t of tables) out.push('', `${t.title}:`, table(t.headers, t.rows, t.align));
    if (notes.length) out.push('notes:', ...notes.map((note) => `  - ${note}`));
  }
  out.push('', `goal verdicts: met = at or under the goal (the ratio, or the median for absolute goals); near = within ${NEAR * 100}% `
    + 'over it (noise); missed = further over.', `load average at end: ${m.loadavgAtEnd.join(' ')}`,
  `total ${results.seconds} s (${results.sections.map((s) => `${s.id} ${s.seconds} s`).join(', ')})`);
  return `${out.join('\n')}\n`;
}

module.exports = { renderText };
