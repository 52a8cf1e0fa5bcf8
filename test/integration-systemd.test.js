'use strict';
// --systemd-unit: the unit files it prints pass `systemd-analyze verify`, and their ExecStart= line,
// run as systemd would run it (from /, no caller environment), really starts the daemon PIDFile= names.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { describe, it, after } = require('node:test');

const proc = require('./helpers/proc');
const { Scratch, runCli, readPidfile } = require('./helpers/harness');
const { quoteForSystemd } = require('../dist/systemd-unit');

const scratch = new Scratch();
after(() => scratch.cleanup());

const analyze = spawnSync('sh', ['-c', 'command -v systemd-analyze']).status === 0;

/** The unit's Key=value lines of [Service]. */
function serviceKeys(unit) {
  const keys = {};
  for (const line of unit.split('\n')) {
    const at = line.indexOf('=');
    if (at > 0) keys[line.slice(0, at)] = line.slice(at + 1);
  }
  return keys;
}

/** Splits ExecStart= as systemd does for the quoting quoteForSystemd produces. */
function splitExecStart(line) {
  const words = [];
  const pattern = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let m = pattern.exec(line); m; m = pattern.exec(line)) {
    const word = m[1] !== undefined ? m[1].replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c)) : m[2];
    words.push(word.replace(/%%/g, '%').replace(/\$\$/g, '$'));
  }
  return words;
}

function verify(unit, name) {
  const file = path.join(scratch.dir(), `${name}.service`);
  fs.writeFileSync(file, unit);
  return spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
}

describe('--systemd-unit', () => {
  it('prints a Type=forking unit whose ExecStart starts the daemon named by PIDFile=', { skip: !analyze && 'systemd-analyze not installed' }, () => {
    const dir = scratch.dir();
    const token = scratch.token();
    const result = runCli(['--systemd-unit', 'web', '--pidfile', 'web.pid', '--stdout', 'out.log', '--env', 'GREETING=hello world',
      '--', 'sleep', `1000.${token}`], { cwd: dir });
    assert.equal(result.status, 0, result.stderr);
    const keys = serviceKeys(result.stdout);
    assert.equal(keys.Type, 'forking');
    assert.equal(keys.PIDFile, path.join(dir, 'web.pid'));
    assert.equal(keys.Restart, 'on-failure');
    const checked = verify(result.stdout, 'web');
    assert.equal(checked.status, 0, checked.stderr);
    const argv = splitExecStart(keys.ExecStart);
    assert.ok(argv.every((word, i) => i > 1 || path.isAbsolute(word)), keys.ExecStart);
    assert.ok(argv.includes('GREETING=hello world'));
    const started = spawnSync(argv[0], argv.slice(1), { cwd: '/', env: {}, encoding: 'utf8' });
    assert.equal(started.status, 0, started.stderr);
    const pid = scratch.track(readPidfile(keys.PIDFile));
    assert.deepEqual(proc.findByToken(token), [pid]);
    assert.equal(proc.environ(pid).GREETING, 'hello world');
    assert.ok(fs.existsSync(path.join(dir, 'out.log')));
  });

  it('prints a Type=notify unit for -f, with NotifyAccess=all under -f -r', { skip: !analyze && 'systemd-analyze not installed' }, () => {
    for (const [flags, access] of [[['-f'], 'main'], [['-f', '-r'], 'all']]) {
      const result = runCli(['--systemd-unit', 'app', ...flags, '--', 'node', '/srv/app.js']);
      assert.equal(result.status, 0, result.stderr);
      const keys = serviceKeys(result.stdout);
      assert.equal(keys.Type, 'notify');
      assert.equal(keys.NotifyAccess, access);
      assert.equal(keys.PIDFile, undefined);
      assert.match(keys.ExecStart, / --foreground /);
      const checked = verify(result.stdout, 'app');
      assert.equal(checked.status, 0, checked.stderr);
    }
  });

  it('refuses a bad name, a missing command and a missing program as a start would', () => {
    assert.equal(runCli(['--systemd-unit', '../x', '--', 'true']).status, 2);
    assert.equal(runCli(['--systemd-unit', 'x']).status, 2);
    assert.equal(runCli(['--systemd-unit', 'x', '--', 'dz-no-such-program']).status, 127);
  });

  it('quotes words for ExecStart=', () => {
    assert.equal(quoteForSystemd('/usr/bin/node'), '/usr/bin/node');
    assert.equal(quoteForSystemd('a b'), '"a b"');
    assert.equal(quoteForSystemd('$HOME'), '"$$HOME"');
    assert.equal(quoteForSystemd('50%'), '"50%%"');
    assert.equal(quoteForSystemd('say "hi"\\'), '"say \\"hi\\"\\\\"');
    assert.equal(quoteForSystemd(''), '""');
  });
});
