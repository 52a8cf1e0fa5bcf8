'use strict';
// A full disk for tests: a 64 KiB tmpfs filled to its last block, where files can still be created (there
// are inodes left) but not written. Mounted under a Scratch directory; unmount() before scratch.cleanup().
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

class FullDisks {
  constructor(scratch) {
    this.scratch = scratch;
    this.mounts = [];
  }

  /** A new full tmpfs; its one file is 'fill'. */
  make() {
    const dir = path.join(this.scratch.dir(), 'full');
    fs.mkdirSync(dir);
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], { encoding: 'utf8' });
    assert.equal(mounted.status, 0, mounted.stderr);
    this.mounts.push(dir);
    const fd = fs.openSync(path.join(dir, 'fill'), 'w');
    try {
      for (;;) fs.writeSync(fd, Buffer.alloc(4096, 1));
    } catch (error) {
      assert.equal(error.code, 'ENOSPC');
    } finally {
      fs.closeSync(fd);
    }
    return dir;
  }

  unmount() {
    for (const dir of this.mounts.splice(0)) spawnSync('umount', ['-l', dir]);
  }
}

module.exports = { FullDisks };
