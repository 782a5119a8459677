// Standard base64 (RFC 4648, with padding), written once for every layer:
// kube/ decodes kubeconfig data with it, electric/ Secret data.
//
//   base::base64_encode("hello") == "aGVsbG8="
//   base::base64_decode("aGVsbG8=") == "hello"
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace base {

std::string base64_encode(std::string_view bytes);

// Strict: length a multiple of 4, padding only at the end, no whitespace (as
// the API server writes Secret data); nullopt otherwise.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace base
