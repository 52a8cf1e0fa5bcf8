'use strict';
// Who holds a pidfile's flock lock, as the product's own identity lookup sees it: by (st_dev, st_ino) over
// /proc/*/fd and the flock line in fdinfo. Nothing here takes the lock: a probe that did (even a shared
// one, for an instant) would make a start racing the test fail with "already running".
const path = require('node:path');

const { identify } = require(path.resolve(__dirname, '..', '..', 'dist', 'identity'));

/** The live processes holding `pidfile`'s lock, oldest first (none when there is no pidfile). */
function lockHolders(pidfile) {
  return identify(pidfile).holders;
}

module.exports = { lockHolders };
