// Which events wake which sets, for the ElectricShardSet controller: a set's
// own changes wake it; its own Secrets wake it by label; a referenced Secret
// or a change of stream claims wakes only the sets it touches
// (app::ReferencedSecrets), never every set.
//
//   auto events = app::wire_shard_set_events(caches, controller, registry);
//   controller.start(timeout);
//   ...
//   events.reset();   // before the controller goes: no wake after this
#pragma once

#include <memory>

#include "app/caches.h"
#include "runtime/controller.h"
#include "runtime/metrics.h"

namespace app {

// Keeps the wiring alive; destroying it stops wakes into the controller.
class ShardSetEvents {
 public:
  explicit ShardSetEvents(Caches& caches) : caches_(caches) {}
  ~ShardSetEvents() { caches_.referenced_secrets.set_wake(nullptr); }
  ShardSetEvents(const ShardSetEvents&) = delete;
  ShardSetEvents& operator=(const ShardSetEvents&) = delete;

 private:
  Caches& caches_;
};

// Registers the sets' informers as the controller's primary objects and the
// operator's Secrets by label, feeds sets to caches.referenced_secrets,
// registers its metrics (electric_operator_referenced_secrets,
// _referenced_secret_value_bytes, _referenced_secret_fetches_total) and
// starts the Secret metadata watches. Call once, before controller.start.
std::unique_ptr<ShardSetEvents> wire_shard_set_events(Caches& caches, runtime::Controller& controller,
                                                      runtime::Registry& registry);

}  // namespace app
