#include "base/base64.h"

#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace base {
namespace {

TEST(Base64, RoundTripsAndRejectsGarbage) {
  for (const std::string& s : std::vector<std::string>{"", "a", "ab", "abc", "abcd", "hello", std::string("\x00\xff\x10", 3)})
    EXPECT_EQ(base64_decode(base64_encode(s)), std::optional<std::string>(s)) << s;
  EXPECT_EQ(base64_encode("hello"), "aGVsbG8=");
  EXPECT_EQ(base64_decode("aGVsbG8="), std::optional<std::string>("hello"));
  EXPECT_FALSE(base64_decode("aGVsbG8").has_value());
  EXPECT_FALSE(base64_decode("aGV=bG8=").has_value());
  EXPECT_FALSE(base64_decode("aGVs!G8=").has_value());
  EXPECT_FALSE(base64_decode("a===").has_value());
}

TEST(Base64, NoWhitespaceInStrictMode) {
  EXPECT_FALSE(base64_decode("aGVs bG8=").has_value());
  EXPECT_FALSE(base64_decode("aGVsbG8=\n").has_value());
}

}  // namespace
}  // namespace base
