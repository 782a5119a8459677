#include "runtime/watcher.h"

#include <algorithm>
#include <optional>
#include <unordered_set>
#include <utility>

#include <spdlog/spdlog.h>

#include "runtime/object_key.h"

namespace runtime {
namespace {

std::string resource_version_of(const nlohmann::json& object) {
  if (!object.is_object()) return {};
  auto metadata = object.find("metadata");
  if (metadata == object.end() || !metadata->is_object()) return {};
  auto rv = metadata->find("resourceVersion");
  return (rv != metadata->end() && rv->is_string()) ? rv->get<std::string>() : "";
}

// A metav1.Status from an ERROR watch event, as the Error a failed call gives.
kube::Error error_from_status(const nlohmann::json& status) {
  kube::Error error;
  if (status.is_object()) {
    error.http_code = status.value("code", 0);
    error.reason = status.value("reason", "");
    error.message = status.value("message", "");
  }
  if (error.reason.empty()) error.reason = "WatchError";
  return error;
}

// "Expired"/"Gone" without a code still means our resourceVersion is too old.
bool is_gone(const kube::Error& error) {
  return error.is_gone() || error.reason == "Expired" || error.reason == "Gone";
}

std::string describe(const kube::Error& error) {
  std::string text = std::to_string(error.http_code) + " " + error.reason;
  if (!error.message.empty()) text += ": " + error.message;
  return text;
}

}  // namespace

Watcher::Watcher(std::shared_ptr<ListWatcher> source, WatcherSink sink, Clock& clock,
                 Random& random, WatcherOptions options)
    : source_(std::move(source)),
      sink_(std::move(sink)),
      clock_(clock),
      random_(random),
      options_(std::move(options)),
      backoff_(options_.backoff, clock, random) {
  if (options_.name.empty()) options_.name = source_->describe();
  status_.last_progress = clock_.now();
}

Watcher::~Watcher() { stop(); }

void Watcher::start() {
  thread_ = std::thread([this] { run(); });
}

void Watcher::stop() {
  std::shared_ptr<kube::Cancellation> open;
  {
    std::lock_guard<std::mutex> guard(mu_);
    stopping_ = true;
    open = open_watch_;
  }
  // Outside mu_: cancelling runs the transport's abort callbacks.
  if (open) open->cancel();
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

WatcherStatus Watcher::status() const {
  std::lock_guard<std::mutex> guard(mu_);
  return status_;
}

void Watcher::run() {
  bool need_list = true;
  while (!stopping()) {
    if (need_list) {
      kube::Done listed = relist();
      if (stopping()) return;
      if (!listed.ok()) {
        back_off(listed.error(), "list");
        continue;
      }
      need_list = false;
    }
    bool gone = false;
    kube::Done watched = watch_once(gone);
    if (stopping()) return;
    if (gone) {
      need_list = true;
      spdlog::info("watch {}: resourceVersion {} expired, relisting", options_.name,
                   resume_rv_);
    }
    if (!watched.ok()) back_off(watched.error(), "watch");
  }
}

kube::Done Watcher::relist() {
  const bool first = status().lists == 0;
  if (!first) emit(WatcherEvent::Type::Restarted, {}, nullptr);

  std::unordered_set<std::string> listed;
  kube::ListOptions page_options;
  page_options.limit = options_.page_size;
  std::string list_rv;
  do {
    kube::Result<kube::ObjectList> page = source_->list_page(page_options);
    if (stopping()) return kube::ok();
    if (!page.ok()) return page.error();
    note_progress();
    // Every page of one list is the same snapshot, so any page's RV will do.
    if (!page.value().resource_version.empty()) list_rv = page.value().resource_version;
    for (const nlohmann::json& item : page.value().items) {
      std::string key = object_key(item);
      if (key.empty()) continue;
      listed.insert(key);
      std::string rv = resource_version_of(item);
      auto known = delivered_.find(key);
      if (known != delivered_.end() && known->second == rv && !rv.empty()) continue;
      delivered_[key] = rv;
      emit(WatcherEvent::Type::Upsert, key, &item);
      if (stopping()) return kube::ok();
    }
    page_options.continue_token = page.value().continue_token;
  } while (!page_options.continue_token.empty());

  for (auto it = delivered_.begin(); it != delivered_.end();) {
    if (listed.count(it->first)) {
      ++it;
      continue;
    }
    std::string key = it->first;
    it = delivered_.erase(it);
    emit(WatcherEvent::Type::Delete, key, nullptr);
  }
  resume_rv_ = list_rv;
  {
    std::lock_guard<std::mutex> guard(mu_);
    status_.synced = true;
    status_.lists += 1;
    status_.resource_version = resume_rv_;
  }
  note_success();
  emit(WatcherEvent::Type::InitDone, {}, nullptr);
  return kube::ok();
}

kube::Done Watcher::watch_once(bool& gone) {
  kube::WatchOptions watch_options;
  watch_options.resource_version = resume_rv_;
  watch_options.allow_bookmarks = true;
  const int spread = std::max(0, options_.max_timeout_seconds - options_.min_timeout_seconds);
  watch_options.timeout_seconds =
      options_.min_timeout_seconds +
      std::min(spread, static_cast<int>(random_.uniform() * (spread + 1)));

  // A fresh Cancellation per stream: a transport's abort callback may refer
  // to that stream's state, which must not be touched after it ends.
  auto cancel = std::make_shared<kube::Cancellation>();
  {
    std::lock_guard<std::mutex> guard(mu_);
    if (stopping_) return kube::ok();
    open_watch_ = cancel;
  }
  note_progress();
  const TimePoint opened = clock_.now();
  int events = 0;
  std::optional<kube::Error> stream_error;

  kube::Done result = source_->watch(
      watch_options,
      [&](const kube::WatchEvent& event) {
        if (stopping()) return false;
        using Type = kube::WatchEvent::Type;
        if (event.type == Type::Error) {
          stream_error = error_from_status(event.object);
          return false;
        }
        std::string rv = resource_version_of(event.object);
        if (event.type == Type::Bookmark) {
          // A bookmark carries only a resourceVersion: nothing to deliver,
          // but resuming from it avoids replaying (or losing) history.
        } else {
          std::string key = object_key(event.object);
          if (!key.empty()) {
            if (event.type == Type::Deleted) {
              if (delivered_.erase(key)) emit(WatcherEvent::Type::Delete, key, &event.object);
            } else {
              delivered_[key] = rv;
              emit(WatcherEvent::Type::Upsert, key, &event.object);
            }
          }
        }
        if (!rv.empty()) resume_rv_ = rv;
        ++events;
        {
          std::lock_guard<std::mutex> guard(mu_);
          status_.resource_version = resume_rv_;
        }
        note_success();
        return true;
      },
      *cancel);

  {
    std::lock_guard<std::mutex> guard(mu_);
    open_watch_.reset();
  }
  if (stopping()) return kube::ok();
  if (stream_error) result = *stream_error;
  if (!result.ok() && result.error().reason == kube::kWatchIdleReason) {
    // Maybe a dead connection, maybe a quiet one: the API server sends no
    // bookmark while nothing of this kind changes. Either way, a new watch.
    spdlog::debug("watch {}: resuming from {}: {}", options_.name, resume_rv_, result.error().message);
    note_progress();
    return kube::ok();
  }
  if (!result.ok()) {
    gone = is_gone(result.error());
    return result;
  }
  note_progress();
  if (events == 0 && clock_.now() - opened < options_.min_healthy_watch) {
    return kube::Error{0, "WatchClosedEarly", "the watch stream ended at once without an event", {}};
  }
  return kube::ok();
}

void Watcher::emit(WatcherEvent::Type type, const std::string& key,
                   const nlohmann::json* object) {
  WatcherEvent event;
  event.type = type;
  event.key = key;
  event.object = object;
  sink_(event);
}

void Watcher::note_progress() {
  TimePoint now = clock_.now();
  std::lock_guard<std::mutex> guard(mu_);
  status_.last_progress = now;
}

void Watcher::note_success() {
  TimePoint now = clock_.now();
  std::lock_guard<std::mutex> guard(mu_);
  status_.last_progress = now;
  status_.consecutive_failures = 0;
  status_.last_error.clear();
}

void Watcher::back_off(const kube::Error& error, const char* during) {
  const Duration delay = backoff_.next();
  const std::string what = describe(error);
  int failures = 0;
  {
    std::lock_guard<std::mutex> guard(mu_);
    // Waiting out a backoff is healthy behaviour, not a stuck watcher.
    status_.last_progress = clock_.now();
    failures = ++status_.consecutive_failures;
    status_.last_error = what;
  }
  spdlog::warn("watch {}: {} failed ({} in a row): {}; retrying in {} ms", options_.name,
               during, failures, what,
               std::chrono::duration_cast<std::chrono::milliseconds>(delay).count());

  std::unique_lock<std::mutex> lock(mu_);
  const TimePoint deadline = clock_.now() + delay;
  while (!stopping_ && clock_.now() < deadline) clock_.wait_until(wake_, lock, deadline);
}

}  // namespace runtime
