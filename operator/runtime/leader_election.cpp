#include "runtime/leader_election.h"

#include <algorithm>
#include <stdexcept>

#include <spdlog/spdlog.h>

namespace runtime {
namespace {

constexpr const char* kLeaseApiVersion = "coordination.k8s.io/v1";

std::string string_field(const nlohmann::json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int int_field(const nlohmann::json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_number_integer() ? it->get<int>() : 0;
}

// A throwing callback must not take the election thread (and the process)
// down with it.
template <class F>
void run_callback(const char* what, F&& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    spdlog::error("leader election: {} callback threw: {}", what, e.what());
  } catch (...) {
    spdlog::error("leader election: {} callback threw", what);
  }
}

}  // namespace

nlohmann::json lease_to_json(const std::string& ns, const std::string& name,
                             const LeaseRecord& record, const std::string& resource_version) {
  nlohmann::json metadata = {{"name", name}, {"namespace", ns}};
  if (!resource_version.empty()) metadata["resourceVersion"] = resource_version;
  nlohmann::json spec = {{"holderIdentity", record.holder_identity},
                         {"leaseDurationSeconds", record.lease_duration_seconds},
                         {"leaseTransitions", record.lease_transitions}};
  if (!record.acquire_time.empty()) spec["acquireTime"] = record.acquire_time;
  if (!record.renew_time.empty()) spec["renewTime"] = record.renew_time;
  return {{"apiVersion", kLeaseApiVersion},
          {"kind", "Lease"},
          {"metadata", std::move(metadata)},
          {"spec", std::move(spec)}};
}

ObservedLease lease_from_json(const nlohmann::json& lease) {
  ObservedLease out;
  if (!lease.is_object()) return out;
  auto metadata = lease.find("metadata");
  if (metadata != lease.end() && metadata->is_object()) {
    out.resource_version = string_field(*metadata, "resourceVersion");
  }
  auto spec = lease.find("spec");
  if (spec != lease.end() && spec->is_object()) {
    out.record.holder_identity = string_field(*spec, "holderIdentity");
    out.record.lease_duration_seconds = int_field(*spec, "leaseDurationSeconds");
    out.record.acquire_time = string_field(*spec, "acquireTime");
    out.record.renew_time = string_field(*spec, "renewTime");
    out.record.lease_transitions = int_field(*spec, "leaseTransitions");
  }
  return out;
}

LeaderElector::LeaderElector(LeaderElectionConfig config, LeaseStore& store,
                             LeaderCallbacks callbacks, Clock& clock, Random& random,
                             WallNow wall_now)
    : config_(std::move(config)),
      store_(store),
      callbacks_(std::move(callbacks)),
      clock_(clock),
      random_(random),
      wall_now_(wall_now ? std::move(wall_now) : WallNow(system_wall_now)) {
  if (config_.identity.empty()) {
    throw std::invalid_argument("leader election: identity must not be empty");
  }
  if (!(config_.retry_period > Duration::zero() && config_.renew_deadline > config_.retry_period &&
        config_.lease_duration > config_.renew_deadline)) {
    throw std::invalid_argument(
        "leader election: need lease duration > renew deadline > retry period > 0");
  }
  if (config_.retry_jitter < 0) config_.retry_jitter = 0;
  next_attempt_ = clock_.now();
}

LeaderElector::~LeaderElector() { stop(); }

void LeaderElector::start() {
  std::lock_guard<std::mutex> guard(mu_);
  if (started_ || stopped_) return;
  started_ = true;
  loop_thread_ = std::thread([this] { run_loop(); });
  watchdog_thread_ = std::thread([this] { run_watchdog(); });
}

void LeaderElector::stop() {
  {
    std::lock_guard<std::mutex> guard(mu_);
    if (stopped_) return;
    stopped_ = true;
    stopping_ = true;
    cv_.notify_all();
  }
  if (loop_thread_.joinable()) loop_thread_.join();
  if (watchdog_thread_.joinable()) watchdog_thread_.join();
  bool leading = false;
  uint64_t term = 0;
  {
    std::lock_guard<std::mutex> guard(mu_);
    leading = leading_;
    term = term_;
  }
  // Workers stop before the Lease is released, never after: otherwise the
  // next leader could start while ours still write.
  if (leading) lose(term, "shutting down");
  if (config_.release_on_stop && have_observed_ &&
      observed_.record.holder_identity == config_.identity) {
    release();
  }
}

bool LeaderElector::is_leader() const {
  std::lock_guard<std::mutex> guard(mu_);
  return leading_;
}

std::string LeaderElector::leader() const {
  std::lock_guard<std::mutex> guard(mu_);
  return leader_;
}

TimePoint LeaderElector::step() {
  TimePoint now = clock_.now();
  bool leading = false;
  uint64_t term = 0;
  TimePoint renewed_at;
  TimePoint next;
  {
    std::lock_guard<std::mutex> guard(mu_);
    leading = leading_;
    term = term_;
    renewed_at = renewed_at_;
    next = next_attempt_;
  }
  if (leading && now >= renewed_at + config_.renew_deadline) {
    lose(term, "could not renew the lease within the renew deadline");
    leading = false;
  }
  if (now >= next) {
    TimePoint attempt_start = now;
    Attempt attempt = try_acquire_or_renew();
    TimePoint after = clock_.now();
    if (leading) {
      if (attempt == Attempt::Ok) {
        std::lock_guard<std::mutex> guard(mu_);
        if (leading_ && term_ == term) {
          renewed_at_ = attempt_start;
          next_attempt_ = attempt_start + config_.retry_period;
          cv_.notify_all();  // the watchdog's deadline moved
        } else {
          // The watchdog ended this term while the call was in flight; the
          // Lease is ours, so the next round takes it up again.
          next_attempt_ = after;
        }
      } else if (attempt == Attempt::HeldByOther) {
        lose(term, "the lease is now held by " + observed_.record.holder_identity);
        std::lock_guard<std::mutex> guard(mu_);
        next_attempt_ = after + jittered_retry();
      } else {
        {
          std::lock_guard<std::mutex> guard(mu_);
          next_attempt_ = attempt_start + config_.retry_period;
        }
        if (after >= renewed_at + config_.renew_deadline) {
          lose(term, "could not renew the lease within the renew deadline");
        }
      }
    } else if (attempt == Attempt::Ok) {
      become_leader(attempt_start);
    } else {
      std::lock_guard<std::mutex> guard(mu_);
      next_attempt_ = after + jittered_retry();
    }
  }
  std::lock_guard<std::mutex> guard(mu_);
  if (leading_) return std::min(next_attempt_, renewed_at_ + config_.renew_deadline);
  return next_attempt_;
}

LeaderElector::Attempt LeaderElector::try_acquire_or_renew() {
  const std::string now_text = format_rfc3339_micro(wall_now_());
  const int duration_seconds = static_cast<int>(
      std::chrono::ceil<std::chrono::seconds>(config_.lease_duration).count());

  kube::Result<ObservedLease> got = store_.get();
  if (!got.ok()) {
    if (!got.error().is_not_found()) {
      spdlog::warn("leader election: cannot read lease {}: {}", store_.describe(),
                   got.error().describe());
      return Attempt::Failed;
    }
    LeaseRecord fresh{config_.identity, duration_seconds, now_text, now_text, 0};
    kube::Result<ObservedLease> created = store_.create(fresh);
    if (!created.ok()) {
      if (created.error().is_conflict()) {
        spdlog::info("leader election: another candidate created lease {} first",
                     store_.describe());
      } else {
        spdlog::warn("leader election: cannot create lease {}: {}", store_.describe(),
                     created.error().describe());
      }
      return Attempt::Failed;
    }
    observe(created.value(), clock_.now());
    return Attempt::Ok;
  }

  observe(got.value(), clock_.now());
  const LeaseRecord& old = got.value().record;
  const bool ours = old.holder_identity == config_.identity;
  if (!old.holder_identity.empty() && !ours &&
      clock_.now() < observed_time_ + std::chrono::seconds(old.lease_duration_seconds)) {
    return Attempt::HeldByOther;
  }

  LeaseRecord next{config_.identity, duration_seconds, now_text, now_text,
                   old.lease_transitions + 1};
  if (ours) {
    next.acquire_time = old.acquire_time;
    next.lease_transitions = old.lease_transitions;
  }
  kube::Result<ObservedLease> updated = store_.update(next, got.value().resource_version);
  if (!updated.ok()) {
    if (updated.error().is_conflict()) {
      spdlog::info("leader election: lease {} changed under us (another candidate won)",
                   store_.describe());
    } else {
      spdlog::warn("leader election: cannot update lease {}: {}", store_.describe(),
                   updated.error().describe());
    }
    return Attempt::Failed;
  }
  observe(updated.value(), clock_.now());
  return Attempt::Ok;
}

void LeaderElector::observe(const ObservedLease& lease, TimePoint now) {
  const bool changed = !have_observed_ || lease.record != observed_.record;
  const bool new_holder =
      !have_observed_ || lease.record.holder_identity != observed_.record.holder_identity;
  if (changed) observed_time_ = now;
  observed_ = lease;
  have_observed_ = true;
  {
    std::lock_guard<std::mutex> guard(mu_);
    leader_ = lease.record.holder_identity;
  }
  if (new_holder && !lease.record.holder_identity.empty() && callbacks_.on_new_leader) {
    std::lock_guard<std::mutex> transition(transition_mu_);
    run_callback("on_new_leader", [&] { callbacks_.on_new_leader(lease.record.holder_identity); });
  }
}

void LeaderElector::become_leader(TimePoint attempt_start) {
  std::lock_guard<std::mutex> transition(transition_mu_);
  {
    std::lock_guard<std::mutex> guard(mu_);
    next_attempt_ = attempt_start + config_.retry_period;
    // Acquired while shutting down: stop() releases the Lease without ever
    // starting workers.
    if (stopping_) return;
    leading_ = true;
    ++term_;
    renewed_at_ = attempt_start;
    cv_.notify_all();
  }
  spdlog::info("leader election: {} acquired lease {}", config_.identity, store_.describe());
  if (callbacks_.on_started_leading) run_callback("on_started_leading", callbacks_.on_started_leading);
}

void LeaderElector::lose(uint64_t term, const std::string& why) {
  std::lock_guard<std::mutex> transition(transition_mu_);
  {
    std::lock_guard<std::mutex> guard(mu_);
    if (!leading_ || term_ != term) return;
    leading_ = false;
    cv_.notify_all();
  }
  spdlog::warn("leader election: {} stopped leading lease {}: {}", config_.identity,
               store_.describe(), why);
  if (callbacks_.on_stopped_leading) run_callback("on_stopped_leading", callbacks_.on_stopped_leading);
}

void LeaderElector::release() {
  const std::string now_text = format_rfc3339_micro(wall_now_());
  LeaseRecord released{"", 1, now_text, now_text, observed_.record.lease_transitions};
  kube::Result<ObservedLease> updated = store_.update(released, observed_.resource_version);
  if (!updated.ok()) {
    spdlog::warn("leader election: cannot release lease {}: {}", store_.describe(),
                 updated.error().describe());
    return;
  }
  observe(updated.value(), clock_.now());
  spdlog::info("leader election: released lease {}", store_.describe());
}

void LeaderElector::run_loop() {
  while (true) {
    TimePoint next = step();
    std::unique_lock<std::mutex> lock(mu_);
    while (!stopping_ && clock_.now() < next) clock_.wait_until(cv_, lock, next);
    if (stopping_) return;
  }
}

void LeaderElector::run_watchdog() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    if (!leading_) {
      cv_.wait(lock);
      continue;
    }
    const uint64_t term = term_;
    const TimePoint deadline = renewed_at_ + config_.renew_deadline;
    if (clock_.now() >= deadline) {
      lock.unlock();
      lose(term, "could not renew the lease within the renew deadline");
      lock.lock();
      continue;
    }
    clock_.wait_until(cv_, lock, deadline);
  }
}

Duration LeaderElector::jittered_retry() {
  double factor = 1.0 + config_.retry_jitter * random_.uniform();
  return std::chrono::duration_cast<Duration>(config_.retry_period * factor);
}

}  // namespace runtime
