// System calls the library mode needs and Node core lacks: poll(2) for the launcher, which waits
// synchronously on the daemon's readiness and stderr pipes; FD_CLOEXEC for the descriptors a daemon
// inherited from its launcher (Node has no fcntl); and sd_notify's AF_UNIX datagram (no Unix datagram
// sockets in Node core).
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "bindings.h"
#include "errors.h"

namespace daemonize {

namespace {
#ifdef MSG_NOSIGNAL
constexpr int kNoSignal = MSG_NOSIGNAL;
#else
constexpr int kNoSignal = 0;  // a datagram socket raises no SIGPIPE
#endif
}  // namespace

// poll(fds, timeoutMs): revents for each descriptor (0 when it had nothing to say); timeoutMs -1 waits
// forever. An interrupted poll returns all zeros: the caller keeps its own deadline and asks again.
Napi::Value Poll(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsArray() || !info[1].IsNumber()) {
    return ThrowType(env, "poll(fds: number[], timeoutMs: number)");
  }
  Napi::Array fds = info[0].As<Napi::Array>();
  std::vector<struct pollfd> entries(fds.Length());
  for (uint32_t i = 0; i < fds.Length(); i++) {
    Napi::Value fd = fds.Get(i);
    if (!fd.IsNumber()) return ThrowType(env, "poll(fds: number[], timeoutMs: number)");
    entries[i].fd = fd.As<Napi::Number>().Int32Value();
    entries[i].events = POLLIN;
    entries[i].revents = 0;
  }
  int rc = poll(entries.data(), entries.size(), info[1].As<Napi::Number>().Int32Value());
  if (rc < 0 && errno != EINTR) return ThrowErrno(env, errno, "poll");
  Napi::Array result = Napi::Array::New(env, entries.size());
  for (uint32_t i = 0; i < entries.size(); i++) {
    result.Set(i, Napi::Number::New(env, rc < 0 ? 0 : entries[i].revents));
  }
  return result;
}

// setCloseOnExec(fd, on): a daemon marks what it inherited close-on-exec at once, so the programs it
// starts do not inherit its launcher's pipes or keep its pidfile locked after it is gone.
Napi::Value SetCloseOnExec(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsBoolean()) {
    return ThrowType(env, "setCloseOnExec(fd: number, on: boolean)");
  }
  int fd = info[0].As<Napi::Number>().Int32Value();
  int flags = fcntl(fd, F_GETFD);
  if (flags < 0) return ThrowErrno(env, errno, "fcntl");
  flags = info[1].As<Napi::Boolean>().Value() ? (flags | FD_CLOEXEC) : (flags & ~FD_CLOEXEC);
  if (fcntl(fd, F_SETFD, flags) < 0) return ThrowErrno(env, errno, "fcntl");
  return env.Undefined();
}

// notify(socketPath, message): one datagram to a systemd-style notification socket. A path starting
// with '@' is in the abstract namespace (its first byte becomes NUL), as sd_notify(3) reads it.
Napi::Value Notify(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsString()) {
    return ThrowType(env, "notify(socketPath: string, message: string)");
  }
  std::string path = info[0].As<Napi::String>().Utf8Value();
  std::string message = info[1].As<Napi::String>().Utf8Value();
  struct sockaddr_un address;
  memset(&address, 0, sizeof address);
  address.sun_family = AF_UNIX;
  if (path.empty() || path.size() > sizeof address.sun_path) return ThrowErrno(env, EINVAL, "sendto");
  // A filesystem path needs room for its terminating NUL; an abstract name uses every byte it gives.
  if (path[0] != '@' && path.size() == sizeof address.sun_path) return ThrowErrno(env, ENAMETOOLONG, "sendto");
  memcpy(address.sun_path, path.data(), path.size());
  if (path[0] == '@') address.sun_path[0] = '\0';
  socklen_t length = offsetof(struct sockaddr_un, sun_path) + path.size() + (path[0] == '@' ? 0 : 1);

#ifdef SOCK_CLOEXEC
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return ThrowErrno(env, errno, "socket");
#else
  // macOS and AIX have no SOCK_CLOEXEC: mark it after (a fork in between is harmless here).
  int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
  if (fd < 0) return ThrowErrno(env, errno, "socket");
  fcntl(fd, F_SETFD, FD_CLOEXEC);
#endif
  ssize_t sent;
  do {
    sent = sendto(fd, message.data(), message.size(), kNoSignal,
                  reinterpret_cast<struct sockaddr*>(&address), length);
  } while (sent < 0 && errno == EINTR);
  int err = errno;
  close(fd);
  if (sent < 0) return ThrowErrno(env, err, "sendto");
  return env.Undefined();
}

}  // namespace daemonize
