// spawn(plan): the parent side of the fork-to-exec path.
//   mode 'daemon': fork, setsid, fork; the first child relays the grandchild's exec result and exits.
//                  Returns {pid, session} once the daemon has exec'd, or throws what failed.
//   mode 'child':  one fork into a new process group (a supervisor's child); returns its pid once exec'd.
//   mode 'exec':   no fork: this process becomes the program. Returns only by throwing.
// The exec result travels over an O_CLOEXEC pipe, as in libuv's uv_spawn: EOF means execve succeeded,
// a Report record means a step failed.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sched.h>
#include <sys/mman.h>
#endif

#include <algorithm>
#include <memory>

#include "bindings.h"
#include "bytes.h"
#include "errors.h"
#include "exec.h"
#include "pipes.h"
#include "plan.h"

namespace daemonize {

namespace {

const char* StepSyscall(int32_t step) {
  switch (step) {
    case kStepFork: return "fork";
    case kStepSetsid: return "setsid";
    case kStepSetgroups: return "setgroups";
    case kStepSetgid: return "setgid";
    case kStepSetuid: return "setuid";
    case kStepChdir: return "chdir";
    case kStepStdio: return "dup2";
    case kStepCloseFds: return "close_range";
    case kStepExec: return "execve";
    case kStepSetpgid: return "setpgid";
    case kStepDieWithParent: return "prctl";
    case kStepChroot: return "chroot";
    case kStepCoreLimit: return "setrlimit";
    // Not system calls, but steps src/launch.ts names in its messages.
    case kStepKeepIds: return "privilege-drop";
    case kStepExecWait: return "exec-wait";
    case kStepListenFds: return "dup2";
    case kStepControllingTty: return "ioctl";
    case kStepPipe: return "pipe";
    case kStepReportRead: return "poll";
    case kStepLeaderGone: return "session-leader";
    default: return "spawn";
  }
}

bool ReadStrings(Napi::Value value, std::vector<std::string>* out) {
  if (!value.IsArray()) return false;
  Napi::Array array = value.As<Napi::Array>();
  for (uint32_t i = 0; i < array.Length(); i++) {
    Napi::Value item = array.Get(i);
    std::string bytes;
    if (!ReadBytes(item, &bytes)) return false;
    out->push_back(bytes);
  }
  return true;
}

std::vector<char*> PointersTo(std::vector<std::string>* strings) {
  std::vector<char*> pointers;
  for (std::string& s : *strings) pointers.push_back(&s[0]);
  pointers.push_back(nullptr);
  return pointers;
}

bool ReadInts(Napi::Value value, std::vector<int>* out) {
  if (!value.IsArray()) return false;
  Napi::Array array = value.As<Napi::Array>();
  for (uint32_t i = 0; i < array.Length(); i++) {
    Napi::Value item = array.Get(i);
    if (!item.IsNumber()) return false;
    out->push_back(item.As<Napi::Number>().Int32Value());
  }
  return true;
}

// Reads the options object into a Plan. Shape errors are the glue's bugs, so they are TypeErrors.
const char* ReadPlan(Napi::Object options, Plan* plan) {
  if (!ReadBytes(options.Get("file"), &plan->file)) return "spawn: plan.file must be a string or Buffer";
  if (!ReadStrings(options.Get("argv"), &plan->argv_storage) || plan->argv_storage.empty()) {
    return "spawn: plan.argv must be a non-empty array of strings or Buffers";
  }
  if (!ReadStrings(options.Get("env"), &plan->env_storage)) return "spawn: plan.env must be an array of strings or Buffers";
  Napi::Value listen = options.Get("listenFds");
  if (!listen.IsUndefined() && !ReadInts(listen, &plan->listen_fds)) return "spawn: plan.listenFds must be numbers";
  // Variables whose value is the child's own pid (LISTEN_PID with held sockets, WATCHDOG_PID...): room for
  // any pid (at most 20 digits), filled in by the child; the entry's NUL ends it early.
  std::vector<std::string> pid_names;
  if (!plan->listen_fds.empty()) pid_names.push_back("LISTEN_PID");
  Napi::Value pid_variables = options.Get("pidVariables");
  if (!pid_variables.IsUndefined() && !ReadStrings(pid_variables, &pid_names)) {
    return "spawn: plan.pidVariables must be an array of strings";
  }
  size_t first_pid_entry = plan->env_storage.size();
  for (const std::string& name : pid_names) plan->env_storage.push_back(name + "=" + std::string(21, '\0'));
  plan->argv = PointersTo(&plan->argv_storage);
  plan->envp = PointersTo(&plan->env_storage);
  for (size_t i = 0; i < pid_names.size(); i++) {
    plan->pid_slots.push_back(plan->envp[first_pid_entry + i] + pid_names[i].size() + 1);
  }

  Napi::Value cwd = options.Get("cwd");
  if (!cwd.IsUndefined() && !cwd.IsNull()) {
    if (!ReadBytes(cwd, &plan->cwd)) return "spawn: plan.cwd must be a string or Buffer";
    plan->has_cwd = true;
  }
  Napi::Value mask = options.Get("umask");
  if (mask.IsNumber()) {
    plan->has_umask = true;
    plan->umask = mask.As<Napi::Number>().Uint32Value() & 0777;
  }
  Napi::Value stdio = options.Get("stdio");
  if (!stdio.IsUndefined()) {
    std::vector<int> fds;
    if (!ReadInts(stdio, &fds) || fds.size() != 3) return "spawn: plan.stdio must be three descriptors";
    plan->has_stdio = true;
    std::copy(fds.begin(), fds.end(), plan->stdio);
  }
  Napi::Value keep = options.Get("keepFds");
  if (!keep.IsUndefined() && !ReadInts(keep, &plan->keep_fds)) return "spawn: plan.keepFds must be numbers";
  std::sort(plan->keep_fds.begin(), plan->keep_fds.end());
  if (!plan->listen_fds.empty()) {
    // The held sockets end up at 3..; any other kept descriptor could sit where one of them goes.
    if (!plan->keep_fds.empty()) return "spawn: plan.listenFds and plan.keepFds cannot be combined";
    for (size_t i = 0; i < plan->listen_fds.size(); i++) plan->keep_fds.push_back(3 + static_cast<int>(i));
  }

  Napi::Value ids = options.Get("ids");
  if (ids.IsObject()) {
    Napi::Object o = ids.As<Napi::Object>();
    std::vector<int> groups;
    if (!o.Get("uid").IsNumber() || !o.Get("gid").IsNumber() || !ReadInts(o.Get("groups"), &groups)) {
      return "spawn: plan.ids must be {uid, gid, groups}";
    }
    plan->has_ids = true;
    plan->uid = o.Get("uid").As<Napi::Number>().Uint32Value();
    plan->gid = o.Get("gid").As<Napi::Number>().Uint32Value();
    for (int g : groups) plan->groups.push_back(static_cast<gid_t>(g));
  }
  Napi::Value die = options.Get("dieWithParent");
  plan->die_with_parent = die.IsBoolean() && die.As<Napi::Boolean>().Value();
  plan->parent = getpid();
  // rlimitCore: -1 raises the soft limit to the hard one; n >= 0 sets it to n bytes.
  Napi::Value core = options.Get("rlimitCore");
  if (core.IsNumber()) {
    double bytes = core.As<Napi::Number>().DoubleValue();
    plan->has_core_limit = true;
    plan->core_limit_to_hard = bytes < 0;
    plan->core_limit = bytes < 0 ? 0 : static_cast<rlim_t>(bytes);
  }
  Napi::Value root = options.Get("root");
  if (root.IsString()) {
    plan->has_root = true;
    plan->root = root.As<Napi::String>().Utf8Value();
  }
  Napi::Value tty = options.Get("controllingTty");
  plan->controlling_tty = tty.IsBoolean() && tty.As<Napi::Boolean>().Value();
  // The test hook documented at Plan::use_close_range; read here, in the parent, before any fork.
  plan->use_close_range = getenv("DAEMONIZE_TEST_NO_CLOSE_RANGE") == nullptr;
  return nullptr;
}

void WaitFor(pid_t pid) {
  while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
}

// What the daemon needs up to its exec: its plan, and the descriptors it must close or report on.
struct DaemonStart {
  const Plan* plan;
  int report_fd;    // the launcher's pipe, which the daemon must not keep
  int inner_read;   // the session leader's end of the daemon's own pipe
  int inner_write;  // the daemon's end: a failed step is written there; exec closes it (O_CLOEXEC)
};

// The daemon, from its birth to its exec. Not a session leader, so it can never acquire a controlling
// terminal.
[[noreturn]] int RunDaemonUntilExec(void* arg) {
  const DaemonStart* start = static_cast<const DaemonStart*>(arg);
  close(start->report_fd);
  close(start->inner_read);
  Failure failure;
  ApplyPlanAndExec(*start->plan, &failure);
  WriteReport(start->inner_write, kReportFailure, failure.step, failure.err);
  _exit(127);
}

// Starts the daemon in a copy of this process.
pid_t ForkThenRun(DaemonStart* start) {
  pid_t pid = ForkForExec();
  if (pid == 0) RunDaemonUntilExec(start);
  return pid;
}

// What the session leader needs: the plan, the launcher's pipe, and (Linux) a stack the launcher mapped
// for the daemon. `daemon_outlived` is set when the leader gives up reaping a daemon it killed: that
// daemon may still be on its stack.
struct LeaderStart {
  const Plan* plan;
  int report_read;  // the launcher's end, not the leader's to keep
  int report_fd;
  char* daemon_stack_top;  // null: the daemon is forked
  bool daemon_outlived;
  // Written by the kernel as it clones a daemon that shares this memory (CLONE_PARENT_SETTID), before the
  // daemon runs: the launcher knows whom to kill even if the leader dies before it can report the pid.
  pid_t daemon_pid;
};

// Starts the daemon. On Linux it shares the session leader's memory until its exec (CLONE_VM, on the
// stack the launcher mapped for it): no copy of the page tables of Node's whole memory to make, and none
// to tear down at the exec. Not CLONE_VFORK: the session leader goes on, to kill a daemon stuck before its
// exec at the deadline. Safe because the session leader only waits on a pipe, and the daemon only makes
// system calls, on its own stack (errno, in the shared thread storage, is read by the leader only after a
// failed call of its own, which it does not expect). Not with --user (no stack is mapped then): between
// its setuid and its exec the daemon would share a root process's memory, and a kernel that lets that
// user trace it (fs.suid_dumpable=1) would let the user write into root's process. Elsewhere, or where
// the kernel refuses, a fork.
pid_t StartDaemon(DaemonStart* start, char* stack_top, pid_t* settid) {
#ifdef __linux__
  if (stack_top != nullptr) {
    pid_t pid = clone(RunDaemonUntilExec, stack_top, CLONE_VM | CLONE_PARENT_SETTID | SIGCHLD, start, settid);
    if (pid > 0) return pid;
  }
#endif
  return ForkThenRun(start);
}

// Reaps `pid`, waiting at most `ms`: the leader must end, and a killed daemon stuck in the kernel (an
// exec from a hung network file system) could keep a plain waitpid waiting as long as it is stuck.
bool ReapWithin(pid_t pid, int ms) {
  const int64_t end = NowMs() + ms;
  for (;;) {
    pid_t got = waitpid(pid, nullptr, WNOHANG);
    if (got == pid || (got < 0 && errno != EINTR)) return true;
    if (NowMs() >= end) return false;
    struct timespec step = {0, 1000000};
    nanosleep(&step, nullptr);
  }
}

// The first child of a daemon: leaves the caller's session, starts the daemon, and relays its exec
// result. Waiting here for the daemon's exec means a daemon that fails is reaped by its own parent
// instead of lingering as a zombie under a PID 1 that reaps nothing.
[[noreturn]] int RunSessionLeader(void* arg) {
  LeaderStart* leader = static_cast<LeaderStart*>(arg);
  int report_fd = leader->report_fd;
  close(leader->report_read);
  ResetSignalDispositions();
  if (setsid() < 0) {
    WriteReport(report_fd, kReportFailure, kStepSetsid, errno);
    _exit(1);
  }
  int inner[2];
  if (PipeCloseOnExec(inner) < 0) {
    WriteReport(report_fd, kReportFailure, kStepPipe, errno);
    _exit(1);
  }
  DaemonStart start = {leader->plan, report_fd, inner[0], inner[1]};
  pid_t daemon = StartDaemon(&start, leader->daemon_stack_top, &leader->daemon_pid);
  if (daemon < 0) {
    WriteReport(report_fd, kReportFailure, kStepFork, errno);
    _exit(1);
  }
  // The launcher's to kill, should this process die before its last word (see ForkAndWait).
  WriteReport(report_fd, kReportStarted, daemon, 0);
  close(inner[1]);
  pid_t ignored = 0;
  Failure failure;
  bool failed = false;
  switch (ReadReports(inner[0], kExecDeadlineMs, &ignored, &failure, &failed)) {
    case kReadDone:
      break;
    case kReadFailed:
      // Nothing more can be heard of the daemon: it is killed, as a stuck one is, and never left to run
      // unreported (on the launcher's memory, when it shares it).
      failure = {kStepReportRead, errno};
      kill(daemon, SIGKILL);
      failed = true;
      break;
    case kReadTimedOut:
      // A daemon stuck before exec is killed here, by the one process that knows its pid.
      kill(daemon, SIGKILL);
      failure = {kStepExecWait, ETIMEDOUT};
      failed = true;
      break;
  }
  if (failed) {
    if (!ReapWithin(daemon, kLeaderMarginMs / 2)) leader->daemon_outlived = true;
    WriteReport(report_fd, kReportFailure, failure.step, failure.err);
    _exit(1);
  }
  WriteReport(report_fd, kReportPid, daemon, 0);
  // Closed now, not by _exit: the launcher's end of file then comes at once, not after the teardown of
  // this process's memory (when it has a copy of its own).
  close(report_fd);
  _exit(0);
}

#ifdef __linux__
// A stack for a process that shares this one's memory until its exec, with a guard page below it: an
// overflow faults instead of writing into Node's memory.
constexpr size_t kStackBytes = 256 * 1024;

char* MapStack() {
  size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  void* base = mmap(nullptr, kStackBytes + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (base == MAP_FAILED) return nullptr;
  if (mprotect(base, page, PROT_NONE) < 0) {
    munmap(base, kStackBytes + page);
    return nullptr;
  }
  return static_cast<char*>(base) + page + kStackBytes;
}

void UnmapStack(char* top) {
  if (top == nullptr) return;
  size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  munmap(top - kStackBytes - page, kStackBytes + page);
}

// The session leader, started in this process's memory and with this thread suspended until it exits
// (CLONE_VM | CLONE_VFORK, as posix_spawn does): no copy of Node's page tables, which on these machines
// costs milliseconds, and no copy-on-write fault afterwards for each page Node writes again. The leader
// only makes system calls, on its own stack, and exits once its daemon has exec'd or failed; its own waits
// are bounded (ReadReports' deadline, ReapWithin). Like any vfork, the suspension lasts while the leader
// is stopped (SIGSTOP, a tracer, a frozen cgroup): only whoever could stop this process itself can do
// that, and SIGTERM or SIGINT to this process still end it. Returns the leader's pid, or -1 with errno
// when the kernel refuses (the caller then forks).
pid_t CloneLeader(LeaderStart* leader, char* stack_top) {
  return clone(RunSessionLeader, stack_top, CLONE_VM | CLONE_VFORK | SIGCHLD, leader);
}

// What a supervisor's child needs up to its exec.
struct ChildStart {
  const Plan* plan;
  int report_read;  // the caller's end, not the child's to keep
  int report_write;
};

[[noreturn]] void RunChild(const Plan& plan, int report_fd);

[[noreturn]] int RunChildUntilExec(void* arg) {
  const ChildStart* start = static_cast<const ChildStart*>(arg);
  close(start->report_read);
  ResetSignalDispositions();
  RunChild(*start->plan, start->report_write);
}

// A supervisor's child, sharing this process's memory until its exec (CLONE_VM, on a stack mapped for it),
// as the daemon does (StartDaemon): a fork copied the page tables of the supervisor's whole memory (0.7 ms
// of every respawn here), the child's exec tore its copy down, and each page the supervisor wrote after it
// took a copy-on-write fault. Not CLONE_VFORK: the caller keeps its deadline, killing a child stuck before
// its exec. Safe because the caller, meanwhile, only waits on the report pipe with every signal blocked
// (so none of its calls fails and reads errno, which the child's calls write in the thread storage they
// share), and reaps a child that failed or was killed before it lets go of the stack; the child only makes
// system calls, on its own stack. Not with --user: see StartDaemon. Returns -1 where the kernel refuses
// (the caller then forks).
pid_t CloneChild(ChildStart* start, char* stack_top) {
  return clone(RunChildUntilExec, stack_top, CLONE_VM | SIGCHLD, start);
}
#endif

[[noreturn]] void RunChild(const Plan& plan, int report_fd) {
  // Its own process group, so a supervisor can signal the program and everything it forked at once.
  // With a pty, its own session (which is a group of its own too, pgid = pid): only a session leader
  // can take a terminal as its controlling one.
  if (plan.controlling_tty) {
    if (setsid() < 0) {
      WriteReport(report_fd, kReportFailure, kStepSetsid, errno);
      _exit(127);
    }
    if (ioctl(plan.stdio[0], TIOCSCTTY, 0) < 0) {
      WriteReport(report_fd, kReportFailure, kStepControllingTty, errno);
      _exit(127);
    }
  } else if (setpgid(0, 0) < 0) {
    WriteReport(report_fd, kReportFailure, kStepSetpgid, errno);
    _exit(127);
  }
  Failure failure;
  ApplyPlanAndExec(plan, &failure);
  WriteReport(report_fd, kReportFailure, failure.step, failure.err);
  _exit(127);
}

Napi::Value ThrowFailure(Napi::Env env, const Failure& failure) {
  ThrowErrno(env, failure.err, StepSyscall(failure.step));
  return env.Undefined();
}

// `plan_in_use` is set when a daemon that shares this process's memory may still be running before its
// exec: then the plan, and the stacks it runs on, must never be freed.
Napi::Value ForkAndWait(Napi::Env env, const Plan& plan, bool daemon, bool* plan_in_use) {
  int report[2];
  if (PipeCloseOnExec(report) < 0) return ThrowErrno(env, errno, "pipe");
  // Above every descriptor the child sets before its exec (0-2, then its held sockets at 3, 4, ...): a
  // dup2 onto the write end would close it, and its end of file would read as the exec while the child
  // still ran (on a stack this process then unmaps, when it shares this memory).
  int floor = 3 + static_cast<int>(plan.listen_fds.size());
  for (int& end : report) {
    if (end >= floor) continue;
    int moved = fcntl(end, F_DUPFD_CLOEXEC, floor);
    if (moved < 0) {
      int err = errno;
      close(report[0]);
      close(report[1]);
      return ThrowErrno(env, err, "fcntl");
    }
    close(end);
    end = moved;
  }
  LeaderStart leader = {&plan, report[0], report[1], nullptr, false, 0};
  char* leader_stack = nullptr;
#ifdef __linux__
  // The daemon's stack is mapped here, before the leader starts, whether the leader shares this memory
  // or has a copy of it; with --user the daemon is forked (see StartDaemon).
  if (daemon && !plan.has_ids) {
    leader.daemon_stack_top = MapStack();
    if (leader.daemon_stack_top != nullptr) leader_stack = MapStack();
  }
  char* child_stack = !daemon && !plan.has_ids ? MapStack() : nullptr;
  ChildStart child = {&plan, report[0], report[1]};
#endif
  // Blocked around fork, so no handler of Node's runs in the child before the dispositions are reset.
  sigset_t all, previous;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  pid_t pid = -1;
  bool shared = false;
#ifdef __linux__
  if (leader_stack != nullptr) {
    pid = CloneLeader(&leader, leader_stack);
    shared = pid > 0;
  }
  bool child_shares = false;
  if (child_stack != nullptr) {
    pid = CloneChild(&child, child_stack);
    child_shares = pid > 0;
  }
#endif
  if (pid < 0) pid = ForkForExec();
  if (pid == 0) {
    if (daemon) RunSessionLeader(&leader);
    close(report[0]);
    ResetSignalDispositions();
    RunChild(plan, report[1]);
  }
  int fork_errno = errno;
#ifdef __linux__
  // A child on this memory: every signal stays blocked until it has exec'd or been reaped (CloneChild).
  if (!child_shares) pthread_sigmask(SIG_SETMASK, &previous, nullptr);
#else
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
#endif
  close(report[1]);
  if (pid < 0) {
    close(report[0]);
#ifdef __linux__
    UnmapStack(leader_stack);
    UnmapStack(leader.daemon_stack_top);
    UnmapStack(child_stack);
#endif
    return ThrowErrno(env, fork_errno, "fork");
  }
  pid_t result = daemon ? 0 : pid;
  pid_t started = 0;
  Failure failure;
  bool failed = false;
  // Bounded, so a child stuck before exec cannot hang this process: the session leader gives up on the
  // daemon after kExecDeadlineMs and reports it; the margin lets that report arrive first.
  ReadOutcome outcome = ReadReports(report[0], kExecDeadlineMs + (daemon ? kLeaderMarginMs : 0), &result, &failure, &failed, &started);
  int read_errno = errno;
  close(report[0]);
  if (outcome == kReadTimedOut) {
    kill(pid, SIGKILL);
    failure = {kStepExecWait, ETIMEDOUT};
    failed = true;
  }
  // The leader's last word: a pid (the daemon exec'd) or a failure (the daemon was reaped, or never made).
  // Without it (the leader was killed, or this wait timed out), or when the leader gave up reaping a killed
  // daemon, the daemon may still be starting: it is killed, never left to run unreported.
  bool last_word = outcome == kReadDone && (failed || result > 0);
  bool daemon_loose = daemon && (!last_word || leader.daemon_outlived);
  if (daemon_loose) {
    if (started <= 0) started = leader.daemon_pid;  // set by the kernel only when the leader shares this memory
    if (started > 0) kill(started, SIGKILL);
    // A forked leader may still be waiting on it (this wait failed): it goes too. It is ours to reap, so
    // its pid is still its own.
    if (!last_word) kill(pid, SIGKILL);
    if (!failed) {
      failure = {kStepLeaderGone, ECHILD};
      failed = true;
    }
  }
#ifdef __linux__
  // A daemon that shares this memory and may still run before its exec keeps its stacks and the plan
  // (it reads them) for good. Otherwise, and always when the leader was forked, they are unmapped now.
  if (shared && daemon_loose) {
    *plan_in_use = true;
  } else {
    UnmapStack(leader_stack);
    UnmapStack(leader.daemon_stack_top);
  }
#endif
  // A failed child is reaped here. A daemon's first child that reported the daemon is exiting: the
  // caller reaps it (its pid is the session returned) once it has written the pidfile. A supervisor's
  // live child is reaped when it ends.
  bool reported = outcome == kReadDone && !failed && result > 0;
#ifdef __linux__
  // A child on this memory whose pipe could not be read may still be before its exec: it goes, and is
  // reaped, before its stack does.
  if (child_shares && outcome == kReadFailed) {
    kill(pid, SIGKILL);
    WaitFor(pid);
  }
#endif
  if (failed || (daemon && !reported)) WaitFor(pid);
#ifdef __linux__
  // Exec'd, or reaped: nothing runs on the child's stack any more.
  UnmapStack(child_stack);
  if (child_shares) pthread_sigmask(SIG_SETMASK, &previous, nullptr);
#endif
  if (outcome == kReadFailed) return ThrowErrno(env, read_errno, "read");
  if (failed) return ThrowFailure(env, failure);
  if (result <= 0) return ThrowErrno(env, ECHILD, "fork");
  if (!daemon) return Napi::Number::New(env, result);
  // The first child called setsid: its pid is the daemon's session, known here without asking /proc,
  // which would wait for the daemon's exec to finish to answer. It is still the caller's to reap.
  Napi::Object started_daemon = Napi::Object::New(env);
  started_daemon.Set("pid", Napi::Number::New(env, result));
  started_daemon.Set("session", Napi::Number::New(env, pid));
  return started_daemon;
}

// Exec in place: everything the plan changes in this process is saved first (native/exec.cc), so a
// failed execve leaves Node as it was, able to report it.
Napi::Value ExecInPlace(Napi::Env env, const Plan& plan) {
  sigset_t all, previous;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  struct sigaction saved[NSIG];
  for (int sig = 1; sig < NSIG; sig++) sigaction(sig, nullptr, &saved[sig]);
  InPlaceState state;
  SaveInPlaceState(plan, &state);
  ResetSignalDispositions();
  Failure failure;
  ApplyPlanAndExec(plan, &failure);
  RestoreInPlaceState(plan, &state);
  for (int sig = 1; sig < NSIG; sig++) {
    if (sig != SIGKILL && sig != SIGSTOP) sigaction(sig, &saved[sig], nullptr);
  }
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  return ThrowFailure(env, failure);
}

}  // namespace

Napi::Value Spawn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) return ThrowType(env, "spawn(plan: object)");
  Napi::Object options = info[0].As<Napi::Object>();
  Napi::Value mode_value = options.Get("mode");
  std::string mode = mode_value.IsString() ? mode_value.As<Napi::String>().Utf8Value() : "";
  // On the heap: a daemon that may still run in this memory before its exec keeps it (ForkAndWait).
  std::unique_ptr<Plan> plan(new Plan());
  if (const char* problem = ReadPlan(options, plan.get())) return ThrowType(env, problem);
  bool plan_in_use = false;
  if (mode == "daemon" || mode == "child") {
    Napi::Value result = ForkAndWait(env, *plan, mode == "daemon", &plan_in_use);
    if (plan_in_use) (void)plan.release();  // never freed: see ForkAndWait
    return result;
  }
  if (mode == "exec") {
    plan->in_place = true;
    return ExecInPlace(env, *plan);
  }
  return ThrowType(env, "spawn: plan.mode must be 'daemon', 'child' or 'exec'");
}

}  // namespace daemonize
