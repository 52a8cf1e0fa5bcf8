// -R, --chroot DIR: checked before anything forks. Only root can chroot, and a root that others can
// write into is no confinement (they could plant the program, its libraries or /etc/passwd there), so
// the directory must be root's and writable by nobody else. The program's path and --chdir are then
// paths inside it; the child calls chroot(2) and then chdir(2) (native/child.cc).
import { statSync } from 'node:fs';
import { resolve } from 'node:path';

import { DaemonizeError, unable } from './errors';
import { ExitCode } from './exit-codes';

/** The absolute root directory, or a DaemonizeError saying why it cannot be one. */
export function checkChroot(dir: string, baseDir: string): string {
  if (dir === '' || dir.includes('\0')) {
    throw new DaemonizeError(`bad --chroot ${JSON.stringify(dir)}: expected a directory`, ExitCode.USAGE);
  }
  const root = resolve(baseDir, dir);
  if ((process.geteuid?.() ?? 0) !== 0) {
    throw new DaemonizeError(`unable to chroot to ${root}: only root can (Operation not permitted)`);
  }
  let stat;
  try {
    stat = statSync(root);
  } catch (error) {
    throw unable(`chroot to ${root}`, error);
  }
  if (!stat.isDirectory()) throw new DaemonizeError(`unable to chroot to ${root}: Not a directory`);
  if (stat.uid !== 0) throw new DaemonizeError(`unable to chroot to ${root}: it is owned by uid ${stat.uid}, not by root`);
  if ((stat.mode & 0o022) !== 0) {
    throw new DaemonizeError(`unable to chroot to ${root}: it is writable by other users (mode ${(stat.mode & 0o7777).toString(8).padStart(4, '0')})`);
  }
  return root;
}
