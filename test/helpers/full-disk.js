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

  /** A new full tmpfs; its one file is 'fill'. `full` false: an empty one, to fill() later. */
  make(full = true) {
    const dir = path.join(this.scratch.dir(), 'full');
    fs.mkdirSync(dir);
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], { encoding: 'utf8' });
    assert.equal(mounted.status, 0, mounted.stderr);
    this.mounts.push(dir);
    if (full) this.fill(dir);
    return dir;
  }

  /** Fills the tmpfs at `dir` to its last block with a file 'fill' (removing it frees the disk again). */
  fill(dir) {
    const fd = fs.openSync(path.join(dir, 'fill'), 'w');
    try {
      for (;;) fs.writeSync(fd, Buffer.alloc(4096, 1));
    } catch (error) {
      assert.equal(error.code, 'ENOSPC');
    } finally {
      fs.closeSync(fd);
    }
  }

  unmount() {
    for (const dir of this.mounts.splice(0)) spawnSync('umount', ['-l', dir]);
  }
}

/** A Scratch and its FullDisks for one test file, cleaned up after it (the disks unmounted first). */
function scratchWithDisks() {
  const { after } = require('node:test');
  const { Scratch } = require('./harness');
  const scratch = new Scratch();
  const disks = new FullDisks(scratch);
  after(async () => {
    disks.unmount();
    await scratch.cleanup();
  });
  return { scratch, disks };
}

module.exports = { FullDisks, scratchWithDisks };
