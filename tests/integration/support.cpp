#include "support.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "app/yaml_json.h"
#include "electric/digest.h"
#include "kube/config.h"

namespace itest {
namespace {

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

std::string random_suffix() {
  static std::mt19937 rng(std::random_device{}());
  static const char* alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string s;
  for (int i = 0; i < 5; ++i) s.push_back(alphabet[rng() % 36]);
  return s;
}

std::unique_ptr<kube::Client> make_client(const std::string& field_manager) {
  auto cfg = kube::load_kubeconfig(env_or("KUBECONFIG", ""));
  if (!cfg.ok()) return nullptr;
  auto c = std::make_unique<kube::Client>(
      kube::make_cpprest_transport(cfg.value(), kube::TransportUse::Requests),
      kube::make_cpprest_transport(cfg.value(), kube::TransportUse::Watches));
  c->set_field_manager(field_manager);
  return c;
}

kube::Client* admin_client() {
  static std::unique_ptr<kube::Client> c = make_client("electric-operator-tests");
  return c.get();
}

kube::Client* test_manager_client() {
  static std::unique_ptr<kube::Client> c = make_client("integration-test");
  return c.get();
}

}  // namespace

bool cluster_available() { return !env_or("KUBECONFIG", "").empty() && admin_client(); }

kube::Client& client() {
  if (!admin_client()) {
    std::fprintf(stderr, "no cluster: KUBECONFIG unset or unreadable\n");
    std::abort();
  }
  return *admin_client();
}

kube::Resource shard_sets() {
  return kube::Resource{"electric-operator.dev/v1alpha1", "electricshardsets",
                        "ElectricShardSet", true};
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(200ms);
  }
}

void apply_as_test(const kube::Resource& r, const std::string& ns, const json& body) {
  auto res = test_manager_client()->apply(r, ns, body["metadata"]["name"].get<std::string>(), body);
  if (!res.ok()) {
    throw std::runtime_error("apply " + r.plural + "/" + body["metadata"]["name"].get<std::string>() +
                             " failed: " + res.error().describe());
  }
}

json yaml(const std::string& text) {
  auto docs = app::yaml_documents_to_json(text);
  if (!docs.ok() || docs.value().empty()) throw std::runtime_error("bad test YAML: " + text);
  return docs.value().front();
}

TestNamespace::TestNamespace(const std::string& prefix) : name_(prefix + "-" + random_suffix()) {
  json body = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", name_}}}};
  auto res = client().create(kube::kNamespaces, "", body);
  if (!res.ok()) throw std::runtime_error("create namespace failed: " + res.error().describe());
}

TestNamespace::~TestNamespace() {
  if (std::getenv("EO_KEEP_NAMESPACES")) return;
  // Best effort from a destructor: a namespace left behind is only clutter
  // (and EO_KEEP_NAMESPACES keeps them on purpose).
  (void)client().remove(kube::kNamespaces, "", name_);
}

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

OperatorProcess::OperatorProcess(std::vector<std::string> extra_args, std::string kubeconfig, std::string binary) {
  std::string bin = binary.empty() ? env_or("EO_OPERATOR_BIN", "build/bin/electric-operator") : binary;
  if (kubeconfig.empty()) kubeconfig = env_or("KUBECONFIG", "");
  metrics_port_ = free_port();
  health_port_ = free_port();
  log_path_ = "/tmp/eo-itest-" + random_suffix() + ".log";
  std::vector<std::string> args = {bin, "run", "--kubeconfig", kubeconfig,
                                   "--metrics-bind-address", "127.0.0.1:" + std::to_string(metrics_port_),
                                   "--health-probe-bind-address", "127.0.0.1:" + std::to_string(health_port_)};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  // Most tests' databases are fictitious hosts: checks would only report
  // them unreachable. The database checks' own tests name the flag.
  if (std::find(extra_args.begin(), extra_args.end(), "--database-check-interval") == extra_args.end()) {
    args.push_back("--database-check-interval");
    args.push_back("0");
  }
  pid_ = ::fork();
  if (pid_ == 0) {
    int fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    std::_Exit(127);
  }
}

// A clean stop is part of every test: the sanitizer build reports leaks and
// use-after-free at exit, which a SIGKILL would hide. A test that stopped the
// process itself has checked the exit code it expects; the log is scanned
// either way.
OperatorProcess::~OperatorProcess() {
  if (running()) {
    const int code = stop(SIGTERM, 40s);
    if (code == -1) {
      ADD_FAILURE() << "the operator did not exit within 40 s of SIGTERM" << log_tail();
      stop(SIGKILL, 10s);
    } else if (code != 0) {
      ADD_FAILURE() << "the operator exited with " << code << " on SIGTERM" << log_tail();
    }
  }
  const std::string report = sanitizer_report(log());
  if (!report.empty()) ADD_FAILURE() << "sanitizer report in the operator's log:\n" << report;
  if (!std::getenv("EO_KEEP_LOGS")) ::unlink(log_path_.c_str());
}

std::string sanitizer_report(const std::string& log) {
  for (const char* marker : {"ERROR: AddressSanitizer", "runtime error:", "LeakSanitizer",
                             "ERROR: UndefinedBehaviorSanitizer"}) {
    const size_t at = log.find(marker);
    if (at == std::string::npos) continue;
    const size_t line = log.rfind('\n', at);
    return log.substr(line == std::string::npos ? 0 : line + 1, 4000);
  }
  return "";
}

bool OperatorProcess::running() {
  if (pid_ <= 0) return false;
  int status;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == 0) return true;
  if (r == pid_) {
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    pid_ = -pid_;  // remember it exited
  }
  return false;
}

int OperatorProcess::stop(int sig, std::chrono::milliseconds timeout) {
  if (pid_ > 0) ::kill(pid_, sig);
  bool exited = eventually([&] { return !running(); }, timeout);
  return exited ? exit_code_ : -1;
}

std::string OperatorProcess::log() const {
  std::ifstream in(log_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string OperatorProcess::log_tail(size_t lines) const {
  std::string all = log();
  size_t pos = all.size();
  for (size_t n = 0; n <= lines && pos > 0; ++n) {
    pos = all.rfind('\n', pos - 1);
    if (pos == std::string::npos) { pos = 0; break; }
  }
  return "--- operator log tail ---\n" + all.substr(pos);
}

int OperatorProcess::http_get(int port, const std::string& path, std::string* body) const {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return 0;
  }
  std::string req = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  ::send(fd, req.data(), req.size(), 0);
  std::string resp;
  char buf[8192];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) resp.append(buf, static_cast<size_t>(n));
  ::close(fd);
  if (resp.compare(0, 5, "HTTP/") != 0) return 0;
  int code = std::atoi(resp.c_str() + resp.find(' ') + 1);
  if (body) {
    auto sep = resp.find("\r\n\r\n");
    *body = sep == std::string::npos ? "" : resp.substr(sep + 4);
  }
  return code;
}

double OperatorProcess::metric(const std::string& name,
                               const std::vector<std::pair<std::string, std::string>>& labels) const {
  std::string text;
  if (http_get(metrics_port_, "/metrics", &text) != 200) return -1;
  double sum = 0;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (line.compare(0, name.size(), name) != 0) continue;
    char next = line.size() > name.size() ? line[name.size()] : ' ';
    if (next != '{' && next != ' ') continue;
    bool all = true;
    for (const auto& [k, v] : labels) {
      if (line.find(k + "=\"" + v + "\"") == std::string::npos) { all = false; break; }
    }
    if (!all) continue;
    sum += std::atof(line.c_str() + line.rfind(' ') + 1);
  }
  return sum;
}

double OperatorProcess::writes() const {
  double n = 0;
  // Not PUT: only the leader election sends it, a Lease renewal every 2 s.
  for (const char* verb : {"POST", "PATCH", "DELETE"})
    n += metric("rest_client_requests_total", {{"method", verb}});
  return n;
}

double OperatorProcess::reconciles() const {
  return metric("controller_runtime_reconcile_total", {{"controller", "electricshardset"}});
}

::testing::AssertionResult reconciles_without_writing(const OperatorProcess& op,
                                                      const std::string& ns,
                                                      const std::string& set_name) {
  const double writes_before = op.writes(), reconciles_before = op.reconciles();
  static int touches = 0;
  auto patched = client().merge_patch(
      shard_sets(), ns, set_name,
      json{{"metadata", {{"annotations", {{"itest-touch", std::to_string(++touches)}}}}}});
  if (!patched.ok()) return ::testing::AssertionFailure() << "touch: " << patched.error().describe();
  if (!eventually([&] { return op.reconciles() > reconciles_before; }, 30s))
    return ::testing::AssertionFailure() << "the touch woke no reconcile";
  const double writes_after = op.writes();
  if (writes_after != writes_before)
    return ::testing::AssertionFailure() << "the reconcile wrote " << writes_after - writes_before << " times";
  return ::testing::AssertionSuccess();
}

std::string repo_file(const std::string& relative) {
  std::ifstream in(std::string(EO_SOURCE_DIR) + "/" + relative);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string base64(const std::string& bytes) { return electric::base64_encode(bytes); }

bool install_crd() {
  const kube::Resource crds{"apiextensions.k8s.io/v1", "customresourcedefinitions",
                            "CustomResourceDefinition", false};
  json crd = yaml(repo_file("crds/electric-operator.dev_electricshardsets.yaml"));
  apply_as_test(crds, "", crd);
  return eventually([&] {
    auto got = client().get(crds, "", crd["metadata"]["name"]);
    if (!got.ok()) return false;
    for (const auto& c : got.value()["status"].value("conditions", json::array()))
      if (c["type"] == "Established" && c["status"] == "True") return true;
    return false;
  }, 30s);
}

void put_secret(const std::string& ns, const std::string& name,
                const std::map<std::string, std::string>& data) {
  json d = json::object();
  for (const auto& [k, v] : data) d[k] = base64(v);
  json body = {{"apiVersion", "v1"}, {"kind", "Secret"},
               {"metadata", {{"name", name}, {"namespace", ns}}}, {"data", d}};
  apply_as_test(kube::kSecrets, ns, body);
}

std::string pg_url(int shard, const std::string& password) {
  return "postgresql://electric:" + password + "@pg-" + std::to_string(shard) + ".db:5432/app";
}

json shard_set(const std::string& ns, const std::string& name, int shards,
               const std::string& extra_spec_yaml) {
  json set = yaml("apiVersion: electric-operator.dev/v1alpha1\nkind: ElectricShardSet\n"
                  "metadata: {name: " + name + ", namespace: " + ns + "}\nspec:\n  shards: []\n" +
                  extra_spec_yaml);
  for (int i = 0; i < shards; ++i) {
    set["spec"]["shards"].push_back(
        {{"name", std::to_string(i)},
         {"databaseURLSecretRef", {{"name", "pg-" + std::to_string(i)}, {"key", "url"}}}});
  }
  return set;
}

void apply_set(const json& set) { apply_as_test(shard_sets(), set["metadata"]["namespace"], set); }

json get_object(const kube::Resource& r, const std::string& ns, const std::string& name) {
  auto got = client().get(r, ns, name);
  return got.ok() ? got.value() : json();
}

json condition(const json& set, const std::string& type) {
  if (!set.is_object() || !set.contains("status")) return json();
  for (const auto& c : set["status"].value("conditions", json::array()))
    if (c["type"] == type) return c;
  return json();
}

bool set_ready(const std::string& ns, const std::string& name, int shards) {
  json set = get_object(shard_sets(), ns, name);
  json ready = condition(set, "Ready");
  return !ready.is_null() && ready["status"] == "True" &&
         set["status"].value("readyShards", -1) == shards &&
         set["status"].value("observedGeneration", -1) == set["metadata"].value("generation", -2);
}

json shard_status(const std::string& ns, const std::string& name, const std::string& shard) {
  json set = get_object(shard_sets(), ns, name);
  if (set.is_object() && set.contains("status")) {
    for (const auto& s : set["status"].value("shards", json::array()))
      if (s["name"] == shard) return s;
  }
  return json::object();
}

size_t count_objects(const kube::Resource& r, const std::string& ns, const std::string& label_selector) {
  kube::ListOptions o;
  o.label_selector = label_selector;
  auto list = client().list_all(r, ns, o);
  return list.ok() ? list.value().items.size() : 0;
}

int run_with_input(const std::string& shell_command, const std::string& input, std::string* output) {
  const std::string input_path = "/tmp/eo-itest-input-" + random_suffix();
  {
    std::ofstream out(input_path, std::ios::binary);
    out << input;
  }
  FILE* pipe = ::popen((shell_command + " < " + input_path + " 2>&1").c_str(), "r");
  if (!pipe) {
    ::unlink(input_path.c_str());
    return -1;
  }
  std::string text;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) text.append(buf, n);
  int status = ::pclose(pipe);
  ::unlink(input_path.c_str());
  if (output) *output = text;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace itest
