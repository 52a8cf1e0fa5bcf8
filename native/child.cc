// The steps between fork() and execve(). Everything in this file must be async-signal-safe: the
// process that forked is Node, multithreaded from its first instruction, so after fork() any lock held by
// another thread stays held forever. No malloc, no stdio, no C++ allocation, no JavaScript.
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "plan.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

namespace daemonize {

pid_t ForkForExec() {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
  // _Fork skips pthread_atfork handlers, which may take locks; the child only execs or _exits.
  return _Fork();
#else
  return fork();
#endif
}

void WriteReport(int fd, int32_t kind, int32_t value, int32_t err) {
  Report report = {kind, value, err};
  ssize_t n;
  do {
    n = write(fd, &report, sizeof report);
  } while (n < 0 && errno == EINTR);
}

// A caller under nohup, a shell trap or Node itself leaves signals ignored or handled; execve keeps
// ignored ones ignored. Every daemon should start from the defaults.
void ResetSignalDispositions() {
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  for (int sig = 1; sig < NSIG; sig++) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    sigaction(sig, &dfl, nullptr);  // EINVAL for the libc-reserved realtime signals: fine
  }
}

namespace {

// Puts plan.stdio on 0, 1, 2. The sources are first copied above 2, so a source that already sits on
// 0-2 (a caller started with closed stdio) is not overwritten before it is used.
bool MoveStdio(const int source[3]) {
  int copies[3];
  for (int i = 0; i < 3; i++) {
    copies[i] = fcntl(source[i], F_DUPFD_CLOEXEC, 3);
    if (copies[i] < 0) return false;
  }
  for (int i = 0; i < 3; i++) {
    if (dup2(copies[i], i) < 0) return false;  // dup2 leaves the new descriptor inheritable
  }
  return true;
}

// Puts the held sockets at 3, 4, ... Each is first copied above every target, so moving one never
// overwrites another that still sits where a later one must go.
bool MoveListenFds(const std::vector<int>& fds) {
  int count = static_cast<int>(fds.size());
  if (count == 0) return true;
  if (count > 64) {
    errno = EMFILE;
    return false;
  }
  int copies[64];
  for (int i = 0; i < count; i++) {
    copies[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 3 + count);
    if (copies[i] < 0) return false;
  }
  for (int i = 0; i < count; i++) {
    if (dup2(copies[i], 3 + i) < 0) return false;
    close(copies[i]);
  }
  return true;
}

// Writes the decimal pid into the slot (no snprintf: not async-signal-safe).
void WritePid(char* slot, pid_t pid) {
  char digits[24];
  int n = 0;
  unsigned long value = static_cast<unsigned long>(pid);
  do {
    digits[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value > 0 && n < 20);
  for (int i = 0; i < n; i++) slot[i] = digits[n - 1 - i];
  slot[n] = '\0';
}

// Marks [low, high] close-on-exec. Marking instead of closing keeps exec mode (no fork) recoverable
// when execve fails, and the kernel closes them all at the exec either way.
bool MarkCloseOnExec(unsigned low, unsigned high) {
  if (low > high) return true;
#ifdef SYS_close_range
  if (syscall(SYS_close_range, low, high, CLOSE_RANGE_CLOEXEC) == 0) return true;
  if (errno != ENOSYS && errno != EINVAL) return false;
#endif
  // Kernels before 5.11: walk the descriptor table up to the soft limit.
  struct rlimit limit;
  unsigned max = 65536;
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) max = limit.rlim_cur;
  if (high >= max) high = max - 1;
  for (unsigned fd = low; fd <= high; fd++) {
    int flags = fcntl(fd, F_GETFD);
    if (flags >= 0 && !(flags & FD_CLOEXEC)) fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
  }
  return true;
}

// No descriptor of the caller leaks into the program except the ones the plan keeps (the pidfile lock).
bool CloseInheritedFds(const std::vector<int>& keep) {
  unsigned low = 3;
  for (int fd : keep) {
    if (fd < static_cast<int>(low)) continue;
    if (!MarkCloseOnExec(low, fd - 1)) return false;
    low = fd + 1;
  }
  if (!MarkCloseOnExec(low, ~0U)) return false;
  for (int fd : keep) {
    int flags = fcntl(fd, F_GETFD);
    if (flags < 0 || fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC) < 0) return false;
  }
  return true;
}

}  // namespace

void ApplyPlanAndExec(const Plan& plan, Failure* failure) {
  // Drop privileges first, so chdir below is checked with the target user's rights.
  if (plan.has_ids) {
    if (setgroups(plan.groups.size(), plan.groups.data()) < 0) {
      *failure = {kStepSetgroups, errno};
      return;
    }
    if (setgid(plan.gid) < 0) {
      *failure = {kStepSetgid, errno};
      return;
    }
    if (setuid(plan.uid) < 0) {
      *failure = {kStepSetuid, errno};
      return;
    }
  }
#ifdef PR_SET_PDEATHSIG
  // After the ids: changing credentials clears the parent-death signal. A supervisor killed with SIGKILL
  // cannot stop its child, so the kernel does; and a supervisor already gone by now gets no child at all.
  if (plan.die_with_parent) {
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) {
      *failure = {kStepDieWithParent, errno};
      return;
    }
    if (getppid() != plan.parent) {
      *failure = {kStepDieWithParent, ESRCH};
      return;
    }
  }
#endif
  if (plan.has_umask) umask(plan.umask);
  if (plan.has_cwd && chdir(plan.cwd.c_str()) < 0) {
    *failure = {kStepChdir, errno};
    return;
  }
  if (plan.has_stdio && !MoveStdio(plan.stdio)) {
    *failure = {kStepStdio, errno};
    return;
  }
  if (!MoveListenFds(plan.listen_fds)) {
    *failure = {kStepListenFds, errno};
    return;
  }
  if (!CloseInheritedFds(plan.keep_fds)) {
    *failure = {kStepCloseFds, errno};
    return;
  }
  if (plan.listen_pid_slot != nullptr) WritePid(plan.listen_pid_slot, getpid());
  // The launcher blocked every signal around fork; the program starts with an empty mask.
  sigset_t empty;
  sigemptyset(&empty);
  sigprocmask(SIG_SETMASK, &empty, nullptr);
  execve(plan.file.c_str(), plan.argv.data(), plan.envp.data());
  *failure = {kStepExec, errno};
}

}  // namespace daemonize
