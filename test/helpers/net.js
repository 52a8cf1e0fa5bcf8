'use strict';
// Ports for tests, on 127.0.0.1 only (tools/free-port.js, shared with the bench).
module.exports = require('../../tools/free-port');
