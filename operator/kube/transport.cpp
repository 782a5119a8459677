#include "kube/transport.h"

#include <utility>

namespace kube {

void Cancellation::cancel() {
  std::vector<std::function<void()>> to_run;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (cancelled_.exchange(true)) return;
    for (auto& entry : callbacks_) to_run.push_back(std::move(entry.second));
    callbacks_.clear();
  }
  // Outside the lock: a callback may take its own locks (a transport closing
  // its socket), and must be free to call back into this object.
  for (auto& fn : to_run) fn();
}

Cancellation::CallbackId Cancellation::on_cancel(std::function<void()> fn) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!cancelled_.load()) {
      CallbackId id = next_id_++;
      callbacks_.emplace_back(id, std::move(fn));
      return id;
    }
  }
  fn();
  return 0;
}

void Cancellation::remove_on_cancel(CallbackId id) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = callbacks_.begin(); it != callbacks_.end(); ++it) {
    if (it->first == id) {
      callbacks_.erase(it);
      return;
    }
  }
}

size_t Cancellation::pending_callbacks() const {
  std::lock_guard<std::mutex> lock(mu_);
  return callbacks_.size();
}

namespace {

std::string_view without_carriage_return(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

}  // namespace

bool LineFramer::feed(std::string_view chunk,
                      const std::function<bool(std::string_view)>& on_line) {
  if (pending_has_lines_) {
    // A previous call stopped mid-chunk: what it kept comes first.
    std::string kept = std::move(pending_);
    pending_.clear();
    pending_has_lines_ = false;
    kept.append(chunk.data(), chunk.size());
    return split(kept, on_line);
  }
  return split(chunk, on_line);
}

bool LineFramer::split(std::string_view chunk,
                       const std::function<bool(std::string_view)>& on_line) {
  while (!chunk.empty()) {
    const size_t newline = chunk.find('\n');
    if (newline == std::string_view::npos) {
      // Appending only the new bytes keeps a huge line linear in its size.
      pending_.append(chunk.data(), chunk.size());
      return true;
    }
    bool keep_going;
    if (pending_.empty()) {
      // The common case (a whole line inside one chunk) copies nothing.
      keep_going = on_line(without_carriage_return(chunk.substr(0, newline)));
    } else {
      pending_.append(chunk.data(), newline);
      std::string line = std::move(pending_);
      pending_.clear();
      keep_going = on_line(without_carriage_return(line));
    }
    chunk.remove_prefix(newline + 1);
    if (!keep_going) {
      pending_.assign(chunk.data(), chunk.size());
      pending_has_lines_ = pending_.find('\n') != std::string::npos;
      return false;
    }
  }
  return true;
}

bool LineFramer::finish(const std::function<bool(std::string_view)>& on_line) {
  if (pending_has_lines_ && !feed({}, on_line)) return false;
  if (pending_.empty()) return true;
  std::string line = std::move(pending_);
  pending_.clear();
  return on_line(without_carriage_return(line));
}

}  // namespace kube
