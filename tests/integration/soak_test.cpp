// Issue 12 item 5: churn soak. After a warm-up that creates the population
// churn keeps (3/5 of EO_SOAK_SETS sets of 1 to 10 shards) and waits for it
// to converge, sets are created, edited (shards added or removed, an env var
// that rolls every pod) and deleted at random for EO_SOAK_SECONDS (120 in
// `make test`, 600 in `make soak`), then the churn stops and the test
// asserts:
// - the operator's RSS, threads and open fds are flat: the peak of the
//   last quarter of the churn (and the convergence after it) within 5% of
//   the second quarter's, the first quarter being the churn's own warm-up;
// - every remaining set is Ready and no reconcile is left failing;
// - no stray child: exactly the children the remaining sets own.
// It measures the release build (ASan's quarantine would make RSS mean
// nothing) and writes its figures to EO_SOAK_RESULTS (build/soak/latest.json;
// scripts/soak.sh, the 10-minute run, to tests/integration/results/soak.json).
#include <algorithm>
#include <cstdlib>
#include <dirent.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "support.h"

namespace itest {
namespace {

class SoakTest : public OperatorSuite {};

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoi(v) : fallback;
}

struct Sample {
  double at_seconds = 0;
  long rss_kb = 0;
  long threads = 0;
  long fds = 0;
};

Sample sample_of(int pid, double at_seconds) {
  Sample s;
  s.at_seconds = at_seconds;
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    std::istringstream fields(line);
    std::string key;
    fields >> key;
    if (key == "VmRSS:") fields >> s.rss_kb;
    if (key == "Threads:") fields >> s.threads;
  }
  if (DIR* dir = ::opendir(("/proc/" + std::to_string(pid) + "/fd").c_str())) {
    while (const dirent* entry = ::readdir(dir))
      if (entry->d_name[0] != '.') ++s.fds;
    ::closedir(dir);
  }
  return s;
}

// The peak of each figure over the samples taken in [from, to) seconds.
Sample peak(const std::vector<Sample>& samples, double from, double to) {
  Sample p;
  for (const Sample& s : samples) {
    if (s.at_seconds < from || s.at_seconds >= to) continue;
    p.rss_kb = std::max(p.rss_kb, s.rss_kb);
    p.threads = std::max(p.threads, s.threads);
    p.fds = std::max(p.fds, s.fds);
  }
  return p;
}

json soak_set(const std::string& ns, int index, int shards, int revision) {
  json set = shard_set(ns, "soak-" + std::to_string(index), 0);
  for (int i = 0; i < shards; ++i)
    set["spec"]["shards"].push_back({{"name", std::to_string(i)},
                                     {"databaseURLSecretRef", {{"name", "pg-" + std::to_string(i)}, {"key", "url"}}}});
  // Nothing retained, so that a deleted set leaves nothing behind.
  set["spec"]["persistentVolumeClaimRetentionPolicy"] = {{"whenDeleted", "Delete"}, {"whenShardRemoved", "Delete"}};
  set["spec"]["template"]["env"] = json::array({{{"name", "SOAK_REVISION"}, {"value", std::to_string(revision)}}});
  return set;
}

constexpr const char* kManaged = "app.kubernetes.io/managed-by=electric-operator";

TEST_F(SoakTest, ChurnLeavesFlatResourcesNoFailingReconcileAndNoStrayChildren) {
  const int seconds = env_int("EO_SOAK_SECONDS", 120);
  const int set_count = env_int("EO_SOAK_SETS", 30);
  // The local control plane's volume provisioner makes about 1.7 claims a
  // second: faster churn only queues claims, which measures the cluster.
  const int interval_ms = std::max(1, env_int("EO_SOAK_CHANGE_INTERVAL_MS", 333));
  const unsigned seed = static_cast<unsigned>(env_int("EO_SOAK_SEED", 12));
  std::cout << "== soak: " << seconds << " s, " << set_count << " sets, a change every " << interval_ms
            << " ms, EO_SOAK_SEED=" << seed << "\n";
  TestNamespace ns("soak");
  for (int i = 0; i < 10; ++i) put_secret(ns.name(), "pg-" + std::to_string(i), {{"url", pg_url(i)}});
  const std::string release = std::string(EO_SOURCE_DIR) + "/build/bin/electric-operator";
  OperatorProcess op({"--namespace", ns.name(), "--log-level", "warn"}, {},
                     std::getenv("EO_SOAK_OPERATOR_BIN") ? std::getenv("EO_SOAK_OPERATOR_BIN") : release);

  ASSERT_TRUE(eventually([&] { return op.http_get(op.health_port(), "/readyz") == 200; }, 30s)) << op.log_tail();
  const Sample idle = sample_of(op.pid(), 0);
  std::mt19937 rng(seed);
  auto uniform = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  std::map<int, int> live;  // set index -> shards
  std::map<std::string, int> changes;
  int revision = 0;
  const auto create = [&](int index) {
    const int shards = uniform(1, 10);
    apply_set(soak_set(ns.name(), index, shards, ++revision));
    live[index] = shards;
  };
  const auto all_ready = [&] {
    for (const auto& [index, n] : live)
      if (!set_ready(ns.name(), "soak-" + std::to_string(index), n)) return false;
    return true;
  };
  const auto live_shards = [&] {
    int shards = 0;
    for (const auto& [index, n] : live) shards += n;
    return shards;
  };
  // Two minutes, and a second per shard for its volume.
  const auto converge_time = [&] { return std::chrono::seconds(120 + live_shards()); };
  const auto not_ready = [&] {
    std::string out;
    for (const auto& [index, n] : live) {
      const std::string name = "soak-" + std::to_string(index);
      if (set_ready(ns.name(), name, n)) continue;
      const json set = get_object(shard_sets(), ns.name(), name);
      out += name + " (" + std::to_string(n) + " shards): " + condition(set, "Ready").dump() + " " +
             set.value("status", json::object()).value("shards", json::array()).dump().substr(0, 600) + "\n";
    }
    return out;
  };

  // Warm-up: the population churn keeps (a present set is deleted two times
  // in three and edited otherwise, an absent one created, so 3/5 of the sets
  // are present on average), created at once and converged.
  for (int index = 0; index < set_count; ++index)
    if (uniform(0, 4) < 3) create(index);
  ASSERT_TRUE(eventually(all_ready, converge_time())) << not_ready() << op.log_tail();
  const size_t warm_up_sets = live.size();

  std::vector<Sample> samples;
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  double next_sample = 0;
  while (elapsed() < seconds) {
    const int index = uniform(0, set_count - 1);
    auto it = live.find(index);
    if (it == live.end()) {
      create(index);
      ++changes["created"];
    } else if (uniform(0, 2) == 0) {
      create(index);
      ++changes["edited"];
    } else {
      ASSERT_TRUE(client().remove(shard_sets(), ns.name(), "soak-" + std::to_string(index)).ok());
      ++changes["deleted"];
      live.erase(it);
    }
    if (elapsed() >= next_sample) {
      ASSERT_TRUE(op.running()) << op.log_tail();
      samples.push_back(sample_of(op.pid(), elapsed()));
      next_sample += 5;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(interval_ms));
  }

  // Every remaining set Ready, every deleted one gone with its children.
  const int shards = live_shards();
  const auto count = [&](const kube::Resource& r) { return count_objects(r, ns.name(), kManaged); };
  EXPECT_TRUE(eventually(all_ready, converge_time())) << not_ready() << op.log_tail();
  EXPECT_TRUE(eventually([&] {
    return count(kube::kDeployments) == size_t(shards) && count(kube::kServices) == size_t(shards) &&
           count(kube::kPersistentVolumeClaims) == size_t(shards) &&
           count(kube::kSecrets) == size_t(shards) + live.size() && count(kube::kConfigMaps) == live.size();
  }, 180s)) << "Deployments " << count(kube::kDeployments) << ", Services " << count(kube::kServices) << ", PVCs "
            << count(kube::kPersistentVolumeClaims) << ", Secrets " << count(kube::kSecrets) << ", ConfigMaps "
            << count(kube::kConfigMaps) << "; want " << shards << " shards of " << live.size() << " sets";
  // Sampled before the metrics are read: the metrics server serves each
  // connection on a thread of its own.
  samples.push_back(sample_of(op.pid(), elapsed()));
  // No reconcile left failing: none fails over a quiet stretch.
  const double errors = op.metric("controller_runtime_reconcile_errors_total");
  std::this_thread::sleep_for(10s);
  EXPECT_EQ(op.metric("controller_runtime_reconcile_errors_total"), errors) << op.log_tail();

  // Flat after the warm-up (the first quarter): the peak of the last
  // quarter, churn's end and the convergence after it, against the second's.
  const double total = samples.back().at_seconds;
  const Sample warm = peak(samples, seconds * 0.25, seconds * 0.5);
  const Sample last = peak(samples, seconds * 0.75, total + 1);
  // Within 5%; threads and fds are small counts, so 2 more are allowed too.
  const auto within = [](double value, double reference) {
    return value <= std::max(reference * 1.05, reference + 2);
  };
  EXPECT_LE(last.rss_kb, warm.rss_kb * 1.05) << "RSS grew";
  EXPECT_TRUE(within(last.threads, warm.threads)) << "threads grew: " << warm.threads << " -> " << last.threads;
  EXPECT_TRUE(within(last.fds, warm.fds)) << "open fds grew: " << warm.fds << " -> " << last.fds;

  json result = {{"seconds", seconds},
                 {"sets", set_count},
                 {"seed", seed},
                 {"change_interval_ms", interval_ms},
                 {"warm_up_sets", warm_up_sets},
                 {"changes", changes},
                 {"remaining_sets", live.size()},
                 {"remaining_shards", shards},
                 {"reconciles", op.reconciles()},
                 {"reconcile_errors", errors}};
  for (const auto& [name, s] : {std::pair<const char*, const Sample*>{"start", &idle}, {"after_warm_up", &warm},
                                {"end", &last}})
    result[name] = {{"rss_kb", s->rss_kb}, {"threads", s->threads}, {"fds", s->fds}};
  const char* results = std::getenv("EO_SOAK_RESULTS");
  const std::string path = results && *results ? results : std::string(EO_SOURCE_DIR) + "/build/soak/latest.json";
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path) << result.dump(2) << "\n";
  std::cout << "== soak result: " << result.dump() << "\n";
}

}  // namespace
}  // namespace itest
