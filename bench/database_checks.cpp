// Issue 10's database-check benchmark: one set of N shards spread over the
// test harness's real PostgreSQL servers (tests/postgres/postgres), checked
// by the operator's own DatabaseChecker (one connection per server and
// credentials per round), side by side with the obvious alternative, one
// connection per shard per round. Reports connections per round, round time
// and the CPU the process spent per round, as JSON and as a markdown table.
//
//   database_checks --env build/postgres/env --shards 512 --rounds 5 --out bench/results/database_checks.json
//
// Creates a role bench_checks and databases bench_checks_<k> on each server
// (kept for the next run; tests/postgres/postgres down removes them all).
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "app/database_checker.h"
#include "electric/database_check.h"
#include "electric/database_url.h"
#include "electric/naming.h"
#include "postgres/server_facts.h"
#include "runtime/parallel.h"

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr int kDatabasesPerServer = 8;
constexpr const char* kRole = "bench_checks";
constexpr const char* kRolePassword = "bench-checks-pw";

struct Servers {
  std::map<std::string, int> ports;  // by name
  std::string password;              // the superuser's
};

Servers read_env(const std::string& path) {
  Servers s;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    const std::string key = line.substr(0, eq), value = line.substr(eq + 1);
    if (key == "EO_PG_PASSWORD") s.password = value;
    const std::string prefix = "EO_PG_", suffix = "_PORT";
    if (key.rfind(prefix, 0) == 0 && key.size() > prefix.size() + suffix.size() &&
        key.compare(key.size() - suffix.size(), suffix.size(), suffix) == 0) {
      std::string name = key.substr(prefix.size(), key.size() - prefix.size() - suffix.size());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      s.ports[name] = std::stoi(value);
    }
  }
  return s;
}

postgres::ConnectionSettings superuser(const Servers& servers, int port, const std::string& db) {
  postgres::ConnectionSettings c;
  c.host = "127.0.0.1";
  c.port = port;
  c.user = "postgres";
  c.password = servers.password;
  c.dbname = db;
  c.sslmode = "disable";
  return c;
}

// The role and databases the shards connect to, made once per server.
bool prepare(postgres::Connector& connector, const Servers& servers, int port) {
  auto session = connector.connect(superuser(servers, port, "postgres"));
  if (!session) return std::cerr << "connect: " << session.error().message << "\n", false;
  auto run = [&](const std::string& sql, const std::vector<std::string>& params = {}) {
    auto rows = (*session)->query(sql, params);
    if (!rows) std::cerr << sql << ": " << rows.error().message << "\n";
    return rows ? std::move(*rows) : std::vector<postgres::Row>{};
  };
  if (run("SELECT 1 FROM pg_roles WHERE rolname = $1", {kRole}).empty())
    run(std::string("CREATE ROLE ") + kRole + " LOGIN REPLICATION PASSWORD '" + kRolePassword + "'");
  for (int k = 0; k < kDatabasesPerServer; ++k) {
    const std::string db = std::string(kRole) + "_" + std::to_string(k);
    if (run("SELECT 1 FROM pg_database WHERE datname = $1", {db}).empty())
      run("CREATE DATABASE " + db + " OWNER " + kRole);
  }
  return true;
}

std::vector<electric::DatabaseTarget> targets(const std::vector<int>& ports, int shards) {
  std::vector<electric::DatabaseTarget> out;
  for (int i = 0; i < shards; ++i) {
    const int port = ports[i % ports.size()];
    const std::string db = std::string(kRole) + "_" + std::to_string((i / ports.size()) % kDatabasesPerServer);
    const std::string url = std::string("postgresql://") + kRole + ":" + kRolePassword + "@127.0.0.1:" +
                            std::to_string(port) + "/" + db + "?sslmode=disable";
    out.push_back(electric::database_target({"bench", "checks", std::to_string(i)}, "bench_" + std::to_string(i),
                                            electric::parse_database_url(url).value()));
  }
  return out;
}

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto s = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return s(u.ru_utime) + s(u.ru_stime);
}

struct Measured {
  std::vector<double> round_ms, cpu_ms;
  std::vector<size_t> connections;
};

template <typename Round>
Measured measure(int rounds, const Round& round) {
  Measured m;
  for (int r = 0; r < rounds; ++r) {
    const double cpu0 = cpu_seconds();
    const auto t0 = Clock::now();
    m.connections.push_back(round());
    m.round_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    m.cpu_ms.push_back((cpu_seconds() - cpu0) * 1000);
  }
  return m;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

json summary(const Measured& m) {
  return {{"connections_per_round", m.connections.empty() ? 0 : m.connections.back()},
          {"round_ms_median", median(m.round_ms)},
          {"cpu_ms_per_round_median", median(m.cpu_ms)},
          {"round_ms", m.round_ms}};
}

}  // namespace

int main(int argc, char** argv) {
  std::string env = "build/postgres/env", out;
  int shards = 512, rounds = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--env") env = value;
    else if (flag == "--shards") shards = std::stoi(value);
    else if (flag == "--rounds") rounds = std::stoi(value);
    else if (flag == "--out") out = value;
  }
  spdlog::set_level(spdlog::level::err);  // the checks' findings (no free slots here) are not the point
  const Servers servers = read_env(env);
  if (servers.ports.empty()) {
    std::cerr << "database_checks: no servers in " << env << " (tests/postgres/postgres up)\n";
    return 1;
  }
  auto connector = postgres::make_libpq_connector();
  std::vector<int> ports;
  for (const auto& [name, port] : servers.ports) {
    if (!prepare(*connector, servers, port)) return 1;
    ports.push_back(port);
  }
  const std::vector<electric::DatabaseTarget> all = targets(ports, shards);
  constexpr size_t kConcurrency = 4;  // the checker's default

  app::DatabaseCheckerOptions options;
  options.concurrency = kConcurrency;
  app::DatabaseChecker checker(*connector, options);
  (void)checker.observe("bench/checks", all);
  (void)checker.run_round(true);  // warm: first connections to each database
  const Measured operator_way = measure(rounds, [&] { return checker.run_round(true); });

  // The alternative: every shard connects on its own, as a per-shard sidecar
  // or a naive controller would, with the same concurrency and the same query.
  const postgres::FactsQuery query{electric::replication_slot_name(""), electric::provider_replication_roles()};
  const Measured per_shard = measure(rounds, [&] {
    runtime::parallel_for(all.size(), kConcurrency, [&](size_t i) {
      auto session = connector->connect(all[i].connection);
      if (session) (void)postgres::read_server_facts(**session, query);
    });
    return all.size();
  });

  const json result = {{"shards", shards},
                       {"servers", ports.size()},
                       {"rounds", rounds},
                       {"operator", summary(operator_way)},
                       {"one_connection_per_shard", summary(per_shard)}};
  if (!out.empty()) std::ofstream(out) << result.dump(2) << "\n";
  std::printf("| database checks, %d shards on %zu servers | connections per round | round time (median) | CPU per round (median) |\n",
              shards, ports.size());
  std::printf("|---|---|---|---|\n");
  for (const auto& [label, key] : {std::pair<const char*, const char*>{"operator (one per server)", "operator"},
                                   {"baseline: one per shard", "one_connection_per_shard"}}) {
    const json& r = result[key];
    std::printf("| %s | %d | %.0f ms | %.0f ms |\n", label, r["connections_per_round"].get<int>(),
                r["round_ms_median"].get<double>(), r["cpu_ms_per_round_median"].get<double>());
  }
  return 0;
}
