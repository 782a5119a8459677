#include "app/shard_set_events.h"

#include "electric/constants.h"
#include "electric/shard_set.h"

namespace app {

using nlohmann::json;

std::unique_ptr<ShardSetEvents> wire_shard_set_events(Caches& caches, runtime::Controller& controller,
                                                      runtime::Registry& registry) {
  ParsedSets& parsed = *caches.parsed_sets;
  auto events = std::make_unique<ShardSetEvents>(caches);
  ReferencedSecrets& refs = caches.referenced_secrets;
  refs.set_fetch_counter(&registry
                              .counter("electric_operator_referenced_secret_fetches_total",
                                       "GETs of Secrets that sets reference (unreferenced ones are never read)")
                              .with({}));
  registry.gauge("electric_operator_referenced_secrets", "Referenced Secrets whose values the operator holds")
      .with({})
      .set_function([&refs] { return static_cast<double>(refs.totals().secrets); });
  registry
      .gauge("electric_operator_referenced_secret_value_bytes",
             "Bytes of referenced Secret values the operator holds (only the keys sets reference)")
      .with({})
      .set_function([&refs] { return static_cast<double>(refs.totals().value_bytes); });
  refs.set_wake([&controller](const std::string& key) { controller.enqueue(key); });

  for (runtime::Informer* sets : caches.sets.informers()) {
    // Before watch_primary: handlers run in the order they were added, and a
    // set's references must be known before its key reaches a worker, or the
    // first reconcile of a new set reads none of its Secrets (SecretNotFound
    // for every shard, measured on a 512-shard set created with its Secrets).
    // Claims and references come from spec and creationTimestamp only:
    // status writes (same generation) change neither.
    sets->add_handler([&refs, &parsed](const runtime::Projection& before, const runtime::Projection& after) {
      if (before && after && before->meta.generation == after->meta.generation) return;
      if (!after) {
        parsed.forget(before->meta.key());
        refs.on_set(before->meta.key(), nullptr);
        return;
      }
      refs.on_set(after->meta.key(), runtime::as<CachedSet>(after)->parsed.get());
    });
    controller.watch_primary(*sets);
  }
  const std::string set_label(electric::kLabelShardSet);
  for (runtime::Informer* inf : caches.secrets.informers()) controller.watch(*inf, runtime::map_by_label(set_label));
  caches.start_secret_references();
  return events;
}

}  // namespace app
