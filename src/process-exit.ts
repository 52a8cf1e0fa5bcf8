// Being woken when a process ends, where the kernel can tell (a pidfd, Linux 5.3 and later). --stop waits
// for a daemon that is not its child: looking at /proc in steps, it learns of the end up to a step late.
// A watch fires once and never keeps the process alive. Where none can be had (an older kernel, a worker
// thread, an addon built before pidfdOpen, no descriptor left) the caller's steps are all there is.
import { closeFile } from './file-calls';
import { addonFunction, native } from './native';

/**
 * Calls `ended` once, on the event loop, when process `pid` has ended (a zombie counts); returns the
 * function that ends the watch and closes its descriptor (call it whether or not `ended` was called), or
 * null when `pid` cannot be watched.
 */
export function watchExit(pid: number, ended: () => void): (() => void) | null {
  const open = addonFunction('pidfdOpen');
  const fd = open === null ? null : open(pid);
  if (fd === null) return null;
  let watch: number | null = null;
  const stop = (): void => {
    if (watch === null) return;
    native.unwatch(watch);
    watch = null;
    closeFile(fd);
  };
  try {
    // Level-triggered: the descriptor stays readable, so the first call ends the watch.
    watch = native.watchReadable(fd, () => {
      stop();
      ended();
    });
  } catch {
    // Not on the main thread: watchReadable refuses.
    closeFile(fd);
    return null;
  }
  return stop;
}
