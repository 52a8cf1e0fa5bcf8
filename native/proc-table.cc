// procStats(): every /proc/PID/stat line in one call, as one Buffer of NUL-separated records. The
// supervisor and --stop read the whole process table several times while a daemon stops (who is left
// of it, who holds its lock); from JavaScript each file costs an open, a stat, two reads and a close
// through the fs layer, a few milliseconds for a table of a hundred processes. Here it is one openat,
// one read and one close per process. The parsing stays in TypeScript (src/process-table.ts).
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>

#include "bindings.h"
#include "errors.h"

namespace daemonize {

namespace {

// The kernel's linux_dirent64, which glibc does not declare.
struct DirEntry {
  uint64_t ino;
  int64_t off;
  unsigned short reclen;
  unsigned char type;
  char name[];
};

// Appends the stat line of the process named `name` in the directory `proc`; a process gone since
// the listing is simply not there.
void AppendStat(int proc, const char* name, std::string* out) {
  char path[32];
  size_t length = strlen(name);
  if (length + sizeof "/stat" > sizeof path) return;
  memcpy(path, name, length);
  memcpy(path + length, "/stat", sizeof "/stat");
  int fd = openat(proc, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  // A stat line is a few hundred bytes; its command name is at most 64.
  char buffer[1024];
  ssize_t n;
  do {
    n = read(fd, buffer, sizeof buffer);
  } while (n < 0 && errno == EINTR);
  close(fd);
  if (n <= 0) return;
  out->append(buffer, static_cast<size_t>(n));
  out->push_back('\0');
}

}  // namespace

// procStats(): Buffer "stat line\0stat line\0..." for every process /proc lists; throws when /proc
// cannot be read (no /proc, no descriptor left).
Napi::Value ProcStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int proc = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (proc < 0) return ThrowErrno(env, errno, "open");
  std::string out;
  out.reserve(64 * 1024);
  alignas(DirEntry) char entries[16384];
  for (;;) {
    long got = syscall(SYS_getdents64, proc, entries, sizeof entries);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      int err = errno;
      close(proc);
      return ThrowErrno(env, err, "getdents64");
    }
    if (got == 0) break;
    for (long at = 0; at < got;) {
      const DirEntry* entry = reinterpret_cast<const DirEntry*>(entries + at);
      at += entry->reclen;
      if (entry->name[0] >= '1' && entry->name[0] <= '9') AppendStat(proc, entry->name, &out);
    }
  }
  close(proc);
  return Napi::Buffer<char>::Copy(env, out.data(), out.size());
}

}  // namespace daemonize
