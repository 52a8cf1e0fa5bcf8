// What the launcher hands the fork-to-exec path. Every string and array is built here, in the parent,
// before fork(): the child may not allocate (another thread may have held malloc's lock at fork time).
#pragma once
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include <string>
#include <vector>

namespace daemonize {

// Which step failed, as the child reports it; src/native.ts names each one's syscall.
enum Step : int32_t {
  kStepFork = 1,
  kStepSetsid = 2,
  kStepSetgroups = 3,
  kStepSetgid = 4,
  kStepSetuid = 5,
  kStepChdir = 6,
  kStepStdio = 7,
  kStepCloseFds = 8,
  kStepExec = 9,
  kStepSetpgid = 10,
  kStepDieWithParent = 11,
  kStepChroot = 12,
  kStepCoreLimit = 13,
  kStepKeepIds = 14,    // the dropped ids could be taken back: the drop did not hold (reported as EPERM)
  kStepExecWait = 15,   // no exec and no report within kExecDeadlineMs: the child was killed (ETIMEDOUT)
  kStepListenFds = 16,  // placing the held sockets (--listen) at 3..
  kStepControllingTty = 17,  // --pty: making the slave the new session's controlling terminal
  kStepPipe = 18,            // the session leader's pipe to hear the daemon's exec result
  kStepReportRead = 19,      // the session leader's wait on that pipe failed (poll or read)
  kStepLeaderGone = 20,      // the session leader ended without its last word (killed): reported as ECHILD
};

// How long a launcher waits for its child to exec or report a failure. Every step before exec is a
// system call that returns at once, except chdir and execve on a hung network filesystem; without a
// bound, a child stuck there would hang the launcher (and a supervisor's event loop) forever.
constexpr int kExecDeadlineMs = 30000;
// The parent waits a little longer than the session leader, which kills a stuck daemon and reports it.
constexpr int kLeaderMarginMs = 5000;

// One record on the report pipe. Smaller than PIPE_BUF, so each write is atomic.
struct Report {
  int32_t kind;   // kReportPid, kReportFailure or kReportStarted
  int32_t value;  // the daemon's pid, or the failed Step
  int32_t err;    // errno of the failed step
};
constexpr int32_t kReportPid = 1;      // the daemon has exec'd: the session leader's last word
constexpr int32_t kReportFailure = 2;  // a step failed: the child's (or the session leader's) last word
constexpr int32_t kReportStarted = 3;  // the session leader's first word: the daemon's pid, before its exec

struct Plan {
  std::string file;  // already resolved against PATH by the TypeScript side
  std::vector<std::string> argv_storage;
  std::vector<std::string> env_storage;
  std::vector<char*> argv;  // NULL-terminated views of the storage above
  std::vector<char*> envp;
  bool has_cwd = false;
  std::string cwd;
  bool has_umask = false;
  mode_t umask = 022;
  bool has_stdio = false;
  int stdio[3] = {0, 1, 2};
  std::vector<int> keep_fds;  // sorted: descriptors the program inherits besides 0-2
  bool has_ids = false;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;
  bool die_with_parent = false;  // a supervisor's child: SIGKILL when the supervisor dies
  pid_t parent = 0;              // the supervisor's pid, taken before fork
  bool has_core_limit = false;   // --core / --nocore: RLIMIT_CORE's soft limit
  bool core_limit_to_hard = false;
  rlim_t core_limit = 0;
  bool has_root = false;         // --chroot
  std::string root;
  // False skips close_range(2) and walks /proc/self/fd instead. Set by the test hook
  // DAEMONIZE_TEST_NO_CLOSE_RANGE in the environment of the process that calls spawn (read before fork),
  // so tests can prove the fallback used when a seccomp filter refuses close_range.
  bool use_close_range = true;
  bool in_place = false;  // exec mode: no fork, this process (all of Node's threads) becomes the program
  // Held sockets (--listen): placed at 3, 4, ... in this order.
  std::vector<int> listen_fds;
  // Where the child writes its own pid (only it knows it): the digits' room of env entries such as
  // "LISTEN_PID=" and "WATCHDOG_PID=", made before the fork.
  std::vector<char*> pid_slots;
  // --pty (child mode): a new session instead of a new group, with stdio[0], a pty slave, as its terminal.
  bool controlling_tty = false;
};

struct Failure {
  Step step = kStepExec;
  int err = 0;
};

// child.cc: async-signal-safe steps run after fork() (or in place, for exec mode).
void ResetSignalDispositions();
// Applies the plan and execs; returns only on failure, saying which step failed and why.
void ApplyPlanAndExec(const Plan& plan, Failure* failure);
void WriteReport(int fd, int32_t kind, int32_t value, int32_t err);
pid_t ForkForExec();
// Milliseconds on the monotonic clock (clock_gettime: async-signal-safe).
int64_t NowMs();
// Reads Report records until EOF or `deadline_ms` passes. Async-signal-safe (poll, read, clock_gettime).
enum ReadOutcome { kReadDone, kReadFailed, kReadTimedOut };
// `started` (may be null) receives a kReportStarted record's pid.
ReadOutcome ReadReports(int fd, int deadline_ms, pid_t* pid, Failure* failure, bool* failed, pid_t* started = nullptr);

}  // namespace daemonize
