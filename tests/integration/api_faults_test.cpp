// Issue 12 item 4: API-server faults. Each test runs the operator through a
// fault-injecting TCP proxy (Toxiproxy, tests/integration/fault_proxy.h)
// between it and the real API server, injects one fault while sets change
// and children are tampered with, lifts it, and asserts what the README's
// fault table promises:
// - convergence: every set Ready with its shards, what changed during the
//   fault applied, a child deleted during it restored;
// - no duplicate or stray object: exactly the children the sets own;
// - the caches equal the API server's state: each watch's cache holds as
//   many objects as the API server has, and a reconcile after the fault
//   writes nothing (a cache that missed an event would make it write);
// - writes bounded: the operator's writes over the whole test stay within
//   kWritesPerShard per shard it ever managed and kWritesPerSet (printed).
// The operator's watches are told to give up after 10 s of silence
// (--watch-idle-timeout) so that a half-open watch is noticed in test time;
// its default is 90 s.
#include <thread>

#include <gtest/gtest.h>

#include "fault_proxy.h"
#include "support.h"

namespace itest {
namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kManaged = "app.kubernetes.io/managed-by=electric-operator";
constexpr auto kIdleTimeout = 10s;
// Writes over a whole test: its set's four children per shard, the API
// secret and routing ConfigMap, status patches as pods become Ready, Events.
// Measured 8 to 48 across these tests (at most 16 per shard, the small sets
// paying the set's own share); a fault may add retries, never a storm.
constexpr double kWritesPerShard = 12;
constexpr double kWritesPerSet = 25;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

class ApiFaultsTest : public OperatorSuite {
 protected:
  void SetUp() override {
    OperatorSuite::SetUp();
    if (IsSkipped()) return;
    proxy_ = std::make_unique<FaultProxy>();
    if (!proxy_->ready()) GTEST_SKIP() << proxy_->why();
  }

  // An operator whose every request and watch goes through the proxy.
  std::unique_ptr<OperatorProcess> proxied_operator(const std::string& ns, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--namespace", ns, "--watch-idle-timeout",
                                     std::to_string(kIdleTimeout.count()) + "s"};
    args.insert(args.end(), extra.begin(), extra.end());
    return std::make_unique<OperatorProcess>(args, proxy_->kubeconfig());
  }

  static void put_database_secrets(const std::string& ns, int shards) {
    for (int i = 0; i < shards; ++i) put_secret(ns, "pg-" + std::to_string(i), {{"url", pg_url(i)}});
  }

  // Set "s" with `shards` shards, applied and Ready before the fault.
  static void converge(OperatorProcess& op, const std::string& ns, int shards) {
    apply_set(shard_set(ns, "s", shards));
    ASSERT_TRUE(eventually([&] { return set_ready(ns, "s", shards); }, 90s)) << op.log_tail();
  }

  std::unique_ptr<FaultProxy> proxy_;
};

// Each watch's cache against the API server's objects of its kind.
::testing::AssertionResult caches_match(const OperatorProcess& op, const std::string& ns) {
  for (const kube::Resource* r : {&kube::kDeployments, &kube::kServices, &kube::kPersistentVolumeClaims,
                                  &kube::kConfigMaps, &kube::kSecrets}) {
    const double cached = op.metric("electric_operator_cached_objects", {{"watch", r->plural + " in " + ns}});
    const size_t actual = count_objects(*r, ns, kManaged);
    if (cached != static_cast<double>(actual))
      return ::testing::AssertionFailure() << r->plural << ": cache " << cached << ", API server " << actual;
  }
  return ::testing::AssertionSuccess();
}

// Exactly the children of `sets` (set name -> shards): Deployment, Service,
// PVC and Secret per shard, the API secret and routing ConfigMap per set.
::testing::AssertionResult exact_children(const std::string& ns, const std::map<std::string, int>& sets) {
  size_t shards = 0;
  for (const auto& [name, n] : sets) shards += static_cast<size_t>(n);
  const auto count = [&](const kube::Resource& r) { return count_objects(r, ns, kManaged); };
  const size_t deployments = count(kube::kDeployments), services = count(kube::kServices),
               pvcs = count(kube::kPersistentVolumeClaims), secrets = count(kube::kSecrets),
               configmaps = count(kube::kConfigMaps);
  if (deployments == shards && services == shards && pvcs == shards && secrets == shards + sets.size() &&
      configmaps == sets.size())
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "Deployments " << deployments << ", Services " << services << ", PVCs "
                                       << pvcs << ", Secrets " << secrets << ", ConfigMaps " << configmaps
                                       << "; want " << shards << " shards of " << sets.size() << " sets";
}

// Everything the fault table promises once the fault is lifted.
void expect_recovered(OperatorProcess& op, const std::string& ns, const std::map<std::string, int>& sets,
                      double shards_managed) {
  for (const auto& [name, n] : sets)
    EXPECT_TRUE(eventually([&] { return set_ready(ns, name, n); }, 120s)) << name << op.log_tail();
  EXPECT_TRUE(eventually([&] { return bool(exact_children(ns, sets)); }, 60s)) << exact_children(ns, sets);
  EXPECT_TRUE(eventually([&] { return bool(caches_match(op, ns)); }, 30s)) << caches_match(op, ns);
  // Quiet first: a write sent during the fault may be answered only now.
  EXPECT_TRUE(eventually([&] {
    const double writes = op.writes();
    std::this_thread::sleep_for(3s);
    return op.writes() == writes;
  }, 60s)) << op.log_tail();
  for (const auto& [name, n] : sets) EXPECT_TRUE(reconciles_without_writing(op, ns, name)) << name;
  EXPECT_TRUE(op.running()) << op.log_tail();
  std::cout << "== writes: " << op.writes() << " for " << shards_managed << " shards managed\n";
  EXPECT_LE(op.writes(), kWritesPerShard * shards_managed + kWritesPerSet) << "writes grew with the fault";
}

bool delete_service(const std::string& ns, const std::string& name) {
  return client().remove(kube::kServices, ns, name).ok();
}

TEST_F(ApiFaultsTest, TwoSecondsOfLatencySlowTheSyncButChangeNothingElse) {
  TestNamespace ns("fault-latency");
  put_database_secrets(ns.name(), 4);
  auto op = proxied_operator(ns.name());
  ASSERT_TRUE(proxy_->add_toxic("slow", "latency", "downstream", {{"latency", 2000}}));
  apply_set(shard_set(ns.name(), "s", 3));
  EXPECT_TRUE(eventually([&] { return set_ready(ns.name(), "s", 3); }, 180s)) << op->log_tail();
  apply_set(shard_set(ns.name(), "s", 4));
  ASSERT_TRUE(delete_service(ns.name(), "s-shard-0"));
  EXPECT_TRUE(eventually([&] { return set_ready(ns.name(), "s", 4) && bool(exact_children(ns.name(), {{"s", 4}})); },
                         180s))
      << op->log_tail();
  ASSERT_TRUE(proxy_->remove_toxic("slow"));
  expect_recovered(*op, ns.name(), {{"s", 4}}, 4);
}

TEST_F(ApiFaultsTest, ResetsInTheMiddleOfWatchesAreResumed) {
  TestNamespace ns("fault-reset");
  put_database_secrets(ns.name(), 3);
  auto op = proxied_operator(ns.name());
  ASSERT_NO_FATAL_FAILURE(converge(*op, ns.name(), 2));
  // Every open connection (the watches' too) is reset, and new ones for 3 s.
  ASSERT_TRUE(proxy_->add_toxic("reset", "reset_peer", "downstream", {{"timeout", 0}}));
  apply_set(shard_set(ns.name(), "s", 3));
  std::this_thread::sleep_for(3s);
  ASSERT_TRUE(proxy_->remove_toxic("reset"));
  EXPECT_TRUE(eventually([&] { return op->log().find("in " + ns.name() + ": watch failed") != std::string::npos; },
                         30s))
      << "no watch saw the reset" << op->log_tail();
  ASSERT_TRUE(eventually([&] { return set_ready(ns.name(), "s", 3); }, 90s)) << op->log_tail();
  EXPECT_EQ(op->log().find("relisting"), std::string::npos) << "a reset is no reason to relist";
  // The watches resumed: a child deleted now is seen and restored.
  ASSERT_TRUE(delete_service(ns.name(), "s-shard-1"));
  EXPECT_TRUE(eventually([&] { return get_object(kube::kServices, ns.name(), "s-shard-1").is_object(); }, 30s))
      << op->log_tail();
  expect_recovered(*op, ns.name(), {{"s", 3}}, 3);
}

TEST_F(ApiFaultsTest, AHalfOpenWatchIsNoticedWithinTheIdleTimeout) {
  TestNamespace ns("fault-halfopen");
  put_database_secrets(ns.name(), 2);
  // A silent watch is resumed without a warning (it may only be quiet): the
  // debug log shows it.
  auto op = proxied_operator(ns.name(), {"--log-level", "debug"});
  ASSERT_NO_FATAL_FAILURE(converge(*op, ns.name(), 2));
  // No byte reaches the operator and no connection closes: the peer looks
  // alive to TCP. The deletion's watch event is dropped with everything else.
  ASSERT_TRUE(proxy_->add_toxic("silence", "timeout", "downstream", {{"timeout", 0}}));
  const auto silenced = Clock::now();
  ASSERT_TRUE(delete_service(ns.name(), "s-shard-0"));
  const std::string noticed = "watch services in " + ns.name() + ": resuming from";
  ASSERT_TRUE(eventually([&] { return op->log().find(noticed) != std::string::npos; }, kIdleTimeout + 20s))
      << "the silent Services watch was not dropped" << op->log_tail();
  // Silent since its last bytes, which came shortly before the toxic.
  const double took = seconds_since(silenced);
  std::cout << "== the silent watch was dropped after " << took << " s (idle timeout "
            << kIdleTimeout.count() << " s)\n";
  EXPECT_LE(took, kIdleTimeout.count() + 5.0);
  ASSERT_TRUE(proxy_->remove_toxic("silence"));
  // Resumed from its last resourceVersion, the watch gets the deletion.
  EXPECT_TRUE(eventually([&] { return get_object(kube::kServices, ns.name(), "s-shard-0").is_object(); }, 60s))
      << op->log_tail();
  expect_recovered(*op, ns.name(), {{"s", 2}}, 2);
}

TEST_F(ApiFaultsTest, ABandwidthLimitSlowsTheSyncButBreaksNothing) {
  TestNamespace ns("fault-bandwidth");
  put_database_secrets(ns.name(), 5);
  auto op = proxied_operator(ns.name());
  // 16 KB/s toward the operator: a Deployment's apply answer (its
  // managedFields included) takes about half a second.
  ASSERT_TRUE(proxy_->add_toxic("narrow", "bandwidth", "downstream", {{"rate", 16}}));
  apply_set(shard_set(ns.name(), "s", 5));
  EXPECT_TRUE(eventually([&] { return set_ready(ns.name(), "s", 5); }, 180s)) << op->log_tail();
  ASSERT_TRUE(proxy_->remove_toxic("narrow"));
  expect_recovered(*op, ns.name(), {{"s", 5}}, 5);
}

TEST_F(ApiFaultsTest, AThirtySecondBlackoutIsRiddenOutAndWhatChangedMeanwhileIsApplied) {
  TestNamespace ns("fault-blackout");
  put_database_secrets(ns.name(), 3);
  auto op = proxied_operator(ns.name());
  ASSERT_NO_FATAL_FAILURE(converge(*op, ns.name(), 2));
  // Every connection cut, every new one refused.
  ASSERT_TRUE(proxy_->set_enabled(false));
  const auto dark = Clock::now();
  apply_set(shard_set(ns.name(), "s", 3));
  ASSERT_TRUE(delete_service(ns.name(), "s-shard-0"));
  while (seconds_since(dark) < 30) {
    ASSERT_TRUE(op->running()) << "the operator exited during the blackout" << op->log_tail();
    std::this_thread::sleep_for(1s);
  }
  EXPECT_EQ(op->http_get(op->health_port(), "/healthz"), 200) << "a blackout is no reason to restart the pod";
  ASSERT_TRUE(proxy_->set_enabled(true));
  expect_recovered(*op, ns.name(), {{"s", 3}}, 3);
  EXPECT_TRUE(get_object(kube::kServices, ns.name(), "s-shard-0").is_object());
}

// Two operators on one Lease, the leader behind the proxy. Its API server
// goes dark: it must stop leading (and exit, as controller-runtime's
// managers do) before its Lease can expire, and the other must take over
// only after that: never two leaders.
TEST_F(ApiFaultsTest, ALeaderCutOffStepsDownBeforeItsLeaseExpiresAndNeverTwoLead) {
  TestNamespace ns("fault-lease");
  put_database_secrets(ns.name(), 3);
  const std::string lease = "fault-lease";
  const std::vector<std::string> elect = {"--leader-elect", "--leader-election-namespace", ns.name(),
                                          "--leader-election-id", lease};
  auto leader = proxied_operator(ns.name(), elect);
  const auto status = [](OperatorProcess& op) {
    return op.running() ? op.metric("leader_election_master_status") : 0.0;
  };
  ASSERT_TRUE(eventually([&] { return status(*leader) == 1; }, 30s)) << leader->log_tail();
  std::vector<std::string> direct_args = {"--namespace", ns.name()};
  direct_args.insert(direct_args.end(), elect.begin(), elect.end());
  OperatorProcess standby(direct_args);
  ASSERT_TRUE(eventually([&] { return standby.http_get(standby.health_port(), "/readyz") == 200; }, 30s));
  ASSERT_NO_FATAL_FAILURE(converge(*leader, ns.name(), 2));
  ASSERT_EQ(status(standby), 0);

  ASSERT_TRUE(proxy_->set_enabled(false));
  const auto dark = Clock::now();
  double leader_stopped = -1, standby_took_over = -1;
  while (seconds_since(dark) < 40 && standby_took_over < 0) {
    const double a = status(*leader), b = status(standby);
    ASSERT_FALSE(a == 1 && b == 1) << "two leaders at " << seconds_since(dark) << " s";
    if (a != 1 && leader_stopped < 0) leader_stopped = seconds_since(dark);
    if (b == 1) standby_took_over = seconds_since(dark);
    std::this_thread::sleep_for(100ms);
  }
  std::cout << "== the cut-off leader stopped leading after " << leader_stopped << " s; the standby led after "
            << standby_took_over << " s (lease 15 s, renew deadline 10 s)\n";
  ASSERT_GE(leader_stopped, 0) << "the cut-off leader kept leading" << leader->log_tail();
  ASSERT_GE(standby_took_over, 0) << "the standby never took over" << standby.log_tail();
  EXPECT_LT(leader_stopped, 15) << "it led past the time its Lease could expire";
  EXPECT_LT(leader_stopped, standby_took_over);
  ASSERT_TRUE(proxy_->set_enabled(true));
  // The new leader carries on: a change is applied, nothing left over.
  apply_set(shard_set(ns.name(), "s", 3));
  expect_recovered(standby, ns.name(), {{"s", 3}}, 3);
}

}  // namespace
}  // namespace itest
