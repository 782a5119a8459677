// libpq behind postgres::Connector. Every libpq failure becomes a Failure
// value here; nothing above this file sees a PGconn or a PGresult.
#include <libpq-fe.h>

#include <memory>
#include <string>
#include <vector>

#include "postgres/session.h"

namespace postgres {
namespace {

// libpq's messages end in "\n" and may span lines ("connection to server at
// ... failed: FATAL: ..."); status and Events want one line.
std::string one_line(const char* text) {
  std::string out;
  for (const char* p = text ? text : ""; *p; ++p) {
    if (*p == '\n') {
      if (!out.empty() && p[1] != '\0') out += "; ";
    } else {
      out += *p;
    }
  }
  return out;
}

constexpr const char* kNoPassfile = "/dev/null/no-passfile";

bool contains(const std::string& text, const char* part) { return text.find(part) != std::string::npos; }

// libpq gives no SQLSTATE for a failed connection, only the server's text,
// which is stable across versions for these cases (the server's own
// auth.c / postinit.c messages).
FailureKind classify_connect_failure(const std::string& message) {
  if (contains(message, "database \"") && contains(message, "does not exist")) return FailureKind::DatabaseNotFound;
  if (contains(message, "role \"") && contains(message, "does not exist")) return FailureKind::AuthenticationFailed;
  for (const char* auth : {"password authentication failed", "authentication failed for user", "no pg_hba.conf entry",
                           "pg_hba.conf rejects", "no password supplied", "is not permitted to log in"}) {
    if (contains(message, auth)) return FailureKind::AuthenticationFailed;
  }
  return FailureKind::Unreachable;
}

struct ConnDeleter {
  void operator()(PGconn* conn) const { PQfinish(conn); }
};
struct ResultDeleter {
  void operator()(PGresult* result) const { PQclear(result); }
};
using ConnPtr = std::unique_ptr<PGconn, ConnDeleter>;
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

class LibpqSession : public Session {
 public:
  explicit LibpqSession(ConnPtr conn) : conn_(std::move(conn)) {}

  base::Expected<std::vector<Row>, Failure> query(const std::string& sql,
                                                  const std::vector<std::string>& params) override {
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const auto& p : params) values.push_back(p.c_str());
    ResultPtr result(PQexecParams(conn_.get(), sql.c_str(), static_cast<int>(values.size()), nullptr,
                                  values.data(), nullptr, nullptr, 0));
    const ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
      Failure failure;
      // A broken connection is the server going away, not a failed statement.
      failure.kind = PQstatus(conn_.get()) == CONNECTION_BAD ? FailureKind::Unreachable : FailureKind::QueryFailed;
      const char* sqlstate = result ? PQresultErrorField(result.get(), PG_DIAG_SQLSTATE) : nullptr;
      failure.sqlstate = sqlstate ? sqlstate : "";
      failure.message = one_line(result ? PQresultErrorMessage(result.get()) : PQerrorMessage(conn_.get()));
      return failure;
    }
    std::vector<Row> rows;
    const int n_rows = PQntuples(result.get()), n_cols = PQnfields(result.get());
    rows.reserve(static_cast<std::size_t>(n_rows));
    for (int r = 0; r < n_rows; ++r) {
      Row row;
      row.reserve(static_cast<std::size_t>(n_cols));
      for (int c = 0; c < n_cols; ++c) {
        if (PQgetisnull(result.get(), r, c)) row.emplace_back(std::nullopt);
        else row.emplace_back(std::string(PQgetvalue(result.get(), r, c), PQgetlength(result.get(), r, c)));
      }
      rows.push_back(std::move(row));
    }
    return rows;
  }

 private:
  ConnPtr conn_;
};

class LibpqConnector : public Connector {
 public:
  base::Expected<std::unique_ptr<Session>, Failure> connect(const ConnectionSettings& s) override {
    const std::string port = std::to_string(s.port);
    const std::string timeout = std::to_string(s.connect_timeout.count());
    const std::string options = "-c statement_timeout=" + std::to_string(s.statement_timeout.count());
    // Every keyword explicit, so no PG* environment variable or service
    // file of the operator's pod changes where or how it connects; a
    // passfile that cannot exist (libpq ignores it without a word, where
    // /dev/null would make it print a warning to stderr).
    const char* keys[] = {"host",     "port",    "user",   "password",         "dbname", "sslmode",
                          "connect_timeout", "options", "application_name", "passfile", nullptr};
    const char* values[] = {s.host.c_str(),   port.c_str(),    s.user.c_str(),  s.password.c_str(),
                            s.dbname.c_str(), s.sslmode.c_str(), timeout.c_str(), options.c_str(),
                            kApplicationName, kNoPassfile,      nullptr};
    ConnPtr conn(PQconnectdbParams(keys, values, /*expand_dbname=*/0));
    if (!conn) return Failure{FailureKind::Unreachable, "out of memory opening a connection", ""};
    if (PQstatus(conn.get()) != CONNECTION_OK) {
      std::string message = one_line(PQerrorMessage(conn.get()));
      return Failure{classify_connect_failure(message), message, ""};
    }
    // libpq prints the server's NOTICEs to stderr by default, which would
    // break the operator's JSON log lines; they carry nothing we act on.
    PQsetNoticeProcessor(conn.get(), [](void*, const char*) {}, nullptr);
    return std::unique_ptr<Session>(new LibpqSession(std::move(conn)));
  }
};

}  // namespace

const char* to_string(FailureKind kind) {
  switch (kind) {
    case FailureKind::Unreachable: return "Unreachable";
    case FailureKind::AuthenticationFailed: return "AuthenticationFailed";
    case FailureKind::DatabaseNotFound: return "DatabaseNotFound";
    case FailureKind::QueryFailed: return "QueryFailed";
  }
  return "Unknown";
}

std::unique_ptr<Connector> make_libpq_connector() { return std::make_unique<LibpqConnector>(); }

}  // namespace postgres
