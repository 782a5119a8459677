#include "app/run_command.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <thread>

#include <spdlog/spdlog.h>

#include "app/caches.h"
#include "app/database_checker.h"
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
#include "runtime/manager.h"
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
// Sets whose summary is written at once; one set's writes go one at a time.
constexpr size_t kSummaryWriterThreads = 2;
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
// Once the last client is gone, cpprestsdk finishes what a cancelled watch
// left on its thread pool within milliseconds; this bounds a wait that does
// not end.
constexpr auto kCpprestIdleTimeout = std::chrono::seconds(2);

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
  for (const runtime::Projection& projection : caches.sets.list()) {
    const auto* set = runtime::as<CachedSet>(projection);
    if (!set) continue;
    const std::string& ns = set->meta.namespace_name;
    const std::string& name = set->meta.name;
    for (const char* phase : {"Pending", "Progressing", "Ready", "Failed"}) counts[{ns, name, phase}] += 0;
    for (const auto& [phase, n] : set->shards_by_phase) counts[{ns, name, phase}] += n;
  }
  std::vector<runtime::GaugeSample> out;
  for (auto& [labels, value] : counts) out.push_back({labels, value});
  return out;
}

kube::Done start_failure(std::string message) {
  return kube::Done(kube::Error(0, "StartFailed", std::move(message)));
}

// /metrics or the probes; a port in use fails the start.
runtime::Runnable http_server_runnable(const char* what, runtime::HttpServer& server, std::string address) {
  runtime::Runnable r;
  r.name = std::string(what) + " server";
  r.start = [what, &server, address]() -> kube::Done {
    auto started = server.start(address);
    if (!started.ok()) return start_failure(fmt::format("cannot serve {} on {}: {}", what, address, started.error().message));
    if (server.listening()) spdlog::info("serving {} on port {}", what, server.port());
    return kube::ok();
  };
  r.stop = [&server] {
    server.stop();
    return true;
  };
  return r;
}

// Every informer: started before the elector, so a follower's caches are
// warm when it takes over; stopped once the Lease is released.
runtime::Runnable caches_runnable(Caches& caches) {
  runtime::Runnable r;
  r.name = "caches";
  r.start = [&caches] {
    for (runtime::Informer* inf : caches.all_informers()) inf->start();
    return kube::ok();
  };
  r.stop = [&caches] {
    for (runtime::Informer* inf : caches.all_informers()) inf->stop();
    return true;
  };
  return r;
}

// Aggregated Events are flushed every kEventFlushInterval and once more at
// the stop, after the workers that record them.
runtime::Runnable events_runnable(runtime::EventRecorder& events) {
  runtime::Runnable r;
  r.name = "events";
  r.start = [] { return kube::ok(); };
  r.stop = [&events] {
    events.flush();
    return true;
  };
  return r;
}

// Waits for the caches' sync, then runs the worker threads, parked until
// workers_runnable lets them take keys. Its stop is the drain.
runtime::Runnable controller_runnable(runtime::Controller& controller, ShardSetReconciler& reconciler,
                                      const runtime::Manager& manager, std::chrono::seconds grace,
                                      std::function<void()> after_sync) {
  runtime::Runnable r;
  r.name = "controller";
  r.drains = true;
  r.start = [&controller, &manager, after_sync] {
    if (controller.start(kCacheSyncTimeout)) {
      after_sync();
      return_free_memory();  // the initial LISTs' parsed pages
      return kube::ok();
    }
    if (manager.stopping()) return start_failure("the controller had not started (caches not synced) when asked to stop");
    // A process whose caches never sync exits non-zero, so it is restarted
    // rather than left running half-alive.
    return start_failure(fmt::format("caches did not sync within {} minutes; exiting",
                                     std::chrono::duration_cast<std::chrono::minutes>(kCacheSyncTimeout).count()));
  };
  r.stop = [&controller, &reconciler, grace] {
    if (controller.stop(grace)) {
      reconciler.stop_summaries();  // a summary write in flight is part of the drain
      return true;
    }
    // A reconcile is still writing. Releasing the Lease now would let a new
    // leader write next to it, and returning would join its worker past the
    // grace period: the manager exits at once instead; the Lease expires on
    // its own.
    spdlog::error("in-flight reconciles did not finish within the {}s grace period; exiting without "
                  "releasing the lease",
                  grace.count());
    return false;
  };
  return r;
}

// The database checks run on the leader only, beside the workers that read
// their outcomes.
runtime::Runnable database_checker_runnable(DatabaseChecker& checker, std::thread& thread) {
  runtime::Runnable r;
  r.name = "database checks";
  r.leader_gated = true;
  r.start = [&checker, &thread] {
    thread = std::thread([&checker] { checker.run(); });
    return kube::ok();
  };
  r.stop = [&checker, &thread] {
    checker.stop();  // a round in flight ends within its connect and statement timeouts
    if (thread.joinable()) thread.join();
    return true;
  };
  return r;
}

// Only the leader's workers take keys.
runtime::Runnable workers_runnable(runtime::Controller& controller, ShardSetReconciler& reconciler) {
  runtime::Runnable r;
  r.name = "workers";
  r.leader_gated = true;
  r.start = [&controller] {
    controller.set_leading(true);
    return kube::ok();
  };
  r.stop = [&controller, &reconciler] {
    controller.set_leading(false);
    reconciler.drop_queued_summaries();
    return true;
  };
  return r;
}

// Leader election on its own client, whose calls fail fast (see
// kLeaseRequestTimeout). Followers keep their caches warm.
struct Election {
  std::string ns;
  std::unique_ptr<kube::Client> client;
  std::unique_ptr<runtime::ClientLeaseStore> store;
  std::unique_ptr<runtime::LeaderElector> elector;
};

// Null, with the error logged, when the Lease's namespace is unknown. The
// manager must outlive the result: the elector's callbacks reach it.
std::unique_ptr<Election> make_election(const RunOptions& options, const kube::ClusterConfig& config,
                                        const std::string& identity, const kube::RequestObserver& count_request,
                                        runtime::OperatorMetrics& metrics, runtime::Manager& manager) {
  auto election = std::make_unique<Election>();
  election->ns = options.leader_election_namespace;
  if (election->ns.empty()) election->ns = read_first_line(kServiceAccountNamespaceFile);
  if (election->ns.empty()) {
    spdlog::error("--leader-elect needs --leader-election-namespace when not running in a cluster");
    return nullptr;
  }
  metrics.leader_election_master_status.with({options.leader_election_id}).set(0);
  kube::RetryPolicy no_retries;
  no_retries.max_attempts = 1;
  auto transport = kube::make_cpprest_transport(config, kube::TransportUse::Requests, kLeaseRequestTimeout);
  election->client = std::make_unique<kube::Client>(transport, transport, no_retries);
  election->client->set_field_manager(std::string(electric::kFieldManager));
  election->client->set_request_observer(count_request);
  election->store =
      std::make_unique<runtime::ClientLeaseStore>(*election->client, election->ns, options.leader_election_id);
  runtime::LeaderElectionConfig lease_config;
  lease_config.identity = identity;
  runtime::LeaderCallbacks callbacks;
  const std::string id = options.leader_election_id;
  const std::string& ns = election->ns;
  callbacks.on_started_leading = [id, &ns, &metrics, &manager] {
    spdlog::info("became the leader ({} in {})", id, ns);
    metrics.leader_election_master_status.with({id}).set(1);
    manager.set_leading(true);
  };
  // The manager stops the workers and, unless it is shutting down, exits
  // (as controller-runtime does): nothing this process still holds in memory
  // may write next to the new leader.
  callbacks.on_stopped_leading = [id, &metrics, &manager] {
    metrics.leader_election_master_status.with({id}).set(0);
    manager.set_leading(false);
  };
  callbacks.on_new_leader = [](const std::string& who) { spdlog::info("the leader is {}", who); };
  election->elector = std::make_unique<runtime::LeaderElector>(lease_config, *election->store, callbacks);
  return election;
}

runtime::Runnable elector_runnable(Election& election, const RunOptions& options, const std::string& identity) {
  runtime::Runnable r;
  r.name = "leader election";
  r.start = [&election, id = options.leader_election_id, identity] {
    spdlog::info("waiting to become the leader ({} in {}) as {}", id, election.ns, identity);
    election.elector->start();
    return kube::ok();
  };
  r.stop = [&election] {
    election.elector->stop();  // releases the Lease for a fast takeover
    return true;
  };
  return r;
}

// Everything the operator runs, in one frame: returning destroys every
// client, cache and thread of it.
int serve(const RunOptions& options) {
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
      kube::make_cpprest_transport(config.value(), kube::TransportUse::Watches, options.watch_idle_timeout));
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

  // Outcomes that change wake the set; the controller exists further down.
  std::function<void(const std::string&)> enqueue_set = [](const std::string&) {};
  std::unique_ptr<postgres::Connector> postgres_connector;
  std::unique_ptr<DatabaseChecker> database_checker;
  std::thread database_checker_thread;
  if (options.database_check_interval.count() > 0) {
    postgres_connector = postgres::make_libpq_connector();
    DatabaseCheckerOptions checker_options;
    checker_options.interval = options.database_check_interval;
    checker_options.concurrency = static_cast<size_t>(options.concurrency);
    checker_options.metrics = &registry;
    checker_options.on_change = [&enqueue_set](const std::string& key) { enqueue_set(key); };
    database_checker = std::make_unique<DatabaseChecker>(*postgres_connector, checker_options);
  }

  ReconcilerOptions reconciler_options;
  reconciler_options.database_checker = database_checker.get();
  reconciler_options.cluster_domain = options.cluster_domain;
  reconciler_options.max_pod_security_level = options.max_pod_security_level;
  reconciler_options.apply_concurrency = static_cast<size_t>(options.concurrency);
  // Summaries (status, routing ConfigMap) are written off the workers; one
  // that fails retries with the controller's backoff.
  reconciler_options.summary_writer_threads = kSummaryWriterThreads;
  std::function<void(const std::string&)> retry_set_later = [](const std::string&) {};
  reconciler_options.requeue = [&retry_set_later](const std::string& key) { retry_set_later(key); };
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
  controller.set_leading(false);  // until workers_runnable starts
  enqueue_set = [&controller](const std::string& key) { controller.enqueue(key); };
  retry_set_later = [&controller](const std::string& key) { controller.queue().add_rate_limited(key); };

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

  // What each cache holds, so that a test (or an operator of the operator)
  // can compare it with the API server's count after a fault.
  runtime::GaugeFamily& cached = registry.gauge("electric_operator_cached_objects",
                                                "Objects in each watch's cache", {"watch"});
  for (runtime::Informer* inf : caches.all_informers()) {
    cached.with({inf->name()}).set_function([inf] { return static_cast<double>(inf->store().size()); });
  }

  runtime::HttpServer metrics_server;
  metrics_server.handle("/metrics", [&registry] {
    return runtime::HttpReply{200, "text/plain; version=0.0.4; charset=utf-8", registry.render()};
  });
  runtime::HttpServer probe_server;
  health.serve_on(probe_server);

  runtime::ManagerOptions manager_options;
  manager_options.grace_period = options.shutdown_grace_period;
  manager_options.cleanup_budget = kShutdownCleanupBudget;
  manager_options.leader_election = options.leader_elect;
  manager_options.handle_signals = true;
  runtime::Manager manager(manager_options);
  std::unique_ptr<Election> election;
  if (options.leader_elect) {
    election = make_election(options, config.value(), event_options.instance, count_request, metrics, manager);
    if (!election) return 1;
  }
  // Started in this order, stopped in reverse: the drain first, then the
  // Lease's release, the last Events, the watches, the servers.
  manager.add(http_server_runnable("metrics", metrics_server, options.metrics_bind_address));
  manager.add(http_server_runnable("health probes", probe_server, options.health_probe_bind_address));
  manager.add(caches_runnable(caches));
  manager.add(events_runnable(events));
  if (election) manager.add(elector_runnable(*election, options, event_options.instance));
  manager.add(controller_runnable(controller, reconciler, manager, options.shutdown_grace_period,
                                  [&caches] { caches.referenced_secrets.refresh_all_claims(); }));
  if (database_checker) manager.add(database_checker_runnable(*database_checker, database_checker_thread));
  manager.add(workers_runnable(controller, reconciler));
  manager.every(kEventFlushInterval, [&events] {
    events.flush();
    return_free_memory();
  });
  return manager.run();
}

}  // namespace

int run_operator(const RunOptions& options) {
  configure_logging(options.log_format, options.log_level);
  // Before any thread starts, so all inherit it.
  runtime::block_shutdown_signals();
  const int code = serve(options);
  if (!kube::wait_for_cpprest_idle(kCpprestIdleTimeout)) {
    spdlog::warn("cpprestsdk still had requests or tasks in flight {}s after the last client was gone",
                 kCpprestIdleTimeout.count());
  }
  return code;
}

}  // namespace app
