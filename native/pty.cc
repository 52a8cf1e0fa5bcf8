// --pty: a pseudo-terminal for a supervised program, made in the parent before fork (posix_openpt,
// grantpt, unlockpt, ptsname are not async-signal-safe). The slave is opened here too, without becoming
// this process's controlling terminal; the child makes it its own (spawn.cc, RunChild: setsid, TIOCSCTTY).
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>

#include <napi.h>

#include "errors.h"

namespace daemonize {

// openPty(noEcho): { master, slave } descriptors, both close-on-exec (the spawn plan's stdio makes the
// slave the program's 0-2). noEcho clears ECHO on the slave, so what is written into the master (nothing
// today) is not echoed back into the output.
Napi::Value OpenPty(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsBoolean()) return ThrowType(env, "openPty(noEcho: boolean)");
  bool no_echo = info[0].As<Napi::Boolean>().Value();
  int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) return ThrowErrno(env, errno, "posix_openpt");
  char name[128];
  if (grantpt(master) < 0 || unlockpt(master) < 0 || ptsname_r(master, name, sizeof name) != 0) {
    int err = errno;
    close(master);
    return ThrowErrno(env, err, "grantpt");
  }
  int slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0) {
    int err = errno;
    close(master);
    return ThrowErrno(env, err, "open");
  }
  if (no_echo) {
    struct termios modes;
    if (tcgetattr(slave, &modes) < 0 || (modes.c_lflag &= ~(ECHO | ECHONL), tcsetattr(slave, TCSANOW, &modes) < 0)) {
      int err = errno;
      close(slave);
      close(master);
      return ThrowErrno(env, err, "tcsetattr");
    }
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("master", master);
  result.Set("slave", slave);
  return result;
}

}  // namespace daemonize
