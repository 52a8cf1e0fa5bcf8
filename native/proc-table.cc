// procStats([unread]): every /proc/PID/stat line in one call, as one Buffer of NUL-separated records. The
// supervisor and --stop read the whole process table several times while a daemon stops (who is left
// of it, who holds its lock); from JavaScript each file costs an open, a stat, two reads and a close
// through the fs layer, a few milliseconds for a table of a hundred processes. Here it is one openat,
// one read and one close per process. procStat(pid) reads one: readFileSync's way for a file of unknown
// size (a 64 KB buffer, its first use compiled) cost --status 1.4 ms for its first look at the daemon.
// The parsing stays in TypeScript (src/process-table.ts).
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

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

// A stat line is a few hundred bytes; its command name is at most 64.
constexpr size_t kStatMax = 1024;

// Whether a failed open or read of a process's stat file means it is not there for us: gone since it was
// listed, or hidden (/proc mounted with hidepid). Anything else (EMFILE: no descriptor left) must never
// pass for "gone": a table missing a live process would tell --stop that a daemon's session is empty.
bool NotThere(int err) {
  return err == ENOENT || err == ESRCH || err == EACCES || err == EPERM;
}

// The stat line of the process `name` names (its pid in decimal, in the directory `proc`; or its /proc/PID
// path, with AT_FDCWD), into `buffer`:
// its length; 0 when the process is not there (NotThere); -1 with errno when its line could not be read.
ssize_t ReadStat(int proc, const char* name, char (&buffer)[kStatMax]) {
  char path[32];
  size_t length = strlen(name);
  if (length + sizeof "/stat" > sizeof path) return 0;
  memcpy(path, name, length);
  memcpy(path + length, "/stat", sizeof "/stat");
  int fd = openat(proc, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NotThere(errno) ? 0 : -1;
  ssize_t n;
  do {
    n = read(fd, buffer, sizeof buffer);
  } while (n < 0 && errno == EINTR);
  int err = errno;
  close(fd);
  if (n < 0 && NotThere(err)) return 0;
  errno = err;
  return n;
}

// Appends the stat line of the process `name` names (as for ReadStat), and a NUL; false with errno
// when it could not be read (ReadStat).
bool AppendStat(int proc, const char* name, std::string* out) {
  char buffer[kStatMax];
  ssize_t n = ReadStat(proc, name, buffer);
  if (n < 0) return false;
  if (n == 0) return true;
  out->append(buffer, static_cast<size_t>(n));
  out->push_back('\0');
  return true;
}

// Whether the process named `name` (decimal) is one of `pids` (ascending).
bool Listed(const char* name, const int32_t* pids, size_t count) {
  if (count == 0) return false;
  char* end;
  long pid = strtol(name, &end, 10);
  return *end == '\0' && std::binary_search(pids, pids + count, static_cast<int32_t>(pid));
}

}  // namespace

// procStats([unread]): Buffer "stat line\0stat line\0..." for every process /proc lists but those whose pid
// is in `unread` (an ascending Int32Array): a caller that knows some processes cannot concern it saves
// their reads, most of the cost (the kernel composes each line). Throws when /proc, or a process's line
// in it, cannot be read (no /proc, no descriptor left): a table with a live process missing is no answer.
Napi::Value ProcStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int32_t* unread = nullptr;
  size_t unreadCount = 0;
  if (info.Length() > 0 && !info[0].IsUndefined()) {
    if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
      return ThrowType(env, "procStats(unread?: Int32Array)");
    }
    Napi::Int32Array pids = info[0].As<Napi::Int32Array>();
    unread = pids.Data();
    unreadCount = pids.ElementLength();
  }
  // The pids first, then their lines, each opened in /proc's descriptor (a path from the root costs a
  // third more); should that take the last descriptor (a --stop under a tight `ulimit -n`), /proc is
  // closed and the rest are opened by their whole path, one descriptor at a time.
  int proc = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (proc < 0) return ThrowErrno(env, errno, "open");
  std::vector<std::string> names;
  names.reserve(1024);
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
      if (entry->name[0] >= '1' && entry->name[0] <= '9' && !Listed(entry->name, unread, unreadCount)) {
        names.push_back(entry->name);
      }
    }
  }
  std::string out;
  out.reserve(64 * 1024);
  for (const std::string& name : names) {
    if (proc >= 0 && AppendStat(proc, name.c_str(), &out)) continue;
    if (proc >= 0 && errno != EMFILE) {
      int err = errno;
      close(proc);
      return ThrowErrno(env, err, "open");
    }
    if (proc >= 0) {
      close(proc);
      proc = -1;
    }
    if (!AppendStat(AT_FDCWD, ("/proc/" + name).c_str(), &out)) return ThrowErrno(env, errno, "open");
  }
  if (proc >= 0) close(proc);
  return Napi::Buffer<char>::Copy(env, out.data(), out.size());
}

// procStat(pid): the process's stat line as a Latin-1 string (its command name is bytes), or null when
// there is no such process; throws when its line cannot be read (EMFILE).
Napi::Value ProcStat(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) return ThrowType(env, "procStat(pid: number)");
  double given = info[0].As<Napi::Number>().DoubleValue();
  if (!(given >= 1 && given <= 0x7fffffff) || given != static_cast<double>(static_cast<int64_t>(given))) return env.Null();
  int64_t pid = static_cast<int64_t>(given);
  std::string name = std::to_string(pid);
  char buffer[kStatMax];
  ssize_t n = ReadStat(AT_FDCWD, ("/proc/" + name).c_str(), buffer);
  if (n < 0) return ThrowErrno(env, errno, "open");
  if (n == 0) return env.Null();
  napi_value text;
  napi_create_string_latin1(env, buffer, n, &text);
  return Napi::Value(env, text);
}

}  // namespace daemonize
