'use strict';
// A test syslog daemon (a python receiver bound at a socket of the test's; /dev/log cannot be replaced
// safely here), and the variable that points the CLI at it (DAEMONIZE_SYSLOG_SOCKET).
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const { waitFor } = require('./harness');

const RECEIVER = path.join(__dirname, '..', 'fixtures', 'syslog-receiver.py');
const HEADER = /^<(\d+)>([A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d) ([^[]+)\[(\d+)\]: (.*)$/s;

/** A test syslog daemon (its process tracked by `scratch`): its socket path, and the messages it received, parsed. */
async function syslogDaemon(scratch) {
  const dir = scratch.dir();
  const socket = path.join(dir, 'log.sock');
  const received = path.join(dir, 'received');
  const child = spawn('python3', [RECEIVER, socket, received], { stdio: 'ignore' });
  scratch.track(child.pid);
  await waitFor(() => fs.existsSync(socket), 'the test syslog socket');
  const messages = () => (fs.existsSync(received) ? fs.readFileSync(received, 'utf8') : '').split('\n').filter(Boolean)
    .map((line) => {
      const text = JSON.parse(line);
      const match = HEADER.exec(text);
      assert.ok(match, `an RFC 3164 line: ${text}`);
      return { pri: Number(match[1]), time: match[2], tag: match[3], pid: Number(match[4]), text: match[5] };
    });
  return { socket, messages };
}

/** Runs `fn` with DAEMONIZE_SYSLOG_SOCKET set for the CLI it starts (the launcher passes it on). */
function withSocket(socket, fn) {
  const saved = process.env.DAEMONIZE_SYSLOG_SOCKET;
  process.env.DAEMONIZE_SYSLOG_SOCKET = socket;
  try {
    return fn();
  } finally {
    if (saved === undefined) delete process.env.DAEMONIZE_SYSLOG_SOCKET;
    else process.env.DAEMONIZE_SYSLOG_SOCKET = saved;
  }
}

module.exports = { syslogDaemon, withSocket };
