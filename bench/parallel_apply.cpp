// The parallel server-side-apply baseline of the benchmarks (issues 7, 11): the
// API server's own limit for creating a set's children, measured with the
// operator's HTTP stack (kube/) and none of its runtime or domain code.
//
// Reads objects (one JSON object per line: what `electric-operator render`
// prints, with real Secret data and the set's uid), applies each with
// server-side apply (force, field manager electric-operator) from
// --concurrency threads, and prints one JSON line:
//   {"objects":2049,"errors":0,"seconds":4.21,"concurrency":4,"started_monotonic":...}
//
//   parallel_apply --kubeconfig K --concurrency 4 < objects.jsonl
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "kube/client.h"
#include "kube/config.h"

namespace {

using nlohmann::json;

// The namespaced kinds kube/ defines; an object is matched to one by its
// apiVersion and kind, so whatever `electric-operator render` prints of these
// can be applied without a table of kinds here.
const kube::Resource* resource_for(const json& obj) {
  static const kube::Resource* const kKnown[] = {
      &kube::kSecrets,     &kube::kPersistentVolumeClaims, &kube::kServices,
      &kube::kDeployments, &kube::kConfigMaps,             &kube::kNetworkPolicies,
  };
  const std::string api_version = obj.value("apiVersion", "");
  const std::string kind = obj.value("kind", "");
  for (const kube::Resource* r : kKnown)
    if (r->namespaced && r->api_version == api_version && r->kind == kind) return r;
  return nullptr;
}

int usage() {
  std::cerr << "usage: parallel_apply [--kubeconfig PATH] [--concurrency N] "
               "[--field-manager NAME] < objects.jsonl\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string kubeconfig;
  int concurrency = 4;
  // The operator's own manager, so the objects end up exactly as it would own them.
  std::string field_manager = "electric-operator";
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (i + 1 >= argc) return usage();
    if (arg == "--kubeconfig") kubeconfig = argv[++i];
    else if (arg == "--concurrency") concurrency = std::atoi(argv[++i]);
    else if (arg == "--field-manager") field_manager = argv[++i];
    else return usage();
  }
  if (concurrency < 1) return usage();

  std::vector<json> objects;
  for (std::string line; std::getline(std::cin, line);) {
    if (line.empty()) continue;
    json obj = json::parse(line, nullptr, false);
    if (obj.is_discarded() || !resource_for(obj)) {
      std::cerr << "parallel_apply: not an object of a known kind: " << line.substr(0, 80) << "\n";
      return 2;
    }
    objects.push_back(std::move(obj));
  }

  auto config = kube::load_config(kubeconfig);
  if (!config.ok()) {
    std::cerr << "parallel_apply: " << config.error().message << "\n";
    return 1;
  }
  auto transport = kube::make_cpprest_transport(config.value(), kube::TransportUse::Requests);
  kube::Client client(transport, transport);
  client.set_field_manager(field_manager);

  // Connection set-up (TCP, TLS) is paid once by every client; the operator
  // has paid it by the time a set arrives, so open one connection per worker
  // before the clock starts.
  {
    std::vector<std::thread> warm;
    for (int w = 0; w < concurrency; ++w)
      warm.emplace_back([&] { (void)client.list(kube::kNamespaces, "", kube::ListOptions{"", "", 1, "", ""}); });
    for (auto& t : warm) t.join();
  }

  std::atomic<size_t> next{0};
  std::atomic<int> errors{0};
  std::mutex err_mu;
  auto started = std::chrono::steady_clock::now();
  std::vector<std::thread> workers;
  for (int w = 0; w < concurrency; ++w) {
    workers.emplace_back([&] {
      for (size_t i = next++; i < objects.size(); i = next++) {
        const json& obj = objects[i];
        const json& meta = obj["metadata"];
        auto applied = client.apply(*resource_for(obj), meta.value("namespace", ""),
                                    meta.value("name", ""), obj);
        if (!applied.ok()) {
          ++errors;
          std::lock_guard<std::mutex> lock(err_mu);
          std::cerr << "parallel_apply: " << obj["kind"].get<std::string>() << " "
                    << meta.value("name", "") << ": " << applied.error().describe() << "\n";
        }
      }
    });
  }
  for (auto& t : workers) t.join();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  // started_monotonic: CLOCK_MONOTONIC (steady_clock on Linux, Python's
  // time.monotonic()), so a caller can time from the first apply.
  double started_monotonic = std::chrono::duration<double>(started.time_since_epoch()).count();
  std::cout << json{{"objects", objects.size()}, {"errors", errors.load()}, {"seconds", seconds},
                    {"concurrency", concurrency}, {"started_monotonic", started_monotonic}}
                   .dump()
            << std::endl;
  return errors.load() == 0 ? 0 : 1;
}
