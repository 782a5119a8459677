// Byte encodings and hashes the domain needs (OpenSSL underneath).
//
//   electric::sha256_hex("abc") == "ba7816bf8f01cfea..."
//   electric::sha256_hex_of_parts({"a", "bc"}) != electric::sha256_hex_of_parts({"ab", "c"})
//   electric::base64_encode("hello") == "aGVsbG8="
//   electric::base64_decode("aGVsbG8=") == "hello"
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/base64.h"

namespace electric {

// Lowercase hex of the SHA-256 of `bytes` (64 characters).
std::string sha256_hex(std::string_view bytes);

// sha256_hex of `parts` each with its length first, so parts that may hold
// any byte (Secret values) can never make two different lists one text.
std::string sha256_hex_of_parts(const std::vector<std::string_view>& parts);

// Secret `data` values are standard base64 (see base/base64.h).
using base::base64_decode;
using base::base64_encode;

// Lowercase hex of each byte (e.g. for S-api-secret from 32 random bytes).
std::string hex_encode(std::string_view bytes);

}  // namespace electric
