#include "runtime/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace runtime {

ItemExponentialRateLimiter::ItemExponentialRateLimiter(Duration base, Duration max)
    : base_(base), max_(max) {}

Duration ItemExponentialRateLimiter::when(const std::string& key) {
  int exponent = 0;
  {
    std::lock_guard<std::mutex> guard(mu_);
    exponent = failures_[key]++;
  }
  // In double nanoseconds: exact for 5 ms * 2^n, and no integer overflow
  // long before the cap.
  using Nanos = std::chrono::duration<double, std::nano>;
  double delay = Nanos(base_).count() * std::pow(2.0, exponent);
  if (!(delay < Nanos(max_).count())) return max_;
  return std::chrono::duration_cast<Duration>(std::chrono::nanoseconds(std::llround(delay)));
}

void ItemExponentialRateLimiter::forget(const std::string& key) {
  std::lock_guard<std::mutex> guard(mu_);
  failures_.erase(key);
}

int ItemExponentialRateLimiter::num_requeues(const std::string& key) const {
  std::lock_guard<std::mutex> guard(mu_);
  auto found = failures_.find(key);
  return found == failures_.end() ? 0 : found->second;
}

TokenBucketRateLimiter::TokenBucketRateLimiter(double qps, int burst, Clock& clock)
    : qps_(qps), burst_(burst), clock_(clock), tokens_(burst), last_(clock.now()) {}

Duration TokenBucketRateLimiter::when(const std::string&) {
  std::lock_guard<std::mutex> guard(mu_);
  TimePoint now = clock_.now();
  if (now > last_) {
    double refill = std::chrono::duration<double>(now - last_).count() * qps_;
    tokens_ = std::min(burst_, tokens_ + refill);
    last_ = now;
  }
  tokens_ -= 1.0;
  if (tokens_ >= 0 || qps_ <= 0) return Duration::zero();
  return std::chrono::duration_cast<Duration>(std::chrono::nanoseconds(std::llround(-tokens_ / qps_ * 1e9)));
}

MaxOfRateLimiter::MaxOfRateLimiter(std::vector<std::unique_ptr<RateLimiter>> limiters)
    : limiters_(std::move(limiters)) {}

Duration MaxOfRateLimiter::when(const std::string& key) {
  Duration longest = Duration::zero();
  for (auto& limiter : limiters_) longest = std::max(longest, limiter->when(key));
  return longest;
}

void MaxOfRateLimiter::forget(const std::string& key) {
  for (auto& limiter : limiters_) limiter->forget(key);
}

int MaxOfRateLimiter::num_requeues(const std::string& key) const {
  int most = 0;
  for (const auto& limiter : limiters_) most = std::max(most, limiter->num_requeues(key));
  return most;
}

std::unique_ptr<RateLimiter> default_controller_rate_limiter(Clock& clock,
                                                             RateLimiterOptions options) {
  std::vector<std::unique_ptr<RateLimiter>> parts;
  parts.push_back(
      std::make_unique<ItemExponentialRateLimiter>(options.base_delay, options.max_delay));
  parts.push_back(std::make_unique<TokenBucketRateLimiter>(options.qps, options.burst, clock));
  return std::make_unique<MaxOfRateLimiter>(std::move(parts));
}

}  // namespace runtime
