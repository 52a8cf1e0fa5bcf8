// Listening sockets the supervisor holds for its whole life and hands to every child (--listen): bound
// once, so a restart never closes the port and no connection is refused while the program changes.
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <string>

#include "bindings.h"
#include "errors.h"

namespace daemonize {

namespace {

int Fail(int fd, int* err) {
  *err = errno;
  if (fd >= 0) close(fd);
  return -1;
}

int ListenOn(int fd, const struct sockaddr* address, socklen_t length, int backlog, int* err) {
  if (bind(fd, address, length) < 0) return Fail(fd, err);
  if (listen(fd, backlog) < 0) return Fail(fd, err);
  return fd;
}

// A Unix socket address for `path`; false when the path does not fit sun_path.
bool UnixAddress(const std::string& path, struct sockaddr_un* address, socklen_t* length) {
  memset(address, 0, sizeof *address);
  address->sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof address->sun_path) return false;
  memcpy(address->sun_path, path.data(), path.size());
  *length = offsetof(struct sockaddr_un, sun_path) + path.size() + 1;
  return true;
}

}  // namespace

// listenSocket({host, port} | {path}, backlog): a close-on-exec listening socket. `host` is a numeric
// IPv4 or IPv6 address (the TypeScript side resolves names); `path` a Unix stream socket's path.
Napi::Value ListenSocket(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsNumber()) {
    return ThrowType(env, "listenSocket(address: {host, port} | {path}, backlog: number)");
  }
  Napi::Object where = info[0].As<Napi::Object>();
  int backlog = info[1].As<Napi::Number>().Int32Value();
  int err = 0;
  if (where.Get("path").IsString()) {
    std::string path = where.Get("path").As<Napi::String>().Utf8Value();
    struct sockaddr_un address;
    socklen_t length;
    if (!UnixAddress(path, &address, &length)) return ThrowErrno(env, ENAMETOOLONG, "bind");
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return ThrowErrno(env, errno, "socket");
    fd = ListenOn(fd, reinterpret_cast<struct sockaddr*>(&address), length, backlog, &err);
    if (fd < 0) return ThrowErrno(env, err, "bind");
    return Napi::Number::New(env, fd);
  }
  if (!where.Get("host").IsString() || !where.Get("port").IsNumber()) {
    return ThrowType(env, "listenSocket: address must be {host, port} or {path}");
  }
  std::string host = where.Get("host").As<Napi::String>().Utf8Value();
  uint16_t port = static_cast<uint16_t>(where.Get("port").As<Napi::Number>().Uint32Value());
  struct sockaddr_storage storage;
  memset(&storage, 0, sizeof storage);
  socklen_t length;
  int family;
  auto* v4 = reinterpret_cast<struct sockaddr_in*>(&storage);
  auto* v6 = reinterpret_cast<struct sockaddr_in6*>(&storage);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    family = v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    length = sizeof *v4;
  } else if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    family = v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    length = sizeof *v6;
  } else {
    return ThrowErrno(env, EINVAL, "inet_pton");
  }
  int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return ThrowErrno(env, errno, "socket");
  // A restarted supervisor binds again while the last one's connections sit in TIME_WAIT.
  int on = 1;
  // [::]:PORT means IPv6 only; an IPv4 address is asked for by name.
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) < 0 ||
      (family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on) < 0)) {
    Fail(fd, &err);
    return ThrowErrno(env, err, "setsockopt");
  }
  fd = ListenOn(fd, reinterpret_cast<struct sockaddr*>(&storage), length, backlog, &err);
  if (fd < 0) return ThrowErrno(env, err, "bind");
  return Napi::Number::New(env, fd);
}

// connectUnix(path): connects a Unix stream socket to `path` and closes it again; throws the errno
// (ECONNREFUSED: a socket file nobody listens on). Non-blocking, so a live server whose backlog is full
// answers EAGAIN at once instead of hanging the caller.
Napi::Value ConnectUnix(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) return ThrowType(env, "connectUnix(path: string)");
  std::string path = info[0].As<Napi::String>().Utf8Value();
  struct sockaddr_un address;
  socklen_t length;
  if (!UnixAddress(path, &address, &length)) return ThrowErrno(env, ENAMETOOLONG, "connect");
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return ThrowErrno(env, errno, "socket");
  int err = 0;
  if (connect(fd, reinterpret_cast<struct sockaddr*>(&address), length) < 0) Fail(fd, &err);
  else close(fd);
  if (err != 0) return ThrowErrno(env, err, "connect");
  return env.Undefined();
}

}  // namespace daemonize
