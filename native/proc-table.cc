// procStats(): every /proc/PID/stat line in one call, as one Buffer of NUL-separated records. The
// supervisor and --stop read the whole process table several times while a daemon stops (who is left
// of it, who holds its lock); from JavaScript each file costs an open, a stat, two reads and a close
// through the fs layer, a few milliseconds for a table of a hundred processes. Here it is one openat,
// one read and one close per process. The parsing stays in TypeScript (src/process-table.ts).
// procStats(pids) reads only those processes, without listing /proc (the kernel walks every task for a
// listing): what --stop looks at again once a daemon is gone (src/process-snapshot.ts), with
// pidClock(), where the kernel's pid allocation stands.
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

// The text of a small /proc file, or an empty string.
std::string ReadText(const char* path) {
  std::string out;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  char buffer[4096];
  for (;;) {
    ssize_t n = read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buffer, static_cast<size_t>(n));
  }
  close(fd);
  return out;
}

// The number after `key` at the start of a line of `text`, or -1.
double NumberAfter(const std::string& text, const char* key) {
  size_t length = strlen(key);
  for (size_t at = 0; at < text.size(); at = text.find('\n', at) + 1) {
    if (text.compare(at, length, key) == 0) return strtod(text.c_str() + at + length, nullptr);
    if (text.find('\n', at) == std::string::npos) break;
  }
  return -1;
}

}  // namespace

// pidClock(): [the pid /proc shows for this process, the last pid handed out, tasks now (threads too),
// tasks made since boot, pid_max], from /proc/self, /proc/loadavg, /proc/stat and
// /proc/sys/kernel/pid_max; -1 for what could not be read.
Napi::Value PidClock(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  char self[32];
  ssize_t n = readlink("/proc/self", self, sizeof self - 1);
  double own = -1;
  if (n > 0) {
    self[n] = '\0';
    own = strtod(self, nullptr);
  }
  // "0.38 0.51 0.57 1/75 13411": load averages, running/all tasks, the last pid.
  std::string load = ReadText("/proc/loadavg");
  double tasks = -1;
  double last = -1;
  size_t slash = load.find('/');
  if (slash != std::string::npos) {
    char* end = nullptr;
    tasks = strtod(load.c_str() + slash + 1, &end);
    if (end != nullptr && *end == ' ') last = strtod(end + 1, nullptr);
  }
  double forks = NumberAfter(ReadText("/proc/stat"), "processes ");
  std::string max = ReadText("/proc/sys/kernel/pid_max");
  double pidMax = max.empty() ? -1 : strtod(max.c_str(), nullptr);
  Napi::Array result = Napi::Array::New(env, 5);
  double values[] = {own, last, tasks, forks, pidMax};
  for (uint32_t i = 0; i < 5; i++) result.Set(i, Napi::Number::New(env, values[i]));
  return result;
}

// procStats(): Buffer "stat line\0stat line\0..." for every process /proc lists; throws when /proc
// cannot be read (no /proc, no descriptor left). procStats(pids): the lines of those of `pids` that
// exist (a thread's id shows its thread's line).
Napi::Value ProcStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() >= 1) {
    if (!info[0].IsArray()) return ThrowType(env, "procStats(pids?: number[])");
    Napi::Array pids = info[0].As<Napi::Array>();
    int proc = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (proc < 0) return ThrowErrno(env, errno, "open");
    std::string out;
    for (uint32_t i = 0; i < pids.Length(); i++) {
      Napi::Value pid = pids.Get(i);
      if (!pid.IsNumber()) {
        close(proc);
        return ThrowType(env, "procStats(pids?: number[])");
      }
      std::string name = std::to_string(pid.As<Napi::Number>().Int64Value());
      AppendStat(proc, name.c_str(), &out);
    }
    close(proc);
    return Napi::Buffer<char>::Copy(env, out.data(), out.size());
  }
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
