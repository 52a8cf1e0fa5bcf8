// The supervisor's end of systemd's notification protocol: a Unix datagram socket its children send
// READY=1, WATCHDOG=1... to, and a receive that says which process sent each message (SCM_CREDENTIALS,
// filled in by the kernel: a child cannot claim another's pid). Node core has no Unix datagram sockets.
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <string>

#include "bindings.h"
#include "errors.h"

namespace daemonize {

// notifySocket(path): a non-blocking, close-on-exec datagram socket bound at `path` ('@name': abstract)
// with SO_PASSCRED, so every message arrives with its sender's credentials.
Napi::Value NotifySocket(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) return ThrowType(env, "notifySocket(path: string)");
  std::string path = info[0].As<Napi::String>().Utf8Value();
  struct sockaddr_un address;
  memset(&address, 0, sizeof address);
  address.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof address.sun_path) return ThrowErrno(env, ENAMETOOLONG, "bind");
  memcpy(address.sun_path, path.data(), path.size());
  bool abstract = path[0] == '@';
  if (abstract) address.sun_path[0] = '\0';
  socklen_t length = offsetof(struct sockaddr_un, sun_path) + path.size() + (abstract ? 0 : 1);
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return ThrowErrno(env, errno, "socket");
  int on = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof on) < 0 ||
      bind(fd, reinterpret_cast<struct sockaddr*>(&address), length) < 0) {
    int err = errno;
    close(fd);
    return ThrowErrno(env, err, "bind");
  }
  return Napi::Number::New(env, fd);
}

// receiveNotify(fd): {message, pid, uid} for the next datagram, or null when none is waiting. Descriptors
// a sender passes along (FDSTORE=1) find no room in the control buffer: the kernel closes them.
Napi::Value ReceiveNotify(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) return ThrowType(env, "receiveNotify(fd: number)");
  int fd = info[0].As<Napi::Number>().Int32Value();
  char buffer[4096];
  union {
    struct cmsghdr align;
    char space[CMSG_SPACE(sizeof(struct ucred))];
  } control;
  struct iovec vector = {buffer, sizeof buffer};
  struct msghdr message;
  memset(&message, 0, sizeof message);
  message.msg_iov = &vector;
  message.msg_iovlen = 1;
  message.msg_control = control.space;
  message.msg_controllen = sizeof control.space;
  ssize_t n;
  do {
    n = recvmsg(fd, &message, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return env.Null();
  if (n < 0) return ThrowErrno(env, errno, "recvmsg");
  pid_t pid = 0;
  uid_t uid = static_cast<uid_t>(-1);
  for (struct cmsghdr* c = CMSG_FIRSTHDR(&message); c != nullptr; c = CMSG_NXTHDR(&message, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
      struct ucred credentials;
      memcpy(&credentials, CMSG_DATA(c), sizeof credentials);
      pid = credentials.pid;
      uid = credentials.uid;
    }
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("message", Napi::String::New(env, buffer, static_cast<size_t>(n)));
  result.Set("pid", Napi::Number::New(env, pid));
  result.Set("uid", Napi::Number::New(env, uid));
  result.Set("truncated", Napi::Boolean::New(env, (message.msg_flags & MSG_TRUNC) != 0));
  return result;
}

}  // namespace daemonize
