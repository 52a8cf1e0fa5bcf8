// Account look-ups. Node can describe only the current user, and getpwnam/initgroups are not
// async-signal-safe (they read /etc files and allocate), so the launcher resolves everything here,
// before fork, and the child only makes the setgroups/setgid/setuid system calls.
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <vector>

#include "bindings.h"
#include "errors.h"

namespace daemonize {

namespace {

// The _r functions need a caller buffer; grow it until the entry fits.
template <typename Entry, typename Lookup>
int LookUp(Lookup lookup, Entry* entry, std::vector<char>* buffer, Entry** found) {
  buffer->resize(1024);
  for (;;) {
    int rc = lookup(entry, buffer->data(), buffer->size(), found);
    if (rc != ERANGE) return rc;
    buffer->resize(buffer->size() * 2);
  }
}

// POSIX lets "no such entry" come back as 0, ENOENT, ESRCH, EBADF or EPERM depending on the libc.
bool IsNotFound(int rc) { return rc == 0 || rc == ENOENT || rc == ESRCH || rc == EBADF || rc == EPERM; }

}  // namespace

// getUser(nameOrUid): {name, uid, gid, home, shell}, or null when there is no such user.
Napi::Value GetUser(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !(info[0].IsString() || info[0].IsNumber())) {
    return ThrowType(env, "getUser(name: string | uid: number)");
  }
  struct passwd entry;
  struct passwd* found = nullptr;
  std::vector<char> buffer;
  int rc;
  if (info[0].IsString()) {
    std::string name = info[0].As<Napi::String>().Utf8Value();
    rc = LookUp(
        [&](passwd* e, char* b, size_t n, passwd** f) { return getpwnam_r(name.c_str(), e, b, n, f); },
        &entry, &buffer, &found);
  } else {
    uid_t uid = info[0].As<Napi::Number>().Uint32Value();
    rc = LookUp([&](passwd* e, char* b, size_t n, passwd** f) { return getpwuid_r(uid, e, b, n, f); },
                &entry, &buffer, &found);
  }
  if (found == nullptr && IsNotFound(rc)) return env.Null();
  if (found == nullptr) return ThrowErrno(env, rc, "getpwnam_r");
  Napi::Object user = Napi::Object::New(env);
  user.Set("name", found->pw_name);
  user.Set("uid", Napi::Number::New(env, found->pw_uid));
  user.Set("gid", Napi::Number::New(env, found->pw_gid));
  user.Set("home", found->pw_dir);
  user.Set("shell", found->pw_shell);
  return user;
}

// getGroup(nameOrGid): {name, gid}, or null when there is no such group.
Napi::Value GetGroup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !(info[0].IsString() || info[0].IsNumber())) {
    return ThrowType(env, "getGroup(name: string | gid: number)");
  }
  struct group entry;
  struct group* found = nullptr;
  std::vector<char> buffer;
  int rc;
  if (info[0].IsString()) {
    std::string name = info[0].As<Napi::String>().Utf8Value();
    rc = LookUp(
        [&](group* e, char* b, size_t n, group** f) { return getgrnam_r(name.c_str(), e, b, n, f); },
        &entry, &buffer, &found);
  } else {
    gid_t gid = info[0].As<Napi::Number>().Uint32Value();
    rc = LookUp([&](group* e, char* b, size_t n, group** f) { return getgrgid_r(gid, e, b, n, f); },
                &entry, &buffer, &found);
  }
  if (found == nullptr && IsNotFound(rc)) return env.Null();
  if (found == nullptr) return ThrowErrno(env, rc, "getgrnam_r");
  Napi::Object group = Napi::Object::New(env);
  group.Set("name", found->gr_name);
  group.Set("gid", Napi::Number::New(env, found->gr_gid));
  return group;
}

// groupList(name, gid): the supplementary groups initgroups(3) would set, computed before fork.
Napi::Value GroupList(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsNumber()) {
    return ThrowType(env, "groupList(name: string, gid: number)");
  }
  std::string name = info[0].As<Napi::String>().Utf8Value();
  gid_t base = info[1].As<Napi::Number>().Uint32Value();
  // glibc, musl and the BSDs take gid_t arrays; macOS's getgrouplist takes int ones.
#ifdef __APPLE__
  using Id = int;
#else
  using Id = gid_t;
#endif
  int count = 32;
  std::vector<Id> groups(count);
  while (getgrouplist(name.c_str(), static_cast<Id>(base), groups.data(), &count) < 0) {
    groups.resize(count > static_cast<int>(groups.size()) ? count : groups.size() * 2);
    count = static_cast<int>(groups.size());
  }
  Napi::Array list = Napi::Array::New(env, count);
  for (int i = 0; i < count; i++) list.Set(i, Napi::Number::New(env, static_cast<gid_t>(groups[i])));
  return list;
}

}  // namespace daemonize
