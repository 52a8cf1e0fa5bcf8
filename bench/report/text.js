'use strict';
// The report as plain text, for a terminal.
const { isObservation, HEADERS, ALIGN, rowCells, sectionNotes } = require('./cells');
const lib = require('../lib');

function renderText(results) {
  const m = results.machine;
  const out = [];
  out.push(`daemonize ${m.daemonize ?? '?'}${m.git ? ` @ ${m.git}` : ''} benchmarks, ${m.date}`);
  out.push(`machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB; ${m.platform}, kernel ${m.kernel}; Debian ${m.debian ?? '?'}; `
    + `Node ${m.node}, npm ${m.npm ?? '?'}`);
  out.push(`load average at start: ${m.loadavg.join(' ')}; temp files under ${m.tmpdir}`);
  out.push(`peers: ${Object.values(results.peers).map((p) => `${p.name}: ${p.path ? p.version : p.version || 'not installed'}`).join('; ')}`);
  out.push(`mode: ${results.settings.quick ? 'quick (smoke test: few pairs, numbers are rough)' : 'full'}; `
    + 'median of each side, ratio = median of per-pair ratios (pairs interleaved, order alternating)');
  if (results.settings.ignoredArgs.length) out.push(`ignored arguments: ${results.settings.ignoredArgs.join(' ')}`);

  for (const section of results.sections) {
    out.push('', `== ${section.title} (${section.seconds} s) ==`);
    const measured = section.rows.filter((r) => !isObservation(r));
    if (measured.length) out.push(lib.table(HEADERS, measured.map(rowCells), ALIGN));
    const observed = section.rows.filter(isObservation);
    if (observed.length) {
      out.push(lib.table(['observed', 'subject', 'result', 'detail'], observed.map((r) => [r.measure, r.subject, r.value, r.detail || '']),
        ['l', 'l', 'l', 'l']));
    }
    for (const row of section.rows) {
      if (!row.table) continue;
      out.push('', `${row.table.title}:`, lib.table(row.table.headers, row.table.rows, row.table.align));
    }
    const notes = sectionNotes(section.rows);
    if (notes.length) out.push('notes:', ...notes.map((note) => `  - ${note}`));
  }

  out.push('', `goal verdicts: met = at or under the goal (the ratio, or the median for absolute goals); near = within ${lib.NEAR * 100}% `
    + 'over it (noise); missed = further over.');
  out.push(`load average at end: ${m.loadavgAtEnd.join(' ')}`);
  out.push(`total ${results.seconds} s (${results.sections.map((s) => `${s.id} ${s.seconds} s`).join(', ')})`);
  return `${out.join('\n')}\n`;
}

// Markdown

module.exports = { renderText };
