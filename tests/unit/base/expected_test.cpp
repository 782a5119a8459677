#include "base/expected.h"

#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

#include <gtest/gtest.h>

namespace base {
namespace {

struct Point {
  int x = 0;
  int y = 0;
};

// Implicit from both sides when T and E differ.
static_assert(std::is_convertible_v<int, Expected<int, std::string>>);
static_assert(std::is_convertible_v<std::string, Expected<int, std::string>>);
// A result is never truthy by accident (if (r) is fine, bool b = r is not).
static_assert(!std::is_convertible_v<Expected<int, std::string>, bool>);

// When T == E the implicit-from-E constructor is gone (removed by SFINAE):
// the class instantiates (a plain Expected(E) beside Expected(T) would be a
// second constructor of one signature), a bare E is the value, and only
// failure() makes an error. Checked at compile time on a literal type:
static_assert(std::is_convertible_v<std::string, Expected<std::string, std::string>>);
static_assert(std::is_convertible_v<int, Expected<int, int>>);
static_assert(Expected<int, int>(7).ok());
static_assert(Expected<int, int>(7).value() == 7);
static_assert(!Expected<int, int>::failure(7).ok());
static_assert(Expected<int, int>::failure(7).error() == 7);
// ... and where T and E differ a bare E is the error.
static_assert(!Expected<int, long>(7L).ok());
static_assert(Expected<int, long>(7).ok());

TEST(Expected, HoldsAValue) {
  Expected<Point, std::string> got = Point{1, 2};
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(static_cast<bool>(got));
  EXPECT_EQ(got.value().x, 1);
  EXPECT_EQ(got->y, 2);
  EXPECT_EQ((*got).x, 1);
  got.value().x = 5;
  EXPECT_EQ(got->x, 5);
  const auto& view = got;
  EXPECT_EQ(view.value().x, 5);
}

TEST(Expected, HoldsAnError) {
  Expected<Point, std::string> implicit = std::string("no point");
  ASSERT_FALSE(implicit.ok());
  EXPECT_FALSE(static_cast<bool>(implicit));
  EXPECT_EQ(implicit.error(), "no point");

  auto named = Expected<Point, std::string>::failure("still no point");
  ASSERT_FALSE(named.ok());
  EXPECT_EQ(named.error(), "still no point");
}

TEST(Expected, SameTypeForValueAndErrorNeedsFailure) {
  using Text = Expected<std::string, std::string>;
  Text value = std::string("secret");
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(*value, "secret");

  Text error = Text::failure("key missing");
  ASSERT_FALSE(error.ok());
  EXPECT_EQ(error.error(), "key missing");
}

TEST(Expected, ValueMovesOutOfAnRvalue) {
  Expected<std::unique_ptr<int>, std::string> got = std::make_unique<int>(42);
  ASSERT_TRUE(got.ok());
  std::unique_ptr<int> taken = std::move(got).value();
  ASSERT_NE(taken, nullptr);
  EXPECT_EQ(*taken, 42);
  EXPECT_EQ(got.value(), nullptr);  // moved-from, still the value alternative
}

TEST(Expected, WrongSideIsAProgrammerError) {
  Expected<int, std::string> value = 1;
  Expected<int, std::string> error = std::string("bad");
  EXPECT_THROW((void)value.error(), std::bad_variant_access);
  EXPECT_THROW((void)error.value(), std::bad_variant_access);
}

}  // namespace
}  // namespace base
