// A close-on-exec pipe everywhere: pipe2(O_CLOEXEC) where the system has it (Linux, the BSDs), else
// pipe and fcntl. The fallback leaves a moment in which another thread's fork could inherit the pipe;
// that child execs or exits soon, so the reader still sees EOF, only later. Async-signal-safe.
#pragma once
#include <fcntl.h>
#include <unistd.h>

namespace daemonize {

// static: each file gets its own copy, so the fork-to-exec library's (compiled without the PLT, see
// binding.gyp) is never swapped by the linker for a lazily bound one from another file (as in a -O0 build).
static inline int PipeCloseOnExec(int fds[2]) {
#if defined(__linux__) || defined(__FreeBSD__) || defined(__NetBSD__) || defined(__OpenBSD__) || defined(__DragonFly__)
  return pipe2(fds, O_CLOEXEC);
#else
  if (pipe(fds) < 0) return -1;
  for (int i = 0; i < 2; i++) {
    if (fcntl(fds[i], F_SETFD, FD_CLOEXEC) < 0) {
      close(fds[0]);
      close(fds[1]);
      return -1;
    }
  }
  return 0;
#endif
}

}  // namespace daemonize
