// Records core/v1 Events about an object, aggregated so that a shard that
// fails on every reconcile does not write an Event every time.
//
//   runtime::ClientEventSink sink(client);
//   runtime::EventRecorderOptions options;
//   options.instance = pod_name;
//   runtime::EventRecorder events(sink, options);
//   runtime::ObjectReference set{"electric-operator.dev/v1alpha1", "ElectricShardSet",
//                                "prod", "myapp", uid};
//   events.record(set, runtime::EventType::Warning, "ShardFailed", "shard 3: ...");
//   events.flush();   // now and then (e.g. every 30 s): writes bumped counts
//
// Aggregation follows client-go's EventCorrelator: records with the same
// object, type, reason and message are one Event. The first record creates
// it (count 1); later ones bump the count in memory, and at most once per
// min_write_interval (1 min) the next record or flush() writes the count and
// lastTimestamp with a merge PATCH. A different message is a different
// Event. If the Event vanished (Events expire after an hour) it is created
// anew. Needs only the create and patch verbs on core events.
//
// record() never throws and never waits on another record's API call: the
// aggregation table is locked only while deciding; the write itself is one
// synchronous call to the sink. Memory is bounded: an entry unseen for
// forget_after (10 min) is dropped (with any count not yet written), and at
// most max_tracked entries are kept. Messages are written as given: callers
// must pass text free of secret values.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "kube/result.h"
#include "runtime/clock.h"
#include "runtime/wall_time.h"

namespace kube {
class Client;
}

namespace runtime {

struct ObjectReference {
  std::string api_version;
  std::string kind;
  std::string ns;  // "" for a cluster-scoped object (its Events go to "default")
  std::string name;
  std::string uid;
};

enum class EventType { Normal, Warning };

// Where Events go: create (POST) and merge patch; errors as kube::Error.
class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual kube::Result<nlohmann::json> create(const std::string& ns,
                                              const nlohmann::json& event) = 0;
  virtual kube::Result<nlohmann::json> patch(const std::string& ns, const std::string& name,
                                             const nlohmann::json& merge_patch) = 0;
};

// EventSink over the API server (core/v1 events).
class ClientEventSink final : public EventSink {
 public:
  explicit ClientEventSink(kube::Client& client) : client_(client) {}
  kube::Result<nlohmann::json> create(const std::string& ns,
                                      const nlohmann::json& event) override;
  kube::Result<nlohmann::json> patch(const std::string& ns, const std::string& name,
                                     const nlohmann::json& merge_patch) override;

 private:
  kube::Client& client_;
};

struct EventRecorderOptions {
  // source.component and reportingComponent: the application's name.
  std::string component;
  // source.host and reportingInstance: the pod name (or hostname); omitted
  // when empty.
  std::string instance;
  Duration min_write_interval = std::chrono::minutes(1);
  Duration forget_after = std::chrono::minutes(10);
  size_t max_tracked = 4096;
  // Longer messages are cut (on a UTF-8 boundary) before aggregation.
  size_t max_message_bytes = 1024;
};

class EventRecorder {
 public:
  EventRecorder(EventSink& sink, EventRecorderOptions options = {},
                Clock& clock = system_clock(), WallNow wall_now = system_wall_now);

  // `reason` is CamelCase ("ShardFailed"); `message` is for humans.
  void record(const ObjectReference& object, EventType type, const std::string& reason,
              const std::string& message) noexcept;
  // Writes every count bumped since its Event's last write whose interval
  // has passed, so a burst's final count shows without a further record.
  void flush() noexcept;
  // Aggregation entries held (for tests and a gauge).
  size_t tracked() const;

 private:
  struct Entry {
    ObjectReference object;
    EventType type = EventType::Normal;
    std::string reason;
    std::string message;
    std::string event_name;  // "" until the Event exists
    int64_t count = 0;       // occurrences so far
    int64_t written_count = 0;
    WallTimePoint first_seen_wall;
    WallTimePoint last_seen_wall;
    TimePoint last_seen;
    TimePoint last_write;  // last write attempt, successful or not
    bool attempted = false;
    bool in_flight = false;
  };
  struct Write {
    std::string key;
    std::string ns;
    std::string event_name;  // "" = create
    nlohmann::json create_body;
    nlohmann::json patch_body;
    int64_t count = 0;
  };

  // Under mu_: marks the entry in flight and describes the write.
  Write plan_write_locked(const std::string& key, Entry& entry, TimePoint now);
  nlohmann::json event_body_locked(const Entry& entry, const std::string& name) const;
  void perform(Write& write);
  void evict_locked(TimePoint now);
  // Drops the least recently seen entries not in flight until at most `keep` remain.
  void drop_oldest_locked(size_t keep);
  std::string new_event_name_locked(const std::string& object_name);

  EventSink& sink_;
  EventRecorderOptions options_;
  Clock& clock_;
  WallNow wall_now_;

  mutable std::mutex mu_;
  std::map<std::string, Entry> entries_;
  int64_t last_name_nanos_ = 0;
  TimePoint next_eviction_{};
};

}  // namespace runtime
