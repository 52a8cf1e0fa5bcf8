'use strict';
// Benchmark driver: `npm run bench [-- --quick] [--json] [--markdown[=PATH]] [--only=launch,stdout] [--no-pm2]`.
// Each section (a file here) returns rows of data; report/ prints them, as a table or JSON, and with --markdown
// also writes them as a report (docs/BENCHMARKS.md by default). lib/ is the toolbox; goals.js the targets.
// The exit status says only whether the benchmark itself could run: timings are never asserted.
const os = require('node:os');
const path = require('node:path');
const { nowMs, rowsOrError } = require('./lib/measure');
const { ROOT } = require('./lib/commands');
const { installCleanup, cleanupAll } = require('./lib/cleanup');
const { machineInfo, peerTools } = require('./lib/machine');
const { NEAR, verdict } = require('./lib/format');
const { renderMarkdown, writeAtomically } = require('./report/markdown');
const { renderText } = require('./report/text');

/** Sections in the order they run: each exports { id, title, run(ctx) -> rows }. */
const SECTIONS = ['launch', 'stdout', 'library', 'supervisor', 'behaviour', 'pm2', 'restart'].map((file) => require(`./${file}`));

const DEFAULT_MARKDOWN = path.join(ROOT, 'docs', 'BENCHMARKS.md');

function parseArgs(argv) {
  const options = { quick: false, format: 'text', only: null, skip: [], markdown: null, help: false, ignored: [] };
  for (const arg of argv) {
    if (arg === '--quick') options.quick = true;
    else if (arg === '--json') options.format = 'json';
    else if (arg === '--markdown') options.markdown = DEFAULT_MARKDOWN;
    else if (arg.startsWith('--markdown=')) options.markdown = path.resolve(arg.slice('--markdown='.length));
    else if (arg === '--help' || arg === '-h') options.help = true;
    else if (arg.startsWith('--only=')) options.only = arg.slice('--only='.length).split(',').filter(Boolean);
    else if (arg.startsWith('--no-') && SECTIONS.some((s) => s.id === arg.slice(5))) options.skip.push(arg.slice(5));
    else options.ignored.push(arg); // passed through harmlessly: other tools may wrap this script
  }
  return options;
}

/** Runs the selected sections and returns the results as data. */
async function runAll(options, log) {
  installCleanup();
  const started = nowMs();
  const seconds = (t0) => Number(((nowMs() - t0) / 1000).toFixed(1));
  const results = {
    machine: machineInfo(),
    peers: peerTools(),
    settings: {
      quick: options.quick,
      only: options.only,
      skipped: options.skip,
      ignoredArgs: options.ignored,
      method: 'medians; ratio = median of per-pair ratios subject/baseline, pairs interleaved with alternating order',
      nearGoal: NEAR,
    },
    sections: [],
  };
  // Sections that bring their own peer (pm2) describe it in ctx.peers.
  const ctx = { quick: options.quick, log, peers: results.peers };
  for (const section of SECTIONS) {
    if (options.only ? !options.only.includes(section.id) : options.skip.includes(section.id)) continue;
    const t0 = nowMs();
    const rows = await rowsOrError(section.title, () => section.run(ctx));
    for (const row of rows) row.verdict = verdict(row);
    results.sections.push({ id: section.id, title: section.title, seconds: seconds(t0), rows });
  }
  results.peers.pm2 ??= { name: 'pm2', path: null, version: 'not measured in this run (pm2 section skipped)' };
  results.seconds = seconds(started);
  results.machine.loadavgAtEnd = os.loadavg().map((x) => Number(x.toFixed(2)));
  cleanupAll();
  return results;
}

const RENDERERS = {
  text: renderText,
  // Samples to the microsecond: more digits would be noise.
  json: (results) => `${JSON.stringify(results, (key, value) => (typeof value === 'number' && !Number.isInteger(value)
    ? Number(value.toFixed(3)) : value), 2)}\n`,
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
  return results.sections.some((s) => s.rows.some((r) => r.status === 'error')) ? 1 : 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  }, (error) => {
    process.stderr.write(`bench: ${error.stack || error}\n`);
    process.exitCode = 1;
  });
}
