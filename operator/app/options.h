// Command-line options of `electric-operator run` and `render`, and their
// parser. Defaults follow controller-runtime's flags where one exists.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "app/logging.h"
#include "kube/config.h"
#include "electric/pod_security.h"

namespace app {

struct RunOptions {
  std::string kubeconfig;               // "" = $KUBECONFIG, in-cluster, ~/.kube/config
  std::vector<std::string> namespaces;  // empty = all namespaces
  int concurrency = 4;
  std::string cluster_domain = "cluster.local";
  // The Pod Security level every Electric pod must meet.
  electric::PodSecurityLevel max_pod_security_level = electric::kDefaultMaxPodSecurityLevel;
  spdlog::level::level_enum log_level = spdlog::level::info;
  LogFormat log_format = LogFormat::Json;
  bool leader_elect = false;
  std::string leader_election_namespace;  // "" = the pod's own namespace
  std::string leader_election_id = "electric-operator-leader";
  std::string metrics_bind_address = ":8080";       // "0" disables
  std::string health_probe_bind_address = ":8081";  // "0" disables
  std::chrono::seconds shutdown_grace_period{30};
  // A watch that delivers nothing for this long is dropped and resumed, so a
  // half-open connection (no bytes, no FIN) is noticed.
  std::chrono::seconds watch_idle_timeout = kube::kDefaultWatchIdleTimeout;
  // Rounds of database checks for every set with spec.databaseChecks:
  // Enabled; zero turns them off for every set (no connections at all).
  std::chrono::milliseconds database_check_interval{std::chrono::seconds(60)};
};

// render's namespace when neither the file nor --namespace names one.
inline constexpr const char* kDefaultRenderNamespace = "default";

struct RenderOptions {
  std::string file;       // "-" = stdin
  std::string ns;         // used when the file names no namespace; "" = kDefaultRenderNamespace
  std::string cluster_domain = "cluster.local";
  electric::PodSecurityLevel max_pod_security_level = electric::kDefaultMaxPodSecurityLevel;
};

struct ShowHelp { std::string text; };
struct ShowVersion {};
struct UsageError { std::string message; };

using Command = std::variant<RunOptions, RenderOptions, ShowHelp, ShowVersion, UsageError>;

// argv[0] is skipped. Never throws; a bad flag is a UsageError.
Command parse_command_line(const std::vector<std::string>& args);

// "30s", "2m", "1m30s", "500ms", or plain seconds.
std::optional<std::chrono::milliseconds> parse_duration(const std::string& text);

// The overview (`--help`): every command and every command's flags.
std::string usage();
// One command's own help (`run --help`, `render --help`): its flags only.
std::string run_usage();
std::string render_usage();

}  // namespace app
