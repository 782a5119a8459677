#include "app/shard_set_reconciler.h"

#include <openssl/rand.h>

#include <ctime>
#include <stdexcept>

#include <spdlog/spdlog.h>

#include "app/drift.h"
#include "app/logging.h"
#include "base/json_pointer.h"
#include "base/text.h"
#include "electric/constants.h"
#include "electric/database_url.h"
#include "electric/digest.h"
#include "electric/labels.h"
#include "electric/naming.h"
#include "electric/render.h"
#include "electric/stream_conflict.h"
#include "runtime/parallel.h"

namespace app {

using nlohmann::json;

namespace {

const std::string kShardSetLabel(electric::kLabelShardSet);
const std::string kShardLabel(electric::kLabelShard);
// How soon a reconcile that came before the first reads of referenced
// Secrets finished tries again (only right after start-up).
constexpr auto kReferencesNotReadyRetry = std::chrono::milliseconds(200);
// How soon a reconcile whose finalizer patch met a newer set (the cache
// lags its own writes) tries again.
constexpr auto kStaleSetRetry = std::chrono::milliseconds(200);
// Of an API server's refusal in a shard's status (an aggregate of field
// errors can run to kilobytes; the Event has the whole).
constexpr size_t kMaxRefusalMessage = 1024;

std::string text_at(const json& obj, const json::json_pointer& ptr) {
  return obj.contains(ptr) && obj[ptr].is_string() ? obj[ptr].get<std::string>() : std::string();
}

// The API secret <set>-api-secret holds; none when absent or empty.
std::optional<std::string> api_secret_value(const CachedSecret* secret) {
  if (!secret) return std::nullopt;
  auto value = secret->data.find(std::string(electric::kApiSecretKey));
  if (value == secret->data.end()) return std::nullopt;
  return electric::base64_decode(value->second);
}

std::optional<std::string> cached_api_secret(const ReconcileInputs& inputs, const std::string& ns,
                                             const std::string& name) {
  return api_secret_value(runtime::as<CachedSecret>(inputs.child("Secret", ns, name)));
}

}  // namespace

std::string openssl_random_bytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    throw std::runtime_error("OpenSSL's random generator failed");
  }
  return out;
}

std::string rfc3339_now() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

ShardSetReconciler::ShardSetReconciler(kube::ObjectWriter& client, const ReconcileInputs& inputs,
                                       runtime::EventRecorder& events, ReconcilerOptions options)
    : client_(client),
      inputs_(inputs),
      events_(events),
      options_(std::move(options)),
      settle_(options_.clock ? *options_.clock : runtime::system_clock(), options_.summary_settle_window),
      summary_writes_(options_.summary_writer_threads) {
  if (!options_.now) options_.now = rfc3339_now;
  if (!options_.random_bytes) {
    options_.random_bytes = [] { return openssl_random_bytes(electric::kApiSecretRandomBytes); };
  }
}

kube::Result<std::string> ShardSetReconciler::ensure_api_secret(const electric::ShardSet& set) {
  const std::string name = electric::api_secret_name(set.name);
  if (auto v = cached_api_secret(inputs_, set.namespace_name, name)) return *v;
  // Absent, or someone emptied it: make a new one.
  // Created once, never changed (api.md): create, not apply, so two
  // reconciles racing on a fresh set cannot overwrite each other's value.
  std::string value = electric::hex_encode(options_.random_bytes());
  auto created = client_.create(kube::kSecrets, set.namespace_name, electric::render_api_secret(set, value));
  if (created.ok()) {
    spdlog::info("created Secret {} with a new API secret", name);
    return value;
  }
  if (!created.error().is_conflict()) return created.error();
  auto live = client_.get(kube::kSecrets, set.namespace_name, name);
  if (!live.ok()) return live.error();
  if (auto v = api_secret_value(project_secret(live.value()).get())) {
    // Made by someone else, without our labels: the operator caches only
    // labelled Secrets, so label it (a merge patch: the value and its owner
    // stay as they are) rather than create, conflict and GET every reconcile.
    const json::json_pointer managed("/metadata/labels/" + base::pointer_token(std::string(electric::kLabelManagedBy)));
    if (text_at(live.value(), managed) != electric::kLabelManagedByValue) {
      json labels = electric::set_labels(set.name, electric::kComponentShard);
      auto labelled = client_.merge_patch(kube::kSecrets, set.namespace_name, name, {{"metadata", {{"labels", labels}}}});
      if (!labelled.ok()) spdlog::warn("cannot label Secret {}: {}", name, labelled.error().describe());
    }
    return *v;
  }
  // It exists without the key: give it one (the only case we overwrite).
  auto applied = client_.apply(kube::kSecrets, set.namespace_name, name, electric::render_api_secret(set, value));
  if (!applied.ok()) return applied.error();
  return value;
}

bool ShardSetReconciler::cached_as_applied(const std::string& ns, const json& desired) const {
  if (!child_resource(desired.value("kind", ""))) return true;  // not a kind the operator writes
  return carries_digest(owned_fields_digest(desired),
                        inputs_.child(desired.value("kind", ""), ns, desired["metadata"].value("name", "")));
}

std::optional<ShardSetReconciler::ChildFailure> ShardSetReconciler::apply_child(
    const std::string& ns, const json& desired, const runtime::ObjectReference& set_ref) {
  const std::string kind = desired.value("kind", "");
  const std::string child_name = desired["metadata"].value("name", "");
  const kube::Resource& resource = *child_resource(kind);
  auto failed = [&](const kube::Error& error) {
    const std::string message = kind + " " + child_name + ": " + error.message;
    events_.record(set_ref, runtime::EventType::Warning, "ApplyFailed", message);
    return ChildFailure{"apply " + kind + " " + child_name + ": " + error.describe(), error.is_refusal(),
                        base::truncate_utf8(message, kMaxRefusalMessage)};
  };
  bool looked = false;
  std::vector<DisplacedEntry> after_apply;
  auto look = [&] {
    looked = true;
    return remove_displaced_entries(resource, ns, desired, set_ref, after_apply);
  };
  const auto* cached = runtime::as<CachedChild>(inputs_.child(kind, ns, child_name));
  if (cached && cached->foreign_list_entries) {
    auto removed = look();
    if (!removed.ok()) return failed(removed.error());
  }
  auto applied = client_.apply(resource, ns, child_name, desired);
  // Refused, perhaps for an entry the cache has not shown yet: one look, so
  // a refusal for another reason is not retried in a loop.
  if (!applied.ok() && applied.error().is_invalid() && !looked) {
    auto removed = look();
    if (removed.ok() && removed.value() > 0) applied = client_.apply(resource, ns, child_name, desired);
  }
  if (!applied.ok()) return failed(applied.error());
  learn_normal_form(desired, applied.value());
  if (!after_apply.empty()) {
    auto removed = remove_entries(resource, desired, applied.value(), relocated(after_apply, applied.value()), set_ref);
    if (!removed.ok()) return failed(removed.error());
  }
  return std::nullopt;
}

kube::Result<size_t> ShardSetReconciler::remove_displaced_entries(const kube::Resource& resource,
                                                                  const std::string& ns, const json& desired,
                                                                  const runtime::ObjectReference& set_ref,
                                                                  std::vector<DisplacedEntry>& after_apply) {
  auto live = client_.get(resource, ns, desired["metadata"].value("name", ""));
  if (!live.ok()) return live.error().is_not_found() ? kube::Result<size_t>(size_t{0}) : live.error();
  std::vector<DisplacedEntry> displaced = displaced_entries(desired, live.value());
  auto removed = remove_entries(resource, desired, live.value(), displaced, set_ref);
  // Invalid without the apply (a renamed volume that its mount, renamed
  // too, still names): the apply makes it removable.
  if (!removed.ok() && removed.error().is_invalid()) {
    after_apply = std::move(displaced);
    return size_t{0};
  }
  return removed;
}

kube::Result<size_t> ShardSetReconciler::remove_entries(const kube::Resource& resource, const json& desired,
                                                        const json& live, const std::vector<DisplacedEntry>& entries,
                                                        const runtime::ObjectReference& set_ref) {
  if (entries.empty()) return size_t{0};
  const std::string ns = live["metadata"].value("namespace", "");
  const std::string child_name = live["metadata"].value("name", "");
  auto patched = client_.json_patch(resource, ns, child_name, removal_patch(entries, desired, live));
  if (!patched.ok()) return patched.error();
  for (const DisplacedEntry& entry : entries) {
    const std::string what = resource.kind + " " + child_name + " " + describe(entry);
    spdlog::info("removed another manager's entry of {}", what);
    events_.record(set_ref, runtime::EventType::Normal, "ForeignEntryRemoved", what);
  }
  return entries.size();
}

int ShardSetReconciler::apply_children(const std::string& ns, const std::vector<const json*>& bodies,
                                       const runtime::ObjectReference& set_ref, std::vector<std::string>& errors,
                                       std::map<std::string, std::string>* refused) {
  const std::optional<LogFields> log_fields = current_log_fields();
  std::mutex errors_mu;
  for (size_t begin = 0, end = 0; begin < bodies.size(); begin = end) {
    const std::string kind = bodies[begin]->value("kind", "");
    for (end = begin + 1; end < bodies.size() && bodies[end]->value("kind", "") == kind;) ++end;
    runtime::parallel_for(end - begin, options_.apply_concurrency, [&](size_t i) {
      std::optional<LogContext> context;
      if (log_fields) context.emplace(*log_fields);  // a helper thread logs as the reconcile does
      auto failure = apply_child(ns, *bodies[begin + i], set_ref);
      if (!failure) return;
      const std::string shard =
          text_at(*bodies[begin + i], json::json_pointer("/metadata/labels/" + base::pointer_token(kShardLabel)));
      std::lock_guard<std::mutex> lock(errors_mu);
      errors.push_back(std::move(failure->error));
      if (refused && failure->refused && !shard.empty()) refused->emplace(shard, std::move(failure->message));
    });
  }
  return static_cast<int>(bodies.size());
}

bool ShardSetReconciler::carries_digest(const std::string& digest, const runtime::Projection& live) const {
  const auto* child = runtime::as<CachedChild>(live);
  return child && normal_forms_.same(digest, child->owned_digest);
}

std::shared_ptr<electric::RenderMemo> ShardSetReconciler::render_memo(const std::string& key) {
  std::lock_guard<std::mutex> lock(memos_mu_);
  auto& memo = memos_[key];
  if (!memo) memo = std::make_shared<electric::RenderMemo>(owned_fields_digest);
  return memo;
}

void ShardSetReconciler::learn_normal_form(const json& desired, const json& applied) {
  const json stored = applied_fields(applied, electric::kFieldManager);
  if (stored.empty()) return;  // a response without our managedFields entry tells nothing
  const std::string want = owned_fields_digest(desired);
  const std::string got = owned_fields_digest(stored);
  if (want != got && normal_forms_.learn(want, got)) {
    spdlog::warn("the API server stored {} {} in a form the operator does not predict; it compares by "
                 "what it stored from now on",
                 desired.value("kind", ""), desired["metadata"].value("name", ""));
  }
}

bool NormalForms::same(const std::string& desired, const std::string& live) const {
  if (desired == live) return true;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = stored_as_.find(desired);
  return it != stored_as_.end() && it->second == live;
}

bool NormalForms::learn(const std::string& desired, const std::string& live) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stored_as_.size() >= kMaxEntries) stored_as_.clear();  // bounded: at worst one more apply each
  auto [it, inserted] = stored_as_.insert_or_assign(desired, live);
  (void)it;
  return inserted;
}

runtime::ObjectReference ShardSetReconciler::reference_to(const electric::ShardSet& set) {
  return {std::string(electric::kApiVersion), std::string(electric::kKind), set.namespace_name, set.name, set.uid};
}

void ShardSetReconciler::record_events(const runtime::ObjectReference& set_ref,
                                       const std::vector<electric::EventNote>& notes) {
  for (const electric::EventNote& note : notes)
    events_.record(set_ref, note.type == "Warning" ? runtime::EventType::Warning : runtime::EventType::Normal,
                   note.reason, note.message);
}

void ShardSetReconciler::observe_children(const std::string& key, const electric::ShardSet& set,
                                          electric::Observed& observed) const {
  for (const KindedChild& cached : inputs_.children_of(set.namespace_name, set.name)) {
    const runtime::ObjectMeta& meta = cached.object->meta;
    const std::string* shard = meta.label(kShardLabel);
    electric::LiveChild live{cached.kind, meta.name, shard ? *shard : "", meta.uid, meta.owned_by(set.uid)};
    live.being_deleted = meta.being_deleted;
    if (const auto* secret = runtime::as<CachedSecret>(cached.object)) live.database_server = secret->database_server;
    observed.children.push_back(std::move(live));
    if (const auto* deployment = runtime::as<CachedDeployment>(cached.object))
      observed.deployments[meta.name] = deployment->facts;
    if (const auto* pvc = runtime::as<CachedPvc>(cached.object)) observed.pvcs[meta.name] = pvc->facts;
  }
  if (options_.database_checker) {
    observed.slot_cleanup_on = true;
    observed.slot_cleanups = options_.database_checker->slot_cleanups(key);
  }
}

int ShardSetReconciler::remove_children(const std::string& ns, const std::vector<electric::Removal>& removals,
                                        std::vector<std::string>& errors) {
  int writes = 0;
  for (const electric::Removal& removal : removals) {
    kube::DeleteOptions options;
    options.precondition_uid = removal.uid;
    if (removal.foreground) options.propagation = kube::Propagation::Foreground;
    const kube::Resource* resource = child_resource(removal.kind);
    if (!resource) continue;
    auto removed = client_.remove(*resource, ns, removal.name, options);
    ++writes;
    if (!removed.ok() && !removed.error().is_not_found()) {
      errors.push_back("delete " + removal.kind + " " + removal.name + ": " + removed.error().describe());
    } else {
      spdlog::info("deleted {} {}", removal.kind, removal.name);
    }
  }
  return writes;
}

base::Expected<bool, std::string> ShardSetReconciler::set_slot_finalizer(const CachedSet& cached, bool present) {
  const std::string finalizer(electric::kFinalizerReplicationSlots);
  json finalizers = json::array();
  for (const std::string& f : cached.finalizers)
    if (f != finalizer) finalizers.push_back(f);
  if (present) finalizers.push_back(finalizer);
  // The whole list, at the resourceVersion it was read at: a list changed
  // meanwhile (another controller's finalizer) is a conflict, not lost.
  const json patch = {{"metadata", {{"finalizers", finalizers}, {"resourceVersion", cached.meta.resource_version}}}};
  auto patched = client_.merge_patch(kShardSets, cached.meta.namespace_name, cached.meta.name, patch);
  if (!patched.ok() && patched.error().is_conflict()) return false;
  if (!patched.ok() && !patched.error().is_not_found())
    return std::string(present ? "add" : "remove") + " finalizer " + finalizer + ": " + patched.error().describe();
  spdlog::info("{} finalizer {}", present ? "added" : "removed", finalizer);
  return true;
}

std::optional<std::string> ShardSetReconciler::hand_over_slot_cleanups(
    const std::string& key, const std::string& ns, const std::vector<electric::SlotCleanupRequest>& requests,
    const electric::SecretReader& read_secret) {
  DatabaseChecker& checker = *options_.database_checker;
  const auto held = checker.slot_cleanups(key);
  std::vector<DatabaseChecker::SlotCleanup> due;
  std::optional<std::string> error;
  for (const electric::SlotCleanupRequest& request : requests) {
    DatabaseChecker::SlotCleanup work{request.shard, request.slot, request.publication, std::nullopt};
    auto known = held.find(request.shard);
    if (known != held.end() && known->second.slot == request.slot &&
        known->second.state == electric::SlotCleanupState::Dropped) {
      due.push_back(std::move(work));  // done: its Secret may already be gone
      continue;
    }
    // Read each time, so a fixed password is used and a deleted Secret (a
    // namespace going) lets the set go. A user's Secret is in the cache; a
    // kept shard Secret is read with a GET.
    electric::SecretLookup url = read_secret(request.database_url);
    if (url.state != electric::SecretLookup::State::Found) {
      auto live = client_.get(kube::kSecrets, ns, request.database_url.name);
      if (!live.ok() && !live.error().is_not_found()) {
        error = "read Secret " + request.database_url.name + ": " + live.error().describe();
        continue;
      }
      if (live.ok()) url = electric::lookup_secret_key(live.value(), request.database_url.key);
    }
    const bool found = url.state == electric::SecretLookup::State::Found;
    if (auto parsed = electric::parse_database_url(found ? url.value : std::string()); found && parsed) {
      work.connection = electric::connection_settings(*parsed);
    } else {
      checker.settle_slot(key, request.shard,
                          {electric::SlotCleanupState::Unresolvable, request.slot,
                           "Secret \"" + request.database_url.name + "\" key \"" + request.database_url.key +
                               "\" holds no database URL the operator can connect with, so the slot and "
                               "publication are not dropped: drop them by hand"});
    }
    due.push_back(std::move(work));
  }
  checker.clean_slots(key, due);
  return error;
}

runtime::ReconcileResult ShardSetReconciler::reconcile_deletion(const std::string& key, const CachedSet& cached) {
  const electric::ParsedShardSet& parsed = *cached.parsed;
  const electric::ShardSet& set = parsed.set;
  DatabaseChecker* checker = options_.database_checker;
  if (!set.has_slot_finalizer) {
    if (checker) checker->forget(key);
    return runtime::ReconcileResult::done();  // children go by GC
  }
  if (checker) (void)checker->observe(key, {});  // no checks (nor their metrics) for a set on its way out
  electric::Observed observed;
  observed.read_secret = inputs_.secret_reader(set.namespace_name);
  observe_children(key, set, observed);
  const json previous_status = cached.status();
  const electric::DeletionPlan plan = electric::plan_set_deletion(parsed, observed, previous_status);
  record_events(reference_to(set), plan.events);
  std::vector<std::string> errors;
  remove_children(set.namespace_name, plan.remove, errors);
  if (checker) {
    if (auto error = hand_over_slot_cleanups(key, set.namespace_name, plan.slot_cleanups, observed.read_secret))
      errors.push_back(*error);
  }
  if (plan.release_finalizer) {
    auto released = set_slot_finalizer(cached, false);
    if (!released) errors.push_back(released.error());
    else if (!*released) return runtime::ReconcileResult::requeue(kStaleSetRetry);
    else if (checker) checker->forget(key);
  } else {
    const json waiting = electric::retained_replication_slots_to_json(plan.waiting);
    if (previous_status.value("retainedReplicationSlots", json()) != waiting) {
      auto written = client_.merge_patch(kShardSets, set.namespace_name, set.name,
                                         json{{"status", {{"retainedReplicationSlots", waiting}}}}, "status");
      if (!written.ok() && !written.error().is_not_found()) errors.push_back("status: " + written.error().describe());
    }
  }
  if (!errors.empty()) return runtime::ReconcileResult::error(errors.front());
  return runtime::ReconcileResult::done();
}

runtime::Duration ShardSetReconciler::hand_over_summary(const std::string& key, const runtime::ObjectReference& set_ref,
                                                        const std::vector<const json*>& applies,
                                                        std::optional<json> status) {
  // Named by a digest of what it writes, computed only when it is needed:
  // most reconciles of a rolling set are held by the settle window with
  // nothing in flight, and the digest reads the whole status.
  auto digest = [&] {
    std::vector<std::string> texts;
    for (const json* body : applies) texts.push_back(body->dump());
    texts.push_back(status ? status->dump() : std::string());
    return electric::sha256_hex_of_parts({texts.begin(), texts.end()});
  };
  std::optional<std::string> token;
  if (summary_writes_.busy(key)) {
    token = digest();
    // On its way already: the cache shows the old summary until it lands.
    if (summary_writes_.holds(key, *token)) return runtime::Duration::zero();
  }
  const runtime::Duration wait = settle_.admit(key);
  if (wait > runtime::Duration::zero()) return wait;
  if (!token) token = digest();
  std::vector<json> bodies;
  for (const json* body : applies) bodies.push_back(*body);
  const std::optional<LogFields> log_fields = current_log_fields();
  summary_writes_.submit(key, std::move(*token), [this, key, set_ref, log_fields, bodies = std::move(bodies),
                                                 status = std::move(status)] {
    std::optional<LogContext> context;
    if (log_fields) context.emplace(*log_fields);  // the writer thread logs as the reconcile did
    std::vector<const json*> pointers;
    for (const json& body : bodies) pointers.push_back(&body);
    std::vector<std::string> errors;
    apply_children(set_ref.ns, pointers, set_ref, errors);
    if (status) {
      auto written = client_.merge_patch(kShardSets, set_ref.ns, set_ref.name, json{{"status", *status}}, "status");
      if (!written.ok() && !written.error().is_not_found()) errors.push_back("status: " + written.error().describe());
    }
    if (errors.empty()) return;
    {
      std::lock_guard<std::mutex> lock(summary_errors_mu_);
      summary_errors_[key] = errors.front();
    }
    if (options_.requeue && options_.summary_writer_threads > 0) options_.requeue(key);
  });
  return runtime::Duration::zero();
}

std::optional<std::string> ShardSetReconciler::take_summary_error(const std::string& key) {
  std::lock_guard<std::mutex> lock(summary_errors_mu_);
  auto it = summary_errors_.find(key);
  if (it == summary_errors_.end()) return std::nullopt;
  std::string error = std::move(it->second);
  summary_errors_.erase(it);
  return error;
}

runtime::ReconcileResult ShardSetReconciler::reconcile(const std::string& key) {
  const auto slash = key.find('/');
  const std::string ns = key.substr(0, slash);
  const std::string name = key.substr(slash + 1);
  const runtime::Projection projection = inputs_.shard_set(ns, name);
  const auto* cached = runtime::as<CachedSet>(projection);
  if (!cached) {
    if (options_.database_checker) options_.database_checker->forget(key);
    settle_.forget(key);
    summary_writes_.forget(key);
    (void)take_summary_error(key);
    std::lock_guard<std::mutex> lock(memos_mu_);
    memos_.erase(key);
    return runtime::ReconcileResult::done();  // deleted: children go by GC
  }
  // Until every referenced Secret has been read once, stream claims are
  // incomplete: a newer set could take an older one's stream.
  if (!inputs_.references_ready()) return runtime::ReconcileResult::requeue(kReferencesNotReadyRetry);
  // Its Secrets are being read; the read wakes it (no false SecretNotFound).
  if (inputs_.waiting_for_references(key)) return runtime::ReconcileResult::done();

  const electric::ParsedShardSet& parsed = *cached->parsed;
  const electric::ShardSet& set = parsed.set;
  if (set.being_deleted) return reconcile_deletion(key, *cached);
  const runtime::ObjectReference set_ref = reference_to(set);

  electric::Observed observed;
  observed.read_secret = inputs_.secret_reader(ns);
  observed.cluster_domain = options_.cluster_domain;
  observed.max_pod_security_level = options_.max_pod_security_level;
  observed.now = options_.now();
  std::vector<std::string> errors;

  const bool may_write = !parsed.has_set_wide_errors() && !set.spec.paused;
  if (!set.spec.api_secret_ref) {
    if (may_write) {
      auto value = ensure_api_secret(set);
      if (value.ok()) observed.generated_api_secret = value.value();
      else errors.push_back("Secret " + electric::api_secret_name(name) + ": " + value.error().describe());
    } else {
      observed.generated_api_secret = cached_api_secret(inputs_, ns, electric::api_secret_name(name));
    }
  }

  observe_children(key, set, observed);
  observed.stream_conflicts = inputs_.stream_conflicts(key);
  if (options_.database_checker) {
    observed.database_checks_on = true;
    observed.database_checks =
        options_.database_checker->observe(key, electric::database_targets(parsed, observed.read_secret));
  }
  observed.child_current = [&](const std::string& kind, const std::string& child_name, const std::string& digest) {
    return carries_digest(digest, inputs_.child(kind, ns, child_name));
  };

  const json previous_status = cached->status();
  electric::Plan plan = electric::plan_reconcile(parsed, observed, previous_status, render_memo(key).get());

  // Before any child: a set deleted right after its first Deployment is
  // created must already wait for its slots.
  if (plan.slot_finalizer && *plan.slot_finalizer != set.has_slot_finalizer) {
    auto changed = set_slot_finalizer(*cached, *plan.slot_finalizer);
    if (!changed) return runtime::ReconcileResult::error(changed.error());
    // The cache still holds the set from before (a conflict): again once it
    // has the new version, so no child is written without the finalizer.
    if (!*changed) return runtime::ReconcileResult::requeue(kStaleSetRetry);
  }

  // The routing ConfigMap goes with the status, at most once per settle window.
  std::vector<const json*> child_applies, summary_applies;
  for (const json& desired : plan.apply) {
    if (cached_as_applied(ns, desired)) continue;
    (desired.value("kind", "") == "ConfigMap" ? summary_applies : child_applies).push_back(&desired);
  }
  std::map<std::string, std::string> refused;
  int writes = apply_children(ns, child_applies, set_ref, errors, &refused);
  plan.status = electric::with_refused_children(set, plan.shards, refused, plan.status, observed.now);
  writes += remove_children(ns, plan.remove, errors);
  if (options_.database_checker) {
    if (auto error = hand_over_slot_cleanups(key, ns, plan.slot_cleanups, observed.read_secret))
      errors.push_back(*error);
  }
  record_events(set_ref, plan.events);

  // The summary goes at most once per settle window, and off this worker.
  const bool status_changed = plan.status != previous_status;
  runtime::Duration settle_wait = runtime::Duration::zero();
  if (status_changed || !summary_applies.empty())
    settle_wait = hand_over_summary(key, set_ref, summary_applies,
                                    status_changed ? std::optional<json>(std::move(plan.status)) : std::nullopt);
  if (auto error = take_summary_error(key)) errors.push_back(*error);
  if (writes > 0) spdlog::debug("reconciled with {} writes", writes);
  if (!errors.empty()) {
    std::string message = errors.front();
    if (errors.size() > 1) message += " (and " + std::to_string(errors.size() - 1) + " more)";
    return runtime::ReconcileResult::error(message);
  }
  if (settle_wait > runtime::Duration::zero()) return runtime::ReconcileResult::requeue(settle_wait);
  return runtime::ReconcileResult::done();
}

}  // namespace app
