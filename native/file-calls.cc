// open(2), close(2), pwrite(2), access(2), a small file's text and a line to stdout or stderr: what
// every command does with files (the pidfile, /dev/null, the logs, the status record, its output). The
// first call of each of Node's fs functions in a process runs JavaScript it compiles then (openSync,
// fstatSync, readFileSync and writeSync about 0.3 ms each here); these cost their system calls. They
// behave as Node's do where src/file-calls.ts uses them: every descriptor close-on-exec, a string path
// encoded as Node encodes one, and errors thrown with code, errno and syscall.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <string>

#include "bindings.h"
#include "bytes.h"
#include "errors.h"

namespace daemonize {
namespace {

bool IsDescriptor(Napi::Value value) {
  if (!value.IsNumber()) return false;
  double fd = value.As<Napi::Number>().DoubleValue();
  return fd >= 0 && fd <= 0x7fffffff && fd == static_cast<double>(static_cast<int>(fd));
}

}  // namespace

// openFile(path, flags, mode): a new descriptor, always close-on-exec (as Node's openSync makes them).
Napi::Value OpenFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  static const char kUsage[] = "openFile(path: string | Buffer, flags: number, mode: number)";
  std::string path;
  Napi::Value refused = PathArgument(info, &path, kUsage, "open");
  if (!refused.IsEmpty()) return refused;
  if (info.Length() < 3 || !info[1].IsNumber() || !info[2].IsNumber()) return ThrowType(env, kUsage);
  int flags = info[1].As<Napi::Number>().Int32Value() | O_CLOEXEC;
  mode_t mode = static_cast<mode_t>(info[2].As<Napi::Number>().Uint32Value());
  int fd;
  do {
    fd = open(path.c_str(), flags, mode);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return ThrowErrno(env, errno, "open");
  return Napi::Number::New(env, fd);
}

// closeFile(fd). An EINTR from close(2) on Linux still closed the descriptor: it is not retried.
Napi::Value CloseFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !IsDescriptor(info[0])) return ThrowType(env, "closeFile(fd: number)");
  if (close(info[0].As<Napi::Number>().Int32Value()) != 0 && errno != EINTR) return ThrowErrno(env, errno, "close");
  return env.Undefined();
}

// writeAt(fd, text, position): one pwrite(2) of the text's UTF-8 bytes at `position`; the bytes written,
// which may be fewer (the caller decides), as Node's writeSync returns them.
Napi::Value WriteAt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !IsDescriptor(info[0]) || !info[1].IsString() || !info[2].IsNumber()) {
    return ThrowType(env, "writeAt(fd: number, text: string, position: number)");
  }
  std::string text = info[1].As<Napi::String>().Utf8Value();
  double position = info[2].As<Napi::Number>().DoubleValue();
  if (!(position >= 0 && position <= 9007199254740991.0)) return ThrowType(env, "writeAt: position out of range");
  ssize_t written;
  do {
    written = pwrite(info[0].As<Napi::Number>().Int32Value(), text.data(), text.size(), static_cast<off_t>(position));
  } while (written < 0 && errno == EINTR);
  if (written < 0) return ThrowErrno(env, errno, "write");
  return Napi::Number::New(env, static_cast<double>(written));
}

// canAccess(path, mode): access(2) with this process's real ids; throws its errno, as accessSync does.
Napi::Value CanAccess(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  static const char kUsage[] = "canAccess(path: string | Buffer, mode: number)";
  std::string path;
  Napi::Value refused = PathArgument(info, &path, kUsage, "access");
  if (!refused.IsEmpty()) return refused;
  if (info.Length() < 2 || !info[1].IsNumber()) return ThrowType(env, kUsage);
  if (access(path.c_str(), info[1].As<Napi::Number>().Int32Value()) != 0) return ThrowErrno(env, errno, "access");
  return env.Undefined();
}

// readText(path, maxBytes): the whole file decoded as UTF-8 (as readFileSync(path, 'utf8') decodes it), for
// the small files a verb reads (a status record, /proc/PID/cmdline, whose stat tells no size). Opened
// without waiting, so a FIFO in the file's place reads as empty instead of hanging the command; a file
// longer than maxBytes throws EFBIG.
Napi::Value ReadText(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  static const char kUsage[] = "readText(path: string | Buffer, maxBytes: number)";
  std::string path;
  Napi::Value refused = PathArgument(info, &path, kUsage, "open");
  if (!refused.IsEmpty()) return refused;
  if (info.Length() < 2 || !info[1].IsNumber()) return ThrowType(env, kUsage);
  double limit = info[1].As<Napi::Number>().DoubleValue();
  if (!(limit >= 0 && limit <= 64.0 * 1024 * 1024)) return ThrowType(env, "readText: maxBytes out of range");
  int fd;
  do {
    fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return ThrowErrno(env, errno, "open");
  std::string text;
  char chunk[8192];
  for (;;) {
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;  // a FIFO with a writer but nothing written: what there is
    if (n < 0) {
      int err = errno;
      close(fd);
      return ThrowErrno(env, err, "read");
    }
    if (n == 0) break;
    if (text.size() + static_cast<size_t>(n) > static_cast<size_t>(limit)) {
      close(fd);
      return ThrowErrno(env, EFBIG, "read");
    }
    text.append(chunk, static_cast<size_t>(n));
  }
  close(fd);
  return Napi::String::New(env, text);
}

// writeOut(fd, text): all of the text's UTF-8 bytes with write(2). A descriptor someone else made
// non-blocking (a pipe the caller shares) that is full is waited for with poll(2), as a blocking write
// would wait: every line goes out whole and in order, and nothing is left behind at the exit. Any other
// failure throws (EPIPE, ENOSPC, EBADF), as writeSync does.
Napi::Value WriteOut(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !IsDescriptor(info[0]) || !info[1].IsString()) return ThrowType(env, "writeOut(fd: number, text: string)");
  int fd = info[0].As<Napi::Number>().Int32Value();
  std::string text = info[1].As<Napi::String>().Utf8Value();
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      struct pollfd ready = {fd, POLLOUT, 0};
      if (poll(&ready, 1, -1) < 0 && errno != EINTR) return ThrowErrno(env, errno, "poll");
      continue;
    }
    if (n < 0) return ThrowErrno(env, errno, "write");
    done += static_cast<size_t>(n);
  }
  return env.Undefined();
}

}  // namespace daemonize
