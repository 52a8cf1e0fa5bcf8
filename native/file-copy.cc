// The CLI's own code, read without JavaScript (bin/daemonize.cjs). A verb's start-up reads the bundle
// (190 KB) and its V8 code cache (180 KB). readFileSync costs about a millisecond for each here: its
// JavaScript, a Buffer or a string made from it, and a fault for every new page it copies into, which costs
// several microseconds on these VMs. One read(2) into a new mapping whose pages the kernel puts in place
// in the same call (MAP_POPULATE) costs a tenth of that.
//
// A copy, not a mapping of the file: V8 compiles the bundle's functions from its source lazily, for as long
// as the process lives, and a mapped file that is rewritten in place (esbuild, cp) or cut short (SIGBUS)
// would change or break code under a running supervisor or a waiting --stop.
#include <errno.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "bindings.h"
#include "errors.h"

namespace daemonize {
namespace {

struct Copy {
  char* base;
  size_t size;
};

// The whole file in new private memory, or false (missing, empty, not a regular file, changed in size
// while it was read, or any other error: the caller then reads it the ordinary way, which reports).
bool ReadWhole(const std::string& path, Copy* out) {
  // O_NONBLOCK: a FIFO put in the file's place must not hang every command in its open.
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) return false;
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0) {
    close(fd);
    return false;
  }
  size_t size = static_cast<size_t>(st.st_size);
  void* base = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (base == MAP_FAILED) {
    close(fd);
    return false;
  }
  size_t done = 0;
  while (done < size) {
    ssize_t n = read(fd, static_cast<char*>(base) + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  // One byte more would mean it grew: a file being written is read again the ordinary way.
  char extra;
  bool whole = done == size && read(fd, &extra, 1) == 0;
  close(fd);
  if (!whole || mprotect(base, size, PROT_READ) != 0) {
    munmap(base, size);
    return false;
  }
  *out = {static_cast<char*>(base), size};
  return true;
}

void Release(napi_env /*env*/, void* /*data*/, void* hint) {
  Copy* copy = static_cast<Copy*>(hint);
  munmap(copy->base, copy->size);
  delete copy;
}

// Eight bytes at a time (the high bit of each): a byte-by-byte loop over 190 KB took a quarter millisecond.
bool IsAscii(const Copy& copy) {
  const uint64_t high = 0x8080808080808080ULL;
  size_t i = 0;
  uint64_t seen = 0;
  for (; i + sizeof(uint64_t) <= copy.size; i += sizeof(uint64_t)) {
    uint64_t word;
    memcpy(&word, copy.base + i, sizeof word);
    seen |= word;
  }
  for (; i < copy.size; i++) seen |= static_cast<unsigned char>(copy.base[i]);
  return (seen & high) == 0;
}

// Node-API's external Latin-1 string: in Node since 20.4 and 18.18, still marked experimental, so it is
// looked up at run time. A Node without it reads the file instead.
using CreateExternalLatin1 = napi_status (*)(napi_env, char*, size_t, napi_finalize, void*, napi_value*, bool*);

}  // namespace

// readFileAfter(path, prefix): a Buffer of the file's bytes after `prefix` (a Buffer), in memory of its
// own that is unmapped when the Buffer is collected; undefined when the file cannot be read so or does not
// start with `prefix`. The bytes start at the page's offset prefix.length: aligned when that is.
Napi::Value ReadFileAfter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsBuffer()) return ThrowType(env, "readFileAfter(path: string, prefix: Buffer)");
  Napi::Buffer<char> prefix = info[1].As<Napi::Buffer<char>>();
  Copy copy;
  if (!ReadWhole(info[0].As<Napi::String>().Utf8Value(), &copy)) return env.Undefined();
  Copy* owned = new Copy(copy);
  if (copy.size < prefix.Length() || memcmp(copy.base, prefix.Data(), prefix.Length()) != 0) {
    Release(env, nullptr, owned);
    return env.Undefined();
  }
  napi_value result;
  if (napi_create_external_buffer(env, copy.size - prefix.Length(), copy.base + prefix.Length(), Release, owned, &result) != napi_ok) {
    Release(env, nullptr, owned);
    return env.Undefined();
  }
  return Napi::Value(env, result);
}

// readLatin1(path): an ASCII file as a string over a copy of it, released when the string is collected;
// undefined when it cannot be (no such file, a byte that is not ASCII, this Node has no external strings).
Napi::Value ReadLatin1(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) return ThrowType(env, "readLatin1(path: string)");
  static const CreateExternalLatin1 create =
      reinterpret_cast<CreateExternalLatin1>(dlsym(RTLD_DEFAULT, "node_api_create_external_string_latin1"));
  if (create == nullptr) return env.Undefined();
  Copy copy;
  if (!ReadWhole(info[0].As<Napi::String>().Utf8Value(), &copy)) return env.Undefined();
  Copy* owned = new Copy(copy);
  napi_value result;
  bool copied = false;  // see below
  // UTF-8 read as Latin-1 would change every character past ASCII: such a file is read the ordinary way.
  if (!IsAscii(copy) || create(env, copy.base, copy.size, Release, owned, &result, &copied) != napi_ok) {
    Release(env, nullptr, owned);
    return env.Undefined();
  }
  // `copied` (a V8 with a sandbox): Node has already called Release, as its documentation says.
  return Napi::Value(env, result);
}

}  // namespace daemonize
