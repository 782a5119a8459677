// Watch retry backoff and work-queue rate limiters, computed exactly on a
// fake clock.
#include "runtime/backoff.h"
#include "runtime/rate_limiter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "runtime/fake_clock.h"

namespace runtime {
namespace {

using namespace std::chrono_literals;

TEST(Backoff, DoublesFrom800msToA30sCap) {
  FakeClock clock;
  FakeRandom random({0.0});
  Backoff backoff({}, clock, random);
  std::vector<Duration> delays;
  for (int i = 0; i < 8; ++i) delays.push_back(backoff.next());
  EXPECT_THAT(delays, ::testing::ElementsAre(Duration(800ms), Duration(1600ms), Duration(3200ms),
                                             Duration(6400ms), Duration(12800ms),
                                             Duration(25600ms), Duration(30s), Duration(30s)));
  EXPECT_EQ(backoff.failures(), 8);
}

TEST(Backoff, JitterOnlyLengthensByUpToHalf) {
  FakeClock clock;
  FakeRandom random({0.0, 0.5, 0.999999});
  Backoff backoff({}, clock, random);
  EXPECT_EQ(backoff.next(), Duration(800ms));
  EXPECT_EQ(backoff.next(), Duration(2000ms));  // 1600 * 1.25
  Duration third = backoff.next();              // 3200 * ~1.5
  EXPECT_GT(third, Duration(4799ms));
  EXPECT_LT(third, Duration(4800ms));
}

TEST(Backoff, StartsOverAfterTwoMinutesWithoutFailure) {
  FakeClock clock;
  FakeRandom random({0.0});
  Backoff backoff({}, clock, random);
  backoff.next();
  backoff.next();
  clock.advance(119s);
  EXPECT_EQ(backoff.next(), Duration(3200ms)) << "failures 119 s apart are one streak";
  clock.advance(120s);
  EXPECT_EQ(backoff.next(), Duration(800ms));
  backoff.reset();
  EXPECT_EQ(backoff.next(), Duration(800ms));
}

TEST(ItemExponentialRateLimiter, Doubles5msTo1000sPerKeyAndForgets) {
  ItemExponentialRateLimiter limiter(5ms, 1000s);
  EXPECT_EQ(limiter.when("a"), Duration(5ms));
  EXPECT_EQ(limiter.when("a"), Duration(10ms));
  EXPECT_EQ(limiter.when("a"), Duration(20ms));
  EXPECT_EQ(limiter.when("a"), Duration(40ms));
  EXPECT_EQ(limiter.when("b"), Duration(5ms)) << "keys back off independently";
  EXPECT_EQ(limiter.num_requeues("a"), 4);
  for (int i = 4; i < 17; ++i) limiter.when("a");
  EXPECT_EQ(limiter.when("a"), Duration(5ms * (1 << 17)));  // 655.36 s
  EXPECT_EQ(limiter.when("a"), Duration(1000s));
  for (int i = 0; i < 100; ++i) limiter.when("a");
  EXPECT_EQ(limiter.when("a"), Duration(1000s)) << "no overflow after many failures";
  limiter.forget("a");
  EXPECT_EQ(limiter.num_requeues("a"), 0);
  EXPECT_EQ(limiter.when("a"), Duration(5ms));
}

TEST(TokenBucketRateLimiter, BurstThenSteadyRate) {
  FakeClock clock;
  TokenBucketRateLimiter limiter(10, 100, clock);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(limiter.when("k"), Duration::zero()) << i;
  EXPECT_EQ(limiter.when("k"), Duration(100ms));
  EXPECT_EQ(limiter.when("k"), Duration(200ms)) << "reservations queue up";
  clock.advance(1s);  // 10 tokens back, 2 were already spent ahead
  for (int i = 0; i < 8; ++i) ASSERT_EQ(limiter.when("k"), Duration::zero()) << i;
  EXPECT_EQ(limiter.when("k"), Duration(100ms));
}

TEST(DefaultControllerRateLimiter, IsTheLongerOfBothLimits) {
  FakeClock clock;
  auto limiter = default_controller_rate_limiter(clock);
  EXPECT_EQ(limiter->when("a"), Duration(5ms));
  EXPECT_EQ(limiter->when("a"), Duration(10ms));
  for (int i = 0; i < 98; ++i) limiter->when("k" + std::to_string(i));
  // The bucket is empty now: a fresh key waits for the overall limit.
  EXPECT_EQ(limiter->when("fresh"), Duration(100ms));
  EXPECT_EQ(limiter->num_requeues("a"), 2);
  limiter->forget("a");
  EXPECT_EQ(limiter->num_requeues("a"), 0);
}

}  // namespace
}  // namespace runtime
