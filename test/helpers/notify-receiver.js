'use strict';
// A real sd_notify receiver for tests: an AF_UNIX datagram socket (python3; Node has none) bound at a
// path or an abstract '@' address, standing in for systemd.
const { spawn } = require('node:child_process');

const { waitFor } = require('./harness');

const RECEIVER = `
import json, socket, sys
address = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind('\\0' + address[1:] if address.startswith('@') else address)
print('bound', flush=True)
while True:
    print(json.dumps(s.recv(65536).decode()), flush=True)
`;

/** A datagram receiver bound to `address` (its process tracked by `scratch`); `messages` fills as datagrams arrive. */
async function notifyReceiver(scratch, address) {
  const token = scratch.token();
  const child = spawn('python3', ['-c', RECEIVER, address, token], { stdio: ['ignore', 'pipe', 'inherit'] });
  scratch.track(child.pid);
  const state = { lines: [], messages: [] };
  let buffer = '';
  child.stdout.on('data', (chunk) => {
    buffer += chunk;
    for (let at = buffer.indexOf('\n'); at >= 0; at = buffer.indexOf('\n')) {
      const line = buffer.slice(0, at);
      buffer = buffer.slice(at + 1);
      if (line === 'bound') state.bound = true;
      else state.messages.push(JSON.parse(line));
    }
  });
  await waitFor(() => state.bound, `a receiver at ${address}`);
  return state;
}

module.exports = { notifyReceiver };
