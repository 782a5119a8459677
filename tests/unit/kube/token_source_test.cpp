#include <gtest/gtest.h>

#include <chrono>

#include "kube/test_certs.h"
#include "kube/token_source.h"

namespace kube {
namespace {

using std::chrono::seconds;
using std::chrono::steady_clock;

TEST(BearerTokenSource, StaticTokenAlone) {
  BearerTokenSource tokens("static", "");
  EXPECT_EQ(tokens.token(), "static");
  BearerTokenSource none("", "");
  EXPECT_EQ(none.token(), "");
}

TEST(BearerTokenSource, RereadsTheFileAtMostOncePerInterval) {
  kube_test::TempDir dir;
  const std::string file = dir.write("token", "first\n");
  steady_clock::time_point now{};
  BearerTokenSource tokens("", file, [&] { return now; });
  EXPECT_EQ(tokens.token(), "first");  // trailing newline trimmed

  dir.write("token", "second");
  now += seconds(59);
  EXPECT_EQ(tokens.token(), "first");  // cached
  now += seconds(1);
  EXPECT_EQ(tokens.token(), "second");  // rotated token picked up
}

TEST(BearerTokenSource, KeepsTheLastGoodTokenWhenTheFileGoesAway) {
  kube_test::TempDir dir;
  const std::string file = dir.write("token", "good");
  steady_clock::time_point now{};
  BearerTokenSource tokens("fallback", file, [&] { return now; });
  EXPECT_EQ(tokens.token(), "good");
  std::remove(file.c_str());
  now += seconds(61);
  EXPECT_EQ(tokens.token(), "good");
  dir.write("token", "   \n");
  now += seconds(61);
  EXPECT_EQ(tokens.token(), "good");  // an empty file is not a token
}

TEST(BearerTokenSource, FileWinsOverTheStaticTokenWhenReadable) {
  kube_test::TempDir dir;
  BearerTokenSource unreadable("static", dir.path() + "/missing");
  EXPECT_EQ(unreadable.token(), "static");
  BearerTokenSource readable("static", dir.write("token", "from-file"));
  EXPECT_EQ(readable.token(), "from-file");
}

}  // namespace
}  // namespace kube
