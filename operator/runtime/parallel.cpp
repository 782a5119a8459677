#include "runtime/parallel.h"

#include <algorithm>
#include <atomic>
#include <system_error>
#include <thread>
#include <vector>

namespace runtime {

void parallel_for(size_t n, size_t concurrency, const std::function<void(size_t)>& fn) {
  std::atomic<size_t> next{0};
  auto drain = [&] {
    for (size_t i = next++; i < n; i = next++) fn(i);
  };
  std::vector<std::thread> helpers;
  const size_t threads = std::min(std::max<size_t>(concurrency, 1), n);
  for (size_t t = 1; t < threads; ++t) {
    try {
      helpers.emplace_back(drain);
    } catch (const std::system_error&) {
      break;  // no more threads to be had: those running, and this one, do the rest
    }
  }
  drain();
  for (std::thread& helper : helpers) helper.join();
}

}  // namespace runtime
