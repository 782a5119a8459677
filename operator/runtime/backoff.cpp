#include "runtime/backoff.h"

#include <algorithm>
#include <cmath>

namespace runtime {

Backoff::Backoff(BackoffPolicy policy, Clock& clock, Random& random)
    : policy_(policy), clock_(clock), random_(random) {}

Duration Backoff::next() {
  TimePoint now = clock_.now();
  if (failures_ > 0 && now - last_failure_ >= policy_.reset_after) failures_ = 0;
  last_failure_ = now;

  // In double nanoseconds: whole numbers stay exact (800 ms * 2^n), and a
  // long streak cannot overflow before the cap applies.
  using Nanos = std::chrono::duration<double, std::nano>;
  double base = Nanos(policy_.initial).count() * std::pow(policy_.factor, std::min(failures_, 64));
  base = std::min(base, Nanos(policy_.max).count());
  ++failures_;
  double jittered = base * (1.0 + policy_.jitter * random_.uniform());
  return std::chrono::duration_cast<Duration>(std::chrono::nanoseconds(std::llround(jittered)));
}

void Backoff::reset() { failures_ = 0; }

}  // namespace runtime
