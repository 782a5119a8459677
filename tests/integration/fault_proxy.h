// A fault-injecting TCP proxy between an operator and the API server, for
// the API-fault tests: Toxiproxy's server (tests/faults/fault-proxy builds
// it; EO_FAULT_PROXY_BIN names another), one process per FaultProxy, driven
// through its HTTP API on loopback.
//
//   FaultProxy proxy;                         // skips the test when unbuilt
//   OperatorProcess op({...}, proxy.kubeconfig());
//   proxy.add_toxic("slow", "latency", "downstream", {{"latency", 2000}});
//   proxy.remove_toxic("slow");
//   proxy.set_enabled(false);                 // a blackout: connections cut, new ones refused
//
// TLS passes through unchanged: the API server's certificate names
// 127.0.0.1, whatever the port.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace itest {

class FaultProxy {
 public:
  FaultProxy();
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  // Empty when the proxy could not be started; why() says why.
  bool ready() const { return ready_; }
  const std::string& why() const { return why_; }
  // A copy of $KUBECONFIG whose server is the proxy.
  const std::string& kubeconfig() const { return kubeconfig_; }

  // Toxiproxy's toxics: type latency (latency, jitter ms), bandwidth (rate
  // KB/s), timeout (timeout ms; 0 holds the connection open and drops all
  // data: a half-open peer), reset_peer (timeout ms, then TCP RST), ...;
  // stream "upstream" (to the API server) or "downstream". True on success.
  bool add_toxic(const std::string& name, const std::string& type, const std::string& stream,
                 const nlohmann::json& attributes);
  bool remove_toxic(const std::string& name);
  bool set_enabled(bool enabled);

 private:
  // The proxy API's answer code, or 0 when it did not answer.
  int call(const std::string& method, const std::string& path, const nlohmann::json& body);

  int pid_ = -1;
  int api_port_ = 0;
  bool ready_ = false;
  std::string why_;
  std::string log_path_;
  std::string kubeconfig_;
};

}  // namespace itest
