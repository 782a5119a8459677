// Byte encodings and hashes the domain needs (OpenSSL underneath).
//
//   electric::sha256_hex("abc") == "ba7816bf8f01cfea..."
//   electric::base64_encode("hello") == "aGVsbG8="
//   electric::base64_decode("aGVsbG8=") == "hello"
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace electric {

// Lowercase hex of the SHA-256 of `bytes` (64 characters).
std::string sha256_hex(std::string_view bytes);

// Standard base64 with padding, as Secret `data` values are written.
std::string base64_encode(std::string_view bytes);

// Decodes standard base64 (Secret `data` values as the API server returns
// them); nullopt when `text` is not valid base64.
std::optional<std::string> base64_decode(std::string_view text);

// Lowercase hex of each byte (e.g. for S-api-secret from 32 random bytes).
std::string hex_encode(std::string_view bytes);

}  // namespace electric
