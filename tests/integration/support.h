// Shared fixtures for the integration tests: a client for the real control
// plane started by tests/cluster/cluster (KUBECONFIG from build/cluster/env),
// a namespace per test, the operator binary as a separate process, and
// polling with a deadline.
//
//   TestNamespace ns(client(), "converge");
//   OperatorProcess op({"--namespace", ns.name()});
//   ASSERT_TRUE(eventually([&] { return ...; }, 60s)) << op.log_tail();
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "kube/client.h"

namespace itest {

using json = nlohmann::json;
using namespace std::chrono_literals;

// The admin client; skips the test (GTEST_SKIP in callers) when no cluster.
bool cluster_available();
kube::Client& client();
kube::Resource shard_sets();

// Polls `condition` every 200 ms until it holds or `timeout` passes.
bool eventually(const std::function<bool()>& condition,
                std::chrono::milliseconds timeout = 60s);

// Applies objects as field manager "integration-test" (not the operator's).
void apply_as_test(const kube::Resource& r, const std::string& ns, const json& body);
// YAML text of one object -> JSON.
json yaml(const std::string& text);

class TestNamespace {
 public:
  TestNamespace(const std::string& prefix);
  ~TestNamespace();
  const std::string& name() const { return name_; }

 private:
  std::string name_;
};

class OperatorProcess {
 public:
  // Starts EO_OPERATOR_BIN (default build/bin/electric-operator) with
  // `run --kubeconfig $KUBECONFIG --metrics-bind-address 127.0.0.1:<free>
  //  --health-probe-bind-address 127.0.0.1:<free>` plus `extra_args`, and
  // `--database-check-interval 0` unless extra_args name that flag: most
  // tests' database URLs name hosts that do not exist.
  // `binary` replaces EO_OPERATOR_BIN (the soak measures the release build).
  explicit OperatorProcess(std::vector<std::string> extra_args = {},
                           std::string kubeconfig = {}, std::string binary = {});
  // Still running: SIGTERM, and the test fails unless it exits 0 in time.
  // Always: the test fails on a sanitizer report in the log.
  ~OperatorProcess();
  OperatorProcess(const OperatorProcess&) = delete;
  OperatorProcess& operator=(const OperatorProcess&) = delete;

  int pid() const { return pid_; }
  bool running();
  // Sends `signal`; returns the exit code (or 128+signal) once it exited, or
  // -1 when it did not exit within `timeout`.
  int stop(int signal, std::chrono::milliseconds timeout = 40s);
  std::string log() const;       // everything it wrote to stdout/stderr
  std::string log_tail(size_t lines = 40) const;
  int metrics_port() const { return metrics_port_; }
  int health_port() const { return health_port_; }
  // GET http://127.0.0.1:<port><path>: status code, or 0 when nothing answers.
  int http_get(int port, const std::string& path, std::string* body = nullptr) const;
  // The value of one Prometheus sample, e.g.
  // metric("rest_client_requests_total", {{"method","PATCH"}}) summed over
  // every series whose labels include the given ones.
  double metric(const std::string& name,
                const std::vector<std::pair<std::string, std::string>>& labels = {}) const;
  // Its writes to the API server (POST, PATCH, DELETE: not the PUTs that
  // renew its Lease) and its finished reconciles, from its own counters.
  double writes() const;
  double reconciles() const;

 private:
  int pid_ = -1;
  int exit_code_ = -1;
  int metrics_port_ = 0;
  int health_port_ = 0;
  std::string log_path_;
};

// "Nothing happened", proven without a sleep: touches the set (an annotation,
// so no new generation), waits for the reconcile that touch wakes, and
// succeeds when the operator wrote nothing meanwhile.
::testing::AssertionResult reconciles_without_writing(const OperatorProcess& op,
                                                      const std::string& ns,
                                                      const std::string& set_name);

int free_port();
// From the first sanitizer report in `log` (ASan, UBSan, LeakSanitizer) on,
// or "" when there is none.
std::string sanitizer_report(const std::string& log);

// --- ElectricShardSets and their Secrets, shared by the operator tests ---

// A file of the source tree, e.g. "crds/electric-operator.dev_electricshardsets.yaml".
std::string repo_file(const std::string& relative);
std::string base64(const std::string& bytes);
// Applies the CRD from crds/ and waits until it is Established.
bool install_crd();

// A suite of tests that run operators against the cluster: installs the CRD
// once, and skips every test when there is no cluster.
class OperatorSuite : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!cluster_available()) return;
    ASSERT_TRUE(install_crd());
  }
  void SetUp() override {
    if (!cluster_available()) GTEST_SKIP() << "no cluster (KUBECONFIG unset)";
  }
};
// Creates or replaces Secret `name` with `data` (plain values, encoded here).
void put_secret(const std::string& ns, const std::string& name,
                const std::map<std::string, std::string>& data);
std::string pg_url(int shard, const std::string& password = "s3cret-pw");
// A set with `shards` shards "0".."n-1" reading Secrets pg-<i> key url;
// `extra_spec_yaml` is appended under spec (indent two spaces).
json shard_set(const std::string& ns, const std::string& name, int shards,
               const std::string& extra_spec_yaml = "");
void apply_set(const json& set);
// The object, or null when it cannot be read.
json get_object(const kube::Resource& r, const std::string& ns, const std::string& name);
// The status condition of `type`, or null.
json condition(const json& set, const std::string& type);
// Ready=True with readyShards == shards at the current generation.
bool set_ready(const std::string& ns, const std::string& name, int shards);
json shard_status(const std::string& ns, const std::string& name, const std::string& shard);
size_t count_objects(const kube::Resource& r, const std::string& ns, const std::string& label_selector);

// Runs `shell_command` (sh -c) with `input` on its stdin; its exit status,
// or -1 when it could not run. Its stdout and stderr go to `output`.
int run_with_input(const std::string& shell_command, const std::string& input, std::string* output);

}  // namespace itest
