#include "runtime/health.h"

#include <cstdio>

namespace runtime {
namespace {

// Digits of `value` / 10^scale with trailing fractional zeros dropped.
std::string decimal(int64_t value, int scale) {
  int64_t unit = 1;
  for (int i = 0; i < scale; ++i) unit *= 10;
  std::string out = std::to_string(value / unit);
  int64_t frac = value % unit;
  if (frac != 0) {
    std::string digits = std::to_string(frac);
    digits.insert(0, static_cast<size_t>(scale) - digits.size(), '0');
    while (!digits.empty() && digits.back() == '0') digits.pop_back();
    out += "." + digits;
  }
  return out;
}

}  // namespace

Heartbeat::Heartbeat(Clock& clock) : clock_(clock), last_(clock.now().time_since_epoch().count()) {}

void Heartbeat::beat() { last_.store(clock_.now().time_since_epoch().count()); }

TimePoint Heartbeat::last() const { return TimePoint(Duration(last_.load())); }

bool Heartbeat::stale(TimePoint now, Duration threshold) const { return now - last() > threshold; }

HealthCheck ready_when(std::function<bool()> ok, std::string failure_detail) {
  return [ok = std::move(ok), detail = std::move(failure_detail)] {
    return ok() ? CheckResult::passed() : CheckResult::failed(detail);
  };
}

HealthCheck heartbeat_check(const Heartbeat& heartbeat, Clock& clock, Duration threshold,
                            std::function<bool()> work_pending) {
  return [&heartbeat, &clock, threshold, work_pending = std::move(work_pending)] {
    TimePoint now = clock.now();
    if (!heartbeat.stale(now, threshold)) return CheckResult::passed();
    if (work_pending && !work_pending()) return CheckResult::passed();
    return CheckResult::failed("no heartbeat for " + format_duration(now - heartbeat.last()) +
                               " while work is pending (limit " + format_duration(threshold) +
                               ")");
  };
}

std::string format_duration(Duration d) {
  int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
  std::string sign;
  if (ns < 0) {
    sign = "-";
    ns = -ns;
  }
  if (ns == 0) return "0s";
  if (ns < 1000) return sign + std::to_string(ns) + "ns";
  if (ns < 1000000) return sign + decimal(ns, 3) + "µs";
  if (ns < 1000000000) return sign + decimal(ns, 6) + "ms";
  int64_t hours = ns / 3600000000000LL;
  ns %= 3600000000000LL;
  int64_t minutes = ns / 60000000000LL;
  ns %= 60000000000LL;
  std::string out = sign;
  if (hours > 0) out += std::to_string(hours) + "h";
  if (hours > 0 || minutes > 0) out += std::to_string(minutes) + "m";
  return out + decimal(ns, 9) + "s";
}

void HealthChecks::add_liveness(std::string name, HealthCheck check) {
  std::lock_guard<std::mutex> guard(mu_);
  liveness_.emplace_back(std::move(name), std::move(check));
}

void HealthChecks::add_readiness(std::string name, HealthCheck check) {
  std::lock_guard<std::mutex> guard(mu_);
  readiness_.emplace_back(std::move(name), std::move(check));
}

HttpReply HealthChecks::healthz() const {
  std::vector<Named> checks;
  {
    std::lock_guard<std::mutex> guard(mu_);
    checks = liveness_;
  }
  return evaluate(checks, "healthz", 500);
}

HttpReply HealthChecks::readyz() const {
  std::vector<Named> checks;
  {
    std::lock_guard<std::mutex> guard(mu_);
    checks = readiness_;
  }
  return evaluate(checks, "readyz", 503);
}

HttpReply HealthChecks::evaluate(const std::vector<Named>& checks, const char* endpoint,
                                 int failure_status) {
  std::string body;
  bool all_ok = true;
  for (const auto& [name, check] : checks) {
    CheckResult result;
    try {
      result = check();
    } catch (const std::exception& e) {
      result = CheckResult::failed(std::string("check threw: ") + e.what());
    } catch (...) {
      result = CheckResult::failed("check threw");
    }
    if (result.ok) {
      body += "[+]" + name + " ok\n";
    } else {
      all_ok = false;
      body += "[-]" + name + " failed: " + result.detail + "\n";
    }
  }
  body += std::string(endpoint) + (all_ok ? " check passed\n" : " check failed\n");
  return HttpReply{all_ok ? 200 : failure_status, "text/plain; charset=utf-8", body};
}

void HealthChecks::serve_on(HttpServer& server) const {
  server.handle("/healthz", [this] { return healthz(); });
  server.handle("/readyz", [this] { return readyz(); });
}

}  // namespace runtime
