'use strict';
// NODE_EXTRA_CA_CERTS: run as a command (its #!/bin/sh line), the CLI starts Node with the variable set
// aside, and the supervisor it starts likewise, so neither parses the certificates (Node warns on stderr
// when the file cannot be loaded: that warning is the sign of a parse). The program gets the variable as
// it was given: the same bytes, unset when it was unset, empty when it was empty; never the carrier.
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { describe, it, after } = require('node:test');

const proc = require('./helpers/proc');
const { CLI, Scratch, readPidfile, waitFor } = require('./helpers/harness');

const scratch = new Scratch();
after(() => scratch.cleanup());

const WARNING = /Ignoring extra certs/;
const CARRIER = 'DAEMONIZE_NODE_EXTRA_CA_CERTS';

/** The environment without either name, plus `extra`. */
function envWith(extra) {
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  delete env[CARRIER];
  return { ...env, ...extra };
}

/** NAME=value entries (as Buffers) of a NUL-separated environment dump. */
function entries(file) {
  const bytes = fs.readFileSync(file);
  const list = [];
  for (let start = 0, at = bytes.indexOf(0); at >= 0; start = at + 1, at = bytes.indexOf(0, start)) list.push(bytes.subarray(start, at));
  return list;
}

function valueOf(list, name) {
  const found = list.find((entry) => entry.subarray(0, name.length + 1).toString('latin1') === `${name}=`);
  return found === undefined ? undefined : found.subarray(name.length + 1);
}

/**
 * Starts a daemon through the command itself (or `node CLI` with viaNode) whose program copies its
 * environment to DIR/env and sleeps; returns { result, env, pid, dir }.
 */
async function startDumping(extraEnv, { viaNode = false, respawn = false } = {}) {
  const dir = scratch.dir();
  const pidfile = path.join(dir, 'd.pid');
  const token = scratch.token();
  const args = [...(respawn ? ['-r', '-E', path.join(dir, 'events.log')] : []), '--pidfile', pidfile, '--',
    'sh', '-c', `cat /proc/self/environ > ${dir}/env; exec sleep 1000.${token}`];
  const result = viaNode
    ? spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: envWith(extraEnv), timeout: 20000 })
    : spawnSync(CLI, args, { encoding: 'utf8', env: envWith(extraEnv), timeout: 20000 });
  if (result.error) throw result.error;
  assert.equal(result.status, 0, result.stderr);
  const pid = scratch.track(readPidfile(pidfile));
  await waitFor(() => fs.existsSync(path.join(dir, 'env')) && proc.findByToken(token).length > 0, 'the program\'s environment');
  for (const found of proc.findByToken(token)) scratch.track(found);
  return { result, env: entries(path.join(dir, 'env')), pid, dir };
}

describe('NODE_EXTRA_CA_CERTS', () => {
  it('run as `node CLI`, Node parses the file (the warning this test looks for is real)', async () => {
    const missing = path.join(scratch.dir(), 'missing.pem');
    const { result } = await startDumping({ NODE_EXTRA_CA_CERTS: missing }, { viaNode: true });
    assert.match(result.stderr, WARNING);
  });

  it('run as a command, the CLI does not parse it; the program gets it as given, and no carrier', async () => {
    const missing = path.join(scratch.dir(), 'missing.pem');
    const { result, env } = await startDumping({ NODE_EXTRA_CA_CERTS: missing });
    assert.doesNotMatch(result.stderr, WARNING);
    assert.equal(result.stderr, '');
    assert.equal(valueOf(env, 'NODE_EXTRA_CA_CERTS')?.toString(), missing);
    assert.equal(valueOf(env, CARRIER), undefined);
  });

  it('unset stays unset, and empty stays empty', async () => {
    const unset = await startDumping({});
    assert.equal(valueOf(unset.env, 'NODE_EXTRA_CA_CERTS'), undefined);
    assert.equal(valueOf(unset.env, CARRIER), undefined);
    const empty = await startDumping({ NODE_EXTRA_CA_CERTS: '' });
    assert.equal(valueOf(empty.env, 'NODE_EXTRA_CA_CERTS')?.toString(), '');
    assert.equal(valueOf(empty.env, CARRIER), undefined);
  });

  it('keeps a value that is not UTF-8 byte for byte', async () => {
    const dir = scratch.dir();
    const pidfile = path.join(dir, 'bytes.pid');
    const token = scratch.token();
    // A shell builds the variable from bytes: Node's own spawn takes only strings.
    const result = spawnSync('sh', ['-c', `NODE_EXTRA_CA_CERTS="$(printf '${dir}/\\377\\376.pem')" exec "$0" --pidfile ${pidfile} -- `
      + `sh -c 'cat /proc/self/environ > ${dir}/env; exec sleep 1000.${token}'`, CLI], { encoding: 'utf8', env: envWith({}) });
    assert.equal(result.status, 0, result.stderr);
    scratch.track(readPidfile(pidfile));
    await waitFor(() => fs.existsSync(path.join(dir, 'env')) && proc.findByToken(token).length > 0, 'the program\'s environment');
    assert.deepEqual(valueOf(entries(path.join(dir, 'env')), 'NODE_EXTRA_CA_CERTS'), Buffer.concat([Buffer.from(`${dir}/`), Buffer.from([0xff, 0xfe]), Buffer.from('.pem')]));
  });

  it('under -r, the supervisor does not parse it either, and its program gets it', async () => {
    const missing = path.join(scratch.dir(), 'missing.pem');
    // Through node: the CLI warns, but the supervisor it starts must not.
    const { result, env, pid, dir } = await startDumping({ NODE_EXTRA_CA_CERTS: missing }, { viaNode: true, respawn: true });
    assert.match(result.stderr, WARNING);
    assert.equal(valueOf(env, 'NODE_EXTRA_CA_CERTS')?.toString(), missing);
    assert.equal(valueOf(env, CARRIER), undefined);
    const own = entries(`/proc/${pid}/environ`);
    assert.equal(valueOf(own, 'NODE_EXTRA_CA_CERTS'), undefined, 'the supervisor started without it');
    assert.equal(valueOf(own, CARRIER)?.toString(), missing);
    assert.doesNotMatch(fs.readFileSync(path.join(dir, 'events.log'), 'utf8'), WARNING);
    // ...and kept its stderr, the event log, free of the warning until it stops.
    const stop = spawnSync(CLI, ['--stop', '--pidfile', path.join(dir, 'd.pid')], { encoding: 'utf8', env: envWith({ NODE_EXTRA_CA_CERTS: missing }) });
    assert.equal(stop.status, 0, stop.stderr);
    assert.equal(stop.stderr, '');
    assert.doesNotMatch(fs.readFileSync(path.join(dir, 'events.log'), 'utf8'), WARNING);
  });

  it('passes every word to the CLI unchanged through its shell line: spaces, empty words, $, quotes, globs', async () => {
    const dir = scratch.dir();
    const out = path.join(dir, 'out');
    const words = ['a b', '', '$HOME', '"q"', "'s'", '*', '-n', '\\'];
    const result = spawnSync(CLI, ['-f', '--stdout', out, '--', 'printf', '%s|', ...words], { encoding: 'utf8', env: envWith({}), cwd: dir });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(fs.readFileSync(out, 'utf8'), words.map((word) => `${word}|`).join(''));
  });
});
