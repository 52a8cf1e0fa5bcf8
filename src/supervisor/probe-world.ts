// The probes' real world: a health check is `sh -c CMD` started through the same native spawn as the
// program (its user, groups, directory, umask and environment; a process group of its own, so a stuck one
// is killed whole), its output read from a pipe without blocking; memory is read from /proc.
//
// Not child_process: the supervisor reaps every child with waitpid(-1), and would take libuv's exit
// statuses from under it. The check's exit reaches Probes.reaped through the supervisor's own reaping.
import { closeSync, openSync } from 'node:fs';
import { Socket } from 'node:net';

import { unable } from '../errors';
import { native } from '../native';
import { signalQuietly } from '../process-table';
import type { SupervisorConfig } from './config';
import type { EventLog } from './event-log';
import { helperEntry, startedByHelper } from './helper-mark';
import { descendantMemory, ownDescendants } from './process-tree';
import type { ProbeWorld } from './probes';

export function realProbeWorld(config: SupervisorConfig, log: EventLog): ProbeWorld {
  const outputs = new Map<number, Socket>();
  return {
    now: () => Date.now(),
    setTimer: (callback, ms) => setTimeout(callback, ms),
    clearTimer: (timer) => clearTimeout(timer as NodeJS.Timeout),
    startCheck: (command, output, ended) => {
      const [readEnd, writeEnd] = native.openPipe();
      let devNull: number | undefined;
      let pid: number;
      try {
        devNull = openSync('/dev/null', 'r');
        pid = native.spawn({
          ...config.plan, env: [...config.plan.env, helperEntry('health-check')], file: '/bin/sh', argv: ['sh', '-c', command], mode: 'child',
          stdio: [devNull, writeEnd, writeEnd], keepFds: [], dieWithParent: true,
        });
      } catch (error) {
        closeSync(readEnd);
        throw unable('run sh', error);
      } finally {
        closeSync(writeEnd);
        if (devNull !== undefined) closeSync(devNull);
      }
      // A pipe in libuv's hands: read as it comes, never blocking the supervisor.
      const socket = new Socket({ fd: readEnd, readable: true, writable: false });
      outputs.set(pid, socket);
      socket.on('data', (chunk: Buffer) => output(chunk));
      socket.on('error', () => socket.destroy());
      socket.on('close', () => {
        outputs.delete(pid);
        ended();
      });
      return pid;
    },
    closeOutput: (pid) => outputs.get(pid)?.destroy(),
    kill: signalQuietly,
    // A hook, or what a check or a hook left behind (in a group of its own), is not the program's memory.
    treeMemory: (skipGroups) => descendantMemory([...skipGroups, ...ownDescendants().filter(startedByHelper)]),
    log: (line) => log.write(line),
  };
}
