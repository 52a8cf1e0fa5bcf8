// flock(2): Node core has no file locking. A flock lock belongs to the open file description, so it is
// inherited across fork and survives execve while some descriptor to it stays open: exactly what lets a
// daemon hold its own pidfile lock for its whole life.
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>

#include "bindings.h"
#include "errors.h"

namespace daemonize {

// tryLock(fd, shared): true when the lock is taken, false when someone else holds it.
Napi::Value TryLock(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsBoolean()) {
    return ThrowType(env, "tryLock(fd: number, shared: boolean)");
  }
  int fd = info[0].As<Napi::Number>().Int32Value();
  int op = (info[1].As<Napi::Boolean>().Value() ? LOCK_SH : LOCK_EX) | LOCK_NB;
  int rc;
  do {
    rc = flock(fd, op);
  } while (rc < 0 && errno == EINTR);
  if (rc == 0) return Napi::Boolean::New(env, true);
  if (errno == EWOULDBLOCK) return Napi::Boolean::New(env, false);
  return ThrowErrno(env, errno, "flock");
}

}  // namespace daemonize
