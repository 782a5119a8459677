#include "base/text.h"

#include <gtest/gtest.h>

namespace base {
namespace {

TEST(TruncateUtf8, CutsOnACharacterBoundary) {
  EXPECT_EQ(truncate_utf8("short", 10), "short");
  EXPECT_EQ(truncate_utf8("abcdef", 3), "abc");
  // "é" is two bytes: a cut inside it drops it whole.
  EXPECT_EQ(truncate_utf8("ab\xc3\xa9", 3), "ab");
  EXPECT_EQ(truncate_utf8("\xe2\x82\xac\xe2\x82\xac", 4), "\xe2\x82\xac");
}

}  // namespace
}  // namespace base
