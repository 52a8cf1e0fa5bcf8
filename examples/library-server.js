'use strict';
// A small HTTP server that daemonizes itself. Start it with `node examples/library-server.js`: the
// command returns once the server listens (exit 0), or prints why it could not (EADDRINUSE, say) and
// exits 4. Then: `curl 127.0.0.1:8080`, `kill -HUP $(cat /tmp/library-server.pid)` (reopen the log),
// `kill $(cat /tmp/library-server.pid)` (close the server, remove the pidfile, exit).
// Code above the daemonize() call runs twice, in the launcher and again in the daemon: keep it cheap.
const http = require('node:http');
const { daemonize } = require('..'); // require('unix-daemonize') in an installed app

const d = daemonize({
  pidfile: '/tmp/library-server.pid',
  output: '/tmp/library-server.log',
  ready: 'manual', // ready once listening, not before
});

const log = (line) => console.log(`${new Date().toISOString()} ${line}`);
const port = Number(process.env.PORT || 8080);
const server = http.createServer((request, response) => {
  response.end(`hello from pid ${process.pid}\n`);
});
// A listen error before ready() throws: the launcher prints the stack and exits non-zero.
server.listen(port, '127.0.0.1', () => {
  log(`listening on http://127.0.0.1:${port} as pid ${process.pid}`);
  d.ready();
});

d.on('reload', () => log('SIGHUP: log file reopened'));
d.on('shutdown', (signal) => new Promise((resolve) => {
  log(`${signal}: closing the server`);
  server.close(resolve);
  server.closeIdleConnections();
}));
