// The steps between fork() and execve(). Everything in this file must be async-signal-safe: the
// process that forked is Node, multithreaded from its first instruction, so after fork() any lock held by
// another thread stays held forever. No malloc, no stdio, no C++ allocation, no JavaScript.
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "fds.h"
#include "plan.h"

namespace daemonize {

// _Fork, not fork: fork runs the pthread_atfork handlers of every library in the process in the child,
// and those may take locks or allocate; the child here only makes system calls and execs or _exits.
// The price: _Fork skips glibc's post-fork reset of its thread list, so glibc's setgroups/setgid/setuid,
// which signal every thread that list names and wait for each to answer, can wait forever on a futex
// for a thread of the parent's that does not exist in the child (seen when worker threads were starting
// or exiting at the fork). ApplyPlanAndExec therefore changes ids with raw system calls (RawSetresuid...):
// the kernel changes the calling thread's credentials, which in a one-thread child is the whole process.
pid_t ForkForExec() {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
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

int64_t NowMs() {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<int64_t>(now.tv_sec) * 1000 + now.tv_nsec / 1000000;
}

ReadOutcome ReadReports(int fd, int deadline_ms, pid_t* pid, Failure* failure, bool* failed, pid_t* started) {
  const int64_t end = NowMs() + deadline_ms;
  Report report;
  for (;;) {
    int left = static_cast<int>(end - NowMs());
    if (left <= 0) return kReadTimedOut;
    struct pollfd entry = {fd, POLLIN, 0};
    int ready = poll(&entry, 1, left);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return kReadFailed;
    if (ready == 0) continue;  // the deadline check above ends the wait
    ssize_t n = read(fd, &report, sizeof report);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) return kReadFailed;
    if (n == 0) return kReadDone;
    if (n != sizeof report) continue;  // cannot happen: records are written whole, below PIPE_BUF
    if (report.kind == kReportPid) *pid = report.value;
    if (report.kind == kReportStarted && started != nullptr) *started = report.value;
    if (report.kind == kReportFailure) {
      *failed = true;
      *failure = {static_cast<Step>(report.value), report.err};
    }
  }
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

// Puts the held sockets at 3, 4, ... Each is first copied above every target, so moving one never
// overwrites another that still sits where a later one must go. (Never in exec mode: only a supervisor's
// children get held sockets, so nothing here needs undoing.)
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

// Puts plan.stdio on 0, 1, 2. The sources are first copied above 2, so a source that already sits on
// 0-2 (a caller started with closed stdio) is not overwritten before it is used.
// The copies are closed again either way, so exec mode leaves none behind when execve fails.
bool MoveStdio(const int source[3]) {
  int copies[3] = {-1, -1, -1};
  bool ok = true;
  for (int i = 0; i < 3 && ok; i++) {
    copies[i] = fcntl(source[i], F_DUPFD_CLOEXEC, 3);
    ok = copies[i] >= 0;
  }
  for (int i = 0; i < 3 && ok; i++) {
    ok = dup2(copies[i], i) >= 0;  // dup2 leaves the new descriptor inheritable
  }
  int err = errno;
  for (int i = 0; i < 3; i++) {
    if (copies[i] >= 0) close(copies[i]);
  }
  errno = err;
  return ok;
}

#ifdef __linux__
// Raw id system calls (see ForkForExec). Where the kernel has 32-bit-id variants beside 16-bit ones
// (i386, 32-bit ARM), the plain numbers take 16-bit ids: use the 32-bit ones, as glibc does.
#ifdef SYS_setgroups32
#define DAEMONIZE_SYS_SETGROUPS SYS_setgroups32
#define DAEMONIZE_SYS_SETRESGID SYS_setresgid32
#define DAEMONIZE_SYS_SETRESUID SYS_setresuid32
#else
#define DAEMONIZE_SYS_SETGROUPS SYS_setgroups
#define DAEMONIZE_SYS_SETRESGID SYS_setresgid
#define DAEMONIZE_SYS_SETRESUID SYS_setresuid
#endif
int RawSetgroups(size_t count, const gid_t* groups) { return syscall(DAEMONIZE_SYS_SETGROUPS, count, groups); }
int RawSetresgid(gid_t r, gid_t e, gid_t s) { return syscall(DAEMONIZE_SYS_SETRESGID, r, e, s); }
int RawSetresuid(uid_t r, uid_t e, uid_t s) { return syscall(DAEMONIZE_SYS_SETRESUID, r, e, s); }
#else
// Elsewhere ForkForExec is fork(), after which the libc calls are safe.
int RawSetgroups(size_t count, const gid_t* groups) { return setgroups(count, groups); }
int RawSetresgid(gid_t, gid_t e, gid_t) { return setgid(e); }
int RawSetresuid(uid_t, uid_t e, uid_t) { return setuid(e); }
#endif

constexpr uid_t kUnchangedUid = static_cast<uid_t>(-1);
constexpr gid_t kUnchangedGid = static_cast<gid_t>(-1);

// After dropping to a user other than root, root's ids (and the old group) must be out of reach, as
// OpenSSH's permanently_set_uid checks: if a saved id or a kept capability let the process take them
// back, the drop did not hold and the program must not run.
bool DropHolds(const Plan& plan, uid_t old_uid, gid_t old_gid) {
  if (plan.uid == 0) return true;  // staying root: nothing was dropped
  if (RawSetresuid(kUnchangedUid, 0, kUnchangedUid) == 0) return false;
  if (old_uid != plan.uid && RawSetresuid(kUnchangedUid, old_uid, kUnchangedUid) == 0) return false;
  if (old_gid != plan.gid && RawSetresgid(kUnchangedGid, old_gid, kUnchangedGid) == 0) return false;
#ifdef __linux__
  uid_t ruid, euid, suid;
  if (getresuid(&ruid, &euid, &suid) == 0 && (ruid != plan.uid || euid != plan.uid || suid != plan.uid)) return false;
#endif
  return getuid() == plan.uid && geteuid() == plan.uid;
}

// Groups first (they need root), then the group, then the user, each real, effective and saved.
// In place (exec mode, no fork) this is still Node with all its threads, and glibc's list of them is
// right: its setgroups/setgid/setuid change every thread's ids, so a failed execve leaves no thread
// with root's. (As root, setgid and setuid set real, effective and saved ids alike.)
bool DropIds(const Plan& plan, Failure* failure) {
  uid_t old_uid = geteuid();
  gid_t old_gid = getegid();
  if ((plan.in_place ? setgroups(plan.groups.size(), plan.groups.data())
                     : RawSetgroups(plan.groups.size(), plan.groups.data())) < 0) {
    *failure = {kStepSetgroups, errno};
    return false;
  }
  if ((plan.in_place ? setgid(plan.gid) : RawSetresgid(plan.gid, plan.gid, plan.gid)) < 0) {
    *failure = {kStepSetgid, errno};
    return false;
  }
  if ((plan.in_place ? setuid(plan.uid) : RawSetresuid(plan.uid, plan.uid, plan.uid)) < 0) {
    *failure = {kStepSetuid, errno};
    return false;
  }
  if (!DropHolds(plan, old_uid, old_gid)) {
    *failure = {kStepKeepIds, EPERM};
    return false;
  }
  return true;
}

}  // namespace

void ApplyPlanAndExec(const Plan& plan, Failure* failure) {
  // chroot needs root's privilege, so it comes before the ids are dropped; chdir below is inside the root.
  if (plan.has_root && chroot(plan.root.c_str()) < 0) {
    *failure = {kStepChroot, errno};
    return;
  }
  if (plan.has_core_limit) {
    struct rlimit limit;
    if (getrlimit(RLIMIT_CORE, &limit) < 0) {
      *failure = {kStepCoreLimit, errno};
      return;
    }
    limit.rlim_cur = plan.core_limit_to_hard ? limit.rlim_max : plan.core_limit;
    if (setrlimit(RLIMIT_CORE, &limit) < 0) {
      *failure = {kStepCoreLimit, errno};
      return;
    }
  }
  // Drop privileges first, so chdir below is checked with the target user's rights.
  if (plan.has_ids && !DropIds(plan, failure)) return;
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
  // Inside a new root the old working directory is a way out of it: always move into the root.
  const char* cwd = plan.has_cwd ? plan.cwd.c_str() : plan.has_root ? "/" : nullptr;
  if (cwd != nullptr && chdir(cwd) < 0) {
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
  // No descriptor of the caller leaks into the program except the ones the plan keeps (the pidfile lock).
  // Marked rather than closed: exec mode (no fork) can then undo it when execve fails.
  if (!MarkInheritedCloseOnExec(plan.keep_fds, plan.use_close_range)) {
    *failure = {kStepCloseFds, errno};
    return;
  }
  for (char* slot : plan.pid_slots) WritePid(slot, getpid());
  // The launcher blocked every signal around fork; the program starts with an empty mask.
  sigset_t empty;
  sigemptyset(&empty);
  sigprocmask(SIG_SETMASK, &empty, nullptr);
  execve(plan.file.c_str(), plan.argv.data(), plan.envp.data());
  *failure = {kStepExec, errno};
}

}  // namespace daemonize
