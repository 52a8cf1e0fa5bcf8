// The only module that loads the compiled addon. Its errors look like Node's system errors
// (code, errno, syscall); everything with policy stays on this side of the boundary.
import { existsSync } from 'node:fs';
import { join } from 'node:path';


export interface SpawnIds {
  uid: number;
  gid: number;
  groups: number[];
}

/**
 * Every string in a plan reaches the system as bytes: UTF-8, except that a lone surrogate U+DC80..U+DCFF
 * stands for the single byte 0x80..0xFF (src/raw-bytes.ts makes such strings from arguments and
 * environment values that are not UTF-8). The addon itself also takes Buffers for any of them.
 * The test hook DAEMONIZE_TEST_NO_CLOSE_RANGE, set in the caller's environment, makes spawn skip
 * close_range(2) and walk /proc/self/fd, as it must when a seccomp filter refuses close_range.
 */
export interface SpawnPlan {
  /** 'daemon': double fork; 'child': one fork into a new process group; 'exec': replace this process. */
  mode: 'daemon' | 'child' | 'exec';
  /** Absolute path of the program, already resolved against PATH. */
  file: string;
  argv: string[];
  /** "NAME=value" strings. */
  env: string[];
  cwd?: string;
  umask?: number;
  /** Descriptors for the program's 0, 1 and 2. */
  stdio?: [number, number, number];
  /** Descriptors above 2 the program inherits; all others are closed. */
  keepFds?: number[];
  ids?: SpawnIds;
  /** Linux: SIGKILL the program when this process dies (PR_SET_PDEATHSIG), for a supervisor's children. */
  dieWithParent?: boolean;
  /** RLIMIT_CORE's soft limit for the program: -1 raises it to the hard limit, 0 forbids core files. */
  rlimitCore?: number;
  /** chroot(2) into this directory before the ids change; `file` and `cwd` are then paths inside it. */
  root?: string;
  /** Mode 'child': a new session with stdio[0] (a pty slave) as its controlling terminal, for --pty. */
  controllingTty?: boolean;
  /** Held sockets, placed at 3, 4, ... in the program, which also gets LISTEN_PID=<its own pid>. Not with keepFds. */
  listenFds?: number[];
  /** Variables the program gets set to its own pid, written between fork and exec (WATCHDOG_PID). */
  pidVariables?: string[];
}

/** One datagram from a notification socket, with its sender's credentials (from the kernel). */
export interface NotifyMessage {
  message: string;
  pid: number;
  uid: number;
  truncated: boolean;
}

export interface Account {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

export interface Group {
  name: string;
  gid: number;
}

export interface WaitResult {
  pid: number;
  /** Exit status, or null when a signal killed it. */
  code: number | null;
  /** The signal number that killed it, or null. */
  signal: number | null;
  /** The signal left a core dump (WCOREDUMP). */
  core: boolean;
}

interface Addon {
  /**
   * Mode 'daemon': the daemon and its session, which is the first child's pid (it called setsid). That
   * child is exiting, and is the caller's to reap (waitpid(session, true)): after the pidfile is written,
   * by when its exit has cost nothing.
   */
  spawn(plan: SpawnPlan & { mode: 'daemon' }): { pid: number; session: number };
  /** Modes 'child' and 'exec' (which returns only by throwing): the child's pid. */
  spawn(plan: SpawnPlan): number;
  tryLock(fd: number, shared: boolean): boolean;
  getUser(nameOrUid: string | number): Account | null;
  getGroup(nameOrGid: string | number): Group | null;
  groupList(name: string, gid: number): number[];
  strerror(errno: number): string;
  /** A child that ended, or null (none yet, or no children at all). pid -1: any child. */
  waitpid(pid: number, block: boolean): WaitResult | null;
  openPipe(): [number, number];
  dup2(from: number, to: number): void;
  /** False where the system has no child subreapers (not Linux). */
  setSubreaper(on: boolean): boolean;
  /** Whether this process has a child, alive or a zombie not yet reaped; reaps nothing. */
  hasChildren(): boolean;
  /**
   * A close-on-exec descriptor that becomes readable when process `pid` has ended, or null when none can be
   * had (no such process, Linux before 5.3, no descriptor left): then look at /proc in steps.
   */
  pidfdOpen(pid: number): number | null;
  /** _exit(2): no 'exit' listeners, no teardown; for a process whose every write was synchronous. */
  exitNow(code: number): never;
  /** Ends the process by SIGPIPE (default action), as a C program whose reader went away ends. */
  dieOfBrokenPipe(): never;
  /** Whether the caller is the process's first thread (not a worker thread). */
  isMainThread(): boolean;
  /** lseek(fd, 0, SEEK_END). */
  seekEnd(fd: number): void;
  /** revents (POLLIN, POLLHUP...) for each fd; all zeros when interrupted. timeoutMs -1: no limit. */
  poll(fds: number[], timeoutMs: number): number[];
  setCloseOnExec(fd: number, on: boolean): void;
  /**
   * One AF_UNIX datagram; a path starting with '@' is in the abstract namespace. dontWait: throw EAGAIN
   * instead of blocking when the reader's queue is full.
   */
  notify(socketPath: string, message: string | Buffer, dontWait?: boolean): void;
  /** A pseudo-terminal: master and slave descriptors (close-on-exec); noEcho clears the slave's ECHO. */
  openPty(noEcho: boolean): { master: number; slave: number };
  /** A non-blocking, close-on-exec datagram socket bound at the path ('@': abstract), with SO_PASSCRED. */
  notifySocket(path: string): number;
  /** The next datagram on it, or null when none is waiting. */
  receiveNotify(fd: number): NotifyMessage | null;
  /**
   * Calls `callback` on the event loop whenever `fd` is readable, until unwatch(id); the watch alone does
   * not keep the process alive. unwatch before the descriptor is closed.
   */
  watchReadable(fd: number, callback: () => void): number;
  unwatch(id: number): void;
  /** A close-on-exec listening socket: TCP on a numeric address, or a Unix stream socket at a path. */
  listenSocket(address: { host: string; port: number } | { path: string }, backlog: number): number;
  /** Connects to a Unix stream socket and closes at once; throws its errno (ECONNREFUSED: nobody listens). */
  connectUnix(path: string): void;
  /**
   * Every /proc/PID/stat line, NUL-separated, read in one call (src/process-table.ts parses them); those of
   * the pids in `unread` (ascending) are not read. An addon built before `unread` reads them all.
   */
  procStats(unread?: Int32Array): Buffer;
  /** One /proc/PID/stat line (Latin-1), or null when there is no such process (or it is hidden); throws EMFILE and the like. */
  procStat(pid: number): string | null;
  /** A pidfile opened without following a link at its last component: its identity and first 64 bytes (latin1). */
  readPidfile(path: string): { dev: bigint; ino: bigint; regular: boolean; text: string };
  /** Whether a descriptor of `pid` is that file and owns a flock lock on it; null: its descriptors may not be read. */
  holdsLock(pid: number, dev: bigint, ino: bigint): boolean | null;
  /** The file's bytes after `prefix`, read natively into memory of their own (bin/daemonize.cjs's code cache); undefined if it cannot. */
  readFileAfter(path: string, prefix: Buffer): Buffer | undefined;
  /** An ASCII file as a string over a native copy of it (bin/daemonize.cjs's bundle); undefined if it cannot. */
  readLatin1(path: string): string | undefined;
  /** stat(2) (`follow`) or lstat(2) of a path; null when nothing is there and `nullIfMissing` (src/file-status.ts). */
  fileStatus(path: string | Buffer, follow: boolean, nullIfMissing: boolean): RawFileStatus | null;
  /** fstat(2) of a descriptor. */
  fdStatus(fd: number): RawFileStatus;
  /** open(2), close-on-exec; close(2); one pwrite(2) (the bytes written); access(2). See src/file-calls.ts. */
  openFile(path: string | Buffer, flags: number, mode: number): number;
  closeFile(fd: number): void;
  writeAt(fd: number, text: string, position: number): number;
  canAccess(path: string | Buffer, mode: number): void;
  /** A small file's text (UTF-8), opened without waiting; EFBIG past maxBytes. See src/file-calls.ts. */
  readText(path: string | Buffer, maxBytes: number): string;
  /** write(2) of all of the text to fd, waiting (poll) while a non-blocking one is full. */
  writeOut(fd: number, text: string): void;
}

/** What fileStatus gives: stat(2)'s numbers, as doubles like those of Node's own Stats. */
export interface RawFileStatus {
  dev: number;
  ino: number;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  size: number;
  mtimeMs: number;
}

/** A system error as the addon throws it. */
export interface SystemError extends Error {
  code: string;
  errno: number;
  syscall: string;
}

export function isSystemError(error: unknown): error is SystemError {
  return error instanceof Error && typeof (error as SystemError).code === 'string' &&
    typeof (error as SystemError).syscall === 'string';
}

function load(): Addon {
  if (process.platform === 'win32') {
    throw new Error('daemonize: Windows has no fork, sessions or signals to daemonize with; ' +
      'use a Windows service manager (sc.exe, NSSM) instead');
  }
  // process.dlopen, not require: the module loader's resolution and bookkeeping cost a third as much
  // again as the dlopen itself, and this file is the addon's only loader (once per process).
  const addon = { exports: {} as Addon };
  process.dlopen(addon, addonFile());
  return addon.exports;
}

const BUILT = join(__dirname, '..', 'build', 'Release', 'daemonize.node');
const PREBUILT = join(__dirname, '..', 'prebuilds', `${process.platform}-${process.arch}`, 'daemonize.glibc.node');

/**
 * The addon file this process loads: build/Release/ when the install compiled one (node-gyp-build's
 * choice, made at install, and its order), else the Node-API prebuild the package ships (named as
 * package.json's prepack has prebuildify name it). Resolved by hand: node-gyp-build costs 1.5 ms of start-up.
 */
export function addonFile(): string {
  return existsSync(BUILT) ? BUILT : PREBUILT;
}

let addon: Addon | undefined;

/**
 * Takes the addon bin/daemonize.cjs loaded before the CLI (it reads the CLI's files with it), if it is the
 * file this module would load: one load per process, whichever side comes first.
 */
export function adoptAddon(path: string, loaded: object): void {
  // bin tries the same two files in the same order: the build, which exists if it loaded, is this module's
  // choice; the prebuild is where there is no build (asked through the loaded addon: no Node fs call).
  if (addon === undefined && (path === BUILT || (path === PREBUILT && !builtWithin(loaded as Partial<Addon>)))) addon = loaded as Addon;
}

/** Whether there is a build beside the prebuild `loaded` came from, as existsSync would answer. */
function builtWithin(loaded: Partial<Addon>): boolean {
  if (typeof loaded.fileStatus !== 'function') return existsSync(BUILT);
  try {
    return loaded.fileStatus(BUILT, true, true) !== null;
  } catch {
    return false;
  }
}

/**
 * The addon, loaded on its first use: --help, --version and a usage error never need it, and its dlopen
 * is a fraction of a millisecond of a start-up. Every verb does (its first look at the pidfile's holder).
 */
export const native: Addon = new Proxy({} as Addon, {
  get: (_target, key) => (addon ??= load())[key as keyof Addon],
});

/**
 * The addon's function `name`, or null where there is none: no addon to load here, or one built before
 * the function (a working tree not rebuilt since). For the calls that stand in for Node's own (file-status.ts,
 * file-calls.ts): Node's answer is then the fallback, since those paths never needed the addon before.
 */
export function addonFunction<K extends keyof Addon>(name: K): Addon[K] | null {
  if (!looked.has(name)) {
    let found: unknown = null;
    try {
      found = native[name];
    } catch {
      // not loadable: whatever needs the addon for more reports that
    }
    looked.set(name, typeof found === 'function' ? found : null);
  }
  return looked.get(name) as Addon[K] | null;
}

/** addonFunction's answers, each looked for once. */
const looked = new Map<keyof Addon, unknown>();

/** The addon if this process has loaded it already (never loads it): for src/std-streams.ts exitProcess. */
export function loadedAddon(): Pick<Addon, 'exitNow'> | undefined {
  return addon;
}
