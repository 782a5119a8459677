#include "runtime/parallel.h"

#include <atomic>
#include <chrono>
#include <set>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace runtime {
namespace {

TEST(ParallelFor, CallsEachIndexOnceAndReturnsWhenAllHaveReturned) {
  std::vector<std::atomic<int>> calls(100);
  parallel_for(calls.size(), 4, [&](size_t i) { ++calls[i]; });
  for (size_t i = 0; i < calls.size(); ++i) EXPECT_EQ(calls[i].load(), 1) << i;
}

TEST(ParallelFor, NoMoreThanConcurrencyAtOnceAndSideBySideUpToIt) {
  std::atomic<int> running{0}, most{0};
  parallel_for(16, 3, [&](size_t) {
    int now = ++running;
    for (int seen = most.load(); now > seen && !most.compare_exchange_weak(seen, now);) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    --running;
  });
  EXPECT_EQ(most.load(), 3);
}

TEST(ParallelFor, OneAtATimeRunsInOrderOnTheCallersThread) {
  std::vector<size_t> order;
  std::set<std::thread::id> threads;
  parallel_for(5, 1, [&](size_t i) {
    order.push_back(i);
    threads.insert(std::this_thread::get_id());
  });
  EXPECT_EQ(order, (std::vector<size_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(threads, std::set<std::thread::id>{std::this_thread::get_id()});
}

TEST(ParallelFor, NothingToDoCallsNothingAndZeroConcurrencyCountsAsOne) {
  int calls = 0;
  parallel_for(0, 4, [&](size_t) { ++calls; });
  EXPECT_EQ(calls, 0);
  parallel_for(3, 0, [&](size_t) { ++calls; });
  EXPECT_EQ(calls, 3);
}

}  // namespace
}  // namespace runtime
