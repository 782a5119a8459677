#include "runtime/clock.h"

#include <cstring>
#include <random>
#include <thread>

#include <openssl/rand.h>

namespace runtime {
namespace {

class SystemClock final : public Clock {
 public:
  TimePoint now() const override { return std::chrono::steady_clock::now(); }
  std::cv_status wait_until(std::condition_variable& cv,
                            std::unique_lock<std::mutex>& lock,
                            TimePoint deadline) override {
    return cv.wait_until(lock, deadline);
  }
  void sleep_for(Duration d) override { std::this_thread::sleep_for(d); }
};

// Jitter needs no cryptographic strength, but the house rule is one source of
// randomness (OpenSSL); std::random_device covers the unlikely RAND failure.
class SystemRandom final : public Random {
 public:
  double uniform() override {
    uint64_t bits = 0;
    unsigned char bytes[sizeof bits];
    if (RAND_bytes(bytes, sizeof bytes) == 1) {
      std::memcpy(&bits, bytes, sizeof bits);
    } else {
      std::lock_guard<std::mutex> guard(mu_);
      bits = (uint64_t{device_()} << 32) | device_();
    }
    // The top 53 bits give every double in [0, 1) with equal spacing.
    return static_cast<double>(bits >> 11) * 0x1.0p-53;
  }

 private:
  std::mutex mu_;
  std::random_device device_;
};

}  // namespace

Clock& system_clock() {
  static SystemClock clock;
  return clock;
}

Random& system_random() {
  static SystemRandom random;
  return random;
}

}  // namespace runtime
