'use strict';
// Named profiles (libslack's /etc/daemon.conf, as /etc/daemonize.conf): the real CLI reads a file given
// with -C (in place of /etc/daemonize.conf) and the user's $XDG_CONFIG_HOME/daemonize.conf, and starts,
// inspects and stops a service named by --name alone. Each assertion reads what the OS shows.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { describe, it, after } = require('node:test');

const proc = require('./helpers/proc');
const { CLI, Scratch, runCli, readPidfile, waitFor } = require('./helpers/harness');

const scratch = new Scratch();
after(() => scratch.cleanup());

const needsRoot = { skip: process.getuid() !== 0 && 'needs root to own files as another user' };

/** A directory with a profile file and an (empty) XDG_CONFIG_HOME; returns paths and the env to run with. */
function setup(profile, userProfile) {
  const dir = scratch.dir();
  const conf = path.join(dir, 'daemonize.conf');
  fs.writeFileSync(conf, profile);
  const xdg = path.join(dir, 'xdg');
  fs.mkdirSync(xdg);
  if (userProfile !== undefined) fs.writeFileSync(path.join(xdg, 'daemonize.conf'), userProfile);
  return { dir, conf, env: { ...process.env, XDG_CONFIG_HOME: xdg } };
}

function childOf(pidfile) {
  const status = JSON.parse(fs.readFileSync(pidfile.replace(/\.pid$/, '.status'), 'utf8'));
  return status.child;
}

describe('profiles', () => {
  it('starts a service by --name alone from a * entry and a named entry, then --status and --stop find it', async () => {
    const token = scratch.token();
    const dir = scratch.dir();
    const { conf, env } = setup([
      '# like the seed\'s /etc/daemon.conf',
      `RUN=${dir}`,
      '* pidfiles=$RUN,stop-timeout=3,env=FROM_STAR=1',
      'other respawn,env=FROM_OTHER=1',
      'test_server respawn,output=${RUN}/test_server.log,\\',
      '    env=GREETING=hello world, \\   # the named entry continues',
      `    command="sleep 1000.${token}"`,
      '',
    ].join('\n'));
    const started = runCli(['-C', conf, '--name', 'test_server'], { env });
    assert.equal(started.status, 0, started.stderr);
    const pidfile = path.join(dir, 'test_server.pid');
    const supervisor = scratch.track(readPidfile(pidfile));
    const child = await waitFor(() => childOf(pidfile), 'the supervisor to name its child');
    scratch.track(child);
    assert.deepEqual(proc.findByToken(token), [child]);
    assert.equal(proc.stat(child).ppid, supervisor, 'respawn came from the named entry: a supervisor runs it');
    const environ = proc.environ(child);
    assert.equal(environ.FROM_STAR, '1');
    assert.equal(environ.GREETING, 'hello world');
    assert.equal(environ.FROM_OTHER, undefined, 'another name\'s entry does not apply');
    assert.ok(fs.existsSync(path.join(dir, 'test_server.log')));

    const status = runCli(['-C', conf, '--name', 'test_server', '--status'], { env });
    assert.equal(status.status, 0, status.stderr);
    assert.match(status.stdout, new RegExp(`running as pid ${supervisor} \\(supervisor\\), child pid ${child}`));
    const stopped = runCli(['-C', conf, '--name', 'test_server', '--stop'], { env });
    assert.equal(stopped.status, 0, stopped.stderr);
    assert.ok(!proc.isAlive(supervisor) && !proc.isAlive(child));
  });

  it('lets the command line win over the name\'s entry, and that over the * entries', () => {
    const dir = scratch.dir();
    const token = scratch.token();
    const { conf, env } = setup([
      `* pidfiles=${dir},output=${dir}/star.log,env=LEVEL=star,env=KEEP=star`,
      `web stdout=${dir}/named.log,env=LEVEL=named,command="sleep 1000.${token}-named"`,
    ].join('\n'));
    const result = runCli(['-C', conf, '-n', 'web', '--stdout', path.join(dir, 'cli.log'), '--env', 'LEVEL=cli',
      '--', 'sleep', `1000.${token}`], { env });
    assert.equal(result.status, 0, result.stderr);
    const pid = scratch.track(readPidfile(path.join(dir, 'web.pid')));
    assert.deepEqual(proc.findByToken(token), [pid], 'the typed command replaces the profile\'s command=');
    assert.match(proc.cmdline(pid).join(' '), new RegExp(`^sleep 1000\\.${token}$`));
    assert.equal(proc.environ(pid).LEVEL, 'cli');
    assert.equal(proc.environ(pid).KEEP, 'star');
    assert.ok(fs.existsSync(path.join(dir, 'cli.log')));
    assert.ok(!fs.existsSync(path.join(dir, 'named.log')) && !fs.existsSync(path.join(dir, 'star.log')));
    // stderr: the * entry's --output was dropped by the named --stdout, so it is /dev/null.
    assert.equal(proc.fds(pid)['2'], '/dev/null');
  });

  it('reads FILE, then FILE.d/* in sorted order, then $XDG_CONFIG_HOME/daemonize.conf; -N reads none', () => {
    const dir = scratch.dir();
    const token = scratch.token();
    const { conf, env } = setup(`* pidfiles=${dir},env=ORDER=main,env=MAIN=1\nVAR=from-main\n`,
      '* env=ORDER=${ORDER_SEEN}-user\n');
    fs.mkdirSync(`${conf}.d`);
    fs.writeFileSync(`${conf}.d/20-second`, '* env=ORDER=second\nORDER_SEEN=$VAR-second\n');
    fs.writeFileSync(`${conf}.d/10-first`, '* env=ORDER=first,env=FIRST=1\n');
    fs.writeFileSync(`${conf}.d/30-backup~`, '* env=ORDER=backup\n');
    fs.writeFileSync(`${conf}.d/.hidden`, 'garbage that would not parse\n');
    const result = runCli(['-C', conf, '-n', 'order', '--', 'sleep', `1000.${token}`], { env });
    assert.equal(result.status, 0, result.stderr);
    const pid = scratch.track(readPidfile(path.join(dir, 'order.pid')));
    const environ = proc.environ(pid);
    assert.equal(environ.ORDER, 'from-main-second-user');
    assert.equal(environ.MAIN, '1');
    assert.equal(environ.FIRST, '1');

    const pidfile = path.join(dir, 'none.pid');
    const none = runCli(['-N', '--pidfile', pidfile, '--', 'sleep', `1000.${token}`], { env });
    assert.equal(none.status, 0, none.stderr);
    const bare = scratch.track(readPidfile(pidfile));
    assert.equal(proc.environ(bare).MAIN, undefined);
    assert.equal(runCli(['-C', conf, '-N', '--', 'true'], { env }).status, 2);
  });

  it('reports a bad line as a usage error naming file and line, and starts nothing', () => {
    const { dir, conf, env } = setup('# profiles\n* stop-timeout=3\nweb respawn,\\\n  pidfle=/run/web.pid\n');
    const result = runCli(['-C', conf, '-n', 'web', '-P', dir, '--', 'sleep', '1000'], { env });
    assert.equal(result.status, 2);
    assert.equal(result.stderr, `daemonize: usage: ${conf}:3: unknown option 'pidfle'\n`);
    assert.ok(!fs.existsSync(path.join(dir, 'web.pid')));
    const missing = runCli(['-C', path.join(dir, 'nope.conf'), '--', 'true'], { env });
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /^daemonize: fatal: unable to read profile .*nope\.conf: No such file or directory\n$/);
  });

  it('takes the program from -X as one string, and refuses -X with a typed command', () => {
    const dir = scratch.dir();
    const token = scratch.token();
    const pidfile = path.join(dir, 'x.pid');
    const result = runCli(['-N', '--pidfile', pidfile, '-X', `sh -c 'exec sleep "$0"' 1000.${token}`]);
    assert.equal(result.status, 0, result.stderr);
    const pid = scratch.track(readPidfile(pidfile));
    assert.deepEqual(proc.findByToken(token), [pid]);
    const both = runCli(['-N', '-X', 'sleep 1', '--', 'sleep', '1']);
    assert.equal(both.status, 2);
    assert.match(both.stderr, /either with --command or after the options/);
  });

  it('skips profile files this user may not read (root\'s own), but not the one -C names', needsRoot, () => {
    const { dir, conf, env } = setup('* env=SECRET=1\n', '* env=SECRET=2\n');
    fs.chmodSync(conf, 0o600);
    fs.chmodSync(dir, 0o755);
    const pidfile = path.join(dir, 'run', 'x.pid');
    fs.mkdirSync(path.dirname(pidfile), { mode: 0o777 });
    fs.chmodSync(path.dirname(pidfile), 0o777);
    const asNobody = (args) => spawnSync('setpriv', ['--reuid', 'nobody', '--regid', 'nogroup', '--clear-groups',
      process.execPath, CLI, ...args], { encoding: 'utf8', env });
    // Its XDG_CONFIG_HOME (root's, inherited) cannot be entered: as if there were no such file.
    fs.chmodSync(env.XDG_CONFIG_HOME, 0o700);
    const token = scratch.token();
    const skipped = asNobody(['--pidfile', pidfile, '--', 'sleep', `1000.${token}`]);
    assert.equal(skipped.status, 0, skipped.stderr);
    assert.equal(proc.environ(scratch.track(readPidfile(pidfile))).SECRET, undefined);
    const named = asNobody(['-C', conf, '--', 'true']);
    assert.equal(named.status, 1);
    assert.match(named.stderr, /unable to read profile .*: Permission denied/);
  });

  it('as root, refuses a profile another user could write (a planted user= or chroot=), starting nothing', needsRoot, () => {
    const dir = scratch.dir();
    const pidfile = path.join(dir, 'x.pid');
    const cases = [
      ['owned by nobody', (file) => fs.chownSync(file, 65534, 65534), /it is owned by uid 65534, not by root/],
      ['world-writable', (file) => fs.chmodSync(file, 0o666), /it is writable by other users \(mode 0666\)/],
      ['in a world-writable directory', (file) => fs.chmodSync(path.dirname(file), 0o777),
        /its directory .* is writable by other users and not sticky \(mode 0777\)/],
    ];
    for (const [what, spoil, message] of cases) {
      const { conf, env } = setup('* user=nobody,chroot=/tmp\n');
      spoil(conf);
      const result = runCli(['-C', conf, '--pidfile', pidfile, '--', 'sleep', '1000'], { env });
      assert.equal(result.status, 1, what);
      assert.match(result.stderr, new RegExp(`^daemonize: fatal: unable to read profile ${conf}: ${message.source}`), what);
      assert.ok(!fs.existsSync(pidfile), what);
    }
    // A link root may follow, but what it reads must still be root's: here a file nobody planted elsewhere.
    const planted = setup('* user=root\n');
    fs.chownSync(planted.conf, 65534, 65534);
    const link = path.join(scratch.dir(), 'daemonize.conf');
    fs.symlinkSync(planted.conf, link);
    const linked = runCli(['-C', link, '--pidfile', pidfile, '--', 'sleep', '1000'], { env: planted.env });
    assert.equal(linked.status, 1);
    assert.match(linked.stderr, /unable to read profile .*: it is owned by uid 65534, not by root/);
  });
});
