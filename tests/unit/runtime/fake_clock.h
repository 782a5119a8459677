// A Clock and a Random for tests: time moves only when the test says so, and
// "random" numbers are a fixed sequence, so backoff, requeue delays and watch
// resumption are checked exactly and run in microseconds.
//
//   runtime::FakeClock clock;
//   runtime::WorkQueue queue("q", clock);
//   queue.add_after("ns/a", std::chrono::seconds(5));
//   clock.advance(std::chrono::seconds(5));   // wakes threads in wait_until
//   EXPECT_EQ(queue.try_get(), "ns/a");
//
// With set_auto_advance(true) every timed wait returns at once, jumping the
// clock to its deadline and recording the jump (waited()): a component that
// sleeps between retries then runs straight through, and the test reads the
// delays it chose.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <vector>

#include "runtime/clock.h"

namespace runtime {

class FakeClock final : public Clock {
 public:
  // Far from the epoch so that "now - some duration" stays meaningful.
  explicit FakeClock(TimePoint start = TimePoint(std::chrono::hours(24 * 365)))
      : now_(start) {}

  TimePoint now() const override {
    std::lock_guard<std::mutex> guard(mu_);
    return now_;
  }

  void set_now(TimePoint t) {
    std::lock_guard<std::mutex> guard(mu_);
    now_ = t;
    wake_all_locked();
  }

  void advance(Duration d) {
    std::lock_guard<std::mutex> guard(mu_);
    now_ += d;
    wake_all_locked();
  }

  void set_auto_advance(bool on) {
    std::lock_guard<std::mutex> guard(mu_);
    auto_advance_ = on;
    wake_all_locked();
  }

  // Jumps made by timed waits in auto-advance mode, in order.
  std::vector<Duration> waited() const {
    std::lock_guard<std::mutex> guard(mu_);
    return waited_;
  }
  void clear_waited() {
    std::lock_guard<std::mutex> guard(mu_);
    waited_.clear();
  }

  // Threads currently blocked in wait_until or sleep_for; lets a test wait
  // until a worker is parked before it advances time.
  int blocked_threads() const {
    std::lock_guard<std::mutex> guard(mu_);
    return blocked_;
  }

  std::cv_status wait_until(std::condition_variable& cv,
                            std::unique_lock<std::mutex>& lock,
                            TimePoint deadline) override {
    {
      std::lock_guard<std::mutex> guard(mu_);
      if (now_ >= deadline) return std::cv_status::timeout;
      if (auto_advance_) {
        jump_locked(deadline);
        return std::cv_status::timeout;
      }
      waiting_cvs_.insert(&cv);
      ++blocked_;
    }
    // advance() notifies `cv` without holding the caller's mutex, so a notify
    // can slip in between the check above and this wait; the short real
    // timeout bounds that lost wakeup. Callers already treat an early return
    // as spurious and re-check their condition.
    cv.wait_for(lock, kLostWakeupBound);
    std::lock_guard<std::mutex> guard(mu_);
    waiting_cvs_.erase(waiting_cvs_.find(&cv));
    --blocked_;
    return now_ >= deadline ? std::cv_status::timeout : std::cv_status::no_timeout;
  }

  void sleep_for(Duration d) override {
    std::unique_lock<std::mutex> lock(mu_);
    TimePoint deadline = now_ + d;
    if (auto_advance_) {
      jump_locked(deadline);
      return;
    }
    ++blocked_;
    sleepers_.wait(lock, [&] { return now_ >= deadline || auto_advance_; });
    if (now_ < deadline) jump_locked(deadline);
    --blocked_;
  }

 private:
  static constexpr std::chrono::milliseconds kLostWakeupBound{1};

  void jump_locked(TimePoint deadline) {
    waited_.push_back(deadline - now_);
    now_ = deadline;
    wake_all_locked();
  }

  void wake_all_locked() {
    for (std::condition_variable* cv : waiting_cvs_) cv->notify_all();
    sleepers_.notify_all();
  }

  mutable std::mutex mu_;
  TimePoint now_;
  bool auto_advance_ = false;
  std::vector<Duration> waited_;
  std::multiset<std::condition_variable*> waiting_cvs_;
  std::condition_variable sleepers_;
  int blocked_ = 0;
};

// Returns the given values in turn, starting over after the last; a single
// value makes every jitter the same.
class FakeRandom final : public Random {
 public:
  explicit FakeRandom(std::vector<double> values = {0.0}) : values_(std::move(values)) {}
  void set_values(std::vector<double> values) {
    std::lock_guard<std::mutex> guard(mu_);
    values_ = std::move(values);
    next_ = 0;
  }
  double uniform() override {
    std::lock_guard<std::mutex> guard(mu_);
    if (values_.empty()) return 0.0;
    double v = values_[next_ % values_.size()];
    ++next_;
    return v;
  }

 private:
  std::mutex mu_;
  std::vector<double> values_;
  size_t next_ = 0;
};

}  // namespace runtime
