// The CLI's own code, read without a copy (bin/daemonize). A verb's start-up reads the bundle (190 KB)
// and its V8 code cache (180 KB): on these VMs every page of new memory costs a fault of several
// microseconds, and readFileSync copies both files into new memory, about 2 ms of a 15 ms overhead. A
// private read-only mapping of the page cache, populated in one system call, costs a tenth of that.
//
// The cache is read once, while V8 compiles the bundle, and its mapping goes with its Buffer. The source
// stays: V8 compiles the bundle's functions from it lazily, for as long as the process lives. A private
// mapping still shows writes that others make to the file, and a file cut short makes the pages past its
// end raise SIGBUS. So a process that lives on (a foreground supervisor, --logs --follow, a long --stop)
// calls detachMappedSources(): the source then lives in the process's own memory, as if it had been read.
#include <dlfcn.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "bindings.h"
#include "errors.h"

namespace daemonize {
namespace {

struct Mapping {
  char* base;
  size_t size;
};

// The source mappings made into strings, kept for detachMappedSources(). Only the main thread's CLI loader
// makes them (MapLatin1 refuses other threads), and none is ever unmapped: V8 holds each string for good.
std::vector<Mapping> sources;

// The whole file, mapped private and read-only with its pages in place, or false (missing, empty, or any
// other error: the caller then reads the file the ordinary way, which reports what is wrong).
bool MapWhole(const std::string& path, Mapping* out) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return false;
  struct stat st;
  bool ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;
  void* base = ok ? mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0) : MAP_FAILED;
  close(fd);
  if (base == MAP_FAILED) return false;
  *out = {static_cast<char*>(base), static_cast<size_t>(st.st_size)};
  return true;
}

void Unmap(napi_env /*env*/, void* /*data*/, void* hint) {
  Mapping* mapping = static_cast<Mapping*>(hint);
  munmap(mapping->base, mapping->size);
  delete mapping;
}

// Eight bytes at a time (the high bit of each): a byte-by-byte loop over 190 KB took a quarter millisecond.
bool IsAscii(const Mapping& mapping) {
  const uint64_t high = 0x8080808080808080ULL;
  size_t i = 0;
  uint64_t seen = 0;
  for (; i + sizeof(uint64_t) <= mapping.size; i += sizeof(uint64_t)) {
    uint64_t word;
    memcpy(&word, mapping.base + i, sizeof word);
    seen |= word;
  }
  for (; i < mapping.size; i++) seen |= static_cast<unsigned char>(mapping.base[i]);
  return (seen & high) == 0;
}

// Node-API's external Latin-1 string: in Node since 20.4 and 18.18, still marked experimental, so it is
// looked up at run time. A Node without it reads the file instead.
using CreateExternalLatin1 = napi_status (*)(napi_env, char*, size_t, napi_finalize, void*, napi_value*, bool*);

}  // namespace

// mapFile(path, prefix): a Buffer over the file's bytes after `prefix` (a Buffer), backed by a private
// read-only mapping that is unmapped when the Buffer is collected; undefined when the file cannot be
// mapped or does not start with `prefix`.
Napi::Value MapFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsBuffer()) return ThrowType(env, "mapFile(path: string, prefix: Buffer)");
  Napi::Buffer<char> prefix = info[1].As<Napi::Buffer<char>>();
  Mapping mapping;
  if (!MapWhole(info[0].As<Napi::String>().Utf8Value(), &mapping)) return env.Undefined();
  if (mapping.size < prefix.Length() || memcmp(mapping.base, prefix.Data(), prefix.Length()) != 0) {
    munmap(mapping.base, mapping.size);
    return env.Undefined();
  }
  Mapping* owned = new Mapping(mapping);
  napi_value result;
  if (napi_create_external_buffer(env, mapping.size - prefix.Length(), mapping.base + prefix.Length(), Unmap, owned, &result) != napi_ok) {
    Unmap(env, nullptr, owned);
    return env.Undefined();
  }
  return Napi::Value(env, result);
}

// mapLatin1(path): the file as a string over a private read-only mapping of it, or undefined (no such
// file, a byte that is not ASCII, this Node has no external strings, not the main thread). Never unmapped.
Napi::Value MapLatin1(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) return ThrowType(env, "mapLatin1(path: string)");
  static const CreateExternalLatin1 create =
      reinterpret_cast<CreateExternalLatin1>(dlsym(RTLD_DEFAULT, "node_api_create_external_string_latin1"));
  if (create == nullptr || !OnMainThread()) return env.Undefined();
  Mapping mapping;
  if (!MapWhole(info[0].As<Napi::String>().Utf8Value(), &mapping)) return env.Undefined();
  napi_value result;
  bool copied = false;
  // UTF-8 read as Latin-1 would change every character past ASCII: such a file is read the ordinary way.
  if (!IsAscii(mapping) || create(env, mapping.base, mapping.size, nullptr, nullptr, &result, &copied) != napi_ok) {
    munmap(mapping.base, mapping.size);
    return env.Undefined();
  }
  if (copied) {
    munmap(mapping.base, mapping.size);
  } else {
    sources.push_back(mapping);
  }
  return Napi::Value(env, result);
}

// detachMappedSources(): puts a copy of each mapped source, in memory of this process's own, at the
// address of its mapping (mremap moves the copy over it in one step, so no thread ever sees a hole). The
// pages a write copies out of a private mapping are not enough: cutting the file short discards those too.
// Returns false when a copy could not be made (that mapping stays as it was); never throws: it runs from a
// timer in a supervisor.
Napi::Value DetachMappedSources(const Napi::CallbackInfo& info) {
  std::vector<Mapping> left;
  for (const Mapping& mapping : sources) {
    void* copy = mmap(nullptr, mapping.size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (copy == MAP_FAILED) {
      left.push_back(mapping);
      continue;
    }
    memcpy(copy, mapping.base, mapping.size);
    if (mprotect(copy, mapping.size, PROT_READ) != 0 ||
        mremap(copy, mapping.size, mapping.size, MREMAP_MAYMOVE | MREMAP_FIXED, mapping.base) == MAP_FAILED) {
      munmap(copy, mapping.size);
      left.push_back(mapping);
    }
  }
  sources.swap(left);
  return Napi::Boolean::New(info.Env(), sources.empty());
}

}  // namespace daemonize
