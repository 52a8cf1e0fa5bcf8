// --user NAME[:GROUP]: resolved before fork, because getpwnam and initgroups may not run in a fork child.
import { DaemonizeError } from './errors';
import { ExitCode } from './exit-codes';
import { native } from './native';

export interface TargetUser {
  name: string;
  uid: number;
  gid: number;
  /** Supplementary groups, as initgroups(3) would set them. */
  groups: number[];
  home: string;
}

function lookUp<T>(spec: string, find: (key: string | number) => T | null): T | null {
  return find(/^\d+$/.test(spec) ? Number(spec) : spec);
}

export function resolveUser(spec: string): TargetUser {
  const [userPart, groupPart, extra] = spec.split(':');
  if (!userPart || extra !== undefined || groupPart === '') {
    throw new DaemonizeError(`bad --user '${spec}': expected NAME or NAME:GROUP`, ExitCode.USAGE);
  }
  const account = lookUp(userPart, native.getUser);
  if (!account) throw new DaemonizeError(`unable to find user ${userPart}: no such user`);
  let gid = account.gid;
  if (groupPart !== undefined) {
    const group = lookUp(groupPart, native.getGroup);
    if (!group) throw new DaemonizeError(`unable to find group ${groupPart}: no such group`);
    gid = group.gid;
  }
  const groups = native.groupList(account.name, gid);
  const current = process.getuid?.() ?? 0;
  if (current !== 0 && (account.uid !== current || gid !== process.getgid?.())) {
    throw new DaemonizeError(`unable to switch to user ${spec}: only root can change user (Operation not permitted)`);
  }
  return { name: account.name, uid: account.uid, gid, groups, home: account.home };
}
