// Errors thrown by the addon look like Node's own system errors:
// err.code ('EPERM'), err.errno (positive), err.syscall ('setsid'), message "setsid(2) failed: EPERM".
#pragma once
#include <napi.h>

namespace daemonize {

// Throws a JavaScript Error for errno `err` from `syscall` and returns undefined, so callers can
// `return ThrowErrno(...)` straight out of a binding.
Napi::Value ThrowErrno(Napi::Env env, int err, const char* syscall);

// Throws a TypeError (a programming error in the TypeScript glue, never a user error).
Napi::Value ThrowType(Napi::Env env, const char* message);

// The symbolic name of an errno ("ENOENT"); libuv already knows them all.
const char* ErrnoName(int err);

Napi::Value Strerror(const Napi::CallbackInfo& info);

}  // namespace daemonize
