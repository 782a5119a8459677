// PostgreSQL connection URIs (libpq's postgres:// and postgresql:// form):
// where a shard's database is, for InvalidDatabaseURL and for telling when two
// shards would share one replication slot. The password is never kept, and no
// message or redacted form shows it or its length.
//
//   auto url = electric::parse_database_url(secret_value);
//   if (!url) -> shard Failed, reason InvalidDatabaseURL, message url.error()
//   url->location() == {"db.prod", 5432, "app"};  url->redacted == "postgresql://app:***@db.prod:5432/app"
#pragma once

#include <string>
#include <string_view>
#include <tuple>

#include "base/expected.h"

namespace electric {

inline constexpr int kDefaultPostgresPort = 5432;

// What identifies one database for replication-slot purposes.
struct DatabaseLocation {
  std::string host;  // lowercased; several hosts joined by ","
  int port = kDefaultPostgresPort;
  std::string dbname;

  friend bool operator==(const DatabaseLocation& a, const DatabaseLocation& b) {
    return a.host == b.host && a.port == b.port && a.dbname == b.dbname;
  }
  friend bool operator<(const DatabaseLocation& a, const DatabaseLocation& b) {
    return std::tie(a.host, a.port, a.dbname) < std::tie(b.host, b.port, b.dbname);
  }
};

struct DatabaseURL {
  std::string scheme;  // "postgres" or "postgresql"
  std::string user;    // percent-decoded; "" when absent
  std::string host;    // as written (decoded); multi-host: "h1:5432,h2:5433" hosts only joined by ","
  int port = kDefaultPostgresPort;  // the first host's port
  // Postgres defaults the database name to the user name, and so does this.
  std::string dbname;
  // scheme://user:***@host:port/dbname; "***" stands for any password, and
  // query parameters (which may hold one) are left out.
  std::string redacted;

  DatabaseLocation location() const;
};

// Parses `url`. The error names the problem without quoting any part of the
// URL (a mistyped URL may have its password anywhere), e.g. "the URL's port
// is not a number between 1 and 65535". It is the reason only: the caller
// names the URL ("the database URL in Secret \"pg\" key \"url\" is not
// valid: " + error), so the message says "invalid" once.
base::Expected<DatabaseURL, std::string> parse_database_url(std::string_view url);

// The redacted form when `url` parses, else "<invalid database URL>": safe for
// any message.
std::string redact_database_url(std::string_view url);

}  // namespace electric
