// Everything here runs in the fork child too: no malloc, no stdio, no opendir (which allocates).
#include "fds.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

namespace daemonize {

namespace {

// Without /proc, the walk goes up to the soft limit, but never further than this: a limit of 2^20 or
// more (common in containers) would otherwise cost a million fcntl calls on every start.
constexpr unsigned kWalkCap = 65536;

bool Kept(const std::vector<int>& keep, int fd) { return std::binary_search(keep.begin(), keep.end(), fd); }

bool MarkOne(int fd) {
  int flags = fcntl(fd, F_GETFD);
  if (flags < 0) return errno == EBADF;  // not open: nothing to mark
  if (flags & FD_CLOEXEC) return true;
  return fcntl(fd, F_SETFD, flags | FD_CLOEXEC) == 0 || errno == EBADF;
}

struct MarkContext {
  const std::vector<int>* keep;
  bool ok;
  int err;
};

void MarkVisited(int fd, void* context) {
  MarkContext* mark = static_cast<MarkContext*>(context);
  if (Kept(*mark->keep, fd) || MarkOne(fd)) return;
  mark->ok = false;
  mark->err = errno;
}

// close_range over every gap between the kept descriptors. False (errno set) if any call failed:
// ENOSYS before Linux 5.9, EINVAL for CLOSE_RANGE_CLOEXEC before 5.11, EPERM under a seccomp filter.
bool MarkWithCloseRange(const std::vector<int>& keep) {
#ifdef SYS_close_range
  unsigned low = 3;
  for (int fd : keep) {
    if (fd < static_cast<int>(low)) continue;
    if (static_cast<unsigned>(fd) > low && syscall(SYS_close_range, low, fd - 1, CLOSE_RANGE_CLOEXEC) != 0) return false;
    low = fd + 1;
  }
  return syscall(SYS_close_range, low, ~0U, CLOSE_RANGE_CLOEXEC) == 0;
#else
  errno = ENOSYS;
  return false;
#endif
}

bool MarkUpToLimit(const std::vector<int>& keep) {
  struct rlimit limit;
  unsigned max = kWalkCap;
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < max) {
    max = limit.rlim_cur;
  }
  for (unsigned fd = 3; fd < max; fd++) {
    if (!Kept(keep, fd) && !MarkOne(fd)) return false;
  }
  return true;
}

}  // namespace

int ForEachOpenFd(void (*visit)(int fd, void* context), void* context) {
#if defined(__linux__) && defined(SYS_getdents64)
  int dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return 0;
  // struct linux_dirent64, as getdents64(2) lays it out; glibc before 2.30 has no wrapper for it.
  struct Entry {
    uint64_t ino;
    int64_t off;
    unsigned short reclen;
    unsigned char type;
    char name[1];
  };
  alignas(8) char buffer[4096];
  for (;;) {
    long n = syscall(SYS_getdents64, dir, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      close(dir);
      errno = err;
      return -1;
    }
    if (n == 0) break;
    for (long at = 0; at < n;) {
      const Entry* entry = reinterpret_cast<const Entry*>(buffer + at);
      at += entry->reclen;
      int fd = 0;
      bool number = entry->name[0] != '\0';
      for (const char* c = entry->name; *c != '\0'; c++) {
        if (*c < '0' || *c > '9') number = false;
        else fd = fd * 10 + (*c - '0');
      }
      // "." and "..", and the directory's own descriptor, which is closed below.
      if (number && fd >= 3 && fd != dir) visit(fd, context);
    }
  }
  close(dir);
  return 1;
#else
  (void)visit;
  (void)context;
  return 0;
#endif
}

bool MarkInheritedCloseOnExec(const std::vector<int>& keep, bool use_close_range) {
  // Any close_range failure falls back: a seccomp filter can answer EPERM (or anything) for a call it
  // does not know, and marking twice is harmless.
  if (!(use_close_range && MarkWithCloseRange(keep))) {
    MarkContext mark = {&keep, true, 0};
    int walked = ForEachOpenFd(MarkVisited, &mark);
    if (walked < 0) return false;
    if (walked > 0 && !mark.ok) {
      errno = mark.err;
      return false;
    }
    if (walked == 0 && !MarkUpToLimit(keep)) return false;
  }
  for (int fd : keep) {
    int flags = fcntl(fd, F_GETFD);
    if (flags < 0 || fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC) < 0) return false;
  }
  return true;
}

}  // namespace daemonize
