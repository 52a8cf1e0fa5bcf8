#include "exec.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fds.h"

namespace daemonize {

namespace {

// Without /proc, look at every number up to this bound (as fds.cc's walk does).
constexpr int kSnapshotCap = 65536;

void RecordFlags(int fd, void* context) {
  int flags = fcntl(fd, F_GETFD);
  if (flags >= 0) static_cast<InPlaceState*>(context)->fd_flags.emplace_back(fd, flags);
}

}  // namespace

void SaveInPlaceState(const Plan& plan, InPlaceState* state) {
  if (ForEachOpenFd(RecordFlags, state) <= 0) {
    state->fd_flags.clear();
    for (int fd = 3; fd < kSnapshotCap; fd++) RecordFlags(fd, state);
  }
  for (int i = 0; i < 3; i++) {
    state->stdio_flags[i] = fcntl(i, F_GETFD);
    if (state->stdio_flags[i] >= 0) state->stdio_copies[i] = fcntl(i, F_DUPFD_CLOEXEC, 3);
  }
  if (plan.has_umask) {
    state->umask = umask(plan.umask);
    umask(state->umask);
  }
#ifdef O_PATH
  // O_PATH: no read permission needed on the directory we come back to.
  if (plan.has_cwd) state->cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
#else
  if (plan.has_cwd) state->cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
#endif
}

void RestoreInPlaceState(const Plan& plan, InPlaceState* state) {
  for (int i = 0; i < 3; i++) {
    if (state->stdio_flags[i] < 0) {
      close(i);  // it was closed; MoveStdio filled it
    } else if (state->stdio_copies[i] >= 0) {
      dup2(state->stdio_copies[i], i);
      fcntl(i, F_SETFD, state->stdio_flags[i]);
      close(state->stdio_copies[i]);
    }
  }
  // Only what changed: close_range marked every descriptor, including ones another thread may have
  // opened since, which keep the flag it set (Node opens its own with O_CLOEXEC anyway).
  for (const auto& [fd, flags] : state->fd_flags) {
    int now = fcntl(fd, F_GETFD);
    if (now >= 0 && now != flags) fcntl(fd, F_SETFD, flags);
  }
  if (plan.has_umask) umask(state->umask);
  if (state->cwd >= 0) {
    if (fchdir(state->cwd) < 0) {
      // Best effort: after a drop to --user the old directory may be out of reach; Node only reports
      // the failure and exits, and its paths are absolute by then.
    }
    close(state->cwd);
  }
}

}  // namespace daemonize
