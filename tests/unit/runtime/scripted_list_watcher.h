// Test doubles for the runtime layer: a ListWatcher that plays a script of
// list pages and watch streams (recording every call), a recorder for
// watcher events, object builders and a bounded "eventually" wait.
//
//   auto source = std::make_shared<ScriptedListWatcher>(&clock);
//   source->add_list_page(page({object("ns", "a", "5")}, "10"));
//   source->add_watch({{added(object("ns", "b", "11"))}, kube::Error{410}});
//   ... start a Watcher ...
//   ASSERT_TRUE(source->wait_idle_in_watch(2));   // parked in watch #2
//   EXPECT_EQ(source->watch_calls()[1].resource_version, "10");
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "kube/client.h"
#include "runtime/fake_clock.h"
#include "runtime/list_watch.h"
#include "runtime/watcher.h"

namespace runtime_test {

using json = nlohmann::json;
using namespace std::chrono_literals;

// Polls `condition` for up to `limit` of real time: for conditions reached
// by another thread. Tests never depend on the limit except to fail.
inline bool eventually(const std::function<bool()>& condition,
                       std::chrono::milliseconds limit = 5000ms) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(200us);
  }
  return condition();
}

inline json object(const std::string& ns, const std::string& name, const std::string& rv,
                   json labels = json::object(), json extra = json::object()) {
  json o = {{"apiVersion", "v1"},
            {"kind", "ConfigMap"},
            {"metadata", {{"name", name}, {"resourceVersion", rv}, {"uid", "uid-" + name}}}};
  if (!ns.empty()) o["metadata"]["namespace"] = ns;
  if (!labels.empty()) o["metadata"]["labels"] = labels;
  o.merge_patch(extra);
  return o;
}

inline kube::ObjectList page(std::vector<json> items, const std::string& rv,
                             const std::string& continue_token = "") {
  kube::ObjectList list;
  list.items = std::move(items);
  list.resource_version = rv;
  list.continue_token = continue_token;
  return list;
}

inline kube::WatchEvent event(kube::WatchEvent::Type type, json o) {
  kube::WatchEvent e;
  e.type = type;
  e.object = std::move(o);
  return e;
}
inline kube::WatchEvent added(json o) { return event(kube::WatchEvent::Type::Added, std::move(o)); }
inline kube::WatchEvent modified(json o) {
  return event(kube::WatchEvent::Type::Modified, std::move(o));
}
inline kube::WatchEvent deleted(json o) {
  return event(kube::WatchEvent::Type::Deleted, std::move(o));
}
inline kube::WatchEvent bookmark(const std::string& rv) {
  return event(kube::WatchEvent::Type::Bookmark,
               {{"kind", "ConfigMap"}, {"metadata", {{"resourceVersion", rv}}}});
}
inline kube::WatchEvent error_event(int code, const std::string& reason) {
  return event(kube::WatchEvent::Type::Error, {{"kind", "Status"},
                                               {"status", "Failure"},
                                               {"code", code},
                                               {"reason", reason},
                                               {"message", "scripted"}});
}

inline kube::Error api_error(int code, const std::string& reason = "Scripted") {
  kube::Error e;
  e.http_code = code;
  e.reason = reason;
  e.message = "scripted failure";
  return e;
}

// One scripted watch call: its events, then how the stream ends.
struct WatchScript {
  std::vector<kube::WatchEvent> events;
  std::optional<kube::Error> error;  // nullopt: the server closes the stream
  // Fake time that passes while the stream is open (before it ends).
  runtime::Duration lasts{};
};

class ScriptedListWatcher final : public runtime::ListWatcher {
 public:
  explicit ScriptedListWatcher(runtime::FakeClock* clock = nullptr) : clock_(clock) {}

  void add_list_page(kube::Result<kube::ObjectList> page) {
    std::lock_guard<std::mutex> guard(mu_);
    pages_.push_back(std::move(page));
    cv_.notify_all();
  }
  void add_watch(WatchScript script) {
    std::lock_guard<std::mutex> guard(mu_);
    watches_.push_back(std::move(script));
    cv_.notify_all();
  }

  kube::Result<kube::ObjectList> list_page(const kube::ListOptions& options) override {
    std::unique_lock<std::mutex> lock(mu_);
    list_calls_.push_back(options);
    // A test that forgot a page fails on its expectations, not by hanging.
    cv_.wait_for(lock, 50ms, [&] { return !pages_.empty(); });
    if (pages_.empty()) return api_error(0, "Unscripted");
    kube::Result<kube::ObjectList> next = std::move(pages_.front());
    pages_.pop_front();
    return next;
  }

  kube::Done watch(const kube::WatchOptions& options, const runtime::WatchEventHandler& on_event,
                   kube::Cancellation& cancel) override {
    std::optional<WatchScript> script;
    {
      std::lock_guard<std::mutex> guard(mu_);
      watch_calls_.push_back(options);
      if (!watches_.empty()) {
        script = std::move(watches_.front());
        watches_.pop_front();
      }
    }
    if (!script) {
      // Nothing scripted: an idle stream that ends only when cancelled (or
      // when a test scripts more).
      cancel.on_cancel([this] {
        std::lock_guard<std::mutex> guard(mu_);
        cv_.notify_all();
      });
      std::unique_lock<std::mutex> lock(mu_);
      idle_in_watch_ = watch_calls_.size();
      cv_.notify_all();
      cv_.wait(lock, [&] { return cancel.cancelled() || !watches_.empty(); });
      idle_in_watch_ = 0;
      if (cancel.cancelled()) return kube::ok();
      script = std::move(watches_.front());
      watches_.pop_front();
    }
    for (const kube::WatchEvent& e : script->events) {
      if (cancel.cancelled()) return kube::ok();
      if (!on_event(e)) return kube::ok();
    }
    if (clock_ && script->lasts > runtime::Duration::zero()) clock_->advance(script->lasts);
    if (script->error) return *script->error;
    return kube::ok();
  }

  std::string describe() const override { return "scripted configmaps"; }

  // True once the watcher sits in watch call number `n` (1-based) with
  // nothing left to play.
  bool wait_idle_in_watch(size_t n, std::chrono::milliseconds limit = 5000ms) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, limit, [&] { return idle_in_watch_ == n; });
  }

  std::vector<kube::ListOptions> list_calls() const {
    std::lock_guard<std::mutex> guard(mu_);
    return list_calls_;
  }
  std::vector<kube::WatchOptions> watch_calls() const {
    std::lock_guard<std::mutex> guard(mu_);
    return watch_calls_;
  }

 private:
  runtime::FakeClock* clock_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<kube::Result<kube::ObjectList>> pages_;
  std::deque<WatchScript> watches_;
  std::vector<kube::ListOptions> list_calls_;
  std::vector<kube::WatchOptions> watch_calls_;
  size_t idle_in_watch_ = 0;
};

// Records watcher events as short strings: "upsert ns/a 5", "delete ns/a",
// "init", "restarted".
class EventLog {
 public:
  runtime::WatcherSink sink() {
    return [this](const runtime::WatcherEvent& e) {
      std::string line;
      switch (e.type) {
        case runtime::WatcherEvent::Type::Upsert:
          line = "upsert " + e.key + " " +
                 e.object->at("metadata").value("resourceVersion", std::string());
          break;
        case runtime::WatcherEvent::Type::Delete:
          line = "delete " + e.key;
          break;
        case runtime::WatcherEvent::Type::InitDone:
          line = "init";
          break;
        case runtime::WatcherEvent::Type::Restarted:
          line = "restarted";
          break;
      }
      std::lock_guard<std::mutex> guard(mu_);
      lines_.push_back(line);
    };
  }
  std::vector<std::string> lines() const {
    std::lock_guard<std::mutex> guard(mu_);
    return lines_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> lines_;
};

}  // namespace runtime_test
