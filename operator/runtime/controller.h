// Wires informers to a work queue and runs a reconciler on N worker threads:
// events become keys, keys become reconciles, and the reconcile's answer
// decides when the key runs again.
//
//   runtime::Controller controller({"shardset", /*workers=*/4}, reconcile);
//   controller.watch_primary(sets);                           // set -> its key
//   controller.watch(deployments,
//                    runtime::map_by_owner_reference("ElectricShardSet"));
//   controller.watch(secrets, [&](const runtime::Projection& secret) {
//     return sets_referencing(secret);                        // extra mapping
//   });
//   controller.start(std::chrono::minutes(2));   // after all informers sync
//   ...
//   controller.stop(std::chrono::seconds(30));   // drain in-flight reconciles
//
// A reconcile answers Done (forget the key's backoff), RequeueAfter(d)
// (forget, run again after d) or Error (run again after the key's growing
// backoff). It must be level-based: it reads the store, never the event.
//
// Leader election hook: set_leading(false) parks the workers (informers stay
// warm and keys keep queuing); set_leading(true) lets them take work.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "runtime/clock.h"
#include "runtime/informer.h"
#include "runtime/rate_limiter.h"
#include "runtime/store.h"
#include "runtime/work_queue.h"

namespace runtime {

struct ReconcileResult {
  enum class Kind { Done, RequeueAfter, Error };
  Kind kind = Kind::Done;
  Duration requeue_after{};  // RequeueAfter
  std::string message;       // Error

  static ReconcileResult done() { return {}; }
  static ReconcileResult requeue(Duration after) { return {Kind::RequeueAfter, after, {}}; }
  static ReconcileResult error(std::string message) {
    return {Kind::Error, Duration{}, std::move(message)};
  }
};

using Reconciler = std::function<ReconcileResult(const std::string& key)>;

// Primary keys an object's change should wake; may be empty.
using KeyMapper = std::function<std::vector<std::string>(const Projection& object)>;

// The object's ownerReferences of `owner_kind` (and `owner_api_group` when not
// empty, e.g. "electric-operator.dev"), as keys in the object's namespace.
// Only the controller reference when `controller_only`.
KeyMapper map_by_owner_reference(std::string owner_kind, std::string owner_api_group = {},
                                 bool controller_only = true);
// The key "<object's namespace>/<value of label `label_key`>", for children
// that name their owner in a label.
KeyMapper map_by_label(std::string label_key);

// Hook for controller_runtime_reconcile_total / _errors_total / _time_seconds.
class ControllerObserver {
 public:
  virtual ~ControllerObserver() = default;
  virtual void on_reconcile(ReconcileResult::Kind result, Duration took) {}
  virtual void on_active_workers(int active) {}
};

struct ControllerOptions {
  std::string name;
  int workers = 1;
  RateLimiterOptions rate_limits;
  Clock* clock = nullptr;  // null: system_clock()
  std::shared_ptr<WorkQueueObserver> queue_observer;
  std::shared_ptr<ControllerObserver> observer;
};

class Controller {
 public:
  Controller(ControllerOptions options, Reconciler reconciler);
  ~Controller();  // stop(no grace) if still running
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  // Register before start(). Informers must outlive start()..stop() use; the
  // controller does not own them, and several controllers may share one.
  // Any change of a primary object queues its own key.
  void watch_primary(Informer& informer);
  // Any change of a watched object queues the keys `mapper` gives for its
  // old and its new state (so a child that changes owner wakes both).
  void watch(Informer& informer, KeyMapper mapper);

  // Starts the watched informers that are not running, waits until all have
  // synced, then starts the workers. False (no workers started) on timeout
  // or when stop() came first. Later calls only report whether workers run.
  bool start(Duration sync_timeout);
  // Stops handing out keys, lets in-flight reconciles finish for up to
  // `grace`, then joins the workers. False when a reconcile was still running
  // at the deadline: its worker is joined by the destructor. Informers keep
  // running; their owner stops them.
  bool stop(Duration grace);

  // Leader-election gate; true by default.
  void set_leading(bool leading);
  bool leading() const;

  // Queue a key by hand (e.g. a periodic resync).
  void enqueue(const std::string& key) { queue_->add(key); }
  WorkQueue& queue() { return *queue_; }
  const std::string& name() const { return options_.name; }

 private:
  void work();
  void reconcile_one(const std::string& key);

  ControllerOptions options_;
  Clock& clock_;
  Reconciler reconciler_;
  // Shared with informer handlers, which may outlive the controller.
  std::shared_ptr<WorkQueue> queue_;
  std::vector<Informer*> informers_;

  mutable std::mutex mu_;
  std::condition_variable gate_cv_;
  bool leading_ = true;
  bool started_ = false;
  bool stopping_ = false;
  std::atomic<int> active_{0};
  std::vector<std::thread> workers_;
};

}  // namespace runtime
