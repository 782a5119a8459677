// Where the API server is and how to authenticate to it.
//
//   auto cfg = kube::load_config(flag_kubeconfig);  // flag, $KUBECONFIG,
//                                                   // ~/.kube/config, in-cluster
//   if (!cfg.ok()) die(cfg.error().message);
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "kube/result.h"
#include "kube/transport.h"

namespace kube {

struct ClusterConfig {
  std::string server;  // "https://127.0.0.1:6443"
  // PEM text (file contents already read), empty when not given.
  std::string ca_pem;
  std::string client_cert_pem;
  std::string client_key_pem;
  std::string bearer_token;       // static token
  std::string bearer_token_file;  // re-read at least once a minute
  bool insecure_skip_tls_verify = false;
  std::string tls_server_name;
  std::string source;  // "kubeconfig /path (context x)" or "in-cluster", for logs
  // The context's namespace, or the service account's in-cluster; "" when
  // neither says.
  std::string default_namespace;
};

// Loads a kubeconfig file (current-context). An unsupported feature
// (auth-provider, exec) is an Error naming it.
Result<ClusterConfig> load_kubeconfig(const std::string& path);

// Reads a file a kubeconfig names (certificate-authority, client-certificate,
// client-key, tokenFile); `what` names it for the error.
using ConfigFileReader =
    std::function<Result<std::string>(const std::string& path, const std::string& what)>;
// load_kubeconfig on text already read: `path` is where it came from (for
// messages, and the folder relative file names resolve against), and the
// files it names are read through `read_file` (the disk when empty). Never
// throws on bad input; the fuzz target and tests call it on bytes.
Result<ClusterConfig> parse_kubeconfig_text(const std::string& text, const std::string& path,
                                            const ConfigFileReader& read_file = {});
// In-cluster: KUBERNETES_SERVICE_HOST/PORT, the service-account CA and token
// file under `sa_dir` (default /var/run/secrets/kubernetes.io/serviceaccount).
Result<ClusterConfig> load_in_cluster(
    const std::string& sa_dir = "/var/run/secrets/kubernetes.io/serviceaccount");
// The usual order: explicit path, $KUBECONFIG (first entry), in-cluster when
// KUBERNETES_SERVICE_HOST is set, then ~/.kube/config.
Result<ClusterConfig> load_config(const std::string& explicit_path);

enum class TransportUse { Requests, Watches };

inline constexpr std::chrono::seconds kDefaultRequestTimeout{30};
// A watch this silent is resumed. The API server sends a bookmark on a quiet
// watch about once a minute while anything of its kind changes in the
// cluster, so a busy cluster's watches rarely wait this long; a quiet kind's
// costs one new watch request per period.
inline constexpr std::chrono::seconds kDefaultWatchIdleTimeout{90};

// The cpprestsdk transport. `timeout` (zero: the default of `use`) is an
// inactivity timeout: for Requests, the time a request may wait for each
// part of its answer; for Watches, the time a stream may send nothing before
// it is dropped as dead and the caller resumes it, so that a half-open
// connection (no bytes, no FIN) is noticed.
std::shared_ptr<Transport> make_cpprest_transport(const ClusterConfig& config, TransportUse use,
                                                  std::chrono::seconds timeout = {});

// Waits, at most `timeout`, until cpprestsdk is idle: every transport made
// above is destroyed, with the library's state for it (connections, requests
// still completing after a cancelled watch), and every task the library
// queued on its thread pool has run. Call it after the last transport is
// gone and before main returns: at exit the pool stops without running what
// is queued, and a task never run is never freed (LeakSanitizer reports it).
// False on timeout.
bool wait_for_cpprest_idle(std::chrono::milliseconds timeout);

}  // namespace kube
