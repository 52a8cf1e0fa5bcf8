'use strict';
// A tiny HTTP server to daemonize: `npx daemonize --pidfile /tmp/web.pid --stdout /tmp/web.log --chdir . -- node examples/server.js`
const http = require('node:http');

const port = Number(process.env.PORT || 8080);
http.createServer((request, response) => {
  response.end(`hello from pid ${process.pid}\n`);
}).listen(port, '127.0.0.1', () => {
  console.log(`${new Date().toISOString()} listening on http://127.0.0.1:${port} as pid ${process.pid}`);
});
process.on('SIGTERM', () => {
  console.log(`${new Date().toISOString()} SIGTERM: shutting down`);
  process.exit(0);
});
