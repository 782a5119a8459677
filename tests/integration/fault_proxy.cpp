#include "fault_proxy.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <vector>

#include "support.h"

namespace itest {
namespace {

constexpr const char* kProxyName = "apiserver";

std::string proxy_binary() {
  if (const char* bin = std::getenv("EO_FAULT_PROXY_BIN"); bin && *bin) return bin;
  const char* home = std::getenv("HOME");
  return std::string(home ? home : "") + "/.cache/electric-operator/tools/toxiproxy-v2.5.0/toxiproxy-server";
}

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}


}  // namespace

FaultProxy::FaultProxy() {
  const std::string bin = proxy_binary();
  if (::access(bin.c_str(), X_OK) != 0) {
    why_ = "no fault proxy at " + bin + " (build it: tests/faults/fault-proxy)";
    return;
  }
  const std::string source = read_all(std::getenv("KUBECONFIG") ? std::getenv("KUBECONFIG") : "");
  std::smatch server;
  if (!std::regex_search(source, server, std::regex(R"(server: https://127\.0\.0\.1:([0-9]+))"))) {
    why_ = "the kubeconfig names no https://127.0.0.1:<port> server";
    return;
  }
  api_port_ = free_port();
  const int listen_port = free_port();
  log_path_ = "/tmp/eo-itest-fault-proxy-" + std::to_string(api_port_) + ".log";
  pid_ = ::fork();
  if (pid_ == 0) {
    int fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    const std::string port = std::to_string(api_port_);
    ::execl(bin.c_str(), bin.c_str(), "-host", "127.0.0.1", "-port", port.c_str(), static_cast<char*>(nullptr));
    std::_Exit(127);
  }
  if (!eventually([&] { return call("GET", "/version", nullptr) == 200; }, 10s)) {
    why_ = "the fault proxy did not answer: " + read_all(log_path_);
    return;
  }
  const std::string listen = "127.0.0.1:" + std::to_string(listen_port);
  if (call("POST", "/proxies",
           {{"name", kProxyName}, {"listen", listen}, {"upstream", "127.0.0.1:" + server[1].str()}}) != 201) {
    why_ = "the fault proxy refused the proxy: " + read_all(log_path_);
    return;
  }
  kubeconfig_ = "/tmp/eo-itest-fault-proxy-" + std::to_string(api_port_) + ".kubeconfig";
  std::ofstream(kubeconfig_) << std::regex_replace(source, std::regex(R"(server: https://127\.0\.0\.1:[0-9]+)"),
                                                   "server: https://" + listen);
  ready_ = true;
}

FaultProxy::~FaultProxy() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  if (!kubeconfig_.empty()) ::unlink(kubeconfig_.c_str());
  if (!log_path_.empty() && !std::getenv("EO_KEEP_LOGS")) ::unlink(log_path_.c_str());
}

int FaultProxy::call(const std::string& method, const std::string& path, const nlohmann::json& body) {
  std::string command = "curl -s -o /dev/null -w '%{http_code}' -m 10 -X " + method + " http://127.0.0.1:" +
                        std::to_string(api_port_) + path;
  if (!body.is_null()) command += " --data-binary @-";
  std::string output;
  if (run_with_input(command, body.is_null() ? "" : body.dump(), &output) != 0) return 0;
  return std::atoi(output.c_str());
}

bool FaultProxy::add_toxic(const std::string& name, const std::string& type, const std::string& stream,
                           const nlohmann::json& attributes) {
  const int code = call("POST", std::string("/proxies/") + kProxyName + "/toxics",
                        {{"name", name}, {"type", type}, {"stream", stream}, {"toxicity", 1.0},
                         {"attributes", attributes}});
  return code == 200;
}

bool FaultProxy::remove_toxic(const std::string& name) {
  return call("DELETE", std::string("/proxies/") + kProxyName + "/toxics/" + name, nullptr) == 204;
}

bool FaultProxy::set_enabled(bool enabled) {
  return call("POST", std::string("/proxies/") + kProxyName, {{"enabled", enabled}}) == 200;
}

}  // namespace itest
