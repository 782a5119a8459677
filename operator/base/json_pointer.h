// A key as one token of a JSON pointer (RFC 6901): label and annotation keys
// hold '/', which must not split the path.
//
//   json::json_pointer("/metadata/labels/" + base::pointer_token("electric-operator.dev/shard"))
#pragma once

#include <string>
#include <string_view>

namespace base {

std::string pointer_token(std::string_view key);

}  // namespace base
