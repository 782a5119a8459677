#include "kube/pem.h"

#include <gtest/gtest.h>

namespace {

TEST(KubeconfigBase64, ToleratesLineBreaksAndMissingPadding) {
  auto wrapped = kube::base64_decode("aGVs\nbG8=\n", "certificate-authority-data");
  ASSERT_TRUE(wrapped.ok());
  EXPECT_EQ(wrapped.value(), "hello");
  auto unpadded = kube::base64_decode("aGVsbG8", "certificate-authority-data");
  ASSERT_TRUE(unpadded.ok());
  EXPECT_EQ(unpadded.value(), "hello");
}

TEST(KubeconfigBase64, NamesTheFieldItCannotDecode) {
  auto bad = kube::base64_decode("aGVs!G8=", "users[0].client-key-data");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("users[0].client-key-data is not valid base64"), std::string::npos)
      << bad.error().message;
}

}  // namespace
