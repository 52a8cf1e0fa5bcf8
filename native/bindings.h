// Every function the addon exports; native/addon.cc registers them under these names.
#pragma once
#include <napi.h>

namespace daemonize {

Napi::Value Spawn(const Napi::CallbackInfo& info);      // spawn.cc
Napi::Value TryLock(const Napi::CallbackInfo& info);    // flock.cc
Napi::Value GetUser(const Napi::CallbackInfo& info);    // users.cc
Napi::Value GetGroup(const Napi::CallbackInfo& info);   // users.cc
Napi::Value GroupList(const Napi::CallbackInfo& info);  // users.cc
Napi::Value Strerror(const Napi::CallbackInfo& info);   // errors.cc
Napi::Value WaitPid(const Napi::CallbackInfo& info);    // process.cc
Napi::Value OpenPipe(const Napi::CallbackInfo& info);   // process.cc
Napi::Value Dup2(const Napi::CallbackInfo& info);       // process.cc
Napi::Value SetSubreaper(const Napi::CallbackInfo& info);  // process.cc
Napi::Value HasChildren(const Napi::CallbackInfo& info);   // process.cc
Napi::Value PidfdOpen(const Napi::CallbackInfo& info);     // process.cc
Napi::Value ExitNow(const Napi::CallbackInfo& info);       // process.cc
Napi::Value DieOfBrokenPipe(const Napi::CallbackInfo& info);  // process.cc
Napi::Value IsMainThread(const Napi::CallbackInfo& info);  // process.cc
bool OnMainThread();                                       // process.cc: the same, for the addon's own checks
Napi::Value SeekEnd(const Napi::CallbackInfo& info);       // process.cc
Napi::Value Poll(const Napi::CallbackInfo& info);            // library.cc
Napi::Value SetCloseOnExec(const Napi::CallbackInfo& info);  // library.cc
Napi::Value Notify(const Napi::CallbackInfo& info);          // library.cc
Napi::Value NotifySocket(const Napi::CallbackInfo& info);    // notify.cc
Napi::Value ReceiveNotify(const Napi::CallbackInfo& info);   // notify.cc
Napi::Value WatchReadable(const Napi::CallbackInfo& info);   // readable-watch.cc
Napi::Value Unwatch(const Napi::CallbackInfo& info);         // readable-watch.cc
Napi::Value ListenSocket(const Napi::CallbackInfo& info);    // sockets.cc
Napi::Value ConnectUnix(const Napi::CallbackInfo& info);     // sockets.cc
Napi::Value OpenPty(const Napi::CallbackInfo& info);         // pty.cc
Napi::Value ProcStats(const Napi::CallbackInfo& info);       // proc-table.cc
Napi::Value ProcStat(const Napi::CallbackInfo& info);        // proc-table.cc
Napi::Value ReadPidfile(const Napi::CallbackInfo& info);     // lock-holder.cc
Napi::Value HoldsLock(const Napi::CallbackInfo& info);       // lock-holder.cc
Napi::Value ReadFileAfter(const Napi::CallbackInfo& info);   // file-copy.cc
Napi::Value ReadLatin1(const Napi::CallbackInfo& info);      // file-copy.cc
Napi::Value FileStatus(const Napi::CallbackInfo& info);      // file-status.cc
Napi::Value FdStatus(const Napi::CallbackInfo& info);        // file-status.cc
Napi::Value OpenFile(const Napi::CallbackInfo& info);        // file-calls.cc
Napi::Value CloseFile(const Napi::CallbackInfo& info);       // file-calls.cc
Napi::Value WriteAt(const Napi::CallbackInfo& info);         // file-calls.cc
Napi::Value CanAccess(const Napi::CallbackInfo& info);       // file-calls.cc
Napi::Value ReadText(const Napi::CallbackInfo& info);        // file-calls.cc
Napi::Value WriteOut(const Napi::CallbackInfo& info);        // file-calls.cc

}  // namespace daemonize
