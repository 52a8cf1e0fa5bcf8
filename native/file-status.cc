// stat(2) and lstat(2) of a path, as the numbers src/file-status.ts reads. Every command asks a few such
// questions before it does anything (is the pidfile's directory root's? is there a profile?). The first
// call of each of Node's fs functions in a process runs a few tenths of a millisecond of JavaScript that
// it compiles then; this is one system call, and the first call costs what every other does.
#include <errno.h>
#include <sys/stat.h>

#include <string>

#include "bindings.h"
#include "bytes.h"
#include "errors.h"

namespace daemonize {

namespace {

// stat(2)'s numbers as src/file-status.ts reads them.
Napi::Object StatusObject(Napi::Env env, const struct stat& st) {
  Napi::Object result = Napi::Object::New(env);
  result.Set("dev", Napi::Number::New(env, static_cast<double>(st.st_dev)));
  result.Set("ino", Napi::Number::New(env, static_cast<double>(st.st_ino)));
  result.Set("mode", Napi::Number::New(env, static_cast<double>(st.st_mode)));
  result.Set("nlink", Napi::Number::New(env, static_cast<double>(st.st_nlink)));
  result.Set("uid", Napi::Number::New(env, static_cast<double>(st.st_uid)));
  result.Set("gid", Napi::Number::New(env, static_cast<double>(st.st_gid)));
  result.Set("size", Napi::Number::New(env, static_cast<double>(st.st_size)));
  result.Set("mtimeMs", Napi::Number::New(env, static_cast<double>(st.st_mtim.tv_sec) * 1e3 +
                                                   static_cast<double>(st.st_mtim.tv_nsec) / 1e6));
  return result;
}

}  // namespace

// fileStatus(path: string | Buffer, follow: boolean, nullIfMissing: boolean): { dev, ino, mode, nlink, uid,
// gid, size, mtimeMs }; null when nothing is at the path (ENOENT) and nullIfMissing (as statSync's
// throwIfNoEntry: false). Any other failure throws, as Node's statSync does.
// The numbers are doubles, as in Node's own (non-bigint) Stats. The path is read as Node's fs reads one
// (ReadNodePath): the file this stats must be the one Node's open of the same string opens next.
Napi::Value FileStatus(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  struct stat st;
  static const char kUsage[] = "fileStatus(path: string | Buffer, follow: boolean, nullIfMissing: boolean)";
  std::string path;
  Napi::Value refused = PathArgument(info, &path, kUsage, "stat");
  if (!refused.IsEmpty()) return refused;
  if (info.Length() < 3 || !info[1].IsBoolean() || !info[2].IsBoolean()) return ThrowType(env, kUsage);
  bool follow = info[1].As<Napi::Boolean>().Value();
  if ((follow ? stat(path.c_str(), &st) : lstat(path.c_str(), &st)) != 0) {
    if (errno == ENOENT && info[2].As<Napi::Boolean>().Value()) return env.Null();
    return ThrowErrno(env, errno, follow ? "stat" : "lstat");
  }
  return StatusObject(env, st);
}

// fdStatus(fd): fstat(2) of a descriptor, in fileStatus's shape. (An export of its own: src/file-status.ts
// falls back to fstatSync where an addon built before it has fileStatus but not this.)
Napi::Value FdStatus(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) return ThrowType(env, "fdStatus(fd: number)");
  double fd = info[0].As<Napi::Number>().DoubleValue();
  if (!(fd >= 0 && fd <= 0x7fffffff) || fd != static_cast<double>(static_cast<int>(fd))) return ThrowType(env, "fdStatus(fd: number)");
  struct stat st;
  if (fstat(static_cast<int>(fd), &st) != 0) return ThrowErrno(env, errno, "fstat");
  return StatusObject(env, st);
}

}  // namespace daemonize
