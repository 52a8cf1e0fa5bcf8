'use strict';
// --systemd-unit: the unit files it prints pass `systemd-analyze verify`, and their ExecStart= line,
// run as systemd would run it (from /, no caller environment), really starts the daemon PIDFile= names.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');
const { describe, it, after } = require('node:test');

const proc = require('./helpers/proc');
const { Scratch, runCli, readPidfile, waitFor } = require('./helpers/harness');
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

  it('prints Type=exec for -f (nginx, gunicorn never send READY=1), Type=notify only with --systemd-notify', { skip: !analyze && 'systemd-analyze not installed' }, () => {
    for (const [flags, type, access] of [[['-f'], 'exec', undefined], [['-f', '-r'], 'exec', undefined],
      [['-f', '--systemd-notify'], 'notify', 'main'], [['-f', '-r', '--systemd-notify'], 'notify', 'all']]) {
      const result = runCli(['--systemd-unit', 'app', ...flags, '--', 'node', '/srv/app.js']);
      assert.equal(result.status, 0, result.stderr);
      const keys = serviceKeys(result.stdout);
      assert.equal(keys.Type, type, flags.join(' '));
      assert.equal(keys.NotifyAccess, access, flags.join(' '));
      assert.equal(keys.PIDFile, undefined);
      assert.equal(keys.Restart, 'on-failure', 'every unit, a supervisor\'s too, has a backstop');
      assert.match(keys.ExecStart, / --foreground /);
      const checked = verify(result.stdout, 'app');
      assert.equal(checked.status, 0, checked.stderr);
    }
    const forking = runCli(['--systemd-unit', 'app', '--systemd-notify', '--', 'node', '/srv/app.js']);
    assert.equal(forking.status, 2, 'a forking unit waits for its pidfile, not for READY=1');
  });

  for (const flags of [[], ['-r'], ['-f'], ['-f', '-r']]) {
    it(`writes a unit (${flags.join(' ') || 'daemon'}) whose ExecStart starts \`node server.js\` typed in its directory, run from / with PATH=/usr/bin:/bin`, { skip: !analyze && 'systemd-analyze not installed' }, async () => {
      const dir = scratch.dir();
      const token = scratch.token();
      // Says it started (beside itself), then waits: proof that node found the script from /.
      fs.writeFileSync(path.join(dir, 'server.js'),
        "require('fs').writeFileSync(require('path').join(__dirname, 'started-' + process.argv[2]), String(process.pid));\n" +
        'setInterval(() => {}, 1 << 30);\n');
      const foreground = flags.includes('-f');
      const pidArgs = foreground ? [] : ['--pidfile', 'server.pid'];
      const result = runCli(['--systemd-unit', 'server', ...flags, ...pidArgs, '--', 'node', 'server.js', token], { cwd: dir });
      assert.equal(result.status, 0, result.stderr);
      const keys = serviceKeys(result.stdout);
      assert.equal(keys.Restart, 'on-failure');
      const checked = verify(result.stdout, 'server');
      assert.equal(checked.status, 0, checked.stderr);
      const argv = splitExecStart(keys.ExecStart);
      assert.ok(argv.includes(path.join(dir, 'server.js')), keys.ExecStart);
      const started = path.join(dir, `started-${token}`);
      if (foreground) {
        const unit = spawn('env', ['-i', 'PATH=/usr/bin:/bin', ...argv], { cwd: '/', stdio: 'ignore' });
        scratch.track(unit.pid);
      } else {
        const run = spawnSync('env', ['-i', 'PATH=/usr/bin:/bin', ...argv], { cwd: '/', encoding: 'utf8' });
        assert.equal(run.status, 0, run.stderr);
        scratch.track(readPidfile(keys.PIDFile));
      }
      const pid = Number(await waitFor(() => fs.existsSync(started) && fs.readFileSync(started, 'utf8'), 'server.js to start'));
      scratch.track(pid);
      assert.ok(proc.isAlive(pid));
      // Under -f the daemonize process (itself, or the supervisor) has the token in its argv too.
      assert.ok(proc.findByToken(token).includes(pid));
      assert.match(proc.cmdline(pid).join(' '), new RegExp(`^/\\S*node ${dir}/server\\.js ${token}$`));
    });
  }

  it('passes the launch options through ExecStart, with --noconfig: profiles were read when it was written', () => {
    const dir = scratch.dir();
    fs.writeFileSync(path.join(dir, 'app.env'), 'A=1\n');
    const conf = path.join(dir, 'd.conf');
    fs.writeFileSync(conf, '* nocore\n');
    const result = runCli(['--systemd-unit', 'app', '-C', conf, '--env-file', 'app.env', '--', '/bin/true'], { cwd: dir });
    assert.equal(result.status, 0, result.stderr);
    const argv = splitExecStart(serviceKeys(result.stdout).ExecStart);
    for (const word of ['--noconfig', '--nocore', '--env-file', path.join(dir, 'app.env')]) assert.ok(argv.includes(word), word);
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
