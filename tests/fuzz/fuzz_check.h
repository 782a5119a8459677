// The one assertion of the fuzz targets: an invariant that does not hold is a
// finding, reported (what failed, where) and turned into a crash so that
// libFuzzer saves the input as crash-<sha1> and stops.
//
//   FUZZ_CHECK(reparsed == parsed, "a rendered quantity parses to another value");
#pragma once

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
