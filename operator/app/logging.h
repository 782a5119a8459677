// Process-wide logging on spdlog: JSON lines (default) or text.
//
//   app::configure_logging(app::LogFormat::Json, spdlog::level::info);
//   app::LogContext ctx({"electricshardset", "prod", "myapp", reconcile_id});
//   spdlog::info("applied {} children", n);   // carries controller/namespace/
//                                             // name/reconcileID while ctx lives
//
// JSON lines carry `ts`, `level`, `msg` and, inside a LogContext, `controller`,
// `namespace`, `name`, `reconcileID`. Messages must never contain secret
// values; callers pass redacted text (see electric/database_url.h).
#pragma once

#include <optional>
#include <string>

#include <spdlog/spdlog.h>

namespace app {

enum class LogFormat { Json, Text };

std::optional<LogFormat> parse_log_format(const std::string& text);
std::optional<spdlog::level::level_enum> parse_log_level(const std::string& text);

// Installs the default logger (stderr) with the chosen format and level.
void configure_logging(LogFormat format, spdlog::level::level_enum level);

struct LogFields {
  std::string controller;
  std::string ns;
  std::string name;
  std::string reconcile_id;
};

// The fields of this thread's innermost LogContext, if any: for a helper
// thread that works for it.
std::optional<LogFields> current_log_fields();

// Attaches fields to every line logged on this thread while it lives.
class LogContext {
 public:
  explicit LogContext(LogFields fields);
  ~LogContext();
  LogContext(const LogContext&) = delete;
  LogContext& operator=(const LogContext&) = delete;

 private:
  std::optional<LogFields> previous_;
};

// Formats one record; exposed for tests.
std::string format_json_line(const std::string& ts, const std::string& level,
                             const std::string& msg, const LogFields* fields);

}  // namespace app
