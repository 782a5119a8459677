// Injectable time and randomness, so backoff, leases and watch resumption are
// unit-tested in microseconds.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace runtime {

using Duration = std::chrono::steady_clock::duration;
using TimePoint = std::chrono::steady_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
  // Waits on `cv` (with `lock` held) until `deadline` or a notify; returns
  // like std::condition_variable::wait_until. A fake clock wakes waiters when
  // advanced.
  virtual std::cv_status wait_until(std::condition_variable& cv,
                                    std::unique_lock<std::mutex>& lock,
                                    TimePoint deadline) = 0;
  // Blocks the calling thread for `d` (watcher backoff).
  virtual void sleep_for(Duration d) = 0;
};

// The real clock (std::chrono::steady_clock).
Clock& system_clock();

// Uniform random source for jitter; tests pass a fixed sequence.
class Random {
 public:
  virtual ~Random() = default;
  // Uniform in [0, 1).
  virtual double uniform() = 0;
};

Random& system_random();

}  // namespace runtime
