// PostgreSQL connection URIs as Electric reads them (its
// Electric.Config.parse_postgresql_uri/1 at 1.7.12, over Elixir's URI.parse):
// where a shard's database is, for InvalidDatabaseURL, for telling when two
// shards would share one replication slot, and for the database checks'
// connection. No message or redacted form shows the password or its length.
//
//   auto url = electric::parse_database_url(secret_value);
//   if (!url) -> shard Failed, reason InvalidDatabaseURL, message url.error()
//   url->location() == {"db.prod", 5432, "app"};  url->redacted == "postgresql://app:***@db.prod:5432/app"
//
// Electric's rules: scheme postgres:// or postgresql:// (any case); a host
// and a user name are required; the database defaults to the user name; the
// user name, password and database are percent-decoded; of the query only
// sslmode (disable, allow, prefer, require) and replication (refused) count,
// every other parameter (host=, port=, dbname=, ...) is ignored. Stricter
// than Electric, where Electric would misread the URL instead of refusing
// it: a port that is not 1..65535 (Electric reads "h:abc" as port 5432) and
// several hosts (Electric takes "h1,h2" as one host name that never resolves).
#pragma once

#include <string>
#include <string_view>
#include <tuple>

#include "base/expected.h"

namespace electric {

inline constexpr int kDefaultPostgresPort = 5432;

// What identifies one database for replication-slot purposes.
struct DatabaseLocation {
  std::string host;  // lowercased
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
  std::string scheme;  // "postgres" or "postgresql", lowercased
  std::string user;    // percent-decoded, never empty
  // For connecting only (the database checks): never in a message or log.
  std::string password;
  std::string host;    // as written; an IPv6 literal without its brackets
  int port = kDefaultPostgresPort;
  std::string dbname;  // percent-decoded; the user name when the path is empty
  std::string sslmode = "prefer";  // disable | allow | prefer | require (Electric's default: prefer)
  // scheme://user:***@host:port/dbname; "***" stands for any password, and
  // query parameters are left out.
  std::string redacted;

  DatabaseLocation location() const;
  // host:port, an IPv6 literal in brackets: how status names a server.
  std::string server() const;
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
