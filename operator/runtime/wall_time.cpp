#include "runtime/wall_time.h"

#include <cstdio>
#include <ctime>

namespace runtime {
namespace {

// Floors toward minus infinity so times before 1970 still print correctly.
void split(WallTimePoint t, std::time_t* seconds, long* micros) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  long long s = us / 1000000;
  long long rem = us % 1000000;
  if (rem < 0) {
    rem += 1000000;
    --s;
  }
  *seconds = static_cast<std::time_t>(s);
  *micros = static_cast<long>(rem);
}

std::string format(WallTimePoint t, bool with_micros) {
  std::time_t seconds = 0;
  long micros = 0;
  split(t, &seconds, &micros);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
                        tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  std::string out(buf, static_cast<size_t>(n));
  if (with_micros) {
    std::snprintf(buf, sizeof buf, ".%06ld", micros);
    out += buf;
  }
  out += 'Z';
  return out;
}

}  // namespace

WallTimePoint system_wall_now() { return std::chrono::system_clock::now(); }

std::string format_rfc3339(WallTimePoint t) { return format(t, false); }

std::string format_rfc3339_micro(WallTimePoint t) { return format(t, true); }

}  // namespace runtime
