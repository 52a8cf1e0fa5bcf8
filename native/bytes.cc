#include "bytes.h"

#include <errno.h>

#include "errors.h"

namespace daemonize {

namespace {

void PutUtf8(uint32_t code, std::string* out) {
  if (code < 0x80) {
    out->push_back(static_cast<char>(code));
  } else if (code < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (code >> 6)));
    out->push_back(static_cast<char>(0x80 | (code & 0x3F)));
  } else if (code < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (code >> 12)));
    out->push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (code & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (code >> 18)));
    out->push_back(static_cast<char>(0x80 | ((code >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (code & 0x3F)));
  }
}

}  // namespace

bool ReadBytes(Napi::Value value, std::string* out) {
  out->clear();
  if (value.IsTypedArray() && value.As<Napi::TypedArray>().TypedArrayType() == napi_uint8_array) {
    Napi::Uint8Array bytes = value.As<Napi::Uint8Array>();
    out->assign(reinterpret_cast<const char*>(bytes.Data()), bytes.ByteLength());
    return true;
  }
  if (!value.IsString()) return false;
  std::u16string units = value.As<Napi::String>().Utf16Value();
  for (size_t i = 0; i < units.size(); i++) {
    uint32_t unit = units[i];
    if (unit >= 0xD800 && unit <= 0xDBFF && i + 1 < units.size() && units[i + 1] >= 0xDC00 && units[i + 1] <= 0xDFFF) {
      PutUtf8(0x10000 + ((unit - 0xD800) << 10) + (units[i + 1] - 0xDC00), out);
      i++;
    } else if (unit >= 0xDC80 && unit <= 0xDCFF) {
      out->push_back(static_cast<char>(unit - 0xDC00));  // an escaped byte
    } else if (unit >= 0xD800 && unit <= 0xDFFF) {
      PutUtf8(0xFFFD, out);
    } else {
      PutUtf8(unit, out);
    }
  }
  return true;
}

bool ReadNodePath(Napi::Value value, std::string* out) {
  if (value.IsString()) {
    *out = value.As<Napi::String>().Utf8Value();
    return true;
  }
  return value.IsTypedArray() && ReadBytes(value, out);
}

Napi::Value PathArgument(const Napi::CallbackInfo& info, std::string* out, const char* usage, const char* syscall) {
  if (info.Length() < 1 || !ReadNodePath(info[0], out)) return ThrowType(info.Env(), usage);
  if (out->find('\0') != std::string::npos) return ThrowErrno(info.Env(), EINVAL, syscall);
  return Napi::Value();
}

}  // namespace daemonize
