// How long a work-queue key waits before its next retry: client-go's
// workqueue rate limiters, with the same defaults.
//
//   auto limiter = runtime::default_controller_rate_limiter(clock);
//   Duration wait = limiter->when("prod/orders");   // 5 ms, 10 ms, 20 ms, ...
//   limiter->forget("prod/orders");                 // after a success
//
// The default is the larger of a per-key exponential backoff (5 ms doubling
// to 1000 s) and an overall token bucket (10 per second, burst 100), so one
// failing key backs off alone while a storm of failures cannot exceed the
// overall rate.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "runtime/clock.h"

namespace runtime {

class RateLimiter {
 public:
  virtual ~RateLimiter() = default;
  // The delay before `key` may run again; counts one more retry of it.
  virtual Duration when(const std::string& key) = 0;
  // Success: `key` starts from scratch next time.
  virtual void forget(const std::string& key) = 0;
  virtual int num_requeues(const std::string& key) const = 0;
};

// base * 2^(retries so far), capped at `max`.
class ItemExponentialRateLimiter final : public RateLimiter {
 public:
  ItemExponentialRateLimiter(Duration base, Duration max);
  Duration when(const std::string& key) override;
  void forget(const std::string& key) override;
  int num_requeues(const std::string& key) const override;

 private:
  Duration base_;
  Duration max_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, int> failures_;
};

// A token bucket shared by all keys: `burst` retries at once, then `qps` per
// second. Each call reserves a token, possibly in the future (like Go's
// rate.Limiter.Reserve), and returns how long until it is due.
class TokenBucketRateLimiter final : public RateLimiter {
 public:
  TokenBucketRateLimiter(double qps, int burst, Clock& clock);
  Duration when(const std::string& key) override;
  void forget(const std::string&) override {}
  int num_requeues(const std::string&) const override { return 0; }

 private:
  double qps_;
  double burst_;
  Clock& clock_;
  std::mutex mu_;
  double tokens_;
  TimePoint last_;
};

// The longest delay of its parts (all of them count the retry).
class MaxOfRateLimiter final : public RateLimiter {
 public:
  explicit MaxOfRateLimiter(std::vector<std::unique_ptr<RateLimiter>> limiters);
  Duration when(const std::string& key) override;
  void forget(const std::string& key) override;
  int num_requeues(const std::string& key) const override;

 private:
  std::vector<std::unique_ptr<RateLimiter>> limiters_;
};

struct RateLimiterOptions {
  Duration base_delay = std::chrono::milliseconds(5);
  Duration max_delay = std::chrono::seconds(1000);
  double qps = 10;
  int burst = 100;
};

// MaxOf(ItemExponential(base, max), TokenBucket(qps, burst)).
std::unique_ptr<RateLimiter> default_controller_rate_limiter(
    Clock& clock, RateLimiterOptions options = {});

}  // namespace runtime
