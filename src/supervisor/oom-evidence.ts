// Was it the kernel's OOM killer? A child killed by SIGKILL that nobody here sent may have been. The
// evidence, most certain first: the kernel log naming its pid ("Killed process 4127 (node)" in
// /dev/kmsg); the OOM-kill count of the memory cgroup it was born in rising while it ran (cgroup v2
// memory.events, or v1's memory.oom_control); else the system-wide count in /proc/vmstat rising while it
// ran, which is only a guess: another process may have been the one killed.
import { constants, readSync } from 'node:fs';

import { closeFile, openFile, readText } from '../file-calls';
import { native } from '../native';

/** An OOM-kill counter file and its count when the child started. */
export interface CgroupCounter {
  /** The cgroup's path, for the sentence: "/system.slice/web.service". */
  cgroup: string;
  file: string;
  count: number;
}

/** What is known when a child starts, to compare at its end. */
export interface OomBaseline {
  cgroups: CgroupCounter[];
  /** /proc/vmstat's oom_kill, or null where the kernel has none. */
  system: number | null;
  /**
   * /dev/kmsg opened once the child has exec'd (followKernelLog), at the end of the log: read at its end,
   * it gives only what the kernel logged while it ran. Reading the whole ring at each death took 20 ms on a
   * machine whose log was full of other processes' OOM kills, all of it before a respawn. Opened after the
   * spawn, not before, so a spawn near the descriptor limit has as many as it always had; the OOM killer
   * does not pick a program in the microseconds between its exec and the open. Null until then, or when the
   * log cannot be read (a container, kernel.dmesg_restrict for a non-root supervisor). Closed by
   * releaseOomBaseline().
   */
  kernelLog: number | null;
}

/** What was found at its end. */
export interface OomFindings {
  /** The kernel log names the pid as killed for lack of memory; null when the log cannot be read. */
  kernelLog: boolean | null;
  /** Counters that rose: [cgroup, by how many]. */
  cgroups: { cgroup: string; by: number }[];
  /** How much the system-wide count rose, or null when unknown. */
  system: number | null;
}

/** More than any of these files holds: mountinfo, the longest, is some tens of KB on a host with many containers. */
const MAX_READ = 16 * 1024 * 1024;

/** A file's text, or null when it cannot be read (through the addon: this is on every respawn's path). */
function readOrNull(path: string): string | null {
  try {
    return readText(path, MAX_READ);
  } catch {
    return null;
  }
}

/** The `oom_kill N` line of memory.events, memory.oom_control or /proc/vmstat. */
export function oomKillCount(text: string | null): number | null {
  const match = text === null ? null : /^oom_kill (\d+)$/m.exec(text);
  return match === null ? null : Number(match[1]);
}

interface CgroupMount {
  /** The mount point. */
  point: string;
  /** The cgroup the mount shows at its point ("/" unless in a cgroup namespace's view). */
  root: string;
}

/** Where cgroup v2, and v1's memory controller, are mounted (from /proc/self/mountinfo). */
export function cgroupMounts(mountinfo: string): { v2: CgroupMount | null; memory: CgroupMount | null } {
  let v2: CgroupMount | null = null;
  let memory: CgroupMount | null = null;
  for (const line of mountinfo.split('\n')) {
    const [before, after] = line.split(' - ');
    if (after === undefined) continue;
    const fields = before.split(' ');
    const [fstype, , superOptions = ''] = after.split(' ');
    const mount = { point: fields[4].replace(/\\040/g, ' '), root: fields[3] };
    if (fstype === 'cgroup2' && v2 === null) v2 = mount;
    if (fstype === 'cgroup' && memory === null && superOptions.split(',').includes('memory')) memory = mount;
  }
  return { v2, memory };
}

function under(mount: CgroupMount, cgroup: string): string | null {
  const root = mount.root === '/' ? '' : mount.root;
  if (root !== '' && cgroup !== root && !cgroup.startsWith(`${root}/`)) return null;
  return `${mount.point}${cgroup.slice(root.length)}`;
}

/** The OOM-kill counter files of the cgroups in a /proc/PID/cgroup text (v2, and v1's memory controller). */
export function counterFiles(procCgroup: string, mountinfo: string): { cgroup: string; file: string }[] {
  const mounts = cgroupMounts(mountinfo);
  const files: { cgroup: string; file: string }[] = [];
  for (const line of procCgroup.split('\n')) {
    const match = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (match === null) continue;
    const [, hierarchy, controllers, cgroup] = match;
    if (hierarchy === '0' && controllers === '' && mounts.v2 !== null) {
      const dir = under(mounts.v2, cgroup);
      if (dir !== null) files.push({ cgroup, file: `${dir}/memory.events` });
    } else if (controllers.split(',').includes('memory') && mounts.memory !== null) {
      const dir = under(mounts.memory, cgroup);
      if (dir !== null) files.push({ cgroup, file: `${dir}/memory.oom_control` });
    }
  }
  return files;
}

/** /dev/kmsg, positioned after its last record, or null. */
function kernelLogFromNow(): number | null {
  let fd: number;
  try {
    fd = openFile('/dev/kmsg', constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return null;
  }
  try {
    native.seekEnd(fd);
    return fd;
  } catch {
    closeFile(fd);
    return null;
  }
}

/**
 * counterFiles' last answer and the /proc/self/cgroup text it was for. Where the cgroup file systems are
 * mounted does not change under a running service, and mountinfo was the longest read before each spawn;
 * a supervisor moved to another cgroup (its /proc/self/cgroup changes) resolves its files again.
 */
let resolved: { procCgroup: string; files: { cgroup: string; file: string }[] } | null = null;

function counterFilesOf(procCgroup: string): { cgroup: string; file: string }[] {
  if (resolved?.procCgroup !== procCgroup) {
    const mountinfo = readOrNull('/proc/self/mountinfo');
    if (mountinfo === null) return [];
    resolved = { procCgroup, files: counterFiles(procCgroup, mountinfo) };
  }
  return resolved.files;
}

/**
 * Read just before a child starts: it is born in this process's cgroups. Files that do not exist (v2
 * without its memory controller) are left out.
 */
export function oomBaseline(): OomBaseline {
  const procCgroup = readOrNull('/proc/self/cgroup');
  const cgroups: CgroupCounter[] = [];
  if (procCgroup !== null) {
    for (const { cgroup, file } of counterFilesOf(procCgroup)) {
      const count = oomKillCount(readOrNull(file));
      if (count !== null) cgroups.push({ cgroup, file, count });
    }
  }
  return { cgroups, system: oomKillCount(readOrNull('/proc/vmstat')), kernelLog: null };
}

/** The child has exec'd: from now on, what the kernel logs is read at its end. */
export function followKernelLog(baseline: OomBaseline): void {
  if (baseline.kernelLog === null) baseline.kernelLog = kernelLogFromNow();
}

/** Closes what followKernelLog() opened. */
export function releaseOomBaseline(baseline: OomBaseline): void {
  if (baseline.kernelLog !== null) closeFile(baseline.kernelLog);
  baseline.kernelLog = null;
}

/** At most this many kernel log records are read (the ring holds a few thousand). */
const KMSG_RECORDS = 20000;

/**
 * True when the kernel log records read from `kernelLog` (opened once the child exec'd, see OomBaseline)
 * say the kernel killed `pid` for lack of memory; false when they do not; null when there is no log.
 */
export function kernelLogNamesOomKill(pid: number, kernelLog: number | null): boolean | null {
  if (kernelLog === null) return null;
  // "Memory cgroup out of memory: Killed process 4127 (node) ..." or "Out of memory: Killed process 4127 (node)"
  const killed = new RegExp(`(?:out of memory|oom).*: Killed process ${pid} \\(`, 'i');
  const buffer = Buffer.alloc(8192);
  for (let n = 0; n < KMSG_RECORDS; n++) {
    let got: number;
    try {
      got = readSync(kernelLog, buffer, 0, buffer.length, null);
    } catch (error) {
      // EPIPE: records were overwritten while it ran; the next read goes on from the oldest left.
      if ((error as NodeJS.ErrnoException).code === 'EPIPE') continue;
      return false; // EAGAIN: the end
    }
    if (got === 0) return false;
    const record = buffer.toString('utf8', 0, got);
    if (killed.test(record.slice(record.indexOf(';') + 1))) return true;
  }
  return false;
}

/** Read at the child's end: what moved since `baseline`. */
export function oomFindings(pid: number, baseline: OomBaseline): OomFindings {
  const cgroups: OomFindings['cgroups'] = [];
  for (const counter of baseline.cgroups) {
    const now = oomKillCount(readOrNull(counter.file));
    if (now !== null && now > counter.count) cgroups.push({ cgroup: counter.cgroup, by: now - counter.count });
  }
  const system = oomKillCount(readOrNull('/proc/vmstat'));
  return {
    kernelLog: kernelLogNamesOomKill(pid, baseline.kernelLog),
    cgroups,
    system: system !== null && baseline.system !== null ? system - baseline.system : null,
  };
}

const times = (n: number): string => `${n} OOM kill${n === 1 ? '' : 's'}`;

/** The cause for the end's sentence, or null when nothing points at the OOM killer. Pure. */
export function judgeOom(pid: number, findings: OomFindings): string | null {
  if (findings.kernelLog === true) return `killed by the kernel's OOM killer (the kernel log names pid ${pid})`;
  const cgroup = findings.cgroups[0];
  if (cgroup !== undefined) return `killed by the kernel's OOM killer (its memory cgroup ${cgroup.cgroup} counted ${times(cgroup.by)} while it ran)`;
  if (findings.system !== null && findings.system > 0) {
    return `probably killed by the kernel's OOM killer (the system counted ${times(findings.system)} while it ran, and nobody here sent SIGKILL)`;
  }
  return null;
}
