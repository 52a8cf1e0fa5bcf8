'use strict';
// Benchmark driver: `npm run bench [-- --quick] [--json] [--only=launch,stdout]`.
// Each section (one file under bench/) returns rows of data; this file prints them, as a table or JSON.
// Speed is reported as the median of per-pair ratios subject/baseline, pairs interleaved in one process.
// Timings are never asserted: the exit status says only whether the benchmark itself could run.
const os = require('node:os');

const lib = require('./lib');

/** Sections in the order they run. Add a file exporting { id, title, run(ctx) -> rows } and list it here. */
const SECTIONS = [require('./launch'), require('./stdout-throughput'), require('./library')];

/** Within this much over a goal, a ratio is 'near' rather than 'missed': these machines are noisy. */
const NEAR = 0.05;

function parseArgs(argv) {
  const options = { quick: false, format: 'text', only: null, help: false, ignored: [] };
  for (const arg of argv) {
    if (arg === '--quick') options.quick = true;
    else if (arg === '--json') options.format = 'json';
    else if (arg === '--help' || arg === '-h') options.help = true;
    else if (arg.startsWith('--only=')) options.only = arg.slice('--only='.length).split(',').filter(Boolean);
    // Anything else is passed through harmlessly (other tools may wrap this script).
    else options.ignored.push(arg);
  }
  return options;
}

function verdict(row) {
  if (row.status !== 'ok' || !row.goal || typeof row.ratio !== 'number') return null;
  if (row.ratio <= row.goal.max) return 'met';
  return row.ratio <= row.goal.max * (1 + NEAR) ? 'near' : 'missed';
}

/** Runs the selected sections and returns the results as data. */
async function runAll(options, log) {
  lib.installCleanup();
  const started = lib.nowMs();
  const results = {
    machine: lib.machineInfo(),
    settings: {
      quick: options.quick,
      only: options.only,
      ignoredArgs: options.ignored,
      method: 'medians; ratio = median of per-pair ratios subject/baseline, pairs interleaved with alternating order',
      nearGoal: NEAR,
    },
    sections: [],
  };
  const ctx = { quick: options.quick, log };
  for (const section of SECTIONS) {
    if (options.only && !options.only.includes(section.id)) continue;
    const t0 = lib.nowMs();
    let rows;
    try {
      rows = await section.run(ctx);
    } catch (error) {
      rows = [{ measure: section.title, subject: '-', status: 'error', reason: error.stack || error.message }];
    }
    for (const row of rows) row.verdict = verdict(row);
    results.sections.push({ id: section.id, title: section.title, seconds: Number(((lib.nowMs() - t0) / 1000).toFixed(1)), rows });
  }
  results.seconds = Number(((lib.nowMs() - started) / 1000).toFixed(1));
  results.machine.loadavgAtEnd = os.loadavg().map((x) => Number(x.toFixed(2)));
  lib.cleanupAll();
  return results;
}

function goalCell(row) {
  if (!row.goal) return '-';
  const text = `<= ${row.goal.max.toFixed(2)}x`;
  return row.verdict ? `${text} ${row.verdict}` : text;
}

function renderText(results) {
  const m = results.machine;
  const out = [];
  out.push(`daemonize ${m.daemonize ?? '?'}${m.git ? ` @ ${m.git}` : ''} benchmarks, ${m.date}`);
  out.push(`machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB; ${m.platform}, kernel ${m.kernel}; Node ${m.node}`);
  out.push(`load average at start: ${m.loadavg.join(' ')}; temp files under ${m.tmpdir}`);
  out.push(`mode: ${results.settings.quick ? 'quick (smoke test: few pairs, numbers are rough)' : 'full'}; `
    + 'median of each side, ratio = median of per-pair ratios (pairs interleaved, order alternating)');
  if (results.settings.ignoredArgs.length) out.push(`ignored arguments: ${results.settings.ignoredArgs.join(' ')}`);
  out.push('');

  const headers = ['measure', 'subject', 'median', 'baseline median', 'ratio', 'goal'];
  const body = [];
  const notes = [];
  for (const section of results.sections) {
    for (const row of section.rows) {
      const ok = row.status === 'ok';
      const status = row.status === 'error' ? 'ERROR' : row.status;
      const n = ok ? ` (n=${row.n})` : '';
      body.push([
        row.measure,
        row.subject,
        ok ? lib.fmtMs(row.median) : status,
        ok ? `${lib.fmtMs(row.baselineMedian)} ${row.baseline}` : `- ${row.baseline ?? ''}`.trimEnd(),
        ok ? `${lib.fmtRatio(row.ratio)}${n}` : '-',
        goalCell(row),
      ]);
      if (row.reason) notes.push(`${row.subject}, ${row.measure}: ${status}: ${row.reason}`);
      for (const note of row.notes || []) if (!notes.includes(note)) notes.push(note);
    }
  }
  out.push(lib.table(headers, body, ['l', 'l', 'r', 'l', 'l', 'l']));
  out.push('');
  out.push(`goal verdicts: met = ratio <= goal; near = within ${NEAR * 100}% over it (noise); missed = further over.`);
  if (notes.length) {
    out.push('notes:');
    for (const note of notes) out.push(`  - ${note}`);
  }
  out.push(`load average at end: ${m.loadavgAtEnd.join(' ')}`);
  out.push(`total ${results.seconds} s (${results.sections.map((s) => `${s.id} ${s.seconds} s`).join(', ')})`);
  return `${out.join('\n')}\n`;
}

const RENDERERS = {
  text: renderText,
  // Samples to the microsecond: more digits would be noise.
  json: (results) => `${JSON.stringify(results, (key, value) => (typeof value === 'number' && !Number.isInteger(value) ? Number(value.toFixed(3)) : value), 2)}\n`,
};

async function main(argv) {
  const options = parseArgs(argv);
  if (options.help) {
    process.stdout.write('usage: node bench/run.js [--quick] [--json] [--only=ID[,ID...]]\n'
      + `sections: ${SECTIONS.map((s) => `${s.id} (${s.title})`).join(', ')}\n`);
    return 0;
  }
  for (const arg of options.ignored) process.stderr.write(`bench: ignoring unknown argument ${arg}\n`);
  const log = (message) => process.stderr.write(`bench: ${message}\n`);
  const results = await runAll(options, log);
  process.stdout.write(RENDERERS[options.format](results));
  const failed = results.sections.some((s) => s.rows.some((r) => r.status === 'error'));
  return failed ? 1 : 0;
}

module.exports = { parseArgs, runAll, renderText, RENDERERS, SECTIONS };

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  }, (error) => {
    process.stderr.write(`bench: ${error.stack || error}\n`);
    process.exitCode = 1;
  });
}
