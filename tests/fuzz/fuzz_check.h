// The one assertion of the fuzz targets: an invariant that does not hold is a
// finding, reported (what failed, where) and turned into a crash so that
// libFuzzer saves the input as crash-<sha1> and stops.
//
//   FUZZ_CHECK(reparsed == parsed, "a rendered quantity parses to another value");
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(condition, what)                                                    \
  do {                                                                                 \
    if (!(condition)) {                                                                \
      std::fprintf(stderr, "FUZZ INVARIANT FAILED at %s:%d: %s (%s)\n", __FILE__,      \
                   __LINE__, what, #condition);                                        \
      std::abort();                                                                    \
    }                                                                                  \
  } while (0)

// Choices (chunk lengths, limits) that the input decides, so that a saved
// finding replays exactly: a linear congruential generator seeded with the
// FNV-1a hash of the input's first 16 bytes.
class InputSeededRandom {
 public:
  InputSeededRandom(const uint8_t* data, size_t size) {
    for (size_t i = 0; i < size && i < 16; ++i) state_ = (state_ ^ data[i]) * 16777619u;
  }
  uint32_t next() {
    state_ = state_ * 1103515245u + 12345u;
    return state_ >> 16;
  }

 private:
  uint32_t state_ = 2166136261u;
};
