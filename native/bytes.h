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

}  // namespace daemonize
