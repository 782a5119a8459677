#include "electric/digest.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <stdexcept>

namespace electric {

std::string hex_encode(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0x0f]);
  }
  return out;
}

std::string sha256_hex(std::string_view bytes) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  unsigned int length = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("EVP_Digest(sha256) failed");  // only on a broken OpenSSL
  return hex_encode(std::string_view(reinterpret_cast<const char*>(digest), length));
}

std::string sha256_hex_of_parts(const std::vector<std::string_view>& parts) {
  std::string text;
  for (std::string_view part : parts) text.append(std::to_string(part.size())).append(":").append(part);
  return sha256_hex(text);
}

}  // namespace electric
