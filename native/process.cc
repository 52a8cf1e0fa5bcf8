// Process plumbing the supervisor needs and Node core lacks: reaping by pid, raw pipes for the
// launcher-to-supervisor report channel, dup2 for reopening log files onto 1 and 2, and the
// child-subreaper flag that makes orphans of the supervised program come back to be reaped.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#include <sys/syscall.h>
#elif defined(__NetBSD__)
#include <lwp.h>
#else
#include <pthread.h>
#if defined(__FreeBSD__) || defined(__OpenBSD__) || defined(__DragonFly__)
#include <pthread_np.h>
#endif
#endif

#include "bindings.h"
#include "errors.h"
#include "pipes.h"

namespace daemonize {

// waitpid(pid, block): {pid, code, signal, core} for a child that ended, or null when none has (WNOHANG).
// pid -1 means any child.
Napi::Value WaitPid(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsBoolean()) {
    return ThrowType(env, "waitpid(pid: number, block: boolean)");
  }
  pid_t pid = info[0].As<Napi::Number>().Int32Value();
  int options = info[1].As<Napi::Boolean>().Value() ? 0 : WNOHANG;
  int status = 0;
  pid_t ended;
  do {
    ended = waitpid(pid, &status, options);
  } while (ended < 0 && errno == EINTR);
  if (ended < 0 && errno == ECHILD) return env.Null();
  if (ended < 0) return ThrowErrno(env, errno, "waitpid");
  if (ended == 0) return env.Null();
  Napi::Object result = Napi::Object::New(env);
  result.Set("pid", Napi::Number::New(env, ended));
  result.Set("code", WIFEXITED(status) ? Napi::Number::New(env, WEXITSTATUS(status)) : env.Null());
  result.Set("signal", WIFSIGNALED(status) ? Napi::Number::New(env, WTERMSIG(status)) : env.Null());
  // "core dumped" is part of why it died, and only the wait status says so.
  result.Set("core", Napi::Boolean::New(env, WIFSIGNALED(status) && WCOREDUMP(status)));
  return result;
}

// pidfdOpen(pid): a close-on-exec descriptor that becomes readable when process `pid` has ended (a
// zombie, or reaped), or null when none can be had: no such process, a kernel without pidfd_open (Linux
// before 5.3, another system), too few descriptors left. The caller then looks at /proc in steps, as it can
// always; with the descriptor, one who waits for a process that is not its child wakes at its end.
Napi::Value PidfdOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) return ThrowType(env, "pidfdOpen(pid: number)");
  int32_t pid = info[0].As<Napi::Number>().Int32Value();
  if (pid <= 0) return env.Null();
#if defined(__linux__) && defined(SYS_pidfd_open)
  constexpr rlim_t kLooksNeed = 2;
  // Close-on-exec always (the kernel's only flag before 6.9 is PIDFD_NONBLOCK).
  long fd = syscall(SYS_pidfd_open, pid, 0);
  if (fd < 0) return env.Null();
  // Never one of the last descriptors the limit allows: the waiter's looks at /proc need two at a time,
  // and a look that cannot open its file fails the wait (descriptors are handed out lowest first, so
  // every one below this is taken).
  struct rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY &&
      static_cast<rlim_t>(fd) + kLooksNeed >= limit.rlim_cur) {
    close(static_cast<int>(fd));
    return env.Null();
  }
  return Napi::Number::New(env, static_cast<double>(fd));
#else
  return env.Null();
#endif
}

// hasChildren(): whether this process has any child, alive or a zombie not yet reaped (waitid with
// WNOWAIT reaps nothing). For a child subreaper an empty answer means its whole tree is gone: an orphan
// anywhere below comes back to it, so every descendant has a chain of parents up to one of its children.
Napi::Value HasChildren(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  siginfo_t found = {};
  int rc;
  do {
    rc = waitid(P_ALL, 0, &found, WEXITED | WNOHANG | WNOWAIT);
  } while (rc < 0 && errno == EINTR);
  if (rc < 0 && errno == ECHILD) return Napi::Boolean::New(env, false);
  if (rc < 0) return ThrowErrno(env, errno, "waitid");
  return Napi::Boolean::New(env, true);
}

// isMainThread(): whether the calling thread is the process's first thread (its thread id is the pid), the
// one that may fork, change ids and exit for the process. Asked here rather than of node:worker_threads,
// whose load costs a daemonize() app milliseconds on every start.
bool OnMainThread() {
#ifdef __linux__
  return static_cast<pid_t>(syscall(SYS_gettid)) == getpid();
#elif defined(__NetBSD__)
  // NetBSD has no pthread_main_np; a process's first LWP is number 1.
  return _lwp_self() == 1;
#else
  return pthread_main_np() != 0;
#endif
}

Napi::Value IsMainThread(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), OnMainThread());
}

// exitNow(code): _exit(2) at once. A supervisor that has written and closed all it keeps (its record,
// its log, each a synchronous write) has nothing left for Node's own teardown to do, and that teardown
// (joining the platform's threads, freeing what OpenSSL loaded) takes milliseconds that --stop waits for.
Napi::Value ExitNow(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) return ThrowType(env, "exitNow(code: number)");
  _exit(info[0].As<Napi::Number>().Int32Value() & 0xff);
}

// dieOfBrokenPipe(): ends this process by SIGPIPE, as a C program whose reader went away ends (Node ignores
// the signal, so the CLI saw EPIPE instead): without a word, and a shell's $? says 141. _exit(141) should
// the signal not end it.
Napi::Value DieOfBrokenPipe(const Napi::CallbackInfo& info) {
  struct sigaction action = {};
  action.sa_handler = SIG_DFL;
  sigaction(SIGPIPE, &action, nullptr);
  sigset_t pipe;
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  pthread_sigmask(SIG_UNBLOCK, &pipe, nullptr);
  raise(SIGPIPE);
  _exit(128 + SIGPIPE);
}

// openPipe(): [readFd, writeFd], both close-on-exec; spawn's keepFds makes one end inheritable.
Napi::Value OpenPipe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fds[2];
  if (PipeCloseOnExec(fds) < 0) return ThrowErrno(env, errno, "pipe");
  Napi::Array result = Napi::Array::New(env, 2);
  result.Set(0u, Napi::Number::New(env, fds[0]));
  result.Set(1u, Napi::Number::New(env, fds[1]));
  return result;
}

// dup2(from, to): puts an open file on a fixed descriptor (1 or 2 after a log reopen).
Napi::Value Dup2(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsNumber()) return ThrowType(env, "dup2(from: number, to: number)");
  int rc;
  do {
    rc = dup2(info[0].As<Napi::Number>().Int32Value(), info[1].As<Napi::Number>().Int32Value());
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) return ThrowErrno(env, errno, "dup2");
  return env.Undefined();
}

// seekEnd(fd): lseek(fd, 0, SEEK_END), which Node's fs lacks. On /dev/kmsg it means "from the next record
// on": the supervisor opens the kernel log as a child starts and reads, at its end, only what came since.
Napi::Value SeekEnd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) return ThrowType(env, "seekEnd(fd: number)");
  if (lseek(info[0].As<Napi::Number>().Int32Value(), 0, SEEK_END) < 0) return ThrowErrno(env, errno, "lseek");
  return env.Undefined();
}

// setSubreaper(on): true when set; false where the system has no such thing (not Linux).
Napi::Value SetSubreaper(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsBoolean()) return ThrowType(env, "setSubreaper(on: boolean)");
#ifdef PR_SET_CHILD_SUBREAPER
  if (prctl(PR_SET_CHILD_SUBREAPER, info[0].As<Napi::Boolean>().Value() ? 1 : 0, 0, 0, 0) < 0) {
    return ThrowErrno(env, errno, "prctl");
  }
  return Napi::Boolean::New(env, true);
#else
  return Napi::Boolean::New(env, false);
#endif
}

}  // namespace daemonize
