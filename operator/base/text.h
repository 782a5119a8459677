// Text helpers every layer needs.
#pragma once

#include <string>

namespace base {

// `text` cut to at most `max_bytes`, on a UTF-8 character boundary: JSON
// (status, Events) must stay valid UTF-8.
std::string truncate_utf8(const std::string& text, size_t max_bytes);

}  // namespace base
