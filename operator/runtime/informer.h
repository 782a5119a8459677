// One watched collection made usable: a Watcher on its own thread keeps a
// Store of projections exact, and every change is handed to the registered
// handlers (typically "enqueue the owner's key").
//
//   runtime::Informer sets(std::make_shared<runtime::ClientListWatcher>(
//                              client, kShardSets, ""),
//                          {runtime::fields_projector({"/spec", "/status"})});
//   sets.add_handler([&](const runtime::Projection& old_obj,
//                        const runtime::Projection& new_obj) { ... });
//   sets.start();
//   if (!sets.wait_for_sync(std::chrono::minutes(2))) ...;
//   runtime::Projection set = sets.store().get("prod", "orders");
//
// Handlers run on the watcher thread, one change at a time, after the store
// already holds the new state; they must be quick and must not throw.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "runtime/clock.h"
#include "runtime/list_watch.h"
#include "runtime/store.h"
#include "runtime/watcher.h"

namespace runtime {

// (old, new): (null, obj) added, (obj, obj') changed, (obj, null) deleted.
using EventHandler =
    std::function<void(const Projection& old_object, const Projection& new_object)>;

struct InformerOptions {
  Projector projector;  // null keeps whole objects
  std::vector<std::string> indexed_label_keys;
  WatcherOptions watcher;
};

class Informer {
 public:
  Informer(std::shared_ptr<ListWatcher> source, InformerOptions options = {},
           Clock& clock = system_clock(), Random& random = system_random());
  ~Informer();  // stop()
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  // Registers a handler. Objects already in the store are replayed to it as
  // additions first, so a late handler misses nothing. Must not be called
  // from inside a handler.
  void add_handler(EventHandler handler);

  // Starts the watcher thread; later calls do nothing.
  void start();
  // Stops and joins the watcher; no handler runs after it returns.
  void stop();

  bool has_synced() const;
  // Blocks until the first full list is in the store; false on timeout or
  // when stopped first.
  bool wait_for_sync(Duration timeout);

  const Store& store() const { return store_; }
  const std::string& name() const { return name_; }

  // Liveness for /healthz: the watcher's last progress (list, stream, event
  // or healthy backoff) and its failure streak.
  WatcherStatus status() const { return watcher_.status(); }
  TimePoint last_progress() const { return watcher_.status().last_progress; }

 private:
  void on_watcher_event(const WatcherEvent& event);
  void dispatch(const Projection& old_object, const Projection& new_object);

  std::string name_;
  Clock& clock_;
  Store store_;

  std::mutex deliver_mu_;  // serializes store updates, handler calls, add_handler
  std::vector<EventHandler> handlers_;

  mutable std::mutex sync_mu_;
  std::condition_variable sync_cv_;
  bool synced_ = false;
  bool started_ = false;
  bool stopped_ = false;

  Watcher watcher_;  // last: its thread uses the members above
};

}  // namespace runtime
