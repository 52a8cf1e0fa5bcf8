'use strict';
// The environment a program gets, and NODE_EXTRA_CA_CERTS. The CLI run as a command passes the caller's
// environment through unchanged, names no shell would keep included (nothing may rebuild it on the way,
// as a #!/bin/sh line would). The -r supervisor starts with NODE_EXTRA_CA_CERTS set aside, so it does not
// parse the certificates (Node warns on stderr when the file cannot be loaded: that warning is the sign of
// a parse); its program, hooks and checks get the variable as it was given, and never the carrier.
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

/** NAME=value entries (Buffers) of a NUL-separated environment. */
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

/** `env -i` with these NAME=value words (a shell builds byte values), then the CLI as a command. */
function runWithEnvironment(words, args) {
  const script = 'exec env -i "$@"';
  const result = spawnSync('sh', ['-c', script, 'sh', ...words, CLI, ...args], { encoding: 'utf8', timeout: 20000 });
  if (result.error) throw result.error;
  return result;
}

describe('the environment a program gets', () => {
  it('is the caller\'s, unchanged, with the CLI run as a command: names no shell keeps, no PWD added, IFS, PPID', async () => {
    const dir = scratch.dir();
    const pidfile = path.join(dir, 'env.pid');
    const token = scratch.token();
    const given = ['my.var=1', 'FOO-BAR=2', 'IFS=x', 'PPID=7', 'OPTIND=3', 'BASH_FUNC_f%%=() {  echo ran\n}', `PATH=${process.env.PATH}`];
    const result = runWithEnvironment(given, ['--pidfile', pidfile, '--', '/bin/sh', '-c', `cat /proc/$$/environ > ${dir}/env.new && mv ${dir}/env.new ${dir}/env; exec sleep 1000.${token}`]);
    assert.equal(result.status, 0, result.stderr);
    scratch.track(readPidfile(pidfile));
    await waitFor(() => fs.existsSync(path.join(dir, 'env')) && proc.findByToken(token).length > 0, 'the program\'s environment');
    assert.deepEqual(entries(path.join(dir, 'env')).map(String), given);
  });
});

describe('NODE_EXTRA_CA_CERTS under -r', () => {
  /** daemonize -r whose program dumps its environment and sleeps, with an --on-exit hook that dumps its own. */
  async function start(words) {
    const dir = scratch.dir();
    const pidfile = path.join(dir, 'sv.pid');
    const token = scratch.token();
    const result = runWithEnvironment([...words, `PATH=${process.env.PATH}`], ['-r', '-E', path.join(dir, 'events.log'), '--pidfile', pidfile,
      '--on-exit', `cat /proc/$$/environ > ${dir}/hook-env.new && mv ${dir}/hook-env.new ${dir}/hook-env`, '--',
      '/bin/sh', '-c', `cat /proc/$$/environ > ${dir}/env.new && mv ${dir}/env.new ${dir}/env; exec sleep 1000.${token}`]);
    assert.equal(result.status, 0, result.stderr);
    const supervisor = scratch.track(readPidfile(pidfile));
    await waitFor(() => fs.existsSync(path.join(dir, 'env')) && proc.findByToken(token).length > 0, 'the program\'s environment');
    for (const pid of proc.findByToken(token)) scratch.track(pid);
    return { dir, pidfile, supervisor, token, result };
  }

  it('the supervisor starts without it and does not parse it; the program and its hook get it as given', async () => {
    const missing = path.join(scratch.dir(), 'missing.pem');
    const { dir, supervisor, token, result } = await start([`NODE_EXTRA_CA_CERTS=${missing}`]);
    // The CLI, a Node process started with the variable, parses it: the warning this test looks for is real.
    assert.match(result.stderr, WARNING);
    const own = entries(`/proc/${supervisor}/environ`);
    assert.equal(valueOf(own, 'NODE_EXTRA_CA_CERTS'), undefined, 'the supervisor started without it');
    assert.equal(valueOf(own, CARRIER)?.toString(), missing);
    const program = entries(path.join(dir, 'env'));
    assert.equal(valueOf(program, 'NODE_EXTRA_CA_CERTS')?.toString(), missing);
    assert.equal(valueOf(program, CARRIER), undefined);
    // A restart runs the hook, which gets the program's environment.
    for (const pid of proc.findByToken(token)) process.kill(pid, 'SIGKILL');
    await waitFor(() => fs.existsSync(path.join(dir, 'hook-env')), 'the hook\'s environment');
    const hook = entries(path.join(dir, 'hook-env'));
    assert.equal(valueOf(hook, 'NODE_EXTRA_CA_CERTS')?.toString(), missing);
    assert.equal(valueOf(hook, CARRIER), undefined);
    assert.doesNotMatch(fs.readFileSync(path.join(dir, 'events.log'), 'utf8'), WARNING, 'the supervisor never warned');
  });

  it('unset stays unset and empty stays empty; a value that is not UTF-8 arrives byte for byte', async () => {
    const unset = await start([]);
    assert.equal(valueOf(entries(path.join(unset.dir, 'env')), 'NODE_EXTRA_CA_CERTS'), undefined);
    assert.equal(valueOf(entries(`/proc/${unset.supervisor}/environ`), CARRIER), undefined);
    const empty = await start(['NODE_EXTRA_CA_CERTS=']);
    assert.equal(valueOf(entries(path.join(empty.dir, 'env')), 'NODE_EXTRA_CA_CERTS')?.toString(), '');
    const bytes = Buffer.concat([Buffer.from('/tmp/'), Buffer.from([0xff, 0xfe]), Buffer.from('.pem')]);
    // The shell turns the escapes into bytes: Node's spawn takes only strings.
    const dir = scratch.dir();
    const pidfile = path.join(dir, 'bytes.pid');
    const token = scratch.token();
    const result = spawnSync('sh', ['-c', `NODE_EXTRA_CA_CERTS="$(printf '/tmp/\\377\\376.pem')" exec "$0" -r -E ${dir}/events.log --pidfile ${pidfile} -- `
      + `/bin/sh -c 'cat /proc/$$/environ > ${dir}/env.new && mv ${dir}/env.new ${dir}/env; exec sleep 1000.${token}'`, CLI], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    scratch.track(readPidfile(pidfile));
    await waitFor(() => fs.existsSync(path.join(dir, 'env')) && proc.findByToken(token).length > 0, 'the program\'s environment');
    assert.deepEqual(valueOf(entries(path.join(dir, 'env')), 'NODE_EXTRA_CA_CERTS'), bytes);
  });

  it('a carrier set by hand reaches the program as given and never stands in for the variable', async () => {
    const { dir, supervisor } = await start([`${CARRIER}=mine`, 'NODE_EXTRA_CA_CERTS=real']);
    const program = entries(path.join(dir, 'env'));
    assert.equal(valueOf(program, 'NODE_EXTRA_CA_CERTS')?.toString(), 'real');
    assert.equal(valueOf(program, CARRIER)?.toString(), 'mine');
    assert.equal(valueOf(entries(`/proc/${supervisor}/environ`), CARRIER)?.toString(), 'real');
  });
});
