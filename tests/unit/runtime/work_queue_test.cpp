// Work-queue semantics: dedupe, one worker per key, dirty re-runs, per-key
// backoff, delays, the overall rate limit and draining shutdown.
#include "runtime/work_queue.h"

#include <atomic>
#include <map>
#include <set>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "runtime/fake_clock.h"
#include "runtime/scripted_list_watcher.h"

namespace runtime_test {
namespace {

using runtime::Duration;
using runtime::FakeClock;
using runtime::WorkQueue;

std::vector<std::string> drain(WorkQueue& queue) {
  std::vector<std::string> keys;
  while (auto key = queue.try_get()) {
    keys.push_back(*key);
    queue.done(*key);
  }
  return keys;
}

TEST(WorkQueue, AddDedupesAndKeepsOrder) {
  FakeClock clock;
  WorkQueue queue("q", clock);
  queue.add("ns/a");
  queue.add("ns/b");
  queue.add("ns/a");
  EXPECT_EQ(queue.len(), 2u);
  EXPECT_THAT(drain(queue), ::testing::ElementsAre("ns/a", "ns/b"));
  EXPECT_EQ(queue.counters().adds_total, 2u);
}

TEST(WorkQueue, UnfinishedWorkSumsTheAgesOfHandedOutKeysOnTheQueuesClock) {
  using std::chrono::seconds;
  FakeClock clock;
  WorkQueue queue("q", clock);
  queue.add("ns/a");
  queue.add("ns/b");
  EXPECT_EQ(queue.unfinished_work().total, Duration::zero()) << "queued is not in flight";
  ASSERT_EQ(queue.try_get(), "ns/a");
  clock.advance(seconds(3));
  ASSERT_EQ(queue.try_get(), "ns/b");
  clock.advance(seconds(2));
  EXPECT_EQ(queue.unfinished_work().total, seconds(5 + 2));
  EXPECT_EQ(queue.unfinished_work().longest, seconds(5));
  queue.done("ns/a");
  EXPECT_EQ(queue.unfinished_work().total, seconds(2));
  EXPECT_EQ(queue.unfinished_work().longest, seconds(2));
  queue.done("ns/b");
  EXPECT_EQ(queue.unfinished_work().longest, Duration::zero());
}

TEST(WorkQueue, AddingAKeyBeingProcessedRunsItOnceMoreAfterDone) {
  FakeClock clock;
  WorkQueue queue("q", clock);
  queue.add("ns/a");
  auto key = queue.try_get();
  ASSERT_EQ(key, "ns/a");
  queue.add("ns/a");
  queue.add("ns/a");
  EXPECT_EQ(queue.len(), 0u) << "not handed to a second worker while processing";
  EXPECT_EQ(queue.try_get(), std::nullopt);
  queue.done("ns/a");
  EXPECT_EQ(queue.len(), 1u);
  EXPECT_EQ(queue.try_get(), "ns/a");
  queue.done("ns/a");
  EXPECT_EQ(queue.try_get(), std::nullopt) << "one re-run, not one per add";
}

TEST(WorkQueue, NeverHandsOneKeyToTwoWorkersAtOnce) {
  WorkQueue queue("q");  // real clock: real threads racing
  std::mutex mu;
  std::map<std::string, int> running;
  std::atomic<int> overlaps{0};
  std::atomic<int> runs{0};
  auto worker = [&] {
    while (auto key = queue.get()) {
      {
        std::lock_guard<std::mutex> guard(mu);
        if (++running[*key] > 1) ++overlaps;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(50));
      {
        std::lock_guard<std::mutex> guard(mu);
        --running[*key];
      }
      ++runs;
      queue.done(*key);
    }
  };
  std::thread w1(worker), w2(worker), w3(worker);
  for (int i = 0; i < 3000; ++i) queue.add("ns/k" + std::to_string(i % 3));
  ASSERT_TRUE(eventually([&] {
    auto c = queue.counters();
    return c.depth == 0 && c.in_flight == 0;
  }));
  queue.shutdown();
  w1.join();
  w2.join();
  w3.join();
  EXPECT_EQ(overlaps.load(), 0);
  EXPECT_GE(runs.load(), 3);
}

TEST(WorkQueue, RateLimitedRetriesBackOffPerKeyAndForgetResets) {
  FakeClock clock;
  WorkQueue queue("q", clock);
  std::vector<Duration> waits;
  for (int attempt = 0; attempt < 5; ++attempt) {
    queue.add_rate_limited("ns/a");
    Duration waited{};
    while (!queue.try_get()) {
      clock.advance(std::chrono::milliseconds(1));
      waited += std::chrono::milliseconds(1);
    }
    waits.push_back(waited);
    queue.done("ns/a");
  }
  using std::chrono::milliseconds;
  EXPECT_THAT(waits, ::testing::ElementsAre(Duration(milliseconds(5)), Duration(milliseconds(10)),
                                            Duration(milliseconds(20)), Duration(milliseconds(40)),
                                            Duration(milliseconds(80))));
  EXPECT_EQ(queue.num_requeues("ns/a"), 5);
  EXPECT_EQ(queue.counters().retries_total, 5u);

  queue.forget("ns/a");
  EXPECT_EQ(queue.num_requeues("ns/a"), 0);
  queue.add_rate_limited("ns/a");
  clock.advance(std::chrono::milliseconds(4));
  EXPECT_EQ(queue.try_get(), std::nullopt);
  clock.advance(std::chrono::milliseconds(1));
  EXPECT_EQ(queue.try_get(), "ns/a");
}

TEST(WorkQueue, AddAfterWaitsAndTheEarliestDelayWins) {
  FakeClock clock;
  WorkQueue queue("q", clock);
  queue.add_after("ns/a", 10s);
  queue.add_after("ns/a", 1s);
  queue.add_after("ns/a", 5s);
  queue.add_after("ns/now", Duration::zero());
  EXPECT_THAT(drain(queue), ::testing::ElementsAre("ns/now"));
  EXPECT_EQ(queue.counters().waiting, 1u);
  clock.advance(999ms);
  EXPECT_EQ(queue.try_get(), std::nullopt);
  clock.advance(1ms);
  EXPECT_THAT(drain(queue), ::testing::ElementsAre("ns/a"));
  clock.advance(20s);
  EXPECT_THAT(drain(queue), ::testing::ElementsAre()) << "superseded delays do not fire";
}

TEST(WorkQueue, OverallRateLimitHoldsBackAStormOfRetries) {
  FakeClock clock;
  WorkQueue queue("q", clock);
  for (int i = 0; i < 101; ++i) queue.add_rate_limited("ns/k" + std::to_string(i));
  clock.advance(5ms);
  EXPECT_EQ(drain(queue).size(), 100u) << "burst of 100 after the 5 ms per-key delay";
  clock.advance(94ms);
  EXPECT_EQ(queue.try_get(), std::nullopt);
  clock.advance(1ms);
  EXPECT_THAT(drain(queue), ::testing::ElementsAre("ns/k100"));
}

TEST(WorkQueue, BlockedGetWakesWhenADelayedKeyComesDue) {
  FakeClock clock;
  WorkQueue queue("q", clock);
  std::optional<std::string> got;
  std::thread worker([&] { got = queue.get(); });
  queue.add_after("ns/a", 30s);
  ASSERT_TRUE(eventually([&] { return clock.blocked_threads() == 1; }));
  clock.advance(30s);
  worker.join();
  EXPECT_EQ(got, "ns/a");
}

TEST(WorkQueue, ShutdownStopsHandingOutKeysAndIgnoresAdds) {
  FakeClock clock;
  WorkQueue queue("q", clock);
  std::optional<std::string> got = "unset";
  std::thread worker([&] { got = queue.get(); });
  ASSERT_TRUE(eventually([&] { return true; }));
  queue.add("ns/a");
  worker.join();
  EXPECT_EQ(got, "ns/a");

  queue.add("ns/b");
  queue.shutdown();
  EXPECT_TRUE(queue.shutting_down());
  EXPECT_EQ(queue.get(), std::nullopt);
  queue.add("ns/c");
  queue.add_after("ns/c", 1s);
  queue.add_rate_limited("ns/c");
  EXPECT_EQ(queue.counters().adds_total, 2u);
}

TEST(WorkQueue, ShutdownWithDrainWaitsForInFlightKeys) {
  FakeClock clock;
  WorkQueue queue("q", clock);
  queue.add("ns/a");
  queue.add("ns/b");
  ASSERT_EQ(queue.try_get(), "ns/a");
  std::atomic<bool> drained{false};
  std::thread stopper([&] {
    queue.shutdown_with_drain();
    drained = true;
  });
  ASSERT_TRUE(eventually([&] { return queue.shutting_down(); }));
  EXPECT_EQ(queue.get(), std::nullopt) << "no new keys while draining";
  std::this_thread::sleep_for(2ms);
  EXPECT_FALSE(drained.load());
  queue.add("ns/a");  // ignored: no re-run during shutdown
  queue.done("ns/a");
  stopper.join();
  EXPECT_TRUE(drained.load());
  EXPECT_EQ(queue.counters().in_flight, 0u);
}

TEST(WorkQueue, ShutdownWithDrainGivesUpAfterItsTimeout) {
  FakeClock clock;
  WorkQueue queue("q", clock);
  queue.add("ns/stuck");
  ASSERT_EQ(queue.try_get(), "ns/stuck");
  std::atomic<int> result{-1};
  std::thread stopper([&] { result = queue.shutdown_with_drain(10s) ? 1 : 0; });
  ASSERT_TRUE(eventually([&] { return clock.blocked_threads() == 1; }));
  clock.advance(10s);
  stopper.join();
  EXPECT_EQ(result.load(), 0);
  queue.done("ns/stuck");
  EXPECT_TRUE(queue.shutdown_with_drain(0s));
}

class RecordingObserver : public runtime::WorkQueueObserver {
 public:
  void on_add() override { ++adds; }
  void on_depth(size_t d) override { depth = d; }
  void on_retry() override { ++retries; }
  void on_queue_latency(Duration d) override { latencies.push_back(d); }
  void on_work_duration(Duration d) override { work.push_back(d); }
  int adds = 0;
  size_t depth = 0;
  int retries = 0;
  std::vector<Duration> latencies;
  std::vector<Duration> work;
};

TEST(WorkQueue, ObserverSeesAddsDepthRetriesAndDurations) {
  FakeClock clock;
  auto observer = std::make_shared<RecordingObserver>();
  WorkQueue queue("q", clock, nullptr, observer);
  queue.add("ns/a");
  queue.add("ns/b");
  EXPECT_EQ(observer->depth, 2u);
  clock.advance(3s);
  ASSERT_EQ(queue.try_get(), "ns/a");
  clock.advance(2s);
  queue.done("ns/a");
  queue.add_rate_limited("ns/a");
  EXPECT_EQ(observer->adds, 2);
  EXPECT_EQ(observer->retries, 1);
  EXPECT_EQ(observer->depth, 1u);
  EXPECT_THAT(observer->latencies, ::testing::ElementsAre(Duration(3s)));
  EXPECT_THAT(observer->work, ::testing::ElementsAre(Duration(2s)));
}

}  // namespace
}  // namespace runtime_test
