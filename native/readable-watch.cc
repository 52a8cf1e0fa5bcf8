// watchReadable(fd, callback) and unwatch(id): callback runs on Node's event loop each time `fd` has
// something to read (a uv_poll handle, level-triggered), so the supervisor waits for sd_notify messages
// instead of waking every 100 ms to look. Node core has no way to watch a descriptor it cannot read
// itself (a Unix datagram socket whose credentials only recvmsg gives). The handle is unreferenced: a
// watch alone does not keep the process alive, as the timer it replaces did not. The main thread only:
// a worker's loop must be empty when the worker ends, and nothing here would close a watch then.
#include <uv.h>

#include <map>

#include "bindings.h"
#include "errors.h"

namespace daemonize {

namespace {

struct Watch {
  uv_poll_t handle;
  napi_env env;
  Napi::FunctionReference callback;
};

// Every live watch by its id. Touched on the main thread only (both functions refuse any other).
std::map<int32_t, Watch*> watches;
int32_t last_id = 0;

void OnReadable(uv_poll_t* handle, int status, int events) {
  Watch* watch = static_cast<Watch*>(handle->data);
  Napi::Env env(watch->env);
  Napi::HandleScope scope(env);
  // On an error (status < 0) libuv has stopped the handle; the callback's read reports the socket's pending
  // error, if it has one. An AF_UNIX datagram socket that only receives is not known to raise one.
  watch->callback.MakeCallback(env.Global(), {});
  if (env.IsExceptionPending()) {
    Napi::Error error = env.GetAndClearPendingException();
    napi_fatal_exception(env, error.Value());
  }
}

void Free(uv_handle_t* handle) {
  delete static_cast<Watch*>(handle->data);
}

}  // namespace

Napi::Value WatchReadable(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsFunction()) {
    return ThrowType(env, "watchReadable(fd: number, callback: function)");
  }
  if (!OnMainThread()) return ThrowType(env, "watchReadable: only on the main thread");
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) return ThrowErrno(env, EINVAL, "uv_poll_init");
  Watch* watch = new Watch();
  watch->env = env;
  watch->handle.data = watch;
  int err = uv_poll_init(loop, &watch->handle, info[0].As<Napi::Number>().Int32Value());
  if (err != 0) {
    delete watch;  // not in the loop: nothing to close
    return ThrowErrno(env, -err, "uv_poll_init");
  }
  err = uv_poll_start(&watch->handle, UV_READABLE, OnReadable);
  if (err != 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(&watch->handle), Free);
    return ThrowErrno(env, -err, "uv_poll_start");
  }
  uv_unref(reinterpret_cast<uv_handle_t*>(&watch->handle));
  watch->callback = Napi::Persistent(info[1].As<Napi::Function>());
  watches[++last_id] = watch;
  return Napi::Number::New(env, last_id);
}

Napi::Value Unwatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) return ThrowType(env, "unwatch(id: number)");
  if (!OnMainThread()) return ThrowType(env, "unwatch: only on the main thread");
  auto found = watches.find(info[0].As<Napi::Number>().Int32Value());
  if (found == watches.end()) return env.Undefined();
  Watch* watch = found->second;
  watches.erase(found);
  // Stopped now, before the caller closes the descriptor; freed once libuv has let go of the handle.
  uv_poll_stop(&watch->handle);
  watch->callback.Reset();
  uv_close(reinterpret_cast<uv_handle_t*>(&watch->handle), Free);
  return env.Undefined();
}

}  // namespace daemonize
