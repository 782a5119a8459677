// The narrow seam between the operator and libpq: a Connector opens a
// Session to one database, a Session runs parameterised queries. Only
// libpq_session.cpp knows libpq; unit tests swap in a scripted Connector.
// Failures are values, classified so the domain can tell "cannot reach the
// server" from "the server refused these credentials".
//
//   auto connector = postgres::make_libpq_connector();
//   auto session = connector->connect(settings);        // <= connect_timeout
//   if (!session) -> session.error().kind, .message (never holds the password)
//   auto rows = (*session)->query("SELECT $1::int + 1", {"41"});
//
// A Session is used by one thread at a time; a Connector from any thread.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/expected.h"

namespace postgres {

// Where and as whom to connect. Built from the parts of a database URL the
// way Electric reads them, never from the URL's text: a parameter that
// Electric ignores must not make our connection go elsewhere.
struct ConnectionSettings {
  std::string host;
  int port = 5432;
  std::string user;
  std::string password;  // never logged, never in a message
  std::string dbname;
  std::string sslmode = "prefer";  // libpq's spelling: disable, allow, prefer, require, verify-ca, verify-full
  std::chrono::seconds connect_timeout{5};
  std::chrono::milliseconds statement_timeout{5000};

  friend bool operator==(const ConnectionSettings& a, const ConnectionSettings& b) {
    return a.host == b.host && a.port == b.port && a.user == b.user && a.password == b.password &&
           a.dbname == b.dbname && a.sslmode == b.sslmode && a.connect_timeout == b.connect_timeout &&
           a.statement_timeout == b.statement_timeout;
  }
  friend bool operator!=(const ConnectionSettings& a, const ConnectionSettings& b) { return !(a == b); }
};

enum class FailureKind {
  Unreachable,           // DNS, refused, timeout, TLS handshake, server closed
  AuthenticationFailed,  // password rejected, no pg_hba.conf entry, role may not log in
  DatabaseNotFound,      // the server answered: no such database
  QueryFailed,           // connected, but a statement failed (SQLSTATE in `sqlstate`)
};
const char* to_string(FailureKind kind);

struct Failure {
  FailureKind kind = FailureKind::QueryFailed;
  // What libpq or the server said, on one line. libpq never quotes the
  // password; host, port, user and database names may appear.
  std::string message;
  std::string sqlstate;  // five characters when the server sent one
};

// One row: each column's text, none for SQL NULL.
using Row = std::vector<std::optional<std::string>>;

class Session {
 public:
  virtual ~Session() = default;
  // Runs one statement with text parameters ($1, $2, ...) and returns its
  // rows (none for a statement without a result set).
  virtual base::Expected<std::vector<Row>, Failure> query(const std::string& sql,
                                                          const std::vector<std::string>& params = {}) = 0;
};

class Connector {
 public:
  virtual ~Connector() = default;
  // Opens a session with application_name=electric-operator and the
  // settings' statement timeout; blocks at most connect_timeout per address.
  virtual base::Expected<std::unique_ptr<Session>, Failure> connect(const ConnectionSettings& settings) = 0;
};

std::unique_ptr<Connector> make_libpq_connector();

// The application_name every session carries, so a DBA sees who connected.
inline constexpr const char* kApplicationName = "electric-operator";

}  // namespace postgres
