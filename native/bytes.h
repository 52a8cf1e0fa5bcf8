// Strings from JavaScript as the exact bytes the system calls get (argv, environment, paths).
#pragma once
#include <napi.h>

#include <string>

namespace daemonize {

// A Buffer (or any Uint8Array) gives its bytes as they are. A string gives its UTF-8 encoding, except
// that a lone surrogate U+DC80..U+DCFF stands for the single byte 0x80..0xFF: the "surrogateescape"
// scheme of Python's PEP 383, which src/raw-bytes.ts uses to carry bytes that are not UTF-8 (read from
// /proc/self/cmdline and /proc/self/environ) through strings, JSON and all, unchanged. Valid UTF-8 can
// never decode to a lone surrogate, so the mapping is lossless both ways. Other lone surrogates become
// U+FFFD, as Node's own encoder makes them. False if the value is neither.
bool ReadBytes(Napi::Value value, std::string* out);

// A path as Node's fs takes one, for the calls that stand in for Node's (file-status.cc, file-calls.cc):
// a string as UTF-8 with each lone surrogate made U+FFFD, as Node encodes it, so that the file is the one
// Node's own calls on the same string name; a Buffer as its bytes (src/raw-bytes.ts fsPath makes one).
// False if the value is neither.
bool ReadNodePath(Napi::Value value, std::string* out);

// Argument 0 of a call as ReadNodePath reads it. Returns what the call must return at once when it is not
// a path (a TypeError naming `usage`, thrown) or has a NUL inside (EINVAL from `syscall`, thrown: the
// kernel would read a shorter name, another file); else an empty value, and `out` holds the path.
Napi::Value PathArgument(const Napi::CallbackInfo& info, std::string* out, const char* usage, const char* syscall);

}  // namespace daemonize
