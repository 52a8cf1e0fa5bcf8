// Why it died: for each run of the program, where its stderr file ended when it started and the OOM
// counters then; at its end, the sentence (with the OOM killer when the evidence says so), its last words
// (the last lines it wrote to its --stderr/--output file, read from the file after its death: nothing is
// copied through a pipe while it runs) and the `lastExit` of the status record.
import { constants } from 'node:fs';

import { endSentence, type ChildEnd } from './child-end';
import { closeFile, openFile } from '../file-calls';
import { statFd } from '../file-status';
import { signalName } from './exit-description';
import { lastLines, readTailText } from '../file-tail';
import { followKernelLog, judgeOom, oomBaseline, oomFindings, releaseOomBaseline, type OomBaseline } from './oom-evidence';

/** Up to this many of the program's last lines are quoted. */
export const LAST_WORDS = 10;
/** A quoted line longer than this is cut. */
const LINE_CHARS = 400;

/** The status record's `lastExit` (and `--status --json`'s). */
export interface LastExit {
  /** When it ended (ISO 8601). */
  at: string;
  code: number | null;
  /** The signal's name ("SIGSEGV"), or null when it exited. */
  signal: string | null;
  coreDumped: boolean;
  /** The end's sentence, as in the event log. */
  reason: string;
  /** Seconds it ran. */
  uptime: number;
  /** Its last lines on stderr (empty when it has no --stderr/--output file, or wrote nothing there). */
  stderrTail: string[];
}

export interface Explained {
  sentence: string;
  lastWords: string[];
  lastExit: LastExit;
}

/** The supervisor's own event-log lines, when the log is the program's stderr file: not the program's words. */
const OWN_LINE = /^\d{4}-\d\d-\d\dT[\d:.]+Z daemonize\[\d+\]: /;

/** A line from the program, safe to put in a log line and an environment variable: no control characters, bounded. */
export function quotable(line: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = line.replace(/\r$/, '').replace(/[\x00-\x08\x0a-\x1f\x7f]/g, '?');
  return clean.length > LINE_CHARS ? `${clean.slice(0, LINE_CHARS)}...` : clean;
}

/** The program's last words in `text` (what it wrote since it started), without the supervisor's lines. */
export function lastWordsIn(text: string, count = LAST_WORDS): string[] {
  return lastLines(text.split('\n').filter((line) => !OWN_LINE.test(line)).join('\n'), count).map(quotable);
}

interface Run {
  /** A read-only descriptor for the file the program's stderr went to (it may be renamed while it runs), or null. */
  stderr: { fd: number; from: number } | null;
  oom: OomBaseline;
}

/**
 * Runs kept for children not yet explained: with --listen an old child serves (and ends) beside its
 * successor, and a few replaced ones may still be finishing (more with a long --stop-timeout and many
 * restarts). Beyond this the oldest is dropped, with its descriptors; its end, when it comes, is told
 * without last words rather than with another child's.
 */
const MAX_RUNS = 8;
/** Pids whose run was dropped, remembered (up to this many) so that their ends borrow no other run. */
const MAX_DROPPED = 64;

export class Forensics {
  /** The run prepared for the spawn under way. */
  private pending: Run | null = null;
  /** Each started child's run until its end is explained, by pid, oldest first. */
  private readonly runs = new Map<number, Run>();
  /** Children whose run was dropped (MAX_RUNS), oldest first. */
  private readonly dropped = new Set<number>();

  /**
   * Just before a spawn: `stderrFd` is the descriptor the program gets as its stderr, when that is a file.
   * The file is opened again read-only through /proc/self/fd, so a rotation while it runs changes nothing.
   */
  prepare(stderrFd: number | undefined): void {
    this.forget();
    let stderr: Run['stderr'] = null;
    if (stderrFd !== undefined) {
      try {
        // Through the addon, as every respawn does it: Node's fstatSync and openSync are JavaScript each time.
        const stat = statFd(stderrFd);
        if (stat.isFile()) stderr = { fd: openFile(`/proc/self/fd/${stderrFd}`, constants.O_RDONLY), from: stat.size };
      } catch {
        stderr = null; // no last words then; the program runs all the same
      }
    }
    this.pending = { stderr, oom: oomBaseline() };
  }

  /** The spawn worked: the run prepared is child `pid`'s. */
  started(pid: number): void {
    if (this.pending === null) return;
    followKernelLog(this.pending.oom);
    this.runs.set(pid, this.pending);
    this.pending = null;
    for (const [oldest, run] of this.runs) {
      if (this.runs.size <= MAX_RUNS) break;
      close(run);
      this.runs.delete(oldest);
      this.dropped.add(oldest);
    }
    for (const oldest of this.dropped) {
      if (this.dropped.size <= MAX_DROPPED) break;
      this.dropped.delete(oldest);
    }
  }

  /** The spawn failed: nothing to watch. */
  forget(): void {
    close(this.pending);
    this.pending = null;
  }

  /**
   * A child ended: everything to say about it. Its own run, or, for a program that forked away (the end is
   * the followed process's, whose pid was never spawned), the newest: its program's.
   */
  explain(end: ChildEnd, now = Date.now()): Explained {
    const dropped = this.dropped.delete(end.pid);
    const key = this.runs.has(end.pid) ? end.pid : dropped ? undefined : [...this.runs.keys()].pop();
    const run = key === undefined ? null : this.runs.get(key) ?? null;
    if (key !== undefined) this.runs.delete(key);
    let lastWords: string[] = [];
    if (run?.stderr) {
      try {
        lastWords = lastWordsIn(readTailText(run.stderr.fd, run.stderr.from));
      } catch {
        lastWords = [];
      }
    }
    const outside = !end.killedBySupervisor && end.signal === 9;
    const oom = outside && run !== null ? judgeOom(end.pid, oomFindings(end.pid, run.oom)) : null;
    close(run);
    const sentence = endSentence(end, oom ?? end.cause);
    return {
      sentence,
      lastWords,
      lastExit: {
        at: new Date(now).toISOString(),
        code: end.code,
        signal: end.signal === null ? null : signalName(end.signal),
        coreDumped: end.core,
        reason: sentence,
        uptime: Math.round(end.uptime * 1000) / 1000,
        stderrTail: lastWords,
      },
    };
  }
}

function close(run: Run | null): void {
  if (run?.stderr) closeFile(run.stderr.fd);
  if (run) releaseOomBaseline(run.oom);
}
