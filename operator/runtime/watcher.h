// Keeps a local view of one collection in step with the API server: the
// list+watch state machine of client-go's Reflector and kube-rs's watcher.
//
//   runtime::Watcher watcher(source, [&](const runtime::WatcherEvent& e) {
//     ... apply e to a store ...
//   }, runtime::system_clock(), runtime::system_random());
//   watcher.start();   // own thread
//   ...
//   watcher.stop();    // cancels the open watch and joins
//
// The contract, which the store's exactness rests on:
// - First a paged LIST (limit 500, following `continue`), then a WATCH from
//   the list's resourceVersion with bookmarks and a server timeout jittered in
//   [240 s, 290 s] so many watches do not reconnect together.
// - After a disconnect, a server timeout or a watch failure the watch resumes
//   from the resourceVersion of the last event delivered to the sink
//   (bookmarks included), without a relist.
// - On 410 Gone (the HTTP answer of a watch or list, or an ERROR event with
//   code 410 inside a 200 stream) it relists and emits only the difference
//   against what it delivered before: Upserts for new or changed objects,
//   Deletes for objects that vanished, then InitDone.
// - An object is removed only on a DELETED event or by a relist difference.
// - Failures wait a jittered exponential backoff (800 ms doubling to 30 s,
//   starting over after 2 min without failure).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "kube/result.h"
#include "kube/transport.h"
#include "runtime/backoff.h"
#include "runtime/clock.h"
#include "runtime/list_watch.h"

namespace runtime {

struct WatcherEvent {
  enum class Type {
    Upsert,     // an object was added or changed (watch event or relist)
    Delete,     // an object is gone (DELETED event or absent from a relist)
    InitDone,   // a full list has been applied: the sink is exact as of it
    Restarted,  // a relist after 410 Gone begins; differences and InitDone follow
  };
  Type type = Type::Upsert;
  std::string key;  // "namespace/name" (Upsert, Delete)
  // Upsert: the whole object. Delete: its final state when the server sent
  // one (DELETED event), null for a relist difference. Valid during the call.
  const nlohmann::json* object = nullptr;
};

// Called on the watcher's thread, one event at a time; must not throw. The
// watch resumes after the last event the sink has returned from.
using WatcherSink = std::function<void(const WatcherEvent&)>;

struct WatcherOptions {
  std::string name;  // for logs; "" = the ListWatcher's describe()
  int64_t page_size = 500;
  int min_timeout_seconds = 240;
  int max_timeout_seconds = 290;  // the API server caps watches below 300 s
  BackoffPolicy backoff;
  // A stream that ends sooner than this without a single event counts as a
  // failure, so a proxy that closes every watch at once cannot spin us.
  Duration min_healthy_watch = std::chrono::seconds(1);
};

struct WatcherStatus {
  bool synced = false;  // a full list has been applied at least once
  // Last list page, stream start or end, event, or entry into backoff: a
  // watcher that stops making progress is stuck (for /healthz).
  TimePoint last_progress{};
  int consecutive_failures = 0;
  std::string last_error;        // "" once an attempt succeeds again
  std::string resource_version;  // where the next watch resumes
  uint64_t lists = 0;            // completed full lists (1 + relists)
};

class Watcher {
 public:
  Watcher(std::shared_ptr<ListWatcher> source, WatcherSink sink, Clock& clock,
          Random& random, WatcherOptions options = {});
  ~Watcher();  // stop()
  Watcher(const Watcher&) = delete;
  Watcher& operator=(const Watcher&) = delete;

  // Starts the thread. Call once.
  void start();
  // Cancels the open watch or backoff, waits for an in-flight list page to
  // return and joins. Idempotent; the sink is not called after it returns.
  void stop();

  WatcherStatus status() const;

 private:
  void run();
  // One full paged list applied as a difference; false when stopping.
  kube::Done relist();
  // One watch stream; sets `gone` when the server says our RV is too old.
  kube::Done watch_once(bool& gone);
  void emit(WatcherEvent::Type type, const std::string& key, const nlohmann::json* object);
  void note_progress();
  void note_success();
  // Waits the next backoff delay (or until stop).
  void back_off(const kube::Error& error, const char* during);
  bool stopping() const { return stopping_.load(); }

  std::shared_ptr<ListWatcher> source_;
  WatcherSink sink_;
  Clock& clock_;
  Random& random_;
  WatcherOptions options_;
  Backoff backoff_;

  // Watcher thread only: what the sink has been told (key -> resourceVersion)
  // and where to resume.
  std::unordered_map<std::string, std::string> delivered_;
  std::string resume_rv_;

  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::atomic<bool> stopping_{false};
  std::shared_ptr<kube::Cancellation> open_watch_;  // guarded by mu_
  WatcherStatus status_;                            // guarded by mu_
  std::thread thread_;
};

}  // namespace runtime
