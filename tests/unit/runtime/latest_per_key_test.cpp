// Per-key background work where only the newest task matters: one task of a
// key at a time, a waiting task replaced by a newer one, keys side by side.
#include "runtime/latest_per_key.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "runtime/gate.h"

namespace runtime_test {
namespace {

using ::testing::ElementsAre;

class Log {
 public:
  void add(const std::string& line) {
    std::lock_guard<std::mutex> lock(mu_);
    lines_.push_back(line);
  }
  std::vector<std::string> lines() {
    std::lock_guard<std::mutex> lock(mu_);
    return lines_;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> lines_;
};

TEST(LatestPerKey, ANewerTaskReplacesTheWaitingOneAndRunsAfterTheRunningOne) {
  runtime::LatestPerKey work(2);
  Gate gate;
  Log log;
  work.submit("a", "v1", [&] {
    gate.pass();
    log.add("a:v1");
  });
  gate.wait_entered();
  work.submit("a", "v2", [&] { log.add("a:v2"); });
  work.submit("a", "v3", [&] { log.add("a:v3"); });
  EXPECT_TRUE(work.holds("a", "v1")) << "running";
  EXPECT_FALSE(work.holds("a", "v2")) << "replaced before it ran";
  EXPECT_TRUE(work.holds("a", "v3")) << "queued";
  EXPECT_TRUE(work.busy("a"));
  EXPECT_FALSE(work.busy("b"));
  gate.open();
  work.wait_idle();
  EXPECT_THAT(log.lines(), ElementsAre("a:v1", "a:v3"));
  EXPECT_FALSE(work.holds("a", "v3")) << "done: nothing held";
  EXPECT_FALSE(work.busy("a"));
}

TEST(LatestPerKey, KeysRunSideBySide) {
  runtime::LatestPerKey work(2);
  Gate gate;
  std::atomic<bool> b_ran{false};
  work.submit("a", "x", [&] { gate.pass(); });
  gate.wait_entered();
  work.submit("b", "y", [&] { b_ran = true; });
  while (!b_ran) std::this_thread::yield();  // b runs while a is still blocked
  EXPECT_TRUE(work.holds("a", "x"));
  gate.open();
  work.wait_idle();
}

TEST(LatestPerKey, ForgetAndStopDropWhatWaitsButNotWhatRuns) {
  runtime::LatestPerKey work(1);
  Gate gate;
  Log log;
  work.submit("a", "1", [&] {
    gate.pass();
    log.add("a:1");
  });
  gate.wait_entered();
  work.submit("a", "2", [&] { log.add("a:2"); });
  work.submit("b", "1", [&] { log.add("b:1"); });
  work.forget("a");
  EXPECT_FALSE(work.holds("a", "2"));
  work.forget_all();
  EXPECT_FALSE(work.holds("b", "1"));
  std::atomic<bool> stopped{false};
  std::thread stopper([&] {
    work.stop();
    stopped = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(stopped) << "stop waits for the running task";
  gate.open();
  stopper.join();
  work.submit("d", "1", [&] { log.add("d:1"); });  // after stop: dropped
  EXPECT_THAT(log.lines(), ElementsAre("a:1"));
}

TEST(LatestPerKey, WithoutThreadsATaskRunsAtOnceOnTheCaller) {
  runtime::LatestPerKey work(0);
  Log log;
  work.submit("a", "1", [&] { log.add("a:1"); });
  EXPECT_THAT(log.lines(), ElementsAre("a:1"));
  EXPECT_FALSE(work.holds("a", "1"));
}

}  // namespace
}  // namespace runtime_test
