#include "app/settle_window.h"

namespace app {

runtime::Duration SettleWindow::admit(const std::string& key) {
  const runtime::TimePoint now = clock_.now();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = last_write_.find(key);
  if (it != last_write_.end() && now < it->second + window_) return it->second + window_ - now;
  last_write_[key] = now;
  return runtime::Duration::zero();
}

void SettleWindow::forget(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  last_write_.erase(key);
}

}  // namespace app
