#include "app/logging.h"

#include <chrono>
#include <ctime>
#include <memory>

#include <nlohmann/json.hpp>
#include <spdlog/formatter.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

namespace app {
namespace {

thread_local std::optional<LogFields> current_fields;

std::string rfc3339_millis(spdlog::log_clock::time_point tp) {
  auto since_epoch = tp.time_since_epoch();
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
  auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch - secs);
  std::time_t t = secs.count();
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(millis.count()));
  return out;
}

std::string level_name(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace: return "trace";
    case spdlog::level::debug: return "debug";
    case spdlog::level::info: return "info";
    case spdlog::level::warn: return "warn";
    case spdlog::level::err: return "error";
    case spdlog::level::critical: return "critical";
    default: return "info";
  }
}

class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string line = format_json_line(rfc3339_millis(msg.time), level_name(msg.level),
                                        std::string(msg.payload.data(), msg.payload.size()),
                                        current_fields ? &*current_fields : nullptr);
    line.push_back('\n');
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

// Text lines: "2026-11-26T03:12:08.123Z info msg controller=x namespace=y ...".
class TextFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string line = rfc3339_millis(msg.time) + " " + level_name(msg.level) + " " +
                       std::string(msg.payload.data(), msg.payload.size());
    if (current_fields) {
      const LogFields& f = *current_fields;
      if (!f.controller.empty()) line += " controller=" + f.controller;
      if (!f.ns.empty()) line += " namespace=" + f.ns;
      if (!f.name.empty()) line += " name=" + f.name;
      if (!f.reconcile_id.empty()) line += " reconcileID=" + f.reconcile_id;
    }
    line.push_back('\n');
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<TextFormatter>();
  }
};

}  // namespace

std::optional<LogFormat> parse_log_format(const std::string& text) {
  if (text == "json") return LogFormat::Json;
  if (text == "text") return LogFormat::Text;
  return std::nullopt;
}

std::optional<spdlog::level::level_enum> parse_log_level(const std::string& text) {
  if (text == "debug") return spdlog::level::debug;
  if (text == "info") return spdlog::level::info;
  if (text == "warn" || text == "warning") return spdlog::level::warn;
  if (text == "error") return spdlog::level::err;
  return std::nullopt;
}

void configure_logging(LogFormat format, spdlog::level::level_enum level) {
  auto logger = std::make_shared<spdlog::logger>(
      "electric-operator", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  if (format == LogFormat::Json) {
    logger->set_formatter(std::make_unique<JsonFormatter>());
  } else {
    logger->set_formatter(std::make_unique<TextFormatter>());
  }
  logger->set_level(level);
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
}

std::string format_json_line(const std::string& ts, const std::string& level,
                             const std::string& msg, const LogFields* fields) {
  nlohmann::ordered_json line;
  line["ts"] = ts;
  line["level"] = level;
  line["msg"] = msg;
  if (fields) {
    if (!fields->controller.empty()) line["controller"] = fields->controller;
    if (!fields->ns.empty()) line["namespace"] = fields->ns;
    if (!fields->name.empty()) line["name"] = fields->name;
    if (!fields->reconcile_id.empty()) line["reconcileID"] = fields->reconcile_id;
  }
  // Replace invalid UTF-8 rather than throw: a log line must never crash.
  return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<LogFields> current_log_fields() { return current_fields; }

LogContext::LogContext(LogFields fields) : previous_(current_fields) {
  current_fields = std::move(fields);
}

LogContext::~LogContext() { current_fields = previous_; }

}  // namespace app
