'use strict';
// Running the real CLI, polling with deadlines, and cleaning up every pid and directory a test makes.
const { spawnSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { isAlive, findByToken } = require('./proc');

const ROOT = path.resolve(__dirname, '..', '..');
const CLI = path.join(ROOT, 'bin', 'daemonize.cjs');

/** Polls `check` until it returns a truthy value or `ms` pass; returns that value or throws naming `what`. */
async function waitFor(check, what, ms = 10000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A registry of pids and directories that `cleanup()` kills and removes. */
class Scratch {
  constructor() {
    this.pids = new Set();
    this.tokens = new Set();
    this.dirs = [];
  }

  dir() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'daemonize-test-'));
    this.dirs.push(dir);
    return dir;
  }

  /** A unique word to put on a command line, so the processes it starts can be found and killed. */
  token() {
    const token = `${process.pid}${String(Math.random()).slice(2, 10)}`;
    this.tokens.add(token);
    return token;
  }

  /** A program that sleeps, found again by its unique argv (sleep accepts a fractional duration). */
  sleeper() {
    return ['sleep', `1000.${this.token()}`];
  }

  track(pid) {
    if (Number.isInteger(pid) && pid > 0) this.pids.add(pid);
    return pid;
  }

  async cleanup() {
    for (const token of this.tokens) for (const pid of findByToken(token)) this.pids.add(pid);
    for (const pid of this.pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    for (const pid of this.pids) await waitFor(() => !isAlive(pid), `pid ${pid} to die`, 5000);
    for (const dir of this.dirs) fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs the CLI synchronously (stdio are socketpairs, as for any spawnSync caller). */
function runCli(args, options = {}) {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    timeout: 20000,
    ...options,
  });
  if (result.error) throw result.error;
  return result;
}

/** Runs the CLI asynchronously; resolves with { status, signal, stdout, stderr }. */
function runCliAsync(args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], options);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr }));
  });
}

function readPidfile(file) {
  return Number(fs.readFileSync(file, 'utf8').trim());
}

module.exports = { ROOT, CLI, waitFor, Scratch, runCli, runCliAsync, readPidfile };
