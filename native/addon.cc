// Module entry point. The addon does system calls and the fork-to-exec path only; every default,
// check and policy lives in the TypeScript that calls it (src/native.ts is its only loader).
#include <napi.h>

#include "bindings.h"

namespace daemonize {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("spawn", Napi::Function::New(env, Spawn, "spawn"));
  exports.Set("tryLock", Napi::Function::New(env, TryLock, "tryLock"));
  exports.Set("getUser", Napi::Function::New(env, GetUser, "getUser"));
  exports.Set("getGroup", Napi::Function::New(env, GetGroup, "getGroup"));
  exports.Set("groupList", Napi::Function::New(env, GroupList, "groupList"));
  exports.Set("strerror", Napi::Function::New(env, Strerror, "strerror"));
  exports.Set("waitpid", Napi::Function::New(env, WaitPid, "waitpid"));
  exports.Set("openPipe", Napi::Function::New(env, OpenPipe, "openPipe"));
  exports.Set("dup2", Napi::Function::New(env, Dup2, "dup2"));
  exports.Set("setSubreaper", Napi::Function::New(env, SetSubreaper, "setSubreaper"));
  exports.Set("hasChildren", Napi::Function::New(env, HasChildren, "hasChildren"));
  exports.Set("exitNow", Napi::Function::New(env, ExitNow, "exitNow"));
  exports.Set("dieOfBrokenPipe", Napi::Function::New(env, DieOfBrokenPipe, "dieOfBrokenPipe"));
  exports.Set("isMainThread", Napi::Function::New(env, IsMainThread, "isMainThread"));
  exports.Set("seekEnd", Napi::Function::New(env, SeekEnd, "seekEnd"));
  exports.Set("poll", Napi::Function::New(env, Poll, "poll"));
  exports.Set("setCloseOnExec", Napi::Function::New(env, SetCloseOnExec, "setCloseOnExec"));
  exports.Set("notify", Napi::Function::New(env, Notify, "notify"));
  exports.Set("notifySocket", Napi::Function::New(env, NotifySocket, "notifySocket"));
  exports.Set("receiveNotify", Napi::Function::New(env, ReceiveNotify, "receiveNotify"));
  exports.Set("watchReadable", Napi::Function::New(env, WatchReadable, "watchReadable"));
  exports.Set("unwatch", Napi::Function::New(env, Unwatch, "unwatch"));
  exports.Set("listenSocket", Napi::Function::New(env, ListenSocket, "listenSocket"));
  exports.Set("connectUnix", Napi::Function::New(env, ConnectUnix, "connectUnix"));
  exports.Set("openPty", Napi::Function::New(env, OpenPty, "openPty"));
  exports.Set("procStats", Napi::Function::New(env, ProcStats, "procStats"));
  exports.Set("procStat", Napi::Function::New(env, ProcStat, "procStat"));
  exports.Set("pidfdOpen", Napi::Function::New(env, PidfdOpen, "pidfdOpen"));
  exports.Set("readPidfile", Napi::Function::New(env, ReadPidfile, "readPidfile"));
  exports.Set("holdsLock", Napi::Function::New(env, HoldsLock, "holdsLock"));
  exports.Set("readFileAfter", Napi::Function::New(env, ReadFileAfter, "readFileAfter"));
  exports.Set("readLatin1", Napi::Function::New(env, ReadLatin1, "readLatin1"));
  exports.Set("fileStatus", Napi::Function::New(env, FileStatus, "fileStatus"));
  exports.Set("fdStatus", Napi::Function::New(env, FdStatus, "fdStatus"));
  exports.Set("openFile", Napi::Function::New(env, OpenFile, "openFile"));
  exports.Set("closeFile", Napi::Function::New(env, CloseFile, "closeFile"));
  exports.Set("writeAt", Napi::Function::New(env, WriteAt, "writeAt"));
  exports.Set("canAccess", Napi::Function::New(env, CanAccess, "canAccess"));
  exports.Set("readText", Napi::Function::New(env, ReadText, "readText"));
  exports.Set("writeOut", Napi::Function::New(env, WriteOut, "writeOut"));
  return exports;
}

NODE_API_MODULE(daemonize, Init)

}  // namespace daemonize
