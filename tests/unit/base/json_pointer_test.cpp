#include "base/json_pointer.h"

#include <gtest/gtest.h>

namespace base {
namespace {

TEST(PointerToken, EscapesSlashAndTilde) {
  EXPECT_EQ(pointer_token("electric-operator.dev/shard"), "electric-operator.dev~1shard");
  EXPECT_EQ(pointer_token("a~b/c"), "a~0b~1c");
  EXPECT_EQ(pointer_token("plain"), "plain");
}

}  // namespace
}  // namespace base
