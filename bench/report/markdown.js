'use strict';
// The report as Markdown (docs/BENCHMARKS.md), written whole or not at all.
const fs = require('node:fs');
const path = require('node:path');
const { TOOLS, SUMMARY, isObservation, HEADERS, ALIGN, rowCells, sectionNotes, summaryCell, observationMatrix, toolName } = require('./cells');
const lib = require('../lib');
const { CALLER } = require('../lib/observe');

function md(text) {
  return String(text ?? '').replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function mdTable(headers, rows, align) {
  const rule = headers.map((_, i) => ((align && align[i] === 'r') ? '---:' : '---'));
  return [headers, rule, ...rows].map((cells, i) => `| ${(i === 1 ? cells : cells.map(md)).join(' | ')} |`).join('\n');
}

function renderMarkdown(results) {
  const m = results.machine;
  const s = results.settings;
  const out = [];
  out.push('# Benchmarks', '');
  out.push(`Written by \`npm run bench -- --markdown\` (bench/run.js) on ${m.date.slice(0, 10)}, from daemonize ${m.daemonize ?? '?'}`
    + `${m.git ? ` at ${m.git}` : ''}. Every figure below comes from that one run on the machine described here; do not edit it by `
    + 'hand, run the benchmark again.'
    + (s.quick ? ' **This was a `--quick` run: few pairs, the numbers are rough.**' : ''));
  out.push('');

  out.push('## Machine', '');
  out.push(mdTable(['', ''], [
    ['CPU', `${m.cpu}, ${m.cores} cores`],
    ['memory', `${m.memoryGiB} GiB`],
    ['kernel', `${m.platform} ${m.kernel}`],
    ['Debian', m.debian ?? 'unknown'],
    ['Node', `${m.node} (${m.nodePath})`],
    ['npm', m.npm ?? 'unknown'],
    ['load average (1, 5, 15 min)', `${m.loadavg.join(', ')} at the start; ${m.loadavgAtEnd.join(', ')} at the end`],
    ['run', `${s.quick ? 'quick' : 'full'}; ${results.seconds} s in all (${results.sections.map((x) => `${x.id} ${x.seconds} s`).join(', ')})`],
  ]));
  out.push('', 'The machine is shared: other work may have run at the same time (see the load averages). Interleaved pairs make '
    + 'ratios robust to slow drifts in load; single absolute figures (memory, CPU, respawn latency) are not corrected for it.', '');

  out.push('## Tools', '');
  const peerRows = [[`daemonize ${m.daemonize ?? '?'}`, `this repository${m.git ? `, ${m.git}` : ''}`, 'bin/daemonize']];
  for (const key of ['libslack', 'bmc', 'ssd', 'pm2']) {
    const peer = results.peers[key];
    peerRows.push([peer.name, peer.version || (peer.path ? 'unknown version' : 'not installed'), peer.path || '-']);
  }
  out.push(mdTable(['tool', 'version', 'path'], peerRows), '');

  out.push('## How measured', '');
  out.push('Each timing compares a subject with a baseline (`node -e 0`, a shell redirect, the same app in the foreground) in '
    + 'interleaved pairs in one process, alternating which of the two goes first, after unmeasured warm-up rounds. A row gives '
    + 'the median of each side and the median of the per-pair ratios subject/baseline, so slow changes in the machine\'s load '
    + 'cancel out. Latency (respawn), memory and CPU figures have no baseline: they are medians of repeated kills, or one '
    + 'reading after a fixed window, read from `/proc`. Everything here was measured in the same run, one tool after another; '
    + 'nothing is copied from elsewhere. Goals are the project\'s own targets; a verdict is "met" at or under the goal, "near" '
    + `within ${lib.NEAR * 100}% over it (noise on this machine), "missed" beyond that. Every process a measurement starts is `
    + 'killed and checked gone before the next one; timings are never asserted.', '');

  out.push('## Side by side', '');
  out.push(mdTable(['', ...TOOLS.map((t) => t.name)],
    SUMMARY.map((spec) => [spec.label, ...TOOLS.map((t) => summaryCell(results, spec, t.key))])));
  out.push('', '"-": not measured in this run. The sections below give every row, its command and its notes.', '');

  const judged = results.sections.flatMap((x) => x.rows).filter((r) => r.goal && r.status === 'ok');
  if (judged.length) {
    out.push('## Goals', '');
    out.push('daemonize\'s own targets, judged in this run.', '');
    out.push(mdTable(['measure', 'subject', 'result', 'goal', 'verdict'], judged.map((r) => [r.measure, r.subject,
      r.goal.absolute ? lib.fmtValue(r.median, r.unit) : `${lib.fmtRatio(r.ratio)} ${r.baseline}`, lib.fmtGoal(r.goal), r.verdict || '-'])));
    out.push('');
  }

  const matrix = observationMatrix(results);
  if (matrix.measures.length) {
    out.push('## Observed behaviour', '');
    out.push('One run of each tool, looked at through `/proc` (the same things the tests check for daemonize). The caller is '
      + `\`${CALLER}\`, so it ignores two signals and holds two extra descriptors.`, '');
    out.push(mdTable(['', ...TOOLS.map((t) => t.name)], matrix.measures.map((measure) => [measure, ...TOOLS.map((t) => matrix.cell(measure, t.key))])));
    if (matrix.details.length) {
      out.push('', 'Details:', '');
      for (const d of matrix.details) out.push(`- ${md(toolName(d.tool))}, ${md(d.measure)}: ${md(d.detail)}`);
    }
    out.push('');
  }

  for (const section of results.sections) {
    const measured = section.rows.filter((r) => !isObservation(r));
    if (!measured.length) continue;
    out.push(`## ${section.title}`, '');
    out.push(mdTable(HEADERS, measured.map(rowCells), ALIGN));
    for (const row of section.rows) {
      if (row.table) out.push('', `${row.table.title}:`, '', mdTable(row.table.headers, row.table.rows, row.table.align));
    }
    const commands = [...new Set(measured.filter((r) => r.command).map((r) => `- ${md(r.subject)}: \`${r.command.replace(/`/g, "'")}\``))];
    if (commands.length) out.push('', 'Commands:', '', ...commands);
    const notes = sectionNotes(measured);
    if (notes.length) {
      out.push('', 'Notes:', '');
      for (const note of notes) out.push(`- ${md(note)}`);
    }
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

module.exports = { mdTable, renderMarkdown, writeAtomically };
