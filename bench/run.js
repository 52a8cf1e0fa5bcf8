'use strict';
// Benchmark driver: `npm run bench [-- --quick] [--json] [--markdown[=PATH]] [--only=launch,stdout] [--no-pm2]`.
// Each section (one file under bench/) returns rows of data; this file prints them, as a table or JSON, and
// with --markdown also writes them as a report (docs/BENCHMARKS.md by default).
// Speed is reported as the median of per-pair ratios subject/baseline, pairs interleaved in one process.
// Timings are never asserted: the exit status says only whether the benchmark itself could run.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const lib = require('./lib');
const behaviour = require('./behaviour');

/** Sections in the order they run. Add a file exporting { id, title, run(ctx) -> rows } and list it here. */
const SECTIONS = [
  require('./launch'),
  require('./stdout-throughput'),
  require('./library'),
  require('./supervisor'),
  behaviour,
  require('./pm2'),
];

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
  {
    line: 'uss',
    label: 'supervisor memory: USS (RSS)',
    absent: NO_SUPERVISOR,
    cell: (row) => `${lib.fmtValue(row.median, row.unit)}${typeof row.rssMiB === 'number' ? ` (${row.rssMiB.toFixed(1)} MiB)` : ''}`,
  },
  { line: 'cpu-idle', label: 'supervisor CPU, idle program', absent: NO_SUPERVISOR },
  { line: 'cpu-crash', label: 'supervisor CPU, program in a crash loop', absent: { ...NO_SUPERVISOR, pm2: 'not measured' } },
];

const DEFAULT_MARKDOWN = path.join(lib.ROOT, 'docs', 'BENCHMARKS.md');

function parseArgs(argv) {
  const options = { quick: false, format: 'text', only: null, skip: [], markdown: null, help: false, ignored: [] };
  const ids = SECTIONS.map((s) => s.id);
  for (const arg of argv) {
    if (arg === '--quick') options.quick = true;
    else if (arg === '--json') options.format = 'json';
    else if (arg === '--markdown') options.markdown = DEFAULT_MARKDOWN;
    else if (arg.startsWith('--markdown=')) options.markdown = path.resolve(arg.slice('--markdown='.length));
    else if (arg === '--help' || arg === '-h') options.help = true;
    else if (arg.startsWith('--only=')) options.only = arg.slice('--only='.length).split(',').filter(Boolean);
    else if (arg.startsWith('--no-') && ids.includes(arg.slice(5))) options.skip.push(arg.slice(5));
    // Anything else is passed through harmlessly (other tools may wrap this script).
    else options.ignored.push(arg);
  }
  return options;
}

function selected(options, section) {
  if (options.only) return options.only.includes(section.id);
  return !options.skip.includes(section.id);
}

/** Runs the selected sections and returns the results as data. */
async function runAll(options, log) {
  lib.installCleanup();
  const started = lib.nowMs();
  const results = {
    machine: lib.machineInfo(),
    peers: lib.peerTools(),
    settings: {
      quick: options.quick,
      only: options.only,
      skipped: options.skip,
      ignoredArgs: options.ignored,
      method: 'medians; ratio = median of per-pair ratios subject/baseline, pairs interleaved with alternating order',
      nearGoal: lib.NEAR,
    },
    sections: [],
  };
  // Sections that bring their own peer (pm2) describe it here.
  const ctx = { quick: options.quick, log, peers: results.peers };
  for (const section of SECTIONS) {
    if (!selected(options, section)) continue;
    const t0 = lib.nowMs();
    const rows = await lib.rowsOrError(section.title, () => section.run(ctx));
    for (const row of rows) row.verdict = lib.verdict(row);
    results.sections.push({ id: section.id, title: section.title, seconds: Number(((lib.nowMs() - t0) / 1000).toFixed(1)), rows });
  }
  if (!results.peers.pm2) results.peers.pm2 = { name: 'pm2', path: null, version: 'not measured in this run (pm2 section skipped)' };
  results.seconds = Number(((lib.nowMs() - started) / 1000).toFixed(1));
  results.machine.loadavgAtEnd = os.loadavg().map((x) => Number(x.toFixed(2)));
  lib.cleanupAll();
  return results;
}

// ---------------------------------------------------------------------------------------------
// Cells, shared by the text and Markdown renderers

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

// ---------------------------------------------------------------------------------------------
// Text

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

// ---------------------------------------------------------------------------------------------
// Markdown

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
      + `\`${behaviour.CALLER}\`, so it ignores two signals and holds two extra descriptors.`, '');
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

const RENDERERS = {
  text: renderText,
  // Samples to the microsecond: more digits would be noise.
  json: (results) => `${JSON.stringify(results, (key, value) => (typeof value === 'number' && !Number.isInteger(value) ? Number(value.toFixed(3)) : value), 2)}\n`,
  markdown: renderMarkdown,
};

async function main(argv) {
  const options = parseArgs(argv);
  if (options.help) {
    process.stdout.write('usage: node bench/run.js [--quick] [--json] [--markdown[=PATH]] [--only=ID[,ID...]] [--no-ID]\n'
      + `  --markdown writes the report to PATH (default ${path.relative(process.cwd(), DEFAULT_MARKDOWN) || DEFAULT_MARKDOWN})\n`
      + `sections: ${SECTIONS.map((s) => `${s.id} (${s.title})`).join(', ')}\n`);
    return 0;
  }
  for (const arg of options.ignored) process.stderr.write(`bench: ignoring unknown argument ${arg}\n`);
  const log = (message) => process.stderr.write(`bench: ${message}\n`);
  const results = await runAll(options, log);
  process.stdout.write(RENDERERS[options.format](results));
  if (options.markdown) {
    writeAtomically(options.markdown, renderMarkdown(results));
    log(`wrote ${options.markdown}`);
  }
  const failed = results.sections.some((s) => s.rows.some((r) => r.status === 'error'));
  return failed ? 1 : 0;
}

module.exports = { parseArgs, runAll, renderText, renderMarkdown, RENDERERS, SECTIONS, main };

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  }, (error) => {
    process.stderr.write(`bench: ${error.stack || error}\n`);
    process.exitCode = 1;
  });
}
