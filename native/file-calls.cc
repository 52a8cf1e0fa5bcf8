// open(2), close(2), pwrite(2) and access(2), for the files a start opens: the pidfile, /dev/null, the
// program's logs. The first call of each of Node's fs functions in a process runs JavaScript it compiles
// then (openSync, fstatSync and writeSync about 0.3 ms each here); these cost their system call. They
// behave as Node's do where src/file-calls.ts uses them: every descriptor close-on-exec, a string path
// encoded as Node encodes one, and errors thrown with code, errno and syscall.
#include <errno.h>
#include <fcntl.h>
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
  std::string path;
  if (info.Length() < 3 || !ReadNodePath(info[0], &path) || !info[1].IsNumber() || !info[2].IsNumber()) {
    return ThrowType(env, "openFile(path: string | Buffer, flags: number, mode: number)");
  }
  // A NUL inside would name another file to the kernel: refused as the system would refuse a bad name.
  if (path.find('\0') != std::string::npos) return ThrowErrno(env, EINVAL, "open");
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
  std::string path;
  if (info.Length() < 2 || !ReadNodePath(info[0], &path) || !info[1].IsNumber()) {
    return ThrowType(env, "canAccess(path: string | Buffer, mode: number)");
  }
  if (path.find('\0') != std::string::npos) return ThrowErrno(env, EINVAL, "access");
  if (access(path.c_str(), info[1].As<Napi::Number>().Int32Value()) != 0) return ThrowErrno(env, errno, "access");
  return env.Undefined();
}

}  // namespace daemonize
