'use strict';
// The report as Markdown (docs/BENCHMARKS.md by default), written whole or not at all.
const fs = require('node:fs');
const path = require('node:path');
const { TOOLS, SUMMARY, HEADERS, ALIGN, allRows, rowCells, sectionParts, summaryCell, observationMatrix } = require('./cells');
const { CALLER } = require('../lib/observe');
const { fmtValue, fmtRatio, fmtGoal, NEAR } = require('../lib/format');

const md = (text) => String(text ?? '').replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');

function mdTable(headers, rows, align = []) {
  const rule = headers.map((_, i) => (align[i] === 'r' ? '---:' : '---'));
  return [headers, rule, ...rows].map((cells, i) => `| ${(i === 1 ? cells : cells.map(md)).join(' | ')} |`).join('\n');
}

const TOOL_HEADERS = ['', ...TOOLS.map(([, name]) => name)];

function renderMarkdown(results) {
  const m = results.machine;
  const s = results.settings;
  const out = ['# Benchmarks', '',
    `Written by \`npm run bench -- --markdown\` (bench/run.js) on ${m.date.slice(0, 10)}, from daemonize ${m.daemonize ?? '?'}${m.git ? ` at ${m.git}` : ''}. `
    + 'Every figure below comes from that one run on the machine described here; do not edit it by hand, run the benchmark again.'
    + (s.quick ? ' **This was a `--quick` run: few pairs, the numbers are rough.**' : ''), '',
    '## Machine', '',
    mdTable(['', ''], [
      ['CPU', `${m.cpu}, ${m.cores} cores`],
      ['memory', `${m.memoryGiB} GiB`],
      ['kernel', `${m.platform} ${m.kernel}`],
      ['Debian', m.debian ?? 'unknown'],
      ['Node', `${m.node} (${m.nodePath})`],
      ['Node start-up settings', m.nodeEnv?.length ? `${m.nodeEnv.join(', ')} (every Node start pays for them, \`node -e 0\` and daemonize's CLI too; its -r supervisor starts with NODE_EXTRA_CA_CERTS set aside, see the README)` : 'none'],
      ['npm', m.npm ?? 'unknown'],
      ['load average (1, 5, 15 min)', `${m.loadavg.join(', ')} at the start; ${m.loadavgAtEnd.join(', ')} at the end`],
      ['run', `${s.quick ? 'quick' : 'full'}; ${results.seconds} s in all (${results.sections.map((x) => `${x.id} ${x.seconds} s`).join(', ')})`],
    ]), '',
    'The machine is shared: other work may have run at the same time (see the load averages). Interleaved pairs make ratios robust '
    + 'to slow drifts in load; single absolute figures (memory, CPU, respawn latency) are not corrected for it.', '',
    '## Tools', '',
    mdTable(['tool', 'version', 'path'], [[`daemonize ${m.daemonize ?? '?'}`, `this repository${m.git ? `, ${m.git}` : ''}`, 'bin/daemonize.cjs'],
      ...['libslack', 'bmc', 'ssd', 'pm2'].map((key) => results.peers[key]).map((p) => [p.name, p.version || 'not installed', p.path || '-'])]), '',
    '## How measured', '',
    'Each timing compares a subject with a baseline (`node -e 0`, a shell redirect, the same app in the foreground) in interleaved '
    + 'pairs in one process, alternating which of the two goes first, after unmeasured warm-up rounds. A row gives the median of each '
    + 'side and the median of the per-pair ratios subject/baseline, so slow changes in the machine\'s load cancel out. Latency '
    + '(respawn), memory and CPU figures have no baseline: they are medians of repeated kills, or one reading after a fixed window, '
    + 'read from `/proc`. Everything here was measured in the same run, one tool after another; nothing is copied from elsewhere. '
    + `Goals are the project's own targets; a verdict is "met" at or under the goal, "near" within ${NEAR * 100}% over it (noise on `
    + 'this machine), "missed" beyond that. Every process a measurement starts is killed and checked gone before the next one; '
    + 'timings are never asserted.', '',
    '## Side by side', '',
    mdTable(TOOL_HEADERS, SUMMARY.map((spec) => [spec.label, ...TOOLS.map(([key]) => summaryCell(results, spec, key))])), '',
    '"-": not measured in this run. The sections below give every row, its command and its notes.', ''];

  const judged = allRows(results).filter((r) => r.goal && r.status === 'ok');
  if (judged.length) {
    out.push('## Goals', '', 'daemonize\'s own targets, judged in this run.', '', mdTable(['measure', 'subject', 'result', 'goal', 'verdict'],
      judged.map((r) => [r.measure, r.subject, r.goal.absolute ? fmtValue(r.median, r.unit) : `${fmtRatio(r.ratio)} ${r.baseline}`,
        fmtGoal(r.goal), r.verdict || '-'])), '');
  }

  const matrix = observationMatrix(results);
  if (matrix.lines.length) {
    out.push('## Observed behaviour', '', 'One run of each tool, looked at through `/proc` (the same things the tests check for daemonize). '
      + `The caller is \`${CALLER}\`, so it ignores two signals and holds two extra descriptors.`, '', mdTable(TOOL_HEADERS, matrix.lines));
    const details = matrix.details.map(([tool, measure, detail]) => `- ${md(tool)}, ${md(measure)}: ${md(detail)}`);
    if (details.length) out.push('', 'Details:', '', ...details);
    out.push('');
  }

  for (const section of results.sections) {
    const { measured, tables, notes } = sectionParts(section);
    if (!measured.length) continue;
    out.push(`## ${section.title}`, '', mdTable(HEADERS, measured.map(rowCells), ALIGN));
    for (const t of tables) out.push('', `${t.title}:`, '', mdTable(t.headers, t.rows, t.align));
    const commands = [...new Set(measured.filter((r) => r.command).map((r) => `- ${md(r.subject)}: \`${r.command.replace(/`/g, "'")}\``))];
    if (commands.length) out.push('', 'Commands:', '', ...commands);
    if (notes.length) out.push('', 'Notes:', '', ...notes.map((note) => `- ${md(note)}`));
    out.push('');
  }
  return `${out.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
}

/** Writes `text` to `file` whole or not at all: a temporary file beside it, then rename. */
function writeAtomically(file, text) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, file);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

module.exports = { renderMarkdown, writeAtomically };
