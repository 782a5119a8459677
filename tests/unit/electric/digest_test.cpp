#include "electric/digest.h"

#include <gtest/gtest.h>

namespace electric {
namespace {

TEST(Digest, PartsAreTakenWithTheirLengths) {
  EXPECT_NE(sha256_hex_of_parts({"a", "bc"}), sha256_hex_of_parts({"ab", "c"}));
  EXPECT_NE(sha256_hex_of_parts({"1:a"}), sha256_hex_of_parts({"a"}));
  EXPECT_EQ(sha256_hex_of_parts({"a", "bc"}), sha256_hex("1:a2:bc"));
  EXPECT_EQ(sha256_hex_of_parts({}), sha256_hex(""));
}

}  // namespace
}  // namespace electric
