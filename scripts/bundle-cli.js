#!/usr/bin/env node
'use strict';
// Writes dist/cli-bundle.js: the CLI (dist/cli.js, what tsc made) and everything it loads, commander
// included, as one file, then its V8 code cache (bin/daemonize.cjs loads both). A control verb costs little more
// than Node's own start-up, and most of what it adds is finding, reading and compiling a dozen modules:
// one file, compiled from a cache, removes most of that. Modules the CLI loads only on some paths stay
// lazy inside the bundle (esbuild wraps each CommonJS module in a function run on first require).
// Run after tsc: `npm test`, prepare and prepack do. Needs esbuild (a devDependency).
const fs = require('node:fs');
const path = require('node:path');

const esbuild = require('esbuild');

const loader = require('../bin/daemonize.cjs');

const ROOT = path.resolve(__dirname, '..');
const DIST = path.join(ROOT, 'dist');

/**
 * Each module of dist/ keeps its own __dirname inside the bundle (the supervisor's main.js is found
 * beside dist/supervisor/launch-supervisor.js, the addon from dist/..): the bundle sits in dist/, so a
 * module in a subdirectory gets __dirname joined with that subdirectory.
 */
const ownDirname = {
  name: 'own-dirname',
  setup(build) {
    build.onLoad({ filter: /\.js$/ }, (args) => {
      const rel = path.relative(DIST, path.dirname(args.path));
      if (rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
      const source = fs.readFileSync(args.path, 'utf8');
      if (rel === '') return { contents: source, loader: 'js' };
      return { contents: source.replace(/\b__dirname\b/g, `require("node:path").join(__dirname, ${JSON.stringify(rel)})`), loader: 'js' };
    });
  },
};

/** Whether `importer` is one of commander's own files. */
const inCommander = (importer) => /[\\/]node_modules[\\/]commander[\\/]/.test(importer);

/**
 * commander requires node:child_process at load, for subcommands run as separate programs, which this CLI
 * has none of; loading it (and net, stream...) is a third of commander's cost. It is loaded on first use.
 */
const lazyChildProcess = {
  name: 'lazy-child-process',
  setup(build) {
    build.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
      (inCommander(args.importer) ? { path: 'child_process', namespace: 'lazy' } : undefined));
    build.onLoad({ filter: /.*/, namespace: 'lazy' }, () => ({
      contents: 'let loaded; module.exports = new Proxy({}, { get: (_, key) => (loaded ??= require("node:child_process"))[key] });',
      loader: 'js',
    }));
  },
};

/**
 * Two things commander does as it loads that this CLI never uses, each a tenth of a millisecond or more of
 * every command: it builds a global `program` (a Command this CLI never touches: it makes its own), now built
 * on first use; and it loads node:process, a module whose export is the global `process` it then gets.
 * A commander whose index.js no longer reads as expected fails the build: the edit is checked, not hoped for.
 */
const leanCommander = {
  name: 'lean-commander',
  setup(build) {
    build.onResolve({ filter: /^(node:)?process$/ }, (args) =>
      (inCommander(args.importer) ? { path: 'process', namespace: 'global-process' } : undefined));
    build.onLoad({ filter: /.*/, namespace: 'global-process' }, () => ({ contents: 'module.exports = process;', loader: 'js' }));
    build.onLoad({ filter: /[\\/]node_modules[\\/]commander[\\/]index\.js$/ }, (args) => {
      const source = fs.readFileSync(args.path, 'utf8');
      const eager = 'exports.program = new Command();';
      if (!source.includes(eager)) throw new Error(`${args.path}: no "${eager}" to make lazy (a commander this script does not know)`);
      return {
        contents: source.replace(eager, 'let program;\nObject.defineProperty(exports, \'program\', { enumerable: true, get: () => (program ??= new Command()) });'),
        loader: 'js',
      };
    });
  },
};

async function main() {
  const result = await esbuild.build({
    entryPoints: [path.join(DIST, 'cli.js')],
    outfile: loader.BUNDLE,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: ['*.node'],
    minifyWhitespace: true,
    minifySyntax: true,
    minifyIdentifiers: true,
    keepNames: false,
    legalComments: 'none',
    // See bin/daemonize.cjs: what the bundle was made from, and an id that ties it to its code cache.
    banner: {
      js: `${loader.BUILD_MARK}${fs.statSync(path.join(DIST, 'cli.js')).mtimeMs} ${Date.now().toString(36)}.${process.pid}\n`
        + '// Built from dist/ and commander (MIT License, Copyright (c) 2011 TJ Holowaychuk: node_modules/commander/LICENSE).\n'
        // Wrapped here as Node wraps a CommonJS module, so bin/daemonize.cjs compiles the file as it is read, not a copy.
        + `${loader.WRAPPER[0]}`,
    },
    footer: { js: loader.WRAPPER[1] },
    plugins: [ownDirname, lazyChildProcess, leanCommander],
    logLevel: 'warning',
    write: false,
  });
  if (result.errors.length > 0) process.exit(1);
  const [bundle] = result.outputFiles;
  // bin/daemonize.cjs reads it as Latin-1 when it is ASCII (esbuild's default charset escapes the rest).
  if (bundle.contents.some((byte) => byte >= 0x80)) throw new Error('the bundle is not ASCII');
  // A new file renamed into place: a CLI starting meanwhile reads the old bundle or the new one, never half.
  const temp = `${loader.BUNDLE}.${process.pid}`;
  fs.writeFileSync(temp, bundle.contents);
  fs.renameSync(temp, loader.BUNDLE);
  await loader.writeCache();
}

main().catch((error) => {
  process.stderr.write(`bundle-cli: ${error.message}\n`);
  process.exit(1);
});
