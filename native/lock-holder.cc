// Who holds a pidfile's lock, read from /proc in one call each (src/identity.ts decides what it means).
// Every control verb asks it first; from JavaScript each look is a handful of fs calls whose first use
// costs more than the system calls themselves.
//   readPidfile(path): {dev, ino (bigints), regular, text (its first 64 bytes, latin1)}, without following
//     a link at its last component; throws the open's or fstat's errno (ENOENT, ELOOP...).
//   holdsLock(pid, dev, ino): whether one of pid's descriptors is that file and owns a flock lock on it;
//     false when pid is gone, null when its descriptors may not be read (another user's process).
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "bindings.h"
#include "errors.h"

namespace daemonize {

namespace {

// Whether an fdinfo text shows a granted flock lock: "lock:\t1: FLOCK  ADVISORY  WRITE ...". A waiter's
// line reads "lock:\t1: -> FLOCK ..." and does not count.
bool ShowsFlock(const std::string& info) {
  size_t at = 0;
  while ((at = info.find("lock:", at)) != std::string::npos) {
    if (at == 0 || info[at - 1] == '\n') {
      size_t i = at + 5;
      while (i < info.size() && (info[i] == ' ' || info[i] == '\t')) i++;
      size_t digits = i;
      while (i < info.size() && info[i] >= '0' && info[i] <= '9') i++;
      if (i > digits && info.compare(i, 8, ": FLOCK ") == 0) return true;
    }
    at += 5;
  }
  return false;
}

bool ReadSmall(const char* path, std::string* out) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buffer[4096];
  ssize_t n;
  while ((n = read(fd, buffer, sizeof buffer)) != 0) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    out->append(buffer, static_cast<size_t>(n));
  }
  close(fd);
  return true;
}

uint64_t BigIntArg(const Napi::Value& value, bool* ok) {
  bool lossless = true;
  uint64_t result = value.As<Napi::BigInt>().Uint64Value(&lossless);
  *ok = *ok && lossless;
  return result;
}

}  // namespace

Napi::Value ReadPidfile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) return ThrowType(env, "readPidfile(path: string)");
  std::string path = info[0].As<Napi::String>().Utf8Value();
  // A NUL inside would open the name before it (Node's fs refuses such a path too).
  if (path.find('\0') != std::string::npos) return ThrowErrno(env, EINVAL, "open");
  int fd;
  // O_NONBLOCK: a FIFO planted at the path must not hang a --status (it is then no regular file, unread).
  do {
    fd = open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return ThrowErrno(env, errno, "open");
  struct stat st;
  if (fstat(fd, &st) < 0) {
    int err = errno;
    close(fd);
    return ThrowErrno(env, err, "fstat");
  }
  char buffer[64];
  ssize_t n = 0;
  if (S_ISREG(st.st_mode)) {
    do {
      n = pread(fd, buffer, sizeof buffer, 0);
    } while (n < 0 && errno == EINTR);
  }
  int err = errno;
  close(fd);
  if (n < 0) return ThrowErrno(env, err, "read");
  Napi::Object result = Napi::Object::New(env);
  result.Set("dev", Napi::BigInt::New(env, static_cast<uint64_t>(st.st_dev)));
  result.Set("ino", Napi::BigInt::New(env, static_cast<uint64_t>(st.st_ino)));
  result.Set("regular", Napi::Boolean::New(env, S_ISREG(st.st_mode)));
  std::u16string text;  // latin1: one byte, one code unit
  for (ssize_t i = 0; i < n; i++) text.push_back(static_cast<unsigned char>(buffer[i]));
  result.Set("text", Napi::String::New(env, text));
  return result;
}

Napi::Value HoldsLock(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsNumber() || !info[1].IsBigInt() || !info[2].IsBigInt()) {
    return ThrowType(env, "holdsLock(pid: number, dev: bigint, ino: bigint)");
  }
  // Not truncated to 32 bits: a number that is no pid names no process, not one that is.
  int64_t pid = info[0].As<Napi::Number>().Int64Value();
  bool ok = true;
  uint64_t dev = BigIntArg(info[1], &ok);
  uint64_t ino = BigIntArg(info[2], &ok);
  if (!ok || pid <= 0 || pid > INT32_MAX) return Napi::Boolean::New(env, false);
  std::string base = "/proc/" + std::to_string(pid);
  DIR* dir = opendir((base + "/fd").c_str());
  if (dir == nullptr) return errno == ENOENT || errno == ESRCH ? Napi::Value(Napi::Boolean::New(env, false)) : env.Null();
  std::vector<int> fds;
  while (struct dirent* entry = readdir(dir)) {
    if (entry->d_name[0] >= '0' && entry->d_name[0] <= '9') fds.push_back(atoi(entry->d_name));
  }
  closedir(dir);
  // A daemon's lock is among its last descriptors (opened after its stdio and libraries): highest first.
  std::sort(fds.begin(), fds.end(), std::greater<int>());
  for (int fd : fds) {
    std::string name = std::to_string(fd);
    struct stat st;
    if (stat((base + "/fd/" + name).c_str(), &st) < 0) continue;
    if (static_cast<uint64_t>(st.st_dev) != dev || static_cast<uint64_t>(st.st_ino) != ino) continue;
    std::string fdinfo;
    if (ReadSmall((base + "/fdinfo/" + name).c_str(), &fdinfo) && ShowsFlock(fdinfo)) return Napi::Boolean::New(env, true);
  }
  return Napi::Boolean::New(env, false);
}

}  // namespace daemonize
