// watchExit(pid, callback): callback() once, from the event loop, when process `pid` has ended (it is a
// zombie, or gone). libuv watches a pidfd (Linux 5.3), so --stop wakes the moment the daemon is gone
// instead of at its next look on a timer, whose first tick after a script's start comes late (about
// 2 ms here). Returns a function that stops the watch (harmless once it fired), or null when no pidfd
// can be had (an older kernel, a process already reaped): the caller then looks on its timer alone.
#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <uv.h>

#include "bindings.h"
#include "errors.h"

namespace daemonize {

namespace {

// Owned by two: the libuv handle (until its close callback) and the stop function (until collected).
struct ExitWatch {
  uv_poll_t handle;
  int fd = -1;
  napi_env env = nullptr;
  napi_ref callback = nullptr;
  bool stopped = false;
  int owners = 2;
};

void Release(ExitWatch* watch) {
  if (--watch->owners == 0) delete watch;
}

void Closed(uv_handle_t* handle) {
  ExitWatch* watch = static_cast<ExitWatch*>(handle->data);
  close(watch->fd);
  Release(watch);
}

void StopAtCleanup(void* data);

// Ends the watch once: the handle is closed (its callback frees it later), the callback dropped.
void Stop(ExitWatch* watch) {
  if (watch->stopped) return;
  watch->stopped = true;
  napi_remove_env_cleanup_hook(watch->env, StopAtCleanup, watch);
  uv_poll_stop(&watch->handle);
  uv_close(reinterpret_cast<uv_handle_t*>(&watch->handle), Closed);
  if (watch->callback != nullptr) napi_delete_reference(watch->env, watch->callback);
  watch->callback = nullptr;
}

// The environment ends (a worker, process.exit) with the watch still on: no handle is left open.
void StopAtCleanup(void* data) {
  Stop(static_cast<ExitWatch*>(data));
}

void Readable(uv_poll_t* handle, int status, int events) {
  ExitWatch* watch = static_cast<ExitWatch*>(handle->data);
  if (watch->stopped) return;
  Napi::Env env(watch->env);
  Napi::HandleScope scope(env);
  napi_value callback = nullptr;
  if (watch->callback != nullptr) napi_get_reference_value(env, watch->callback, &callback);
  // An error on the pidfd says no more than "look now": the caller's look decides.
  Stop(watch);
  if (callback != nullptr) Napi::Function(env, callback).MakeCallback(env.Global(), {});
}

Napi::Value StopWatch(const Napi::CallbackInfo& info) {
  Stop(static_cast<ExitWatch*>(info.Data()));
  return info.Env().Undefined();
}

void Collected(napi_env env, void* data, void* hint) {
  Release(static_cast<ExitWatch*>(data));
}

}  // namespace

Napi::Value WatchExit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsFunction()) {
    return ThrowType(env, "watchExit(pid: number, callback: () => void)");
  }
#ifdef SYS_pidfd_open
  int fd = static_cast<int>(syscall(SYS_pidfd_open, info[0].As<Napi::Number>().Int32Value(), 0));
#else
  int fd = -1;
#endif
  if (fd < 0) return env.Null();
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) {
    close(fd);
    return env.Null();
  }
  ExitWatch* watch = new ExitWatch();
  watch->fd = fd;
  watch->env = env;
  watch->handle.data = watch;
  if (uv_poll_init(loop, &watch->handle, fd) != 0) {
    close(fd);
    delete watch;
    return env.Null();
  }
  int started = uv_poll_start(&watch->handle, UV_READABLE, Readable);
  napi_create_reference(env, info[1], 1, &watch->callback);
  napi_add_env_cleanup_hook(env, StopAtCleanup, watch);
  Napi::Function stop = Napi::Function::New(env, StopWatch, "stop", watch);
  napi_add_finalizer(env, stop, watch, Collected, nullptr, nullptr);
  if (started != 0) {
    Stop(watch);
    return env.Null();
  }
  return stop;
}

}  // namespace daemonize
