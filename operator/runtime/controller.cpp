#include "runtime/controller.h"

#include <algorithm>
#include <exception>
#include <utility>

#include <spdlog/spdlog.h>

#include "runtime/object_key.h"

namespace runtime {
namespace {

std::string api_group_of(const std::string& api_version) {
  auto slash = api_version.find('/');
  return slash == std::string::npos ? "" : api_version.substr(0, slash);
}

// How often start() re-checks informers while it waits for them to sync.
constexpr std::chrono::milliseconds kSyncPollInterval{100};

}  // namespace

KeyMapper map_by_owner_reference(std::string owner_kind, std::string owner_api_group,
                                 bool controller_only) {
  return [owner_kind = std::move(owner_kind), owner_api_group = std::move(owner_api_group),
          controller_only](const Projection& object) {
    std::vector<std::string> keys;
    if (!object) return keys;
    for (const OwnerReference& ref : object->meta.owners) {
      if (ref.kind != owner_kind || (controller_only && !ref.controller)) continue;
      if (!owner_api_group.empty() && api_group_of(ref.api_version) != owner_api_group) continue;
      if (!ref.name.empty()) keys.push_back(object_key(object->meta.namespace_name, ref.name));
    }
    return keys;
  };
}

KeyMapper map_by_label(std::string label_key) {
  return [label_key = std::move(label_key)](const Projection& object) {
    std::vector<std::string> keys;
    if (!object) return keys;
    const std::string* value = object->meta.label(label_key);
    if (value && !value->empty()) keys.push_back(object_key(object->meta.namespace_name, *value));
    return keys;
  };
}

Controller::Controller(ControllerOptions options, Reconciler reconciler)
    : options_(std::move(options)),
      clock_(options_.clock ? *options_.clock : system_clock()),
      reconciler_(std::move(reconciler)) {
  if (options_.workers < 1) options_.workers = 1;
  if (!options_.observer) options_.observer = std::make_shared<ControllerObserver>();
  queue_ = std::make_shared<WorkQueue>(options_.name, clock_,
                                       default_controller_rate_limiter(clock_, options_.rate_limits),
                                       options_.queue_observer);
}

Controller::~Controller() {
  stop(Duration::zero());
  for (std::thread& worker : workers_)
    if (worker.joinable()) worker.join();
}

void Controller::watch_primary(Informer& informer) {
  informer.add_handler([queue = queue_](const Projection& old_object, const Projection& new_object) {
    const Projection& object = new_object ? new_object : old_object;
    if (!object) return;
    if (!object->meta.name.empty()) queue->add(object->meta.key());
  });
  if (std::find(informers_.begin(), informers_.end(), &informer) == informers_.end())
    informers_.push_back(&informer);
}

void Controller::watch(Informer& informer, KeyMapper mapper) {
  informer.add_handler([queue = queue_, mapper = std::move(mapper)](const Projection& old_object,
                                                                  const Projection& new_object) {
    // Both states usually map to the same owner: add it once, or a worker
    // could take the first add and the second would force a needless re-run.
    std::vector<std::string> keys;
    if (old_object) keys = mapper(old_object);
    if (new_object) {
      for (std::string& key : mapper(new_object))
        if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(std::move(key));
    }
    for (const std::string& key : keys) queue->add(key);
  });
  if (std::find(informers_.begin(), informers_.end(), &informer) == informers_.end())
    informers_.push_back(&informer);
}

bool Controller::start(Duration sync_timeout) {
  {
    std::lock_guard<std::mutex> guard(mu_);
    if (started_) return !workers_.empty();
    started_ = true;
  }
  for (Informer* informer : informers_) informer->start();
  const TimePoint deadline = clock_.now() + sync_timeout;
  {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      if (stopping_) return false;
      bool all_synced = std::all_of(informers_.begin(), informers_.end(),
                                    [](Informer* informer) { return informer->has_synced(); });
      if (all_synced) break;
      const TimePoint now = clock_.now();
      if (now >= deadline) {
        for (Informer* informer : informers_)
          if (!informer->has_synced())
            spdlog::error("controller {}: informer {} did not sync in time", options_.name,
                          informer->name());
        return false;
      }
      clock_.wait_until(gate_cv_, lock, std::min(deadline, now + kSyncPollInterval));
    }
    for (int i = 0; i < options_.workers; ++i) workers_.emplace_back([this] { work(); });
  }
  spdlog::info("controller {}: caches synced, {} workers started", options_.name,
               options_.workers);
  return true;
}

bool Controller::stop(Duration grace) {
  {
    std::lock_guard<std::mutex> guard(mu_);
    stopping_ = true;
  }
  gate_cv_.notify_all();
  const bool drained = queue_->shutdown_with_drain(grace);
  if (!drained) {
    spdlog::warn("controller {}: reconciles still running after the grace period",
                 options_.name);
    return false;
  }
  std::vector<std::thread> workers;
  {
    std::lock_guard<std::mutex> guard(mu_);
    workers.swap(workers_);
  }
  for (std::thread& worker : workers)
    if (worker.joinable()) worker.join();
  return true;
}

void Controller::set_leading(bool leading) {
  {
    std::lock_guard<std::mutex> guard(mu_);
    leading_ = leading;
  }
  gate_cv_.notify_all();
}

bool Controller::leading() const {
  std::lock_guard<std::mutex> guard(mu_);
  return leading_;
}

void Controller::work() {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      gate_cv_.wait(lock, [&] { return leading_ || stopping_; });
      if (stopping_) return;
    }
    std::optional<std::string> key = queue_->get();
    if (!key) return;
    if (!leading()) {
      // Leadership went away while this worker waited: hand the key back
      // (add marks it dirty, done re-queues it) for whoever leads next.
      queue_->add(*key);
      queue_->done(*key);
      continue;
    }
    reconcile_one(*key);
  }
}

void Controller::reconcile_one(const std::string& key) {
  options_.observer->on_active_workers(++active_);
  const TimePoint started = clock_.now();
  ReconcileResult result;
  try {
    result = reconciler_(key);
  } catch (const std::exception& e) {
    // A bug in one reconcile must not take the worker (and the operator)
    // down; it is retried with backoff like any error, and logged loudly.
    spdlog::error("controller {}: reconcile of {} threw: {}", options_.name, key, e.what());
    result = ReconcileResult::error(std::string("reconcile threw: ") + e.what());
  } catch (...) {
    spdlog::error("controller {}: reconcile of {} threw a non-exception", options_.name, key);
    result = ReconcileResult::error("reconcile threw");
  }
  switch (result.kind) {
    case ReconcileResult::Kind::Done:
      queue_->forget(key);
      break;
    case ReconcileResult::Kind::RequeueAfter:
      queue_->forget(key);
      queue_->add_after(key, result.requeue_after);
      break;
    case ReconcileResult::Kind::Error:
      spdlog::warn("controller {}: reconcile of {} failed (retry {}): {}", options_.name, key,
                   queue_->num_requeues(key) + 1, result.message);
      queue_->add_rate_limited(key);
      break;
  }
  queue_->done(key);
  options_.observer->on_reconcile(result.kind, clock_.now() - started);
  options_.observer->on_active_workers(--active_);
}

}  // namespace runtime
