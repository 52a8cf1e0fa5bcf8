'use strict';
// Benchmark driver: `npm run bench [-- --quick] [--json] [--markdown[=PATH]] [--only=launch,stdout] [--no-pm2]`.
// Each section (one file under bench/) returns rows of data; report/ prints them, as a table or JSON, and
// with --markdown also writes them as a report (docs/BENCHMARKS.md by default). lib/ is the toolbox.
// Speed is reported as the median of per-pair ratios subject/baseline, pairs interleaved in one process.
// Timings are never asserted: the exit status says only whether the benchmark itself could run.
const os = require('node:os');
const path = require('node:path');
const { renderMarkdown, writeAtomically } = require('./report/markdown');
const { renderText } = require('./report/text');
const lib = require('./lib');

/** Sections in the order they run. Add a file exporting { id, title, run(ctx) -> rows } and list it here. */
const SECTIONS = [
  require('./launch'),
  require('./stdout-throughput'),
  require('./library'),
  require('./supervisor'),
  require('./behaviour'),
  require('./pm2'),
  require('./supervisor/restart-downtime'),
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

// Cells, shared by the text and Markdown renderers

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

module.exports = { parseArgs, runAll, SECTIONS, main };

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  }, (error) => {
    process.stderr.write(`bench: ${error.stack || error}\n`);
    process.exitCode = 1;
  });
}
