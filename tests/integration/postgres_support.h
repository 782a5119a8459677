// The real PostgreSQL servers of tests/postgres/postgres (started by
// scripts/test.sh before the integration tests), for the tests that play
// Electric's part in them: roles, databases, slots, WAL.
//
//   if (!itest::PostgresServers::available()) GTEST_SKIP();
//   auto& pg = itest::PostgresServers::get();
//   pg.exec("logical", "postgres", "CREATE ROLE ...");
//   std::string url = pg.url("logical", "electric", "pw", "app");
#pragma once

#include <map>
#include <string>
#include <vector>

#include "postgres/session.h"

namespace itest {

class PostgresServers {
 public:
  // Reads build/postgres/env (EO_POSTGRES_ENV overrides); false when absent.
  static bool available();
  static PostgresServers& get();

  int port(const std::string& server) const;  // "logical", "second", "small", "replica"
  const std::string& superuser_password() const { return password_; }
  // A program of the servers' PostgreSQL, e.g. bin("pg_recvlogical").
  std::string bin(const std::string& program) const { return bin_dir_ + "/" + program; }
  // postgresql://user:password@127.0.0.1:<port>/dbname
  std::string url(const std::string& server, const std::string& user, const std::string& password,
                  const std::string& dbname) const;
  // Runs `sql` as the superuser in `dbname`; fails the test on an error and
  // returns the rows' first columns.
  std::vector<std::string> exec(const std::string& server, const std::string& dbname, const std::string& sql) const;

 private:
  std::map<std::string, int> ports_;
  std::string password_;
  std::string bin_dir_;
};

}  // namespace itest
