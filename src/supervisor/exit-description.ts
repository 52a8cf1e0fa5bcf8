// Wait statuses in words a person reads: "exited with status 7", "killed by signal 11 (SIGSEGV)".

/** The system's signals, name to number. node:os is loaded on first use: a control verb's start-up rarely needs it. */
export function signalNumbers(): Record<string, number> {
  return (require('node:os') as typeof import('node:os')).constants.signals;
}

let signalNames: Map<number, NodeJS.Signals> | undefined;

/** The signal's name, or undefined for a number that names none. */
export function knownSignalName(signal: number): NodeJS.Signals | undefined {
  if (signalNames === undefined) {
    // Where two names share a number (SIGABRT, SIGIOT), the first, conventional one.
    signalNames = new Map();
    for (const [name, number] of Object.entries(signalNumbers())) {
      if (!signalNames.has(number)) signalNames.set(number, name as NodeJS.Signals);
    }
  }
  return signalNames.get(signal);
}

export function signalName(signal: number): string {
  return knownSignalName(signal) ?? `SIG${signal}`;
}

export function describeExit(code: number | null, signal: number | null, core = false): string {
  if (signal !== null) return `killed by signal ${signal} (${signalName(signal)})${core ? ', core dumped' : ''}`;
  return `exited with status ${code ?? '?'}`;
}

/** "3.2 s", "4 min 10 s", "2 h 5 min": short enough for a log line, exact enough to tell a crash loop. */
export function describeDuration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const whole = Math.floor(seconds);
  if (whole < 3600) return `${Math.floor(whole / 60)} min ${whole % 60} s`;
  if (whole < 86400) return `${Math.floor(whole / 3600)} h ${Math.floor((whole % 3600) / 60)} min`;
  return `${Math.floor(whole / 86400)} d ${Math.floor((whole % 86400) / 3600)} h`;
}
