// Byte encodings and hashes the domain needs (OpenSSL underneath).
//
//   electric::sha256_hex("abc") == "ba7816bf8f01cfea..."
//   electric::base64_encode("hello") == "aGVsbG8="
//   electric::base64_decode("aGVsbG8=") == "hello"
#pragma once

#include <string>
#include <string_view>

#include "base/base64.h"

namespace electric {

// Lowercase hex of the SHA-256 of `bytes` (64 characters).
std::string sha256_hex(std::string_view bytes);

// Secret `data` values are standard base64 (see base/base64.h).
using base::base64_decode;
using base::base64_encode;

// Lowercase hex of each byte (e.g. for S-api-secret from 32 random bytes).
std::string hex_encode(std::string_view bytes);

}  // namespace electric
