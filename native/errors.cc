#include "errors.h"

#include <string.h>
#include <uv.h>

#include <string>

namespace daemonize {

const char* ErrnoName(int err) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
  // glibc names every errno, including ones libuv has no name for (ENOEXEC).
  if (const char* name = strerrorname_np(err)) return name;
#endif
  // On Unix a libuv error code is exactly -errno.
  return uv_err_name(-err);
}

Napi::Value ThrowErrno(Napi::Env env, int err, const char* syscall) {
  const char* code = ErrnoName(err);
  std::string message = std::string(syscall) + "(2) failed: " + code;
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, code));
  error.Set("errno", Napi::Number::New(env, err));
  error.Set("syscall", Napi::String::New(env, syscall));
  error.ThrowAsJavaScriptException();
  return env.Undefined();
}

Napi::Value ThrowType(Napi::Env env, const char* message) {
  Napi::TypeError::New(env, message).ThrowAsJavaScriptException();
  return env.Undefined();
}

// strerror(3) text for an errno, so every message the CLI prints reads like the C tools' do.
Napi::Value Strerror(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsNumber()) return ThrowType(info.Env(), "strerror(errno: number)");
  return Napi::String::New(info.Env(), strerror(info[0].As<Napi::Number>().Int32Value()));
}

}  // namespace daemonize
