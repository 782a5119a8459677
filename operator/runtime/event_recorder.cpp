#include "runtime/event_recorder.h"

#include <algorithm>
#include <cstdio>
#include <vector>

#include <spdlog/spdlog.h>

#include "base/text.h"

namespace runtime {
namespace {

const char* type_name(EventType type) { return type == EventType::Warning ? "Warning" : "Normal"; }

// Cuts at most `max_bytes` without splitting a UTF-8 sequence.
std::string event_namespace(const ObjectReference& object) {
  return object.ns.empty() ? std::string("default") : object.ns;
}

}  // namespace

EventRecorder::EventRecorder(EventSink& sink, EventRecorderOptions options, Clock& clock,
                             WallNow wall_now)
    : sink_(sink),
      options_(std::move(options)),
      clock_(clock),
      wall_now_(wall_now ? std::move(wall_now) : WallNow(system_wall_now)) {}

void EventRecorder::record(const ObjectReference& object, EventType type,
                           const std::string& reason, const std::string& message) noexcept {
  try {
    const TimePoint now = clock_.now();
    const WallTimePoint wall = wall_now_();
    std::string text = base::truncate_utf8(message, options_.max_message_bytes);
    // '\0' cannot occur in Kubernetes names, so the parts cannot run together.
    std::string key = object.ns + '\0' + object.kind + '\0' + object.name + '\0' + object.uid +
                      '\0' + type_name(type) + '\0' + reason + '\0' + text;
    Write write;
    {
      std::lock_guard<std::mutex> guard(mu_);
      evict_locked(now);
      auto it = entries_.find(key);
      if (it == entries_.end()) {
        // Room for the new entry first, so the table never holds more than
        // max_tracked (in-flight entries apart, which cannot be dropped).
        drop_oldest_locked(options_.max_tracked > 0 ? options_.max_tracked - 1 : 0);
        Entry entry;
        entry.object = object;
        entry.type = type;
        entry.reason = reason;
        entry.message = std::move(text);
        entry.first_seen_wall = wall;
        it = entries_.emplace(key, std::move(entry)).first;
      }
      Entry& entry = it->second;
      ++entry.count;
      entry.last_seen = now;
      entry.last_seen_wall = wall;
      bool due = !entry.attempted || now - entry.last_write >= options_.min_write_interval;
      if (entry.in_flight || !due) return;
      write = plan_write_locked(key, entry, now);
    }
    perform(write);
  } catch (const std::exception& e) {
    spdlog::warn("event recorder: dropped {} event: {}", reason, e.what());
  } catch (...) {
    spdlog::warn("event recorder: dropped {} event", reason);
  }
}

void EventRecorder::flush() noexcept {
  try {
    const TimePoint now = clock_.now();
    std::vector<Write> writes;
    {
      std::lock_guard<std::mutex> guard(mu_);
      evict_locked(now);
      for (auto& [key, entry] : entries_) {
        bool pending = entry.count > entry.written_count;
        bool due = !entry.attempted || now - entry.last_write >= options_.min_write_interval;
        if (pending && due && !entry.in_flight) writes.push_back(plan_write_locked(key, entry, now));
      }
    }
    for (Write& write : writes) perform(write);
  } catch (const std::exception& e) {
    spdlog::warn("event recorder: flush failed: {}", e.what());
  } catch (...) {
    spdlog::warn("event recorder: flush failed");
  }
}

size_t EventRecorder::tracked() const {
  std::lock_guard<std::mutex> guard(mu_);
  return entries_.size();
}

EventRecorder::Write EventRecorder::plan_write_locked(const std::string& key, Entry& entry,
                                                      TimePoint now) {
  entry.in_flight = true;
  entry.attempted = true;
  entry.last_write = now;
  Write write;
  write.key = key;
  write.ns = event_namespace(entry.object);
  write.count = entry.count;
  write.event_name = entry.event_name;
  if (entry.event_name.empty()) {
    write.create_body = event_body_locked(entry, new_event_name_locked(entry.object.name));
  } else {
    write.patch_body = {{"count", entry.count},
                        {"lastTimestamp", format_rfc3339(entry.last_seen_wall)}};
  }
  return write;
}

nlohmann::json EventRecorder::event_body_locked(const Entry& entry, const std::string& name) const {
  const ObjectReference& o = entry.object;
  nlohmann::json involved = {{"apiVersion", o.api_version}, {"kind", o.kind}, {"name", o.name}};
  if (!o.ns.empty()) involved["namespace"] = o.ns;
  if (!o.uid.empty()) involved["uid"] = o.uid;
  nlohmann::json source = {{"component", options_.component}};
  if (!options_.instance.empty()) source["host"] = options_.instance;
  nlohmann::json event = {
      {"apiVersion", "v1"},
      {"kind", "Event"},
      {"metadata", {{"name", name}, {"namespace", event_namespace(o)}}},
      {"involvedObject", std::move(involved)},
      {"type", type_name(entry.type)},
      {"reason", entry.reason},
      {"message", entry.message},
      {"count", entry.count},
      {"firstTimestamp", format_rfc3339(entry.first_seen_wall)},
      {"lastTimestamp", format_rfc3339(entry.last_seen_wall)},
      {"source", std::move(source)},
      {"reportingComponent", options_.component},
  };
  if (!options_.instance.empty()) event["reportingInstance"] = options_.instance;
  return event;
}

void EventRecorder::perform(Write& write) {
  std::string created_name;
  bool ok = false;
  std::string failure;
  try {
    if (!write.event_name.empty()) {
      kube::Result<nlohmann::json> patched =
          sink_.patch(write.ns, write.event_name, write.patch_body);
      if (patched.ok()) {
        ok = true;
        created_name = write.event_name;
      } else if (patched.error().is_not_found()) {
        // The Event expired or was deleted: write it again, whole.
        std::lock_guard<std::mutex> guard(mu_);
        auto it = entries_.find(write.key);
        if (it != entries_.end()) {
          write.count = it->second.count;
          write.create_body =
              event_body_locked(it->second, new_event_name_locked(it->second.object.name));
        }
        write.event_name.clear();
      } else {
        failure = patched.error().describe();
      }
    }
    if (!ok && write.event_name.empty() && !write.create_body.is_null()) {
      kube::Result<nlohmann::json> created = sink_.create(write.ns, write.create_body);
      if (created.ok()) {
        ok = true;
        created_name = write.create_body["metadata"]["name"].get<std::string>();
      } else {
        failure = created.error().describe();
      }
    }
  } catch (const std::exception& e) {
    // The entry must leave "in flight" whatever happened, or it would never
    // be written again.
    ok = false;
    failure = e.what();
  } catch (...) {
    ok = false;
    failure = "unknown exception";
  }

  std::lock_guard<std::mutex> guard(mu_);
  auto it = entries_.find(write.key);
  if (it == entries_.end()) return;
  Entry& entry = it->second;
  entry.in_flight = false;
  if (ok) {
    entry.event_name = created_name;
    entry.written_count = write.count;
  } else {
    // Not retried before the interval passes: a struggling API server gets
    // no more than one Event write per minute per distinct Event from us.
    spdlog::warn("event recorder: cannot write {} event for {} {}/{}: {}", entry.reason,
                 entry.object.kind, entry.object.ns, entry.object.name, failure);
  }
}

void EventRecorder::evict_locked(TimePoint now) {
  // A full scan, but at most every few seconds and over a bounded table.
  if (now < next_eviction_ && entries_.size() <= options_.max_tracked) return;
  next_eviction_ = now + std::chrono::seconds(10);
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (!it->second.in_flight && now - it->second.last_seen > options_.forget_after) {
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
  drop_oldest_locked(options_.max_tracked);
}

void EventRecorder::drop_oldest_locked(size_t keep) {
  while (entries_.size() > keep) {
    auto oldest = entries_.end();
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (it->second.in_flight) continue;
      if (oldest == entries_.end() || it->second.last_seen < oldest->second.last_seen) oldest = it;
    }
    if (oldest == entries_.end()) break;
    entries_.erase(oldest);
  }
}

std::string EventRecorder::new_event_name_locked(const std::string& object_name) {
  // client-go's "<name>.<unix nanos in hex>", kept strictly increasing so two
  // Events created in the same nanosecond do not collide.
  int64_t nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(
                      wall_now_().time_since_epoch())
                      .count();
  if (nanos <= last_name_nanos_) nanos = last_name_nanos_ + 1;
  last_name_nanos_ = nanos;
  char hex[32];
  std::snprintf(hex, sizeof hex, "%llx", static_cast<unsigned long long>(nanos));
  return object_name + "." + hex;
}

}  // namespace runtime
