'use strict';
// What the OS shows about a process: the /proc readers tests and the bench share (tools/procfs.js).
module.exports = require('../../tools/procfs');
