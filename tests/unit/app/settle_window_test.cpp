#include "app/settle_window.h"

#include <gtest/gtest.h>

#include "../runtime/fake_clock.h"

namespace app {
namespace {

using namespace std::chrono_literals;

TEST(SettleWindow, TheFirstWriteGoesAtOnceAndLaterOnesWaitForTheWindowsEnd) {
  runtime::FakeClock clock;
  SettleWindow settle(clock, 2s);
  EXPECT_EQ(settle.admit("prod/a"), runtime::Duration::zero());
  clock.advance(500ms);
  EXPECT_EQ(settle.admit("prod/a"), 1500ms);
  clock.advance(1s);
  EXPECT_EQ(settle.admit("prod/a"), 500ms);  // still the same window: nothing recorded by waiting
  clock.advance(500ms);
  EXPECT_EQ(settle.admit("prod/a"), runtime::Duration::zero());
  EXPECT_EQ(settle.admit("prod/a"), 2s);
}

TEST(SettleWindow, SetsHaveTheirOwnWindows) {
  runtime::FakeClock clock;
  SettleWindow settle(clock, 2s);
  EXPECT_EQ(settle.admit("prod/a"), runtime::Duration::zero());
  EXPECT_EQ(settle.admit("prod/b"), runtime::Duration::zero());
  EXPECT_EQ(settle.admit("prod/a"), 2s);
}

TEST(SettleWindow, AForgottenSetStartsAfresh) {
  runtime::FakeClock clock;
  SettleWindow settle(clock, 2s);
  EXPECT_EQ(settle.admit("prod/a"), runtime::Duration::zero());
  settle.forget("prod/a");
  EXPECT_EQ(settle.admit("prod/a"), runtime::Duration::zero());
}

}  // namespace
}  // namespace app
