// kube::parse_kubeconfig_text on any bytes: the kubeconfig loader without
// the disk. The files a kubeconfig names come from an in-memory folder: a
// CA ("ca.crt"), a client certificate and its key ("client.crt",
// "client.key", signed by that CA) and a token ("token"), made once per
// process with OpenSSL; every other path is missing.
//
// Invariants, beyond not crashing:
// - the same bytes give the same outcome;
// - a refusal is a ConfigError with a message;
// - an accepted config has an http(s):// server without a trailing '/',
//   that cpprestsdk's URI parser takes (the transports are made of it),
//   not both insecure-skip-tls-verify and a CA, a client certificate only
//   with its key; every relative file name was read from the kubeconfig's
//   own folder (every other path read is written in full in the input);
// - the config written back as a kubeconfig (inline data, no files but the
//   token file) loads to the same config.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

// cpprestsdk's U() macro would break fmt's templates (spdlog).
#define _TURN_OFF_PLATFORM_STRING
#include <cpprest/base_uri.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <yaml-cpp/yaml.h>

#include "base/base64.h"
#include "fuzz_check.h"
#include "kube/config.h"
#include "kube/test_certs.h"

namespace {

const std::string kFolder = "/fuzz/kube";
const std::string kPath = kFolder + "/config";

const std::map<std::string, std::string>& files() {
  static const std::map<std::string, std::string> made = [] {
    const kube_test::Pem ca = kube_test::make_ca("fuzz-ca");
    const kube_test::Pem client = kube_test::make_leaf(ca, "fuzz-user", {}, false);
    return std::map<std::string, std::string>{{kFolder + "/ca.crt", ca.cert},
                                              {kFolder + "/client.crt", client.cert},
                                              {kFolder + "/client.key", client.key},
                                              {kFolder + "/token", "fuzz-token\n"}};
  }();
  return made;
}

struct Reads {
  std::vector<std::string> paths;
  kube::ConfigFileReader reader() {
    return [this](const std::string& path, const std::string& what) -> kube::Result<std::string> {
      paths.push_back(path);
      auto it = files().find(path);
      if (it == files().end()) return kube::Error{0, "ConfigError", "cannot read " + what + " " + path};
      return it->second;
    };
  }
};

std::string outcome(const kube::Result<kube::ClusterConfig>& r) {
  if (!r.ok()) return "error " + r.error().reason + ": " + r.error().message;
  const kube::ClusterConfig& c = r.value();
  return "ok " + c.server + "|" + c.ca_pem + "|" + c.client_cert_pem + "|" + c.client_key_pem + "|" +
         c.bearer_token + "|" + c.bearer_token_file + "|" + (c.insecure_skip_tls_verify ? "insecure" : "") +
         "|" + c.tls_server_name + "|" + c.default_namespace;
}

bool utf8(const std::string& s) {
  try {
    (void)nlohmann::json(s).dump();
    return true;
  } catch (const nlohmann::json::exception&) {
    return false;
  }
}

// The config as a kubeconfig of its own: one context, inline data.
std::string write_back(const kube::ClusterConfig& c) {
  YAML::Emitter out;
  out << YAML::BeginMap << YAML::Key << "current-context" << YAML::Value << "c";
  out << YAML::Key << "contexts" << YAML::Value << YAML::BeginSeq << YAML::BeginMap << YAML::Key << "name"
      << YAML::Value << "c" << YAML::Key << "context" << YAML::Value << YAML::BeginMap << YAML::Key << "cluster"
      << YAML::Value << "k" << YAML::Key << "user" << YAML::Value << "u";
  if (!c.default_namespace.empty()) out << YAML::Key << "namespace" << YAML::Value << c.default_namespace;
  out << YAML::EndMap << YAML::EndMap << YAML::EndSeq;
  out << YAML::Key << "clusters" << YAML::Value << YAML::BeginSeq << YAML::BeginMap << YAML::Key << "name"
      << YAML::Value << "k" << YAML::Key << "cluster" << YAML::Value << YAML::BeginMap << YAML::Key << "server"
      << YAML::Value << c.server;
  if (!c.ca_pem.empty())
    out << YAML::Key << "certificate-authority-data" << YAML::Value << base::base64_encode(c.ca_pem);
  if (c.insecure_skip_tls_verify) out << YAML::Key << "insecure-skip-tls-verify" << YAML::Value << true;
  if (!c.tls_server_name.empty()) out << YAML::Key << "tls-server-name" << YAML::Value << c.tls_server_name;
  out << YAML::EndMap << YAML::EndMap << YAML::EndSeq;
  out << YAML::Key << "users" << YAML::Value << YAML::BeginSeq << YAML::BeginMap << YAML::Key << "name"
      << YAML::Value << "u" << YAML::Key << "user" << YAML::Value << YAML::BeginMap;
  if (!c.client_cert_pem.empty()) {
    out << YAML::Key << "client-certificate-data" << YAML::Value << base::base64_encode(c.client_cert_pem);
    out << YAML::Key << "client-key-data" << YAML::Value << base::base64_encode(c.client_key_pem);
  }
  if (!c.bearer_token.empty()) out << YAML::Key << "token" << YAML::Value << c.bearer_token;
  if (!c.bearer_token_file.empty()) out << YAML::Key << "tokenFile" << YAML::Value << c.bearer_token_file;
  out << YAML::EndMap << YAML::EndMap << YAML::EndSeq << YAML::EndMap;
  return out.c_str();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);  // insecure-skip-tls-verify warns
  files();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  Reads reads;
  const auto loaded = kube::parse_kubeconfig_text(text, kPath, reads.reader());
  Reads reads_again;
  FUZZ_CHECK(outcome(kube::parse_kubeconfig_text(text, kPath, reads_again.reader())) == outcome(loaded),
             "the same kubeconfig loads differently twice");
  if (!loaded.ok()) {
    FUZZ_CHECK(loaded.error().reason == "ConfigError", "a refusal that is not a ConfigError");
    FUZZ_CHECK(!loaded.error().message.empty(), "a refusal without a message");
    return 0;
  }
  const kube::ClusterConfig& config = loaded.value();
  FUZZ_CHECK(config.server.rfind("https://", 0) == 0 || config.server.rfind("http://", 0) == 0,
             "an accepted server is not http(s)://");
  FUZZ_CHECK(config.server.empty() || config.server.back() != '/', "the server keeps a trailing '/'");
  // What the transport does with it when the operator starts (and threw on).
  FUZZ_CHECK(web::uri::validate(config.server), "an accepted server is not a URL cpprestsdk takes");
  FUZZ_CHECK(!(config.insecure_skip_tls_verify && !config.ca_pem.empty()),
             "both insecure-skip-tls-verify and a CA were accepted");
  FUZZ_CHECK(config.client_cert_pem.empty() == config.client_key_pem.empty(),
             "a client certificate without its key (or a key without one) was accepted");
  for (const std::string& path : reads.paths) {
    FUZZ_CHECK(path.rfind(kFolder + "/", 0) == 0 || text.find(path) != std::string::npos,
               "a relative file name was read from outside the kubeconfig's folder");
  }

  // YAML text is UTF-8: a value with other bytes (a token, say) cannot be
  // written back as it is, so those configs skip the round trip.
  for (const std::string* value : {&config.bearer_token, &config.bearer_token_file, &config.tls_server_name,
                                   &config.default_namespace}) {
    if (!utf8(*value)) return 0;
  }
  const std::string written = write_back(config);
  Reads reads_back;
  const auto reloaded = kube::parse_kubeconfig_text(written, kPath, reads_back.reader());
  if (outcome(reloaded) != outcome(loaded)) {
    std::fprintf(stderr, "loaded: %s\nwritten back:\n%s\nreloaded: %s\n", outcome(loaded).c_str(),
                 written.c_str(), outcome(reloaded).c_str());
  }
  FUZZ_CHECK(reloaded.ok(), "the config written back as a kubeconfig is refused");
  FUZZ_CHECK(outcome(reloaded) == outcome(loaded), "the config written back loads to another config");
  return 0;
}
