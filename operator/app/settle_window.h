// Coalesces a set's summary writes (its status and its routing ConfigMap)
// while its shards change one after another: as 100 shards turn Ready, each
// Deployment's event would otherwise rewrite both, two writes per shard.
//
// The first summary write after a quiet spell goes at once (an edit's status
// is not delayed); later ones within `window` of it wait until the window
// ends and then carry everything that changed meanwhile.
//
//   app::SettleWindow settle(runtime::system_clock(), std::chrono::seconds(1));
//   runtime::Duration wait = settle.admit("prod/myapp");
//   if (wait == runtime::Duration::zero()) write status; else requeue after `wait`;
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "runtime/clock.h"

namespace app {

class SettleWindow {
 public:
  SettleWindow(runtime::Clock& clock, runtime::Duration window) : clock_(clock), window_(window) {}

  // Zero: write now (recorded as the window's write). Otherwise how long
  // until the next write of `key` may go. Thread-safe.
  runtime::Duration admit(const std::string& key);
  void forget(const std::string& key);

 private:
  runtime::Clock& clock_;
  const runtime::Duration window_;
  std::mutex mu_;
  std::map<std::string, runtime::TimePoint> last_write_;
};

}  // namespace app
