#include "runtime/informer.h"

#include <utility>

#include <spdlog/spdlog.h>

namespace runtime {

Informer::Informer(std::shared_ptr<ListWatcher> source, InformerOptions options,
                   Clock& clock, Random& random)
    : name_(options.watcher.name.empty() ? source->describe() : options.watcher.name),
      clock_(clock),
      store_(std::move(options.projector), std::move(options.indexed_label_keys)),
      watcher_(std::move(source), [this](const WatcherEvent& event) { on_watcher_event(event); },
               clock, random, std::move(options.watcher)) {}

Informer::~Informer() { stop(); }

void Informer::add_handler(EventHandler handler) {
  std::lock_guard<std::mutex> guard(deliver_mu_);
  for (const Projection& object : store_.list()) handler(nullptr, object);
  handlers_.push_back(std::move(handler));
}

void Informer::start() {
  {
    std::lock_guard<std::mutex> guard(sync_mu_);
    if (started_ || stopped_) return;
    started_ = true;
  }
  watcher_.start();
}

void Informer::stop() {
  {
    std::lock_guard<std::mutex> guard(sync_mu_);
    stopped_ = true;
  }
  sync_cv_.notify_all();
  watcher_.stop();
}

bool Informer::has_synced() const {
  std::lock_guard<std::mutex> guard(sync_mu_);
  return synced_;
}

bool Informer::wait_for_sync(Duration timeout) {
  std::unique_lock<std::mutex> lock(sync_mu_);
  const TimePoint deadline = clock_.now() + timeout;
  while (!synced_ && !stopped_ && clock_.now() < deadline)
    clock_.wait_until(sync_cv_, lock, deadline);
  return synced_;
}

void Informer::on_watcher_event(const WatcherEvent& event) {
  switch (event.type) {
    case WatcherEvent::Type::Upsert: {
      std::lock_guard<std::mutex> guard(deliver_mu_);
      Store::Change change = store_.upsert(event.key, *event.object);
      dispatch(change.old_object, change.new_object);
      break;
    }
    case WatcherEvent::Type::Delete: {
      std::lock_guard<std::mutex> guard(deliver_mu_);
      Store::Change change = store_.remove(event.key);
      if (change.old_object) dispatch(change.old_object, nullptr);
      break;
    }
    case WatcherEvent::Type::InitDone: {
      store_.mark_synced();
      {
        std::lock_guard<std::mutex> guard(sync_mu_);
        synced_ = true;
      }
      sync_cv_.notify_all();
      break;
    }
    case WatcherEvent::Type::Restarted:
      spdlog::info("informer {}: relisting; the store stays readable meanwhile", name_);
      break;
  }
}

void Informer::dispatch(const Projection& old_object, const Projection& new_object) {
  for (const EventHandler& handler : handlers_) handler(old_object, new_object);
}

}  // namespace runtime
