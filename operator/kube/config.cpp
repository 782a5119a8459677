#include "kube/config.h"

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include <openssl/err.h>
#include <openssl/x509.h>
#include <spdlog/spdlog.h>
#include <yaml-cpp/yaml.h>

#include "kube/pem.h"

namespace kube {
namespace {

namespace fs = std::filesystem;

constexpr const char* kUnsupportedAdvice = "; use a client certificate or token";

Error config_error(std::string message) {
  return Error{0, "ConfigError", std::move(message)};
}

Result<std::string> read_file(const fs::path& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return config_error("cannot read " + what + " " + path.string() + ": " +
                        std::strerror(errno));
  }
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) {
    return config_error("cannot read " + what + " " + path.string());
  }
  return content.str();
}

std::string scalar(const YAML::Node& node, const char* key) {
  const YAML::Node value = node[key];
  if (!value || !value.IsScalar()) return {};
  return value.as<std::string>();
}

// kubeconfig lists are [{name: x, <kind>: {...}}]; returns the inner map
// (an empty map when the entry has none), or nullopt when no entry is named so.
std::optional<YAML::Node> find_named(const YAML::Node& list, const std::string& name,
                                     const char* kind) {
  if (!list || !list.IsSequence()) return std::nullopt;
  for (const YAML::Node& entry : list) {
    if (entry.IsMap() && scalar(entry, "name") == name) {
      const YAML::Node inner = entry[kind];
      if (inner && inner.IsMap()) return inner;
      return YAML::Node(YAML::NodeType::Map);
    }
  }
  return std::nullopt;
}

// Paths inside a kubeconfig are relative to the file's own folder (as kubectl
// resolves them), so a kubeconfig and its certificates can move together.
fs::path resolve(const fs::path& kubeconfig_dir, const std::string& path) {
  fs::path p(path);
  return p.is_absolute() ? p : kubeconfig_dir / p;
}

// Inline data (base64) or a file; `data_key` wins when both are set, as in
// kubectl.
Result<std::string> data_or_file(const YAML::Node& node, const char* data_key,
                                 const char* file_key, const fs::path& dir,
                                 const std::string& where, const ConfigFileReader& read) {
  const std::string data = scalar(node, data_key);
  if (!data.empty()) return base64_decode(data, where + " " + data_key);
  const std::string file = scalar(node, file_key);
  if (!file.empty()) return read(resolve(dir, file).string(), where + " " + file_key);
  return std::string();
}

bool printable_ascii_without_spaces(const std::string& text) {
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte >= 0x7f) return false;
  }
  return true;
}

// A name the kubeconfig gives (a namespace, a TLS server name) that no
// cluster could know: `whose` says where it stands.
std::optional<Error> unprintable(const std::string& name, const std::string& whose) {
  if (printable_ascii_without_spaces(name)) return std::nullopt;
  return config_error(whose + " with a space, a control character or a non-ASCII byte");
}

// Why `server` (already known to start with http:// or https://) is not a
// URL the transport can open, or nullopt: a host name or [IPv6] literal,
// an optional port 1..65535 and path, no query or fragment, printable ASCII
// without spaces. A server that passed here used to reach cpprestsdk's URI
// parser only when the transports were made, whose exception ended the
// process at start.
std::optional<std::string> not_a_server_url(const std::string& server) {
  if (!printable_ascii_without_spaces(server)) {
    return std::string("holds a space, a control character or a non-ASCII byte");
  }
  // Printable ASCII that RFC 3986 allows nowhere in a URI.
  if (server.find_first_of("\"<>\\^`{|}") != std::string::npos) {
    return std::string("holds a character a URL cannot (one of \"<>\\^`{|})");
  }
  const size_t sep = server.find("://");
  if (sep == std::string::npos) return std::string("names no host");
  const std::string rest = server.substr(sep + 3);
  const std::string authority = rest.substr(0, rest.find_first_of("/?#"));
  if (authority.find('@') != std::string::npos) return std::string("has user information");
  const std::string path = rest.substr(authority.size());
  if (path.find_first_of("?#") != std::string::npos) return std::string("has a query or a fragment");
  if (path.find_first_of("[]") != std::string::npos) return std::string("has a '[' or ']' outside an IPv6 address");
  std::string host = authority, port;
  if (!authority.empty() && authority[0] == '[') {
    const size_t close = authority.find(']');
    if (close == std::string::npos) return std::string("has an IPv6 address without its closing ']'");
    host = authority.substr(1, close - 1);
    const std::string after = authority.substr(close + 1);
    if (!after.empty() && after[0] != ':') return std::string("has characters after its IPv6 address");
    if (!after.empty()) {
      port = after.substr(1);
      if (port.empty()) return std::string("has an empty port");
    }
    if (host.find_first_not_of("0123456789abcdefABCDEF:.") != std::string::npos) {
      return std::string("has an IPv6 address that is not one");
    }
  } else if (const size_t colon = authority.find(':'); colon != std::string::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    if (port.empty()) return std::string("has an empty port");
  }
  if (host.empty()) return std::string("names no host");
  if (authority[0] != '[' &&
      host.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_~") !=
          std::string::npos) {
    return std::string("has a host name with a character other than letters, digits, '.', '-', '_' and '~'");
  }
  if (!port.empty()) {
    if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
        std::stoi(port) < 1 || std::stoi(port) > 65535) {
      return std::string("has a port that is not a number between 1 and 65535");
    }
  }
  return std::nullopt;
}

std::optional<Error> unsupported_user_feature(const YAML::Node& user,
                                              const std::string& user_name) {
  const std::string prefix = "kubeconfig user " + user_name + " uses ";
  const std::string suffix = std::string(", which electric-operator does not support") +
                             kUnsupportedAdvice;
  if (user["exec"]) {
    return config_error(prefix + "an exec credential plugin" + suffix);
  }
  if (const YAML::Node provider = user["auth-provider"]) {
    std::string name = provider.IsMap() ? scalar(provider, "name") : std::string();
    return config_error(prefix + "the auth-provider " + (name.empty() ? "plugin" : name) +
                        suffix);
  }
  if (user["username"] || user["password"]) {
    return config_error(prefix + "basic authentication (username/password)" + suffix);
  }
  for (const char* key : {"as", "as-uid", "as-groups", "as-user-extra"}) {
    if (user[key]) {
      return config_error(prefix + "impersonation (" + key + ")" + suffix);
    }
  }
  return std::nullopt;
}

Result<ClusterConfig> parse_kubeconfig(const YAML::Node& root, const std::string& path,
                                       const ConfigFileReader& read) {
  const std::string where = "kubeconfig " + path;
  if (!root.IsMap()) return config_error(where + " is not a YAML map");
  const fs::path dir = fs::absolute(fs::path(path)).parent_path();

  const std::string context_name = scalar(root, "current-context");
  if (context_name.empty()) {
    return config_error(where + " has no current-context (set one with kubectl config use-context)");
  }
  const std::optional<YAML::Node> found_context =
      find_named(root["contexts"], context_name, "context");
  if (!found_context) {
    return config_error(where + ": current-context \"" + context_name + "\" is not in its contexts");
  }
  const YAML::Node& context = *found_context;
  const std::string cluster_name = scalar(context, "cluster");
  const std::optional<YAML::Node> found_cluster =
      find_named(root["clusters"], cluster_name, "cluster");
  if (cluster_name.empty() || !found_cluster) {
    return config_error(where + ": context \"" + context_name + "\" names cluster \"" +
                        cluster_name + "\", which is not in its clusters");
  }
  const YAML::Node& cluster = *found_cluster;
  const std::string user_name = scalar(context, "user");
  std::optional<YAML::Node> found_user = YAML::Node(YAML::NodeType::Map);  // anonymous
  if (!user_name.empty()) {
    found_user = find_named(root["users"], user_name, "user");
    if (!found_user) {
      return config_error(where + ": context \"" + context_name + "\" names user \"" +
                          user_name + "\", which is not in its users");
    }
  }

  const YAML::Node& user = *found_user;

  ClusterConfig config;
  config.source = where + " (context " + context_name + ")";
  config.default_namespace = scalar(context, "namespace");
  if (auto bad = unprintable(config.default_namespace, where + ": context \"" + context_name + "\" has a namespace")) {
    return *bad;
  }

  config.server = scalar(cluster, "server");
  if (config.server.rfind("https://", 0) != 0 && config.server.rfind("http://", 0) != 0) {
    return config_error(where + ": cluster \"" + cluster_name +
                        "\" has no https:// server (got \"" + config.server + "\")");
  }
  while (!config.server.empty() && config.server.back() == '/') config.server.pop_back();
  if (auto why = not_a_server_url(config.server)) {
    return config_error(where + ": cluster \"" + cluster_name + "\" has a server address that is not a URL: it " +
                        *why);
  }
  if (cluster["proxy-url"]) {
    return config_error(where + ": cluster \"" + cluster_name +
                        "\" uses proxy-url, which electric-operator does not support");
  }
  const std::string cluster_where = where + " cluster " + cluster_name;
  auto ca = data_or_file(cluster, "certificate-authority-data", "certificate-authority", dir,
                         cluster_where, read);
  if (!ca.ok()) return ca.error();
  config.ca_pem = std::move(ca.value());
  config.tls_server_name = scalar(cluster, "tls-server-name");
  // A host name, sent in SNI and matched against the certificate.
  if (auto bad = unprintable(config.tls_server_name,
                              where + ": cluster \"" + cluster_name + "\" has a tls-server-name")) {
    return *bad;
  }
  if (const YAML::Node insecure = cluster["insecure-skip-tls-verify"]) {
    config.insecure_skip_tls_verify = insecure.as<bool>();
  }
  if (config.insecure_skip_tls_verify && !config.ca_pem.empty()) {
    // kubectl refuses this too: the two settings contradict each other.
    return config_error(cluster_where +
                        " sets both insecure-skip-tls-verify and a certificate authority; "
                        "keep only one");
  }
  if (!config.ca_pem.empty()) {
    auto certs = parse_certificates(config.ca_pem, cluster_where + " certificate authority");
    if (!certs.ok()) return certs.error();
  }

  if (auto unsupported = unsupported_user_feature(user, user_name)) return *unsupported;
  const std::string user_where = where + " user " + user_name;
  auto cert = data_or_file(user, "client-certificate-data", "client-certificate", dir, user_where,
                           read);
  if (!cert.ok()) return cert.error();
  auto key = data_or_file(user, "client-key-data", "client-key", dir, user_where, read);
  if (!key.ok()) return key.error();
  config.client_cert_pem = std::move(cert.value());
  config.client_key_pem = std::move(key.value());
  if (config.client_cert_pem.empty() != config.client_key_pem.empty()) {
    return config_error(user_where +
                        " has a client certificate without a key, or a key without a "
                        "certificate; both are needed");
  }
  if (!config.client_cert_pem.empty()) {
    auto certs = parse_certificates(config.client_cert_pem, user_where + " client certificate");
    if (!certs.ok()) return certs.error();
    auto parsed_key = parse_private_key(config.client_key_pem, user_where + " client key");
    if (!parsed_key.ok()) return parsed_key.error();
    if (X509_check_private_key(certs.value().front().get(), parsed_key.value().get()) != 1) {
      ERR_clear_error();
      return config_error(user_where + " client key does not belong to its client certificate");
    }
  }

  config.bearer_token = scalar(user, "token");
  const std::string token_file = scalar(user, "tokenFile");
  if (!token_file.empty()) {
    config.bearer_token_file = resolve(dir, token_file).string();
    auto token = read(config.bearer_token_file, user_where + " tokenFile");
    if (!token.ok()) return token.error();
  }

  if (config.insecure_skip_tls_verify) {
    spdlog::warn("{} sets insecure-skip-tls-verify: the API server's certificate will "
                 "not be verified, so anyone on the path can read and change traffic",
                 config.source);
  }
  return config;
}

}  // namespace

Result<ClusterConfig> parse_kubeconfig_text(const std::string& text, const std::string& path,
                                            const ConfigFileReader& read) {
  const ConfigFileReader from_disk = [](const std::string& file, const std::string& what) {
    return read_file(file, what);
  };
  try {
    const YAML::Node root = YAML::Load(text);
    return parse_kubeconfig(root, path, read ? read : from_disk);
  } catch (const YAML::Exception& e) {
    return config_error("kubeconfig " + path + " is not valid YAML: " + e.what());
  }
}

Result<ClusterConfig> load_kubeconfig(const std::string& path) {
  auto text = read_file(path, "kubeconfig");
  if (!text.ok()) return text.error();
  return parse_kubeconfig_text(text.value(), path);
}

Result<ClusterConfig> load_in_cluster(const std::string& sa_dir) {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (host == nullptr || *host == '\0' || port == nullptr || *port == '\0') {
    return config_error(
        "not running in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT "
        "must both be set");
  }
  ClusterConfig config;
  const std::string host_text(host);
  // An IPv6 service address needs brackets inside a URL.
  const bool ipv6 = host_text.find(':') != std::string::npos && host_text.front() != '[';
  config.server = "https://" + (ipv6 ? "[" + host_text + "]" : host_text) + ":" + port;
  const fs::path dir(sa_dir);
  auto ca = read_file(dir / "ca.crt", "service-account CA");
  if (!ca.ok()) return ca.error();
  config.ca_pem = std::move(ca.value());
  auto certs = parse_certificates(config.ca_pem, "service-account CA " + (dir / "ca.crt").string());
  if (!certs.ok()) return certs.error();
  config.bearer_token_file = (dir / "token").string();
  auto token = read_file(config.bearer_token_file, "service-account token");
  if (!token.ok()) return token.error();
  auto ns = read_file(dir / "namespace", "service-account namespace");
  if (ns.ok()) {
    config.default_namespace = ns.value();
    while (!config.default_namespace.empty() &&
           std::isspace(static_cast<unsigned char>(config.default_namespace.back()))) {
      config.default_namespace.pop_back();
    }
  }
  config.source = "in-cluster";
  return config;
}

Result<ClusterConfig> load_config(const std::string& explicit_path) {
  if (!explicit_path.empty()) return load_kubeconfig(explicit_path);
  if (const char* env = std::getenv("KUBECONFIG"); env != nullptr && *env != '\0') {
    // Only the first entry: merging several kubeconfigs is kubectl's business.
    std::string list(env);
    std::string first;
    std::istringstream entries(list);
    while (std::getline(entries, first, ':')) {
      if (!first.empty()) return load_kubeconfig(first);
    }
  }
  if (const char* host = std::getenv("KUBERNETES_SERVICE_HOST"); host != nullptr && *host != '\0') {
    return load_in_cluster();
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    const fs::path fallback = fs::path(home) / ".kube" / "config";
    std::error_code ec;
    if (fs::exists(fallback, ec)) return load_kubeconfig(fallback.string());
  }
  return config_error(
      "no Kubernetes configuration found: pass --kubeconfig, set KUBECONFIG, run in a "
      "cluster, or create ~/.kube/config");
}

}  // namespace kube
