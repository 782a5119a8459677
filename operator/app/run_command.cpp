#include "app/run_command.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include <spdlog/spdlog.h>

#include "app/caches.h"
#include "app/memory.h"
#include "app/shard_metrics.h"
#include "app/shard_set_events.h"
#include "app/shard_set_reconciler.h"
#include "electric/constants.h"
#include "electric/digest.h"
#include "kube/config.h"
#include "runtime/controller.h"
#include "runtime/event_recorder.h"
#include "runtime/health.h"
#include "runtime/http_server.h"
#include "runtime/leader_election.h"
#include "runtime/metrics.h"

namespace app {

using nlohmann::json;

namespace {

const char* const kControllerName = "electricshardset";
const char* const kServiceAccountNamespaceFile =
    "/var/run/secrets/kubernetes.io/serviceaccount/namespace";
// Caches of a large cluster can take a while; a process that never syncs is
// restarted rather than left half-alive.
constexpr auto kCacheSyncTimeout = std::chrono::minutes(5);
constexpr auto kEventFlushInterval = std::chrono::seconds(30);
// Lease calls must fail well within the renew deadline (10 s): a call hung
// on an unresponsive API server would otherwise hold up renewals and the
// release at shutdown. The elector retries every 2 s, so no client retries.
constexpr auto kLeaseRequestTimeout = std::chrono::seconds(5);
// Once reconciles have drained, what is left of a shutdown (releasing the
// Lease, flushing Events, closing watches and lists) gets this long; a step
// stuck on an API server that does not answer must not keep the process
// alive past its grace period.
constexpr auto kShutdownCleanupBudget = std::chrono::seconds(5);

class QueueMetrics final : public runtime::WorkQueueObserver {
 public:
  explicit QueueMetrics(runtime::WorkQueueMetrics m) : m_(m) {}
  void on_add() override { m_.adds.inc(); }
  void on_depth(size_t depth) override { m_.depth.set(static_cast<double>(depth)); }
  void on_retry() override { m_.retries.inc(); }
  void on_queue_latency(runtime::Duration d) override { m_.queue_duration.observe(seconds(d)); }
  void on_work_duration(runtime::Duration d) override { m_.work_duration.observe(seconds(d)); }

 private:
  static double seconds(runtime::Duration d) { return std::chrono::duration<double>(d).count(); }
  runtime::WorkQueueMetrics m_;
};

class ReconcileMetrics final : public runtime::ControllerObserver {
 public:
  ReconcileMetrics(runtime::OperatorMetrics& m, std::string controller)
      : m_(m), controller_(std::move(controller)) {}
  void on_reconcile(runtime::ReconcileResult::Kind result, runtime::Duration took) override {
    const char* label = runtime::kReconcileSuccess;
    if (result == runtime::ReconcileResult::Kind::Error) {
      label = runtime::kReconcileError;
      m_.reconcile_errors_total.with({controller_}).inc();
    } else if (result == runtime::ReconcileResult::Kind::RequeueAfter) {
      label = runtime::kReconcileRequeueAfter;
    }
    m_.reconcile_total.with({controller_, label}).inc();
    m_.reconcile_time_seconds.with({controller_}).observe(std::chrono::duration<double>(took).count());
  }
  void on_active_workers(int active) override {
    m_.active_workers.with({controller_}).set(active);
  }

 private:
  runtime::OperatorMetrics& m_;
  std::string controller_;
};

// SIGTERM and SIGINT are blocked in every thread and taken by sigwait, so no
// handler runs in an arbitrary thread's context.
sigset_t shutdown_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

// The first shutdown signal, or a cache-sync failure, asks run_operator to stop.
struct StopRequest {
  std::mutex mu;
  std::condition_variable cv;
  bool requested = false;  // guarded by mu

  void request() {
    {
      std::lock_guard<std::mutex> lock(mu);
      requested = true;
    }
    cv.notify_all();
  }
};

// Ends the process with `code` if the shutdown has not finished within
// `budget`. Holds its state in a shared_ptr: the thread outlives the stack
// frame that armed it when the shutdown finishes in time.
class ShutdownDeadline {
 public:
  ShutdownDeadline(std::chrono::seconds budget, int code) : state_(std::make_shared<State>()) {
    std::thread([state = state_, budget, code] {
      std::unique_lock<std::mutex> lock(state->mu);
      if (state->cv.wait_for(lock, budget, [&] { return state->done; })) return;
      spdlog::warn("shutdown did not finish within {}s of the drain (an API call hangs?); exiting now",
                   budget.count());
      spdlog::default_logger()->flush();
      std::_Exit(code);
    }).detach();
  }
  ~ShutdownDeadline() {
    {
      std::lock_guard<std::mutex> lock(state_->mu);
      state_->done = true;
    }
    state_->cv.notify_all();
  }
  ShutdownDeadline(const ShutdownDeadline&) = delete;
  ShutdownDeadline& operator=(const ShutdownDeadline&) = delete;

 private:
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
  };
  std::shared_ptr<State> state_;
};

std::string read_first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

std::string holder_identity() {
  std::string base;
  if (const char* pod = std::getenv("POD_NAME"); pod && *pod) base = pod;
  if (base.empty()) {
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    base = host;
  }
  return base + "_" + electric::hex_encode(openssl_random_bytes(4));
}

// Per-set shard counts by phase, read from the sets' status at scrape time,
// so a deleted set's series vanish with it.
std::vector<runtime::GaugeSample> shard_phase_samples(const Caches& caches) {
  std::map<std::vector<std::string>, double> counts;
  for (const runtime::Projection& set : caches.sets.list()) {
    const std::string ns = set->at("metadata").value("namespace", "");
    const std::string name = set->at("metadata").value("name", "");
    for (const char* phase : {"Pending", "Progressing", "Ready", "Failed"}) counts[{ns, name, phase}] += 0;
    const json::json_pointer shards("/status/shards");
    if (!set->contains(shards) || !(*set)[shards].is_array()) continue;
    for (const auto& shard : (*set)[shards]) counts[{ns, name, shard.value("phase", "Pending")}] += 1;
  }
  std::vector<runtime::GaugeSample> out;
  for (auto& [labels, value] : counts) out.push_back({labels, value});
  return out;
}

}  // namespace

int run_operator(const RunOptions& options) {
  configure_logging(options.log_format, options.log_level);

  // Block the shutdown signals before any thread starts, so all inherit it.
  sigset_t signals = shutdown_signals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto config = kube::load_config(options.kubeconfig);
  if (!config.ok()) {
    spdlog::error("cannot load the cluster configuration: {}", config.error().message);
    return 1;
  }
  spdlog::info("electric-operator {} starting; API server {} ({})", EO_VERSION, config.value().server,
               config.value().source);

  runtime::Registry registry;
  runtime::OperatorMetrics metrics(registry);
  metrics.init_controller(kControllerName, options.concurrency);

  auto client = std::make_unique<kube::Client>(
      kube::make_cpprest_transport(config.value(), kube::TransportUse::Requests),
      kube::make_cpprest_transport(config.value(), kube::TransportUse::Watches));
  client->set_field_manager(std::string(electric::kFieldManager));
  auto count_request = [&metrics](int code, const std::string& method, const std::string& host) {
    metrics.rest_client_requests_total.with({code == 0 ? "<error>" : std::to_string(code), method, host}).inc();
  };
  client->set_request_observer(count_request);

  Caches caches(*client, options.namespaces);
  ShardMetrics shard_metrics(registry);
  shard_metrics.shards.set_collector([&caches] { return shard_phase_samples(caches); });
  shard_metrics.shard_sets.with({}).set_function([&caches] { return static_cast<double>(caches.sets.size()); });

  runtime::EventRecorderOptions event_options;
  event_options.component = std::string(electric::kFieldManager);
  event_options.instance = holder_identity();
  runtime::ClientEventSink event_sink(*client);
  runtime::EventRecorder events(event_sink, event_options);

  ReconcilerOptions reconciler_options;
  reconciler_options.cluster_domain = options.cluster_domain;
  reconciler_options.max_pod_security_level = options.max_pod_security_level;
  CachedInputs reconciler_inputs(caches);
  ShardSetReconciler reconciler(*client, reconciler_inputs, events, reconciler_options);

  runtime::Heartbeat worker_heartbeat(runtime::system_clock());
  runtime::ControllerOptions controller_options;
  controller_options.name = kControllerName;
  controller_options.workers = options.concurrency;
  controller_options.queue_observer = std::make_shared<QueueMetrics>(metrics.workqueue(kControllerName));
  controller_options.observer = std::make_shared<ReconcileMetrics>(metrics, kControllerName);
  runtime::Controller controller(controller_options, [&](const std::string& key) {
    worker_heartbeat.beat();
    LogContext context({kControllerName, key.substr(0, key.find('/')), key.substr(key.find('/') + 1),
                        electric::hex_encode(openssl_random_bytes(8))});
    auto result = reconciler.reconcile(key);
    worker_heartbeat.beat();
    if (result.kind == runtime::ReconcileResult::Kind::Error) {
      spdlog::warn("reconcile failed, will retry with backoff: {}", result.message);
    }
    return result;
  });
  // Read at scrape time: a reconcile stuck on a hung call shows while it hangs.
  // The metrics server is declared below, so it stops before the controller goes.
  runtime::WorkQueueMetrics queue_gauges = metrics.workqueue(kControllerName);
  queue_gauges.unfinished_work_seconds.set_function(
      [&controller] { return std::chrono::duration<double>(controller.queue().unfinished_work().total).count(); });
  queue_gauges.longest_running_processor_seconds.set_function(
      [&controller] { return std::chrono::duration<double>(controller.queue().unfinished_work().longest).count(); });

  // Sets, the operator's Secrets and referenced Secrets: each change wakes
  // only the sets it touches. Declared after the controller, so it is gone
  // (and wakes stop) before the controller is.
  auto set_events = wire_shard_set_events(caches, controller, registry);
  const std::string set_label(electric::kLabelShardSet);
  for (KindCache* kind : {&caches.deployments, &caches.services, &caches.pvcs, &caches.configmaps,
                          &caches.networkpolicies}) {
    for (runtime::Informer* inf : kind->informers()) controller.watch(*inf, runtime::map_by_label(set_label));
  }

  runtime::HealthChecks health;
  health.add_readiness("informers", runtime::ready_when([&caches] { return caches.synced(); },
                                                        "caches have not synced yet"));
  health.add_liveness("workers", runtime::heartbeat_check(
                                     worker_heartbeat, runtime::system_clock(), std::chrono::minutes(5),
                                     [&controller] { return controller.queue().counters().in_flight > 0; }));
  health.add_liveness("watchers", [&caches] {
    for (runtime::Informer* inf : caches.all_informers()) {
      auto status = inf->status();
      if (status.synced && runtime::system_clock().now() - status.last_progress > std::chrono::minutes(10)) {
        return runtime::CheckResult::failed(inf->name() + " made no progress for 10 minutes");
      }
    }
    return runtime::CheckResult::passed();
  });

  runtime::HttpServer metrics_server;
  metrics_server.handle("/metrics", [&registry] {
    return runtime::HttpReply{200, "text/plain; version=0.0.4; charset=utf-8", registry.render()};
  });
  runtime::HttpServer probe_server;
  health.serve_on(probe_server);
  for (auto [server, address, what] : {std::tuple{&metrics_server, options.metrics_bind_address, "metrics"},
                                       std::tuple{&probe_server, options.health_probe_bind_address, "health probes"}}) {
    auto started = server->start(address);
    if (!started.ok()) {
      spdlog::error("cannot serve {} on {}: {}", what, address, started.error().message);
      return 1;
    }
    if (server->listening()) spdlog::info("serving {} on port {}", what, server->port());
  }

  // Leader election: followers keep their caches warm; only the leader's
  // workers take keys.
  std::unique_ptr<kube::Client> lease_client;
  std::unique_ptr<runtime::ClientLeaseStore> lease_store;
  std::unique_ptr<runtime::LeaderElector> elector;
  std::atomic<bool> shutting_down{false};
  // Outlives the block below: the elector's callbacks log it.
  std::string lease_ns;
  if (options.leader_elect) {
    lease_ns = options.leader_election_namespace;
    if (lease_ns.empty()) lease_ns = read_first_line(kServiceAccountNamespaceFile);
    if (lease_ns.empty()) {
      spdlog::error("--leader-elect needs --leader-election-namespace when not running in a cluster");
      return 1;
    }
    controller.set_leading(false);
    metrics.leader_election_master_status.with({options.leader_election_id}).set(0);
    kube::RetryPolicy no_retries;
    no_retries.max_attempts = 1;
    auto lease_transport =
        kube::make_cpprest_transport(config.value(), kube::TransportUse::Requests, kLeaseRequestTimeout);
    lease_client = std::make_unique<kube::Client>(lease_transport, lease_transport, no_retries);
    lease_client->set_field_manager(std::string(electric::kFieldManager));
    lease_client->set_request_observer(count_request);
    lease_store = std::make_unique<runtime::ClientLeaseStore>(*lease_client, lease_ns, options.leader_election_id);
    runtime::LeaderElectionConfig lease_config;
    lease_config.identity = event_options.instance;
    runtime::LeaderCallbacks callbacks;
    callbacks.on_started_leading = [&] {
      spdlog::info("became the leader ({} in {})", options.leader_election_id, lease_ns);
      metrics.leader_election_master_status.with({options.leader_election_id}).set(1);
      controller.set_leading(true);
    };
    callbacks.on_stopped_leading = [&] {
      controller.set_leading(false);
      metrics.leader_election_master_status.with({options.leader_election_id}).set(0);
      if (!shutting_down.load()) {
        // As controller-runtime does: a process that lost its lease exits, so
        // nothing it still holds in memory can write next to the new leader.
        spdlog::error("leader election lost; exiting");
        std::_Exit(1);
      }
    };
    callbacks.on_new_leader = [](const std::string& who) { spdlog::info("the leader is {}", who); };
    elector = std::make_unique<runtime::LeaderElector>(lease_config, *lease_store, callbacks);
    spdlog::info("waiting to become the leader ({} in {}) as {}", options.leader_election_id, lease_ns,
                 lease_config.identity);
  }

  // Waits for the first shutdown signal; a second one exits at once. The
  // thread is detached and may still wait after this function returns (the
  // caches never synced, or the second signal never came), so it shares
  // nothing with this frame but what the shared_ptr keeps alive.
  auto stop = std::make_shared<StopRequest>();
  std::thread([stop, signals] {
    int sig = 0;
    sigwait(&signals, &sig);
    spdlog::info("received {}, shutting down (a second signal exits at once)", strsignal(sig));
    stop->request();
    sigwait(&signals, &sig);
    spdlog::warn("second signal: exiting now");
    std::_Exit(1);
  }).detach();

  if (elector) elector->start();
  bool started = false;
  bool sync_failed = false;  // guarded by stop->mu
  std::thread starter([&] {
    started = controller.start(kCacheSyncTimeout);
    return_free_memory();  // the initial LISTs' parsed pages
    if (started) return;
    std::lock_guard<std::mutex> lock(stop->mu);
    if (stop->requested) return;
    // A process whose caches never sync exits non-zero, so it is restarted
    // rather than left running half-alive.
    spdlog::error("caches did not sync within {} minutes; exiting",
                  std::chrono::duration_cast<std::chrono::minutes>(kCacheSyncTimeout).count());
    sync_failed = true;
    stop->requested = true;
    stop->cv.notify_all();
  });
  {
    std::unique_lock<std::mutex> lock(stop->mu);
    // Wake up now and then to flush aggregated Events, without holding the
    // lock: a slow API call must not delay taking a signal.
    while (!stop->requested) {
      stop->cv.wait_for(lock, kEventFlushInterval);
      if (stop->requested) break;
      lock.unlock();
      events.flush();
      return_free_memory();
      lock.lock();
    }
  }
  shutting_down = true;
  const bool drained = controller.stop(options.shutdown_grace_period);
  if (!drained) {
    // A reconcile is still writing. Releasing the Lease now would let a new
    // leader write next to it, and returning would join its worker past the
    // grace period: exit at once instead; the Lease expires on its own.
    spdlog::error("in-flight reconciles did not finish within the {}s grace period; exiting without "
                  "releasing the lease",
                  options.shutdown_grace_period.count());
    spdlog::default_logger()->flush();
    std::_Exit(1);
  }
  ShutdownDeadline deadline(kShutdownCleanupBudget, 0);
  starter.join();
  if (!started) spdlog::warn("the controller had not started (caches not synced) when asked to stop");
  if (elector) elector->stop();  // releases the Lease for a fast takeover
  events.flush();
  metrics_server.stop();
  probe_server.stop();
  for (runtime::Informer* inf : caches.all_informers()) inf->stop();
  spdlog::info("stopped");
  return sync_failed ? 1 : 0;
}

}  // namespace app
