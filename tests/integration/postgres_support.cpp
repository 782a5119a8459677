#include "postgres_support.h"

#include <cstdlib>
#include <fstream>

#include <gtest/gtest.h>

namespace itest {
namespace {

std::string env_path() {
  const char* set = std::getenv("EO_POSTGRES_ENV");
  return set && *set ? set : std::string(EO_SOURCE_DIR) + "/build/postgres/env";
}

bool load(std::map<std::string, int>& ports, std::string& password, std::string* bin_dir = nullptr) {
  std::ifstream in(env_path());
  if (!in) return false;
  std::string line;
  while (std::getline(in, line)) {
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string key = line.substr(0, eq), value = line.substr(eq + 1);
    if (key == "EO_PG_PASSWORD") password = value;
    if (key == "EO_PG_BIN" && bin_dir) *bin_dir = value;
    const std::string prefix = "EO_PG_", suffix = "_PORT";
    if (key.rfind(prefix, 0) == 0 && key.size() > prefix.size() + suffix.size() &&
        key.compare(key.size() - suffix.size(), suffix.size(), suffix) == 0) {
      std::string name = key.substr(prefix.size(), key.size() - prefix.size() - suffix.size());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      ports[name] = std::stoi(value);
    }
  }
  return !ports.empty() && !password.empty();
}

}  // namespace

bool PostgresServers::available() {
  std::map<std::string, int> ports;
  std::string password;
  return load(ports, password);
}

PostgresServers& PostgresServers::get() {
  static PostgresServers servers = [] {
    PostgresServers s;
    load(s.ports_, s.password_, &s.bin_dir_);
    return s;
  }();
  return servers;
}

int PostgresServers::port(const std::string& server) const {
  auto it = ports_.find(server);
  return it == ports_.end() ? 0 : it->second;
}

std::string PostgresServers::url(const std::string& server, const std::string& user, const std::string& password,
                                 const std::string& dbname) const {
  return "postgresql://" + user + ":" + password + "@127.0.0.1:" + std::to_string(port(server)) + "/" + dbname +
         "?sslmode=disable";
}

std::vector<std::string> PostgresServers::exec(const std::string& server, const std::string& dbname,
                                               const std::string& sql) const {
  postgres::ConnectionSettings settings;
  settings.host = "127.0.0.1";
  settings.port = port(server);
  settings.user = "postgres";
  settings.password = password_;
  settings.dbname = dbname;
  settings.sslmode = "disable";
  auto session = postgres::make_libpq_connector()->connect(settings);
  if (!session) {
    ADD_FAILURE() << "connect to " << server << "/" << dbname << ": " << session.error().message;
    return {};
  }
  auto rows = (*session)->query(sql);
  if (!rows) {
    ADD_FAILURE() << server << "/" << dbname << ": " << sql << ": " << rows.error().message;
    return {};
  }
  std::vector<std::string> out;
  for (const auto& row : *rows) out.push_back(row.empty() || !row[0] ? "" : *row[0]);
  return out;
}

}  // namespace itest
