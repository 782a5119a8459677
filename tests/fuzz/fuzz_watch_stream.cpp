// The watch stream's decoding: kube::LineFramer (bytes in chunks -> lines)
// and kube::decode_watch_line (line -> event), as Client::watch runs them.
// The input is the stream body; where it is cut into chunks and where the
// line callback stops reading are drawn from the input itself, so one input
// always runs the same way.
//
// Invariants, beyond not crashing:
// - whatever the chunking and the stops (resumed by feeding nothing), the
//   lines delivered are the body split at '\n', each without one trailing
//   '\r', the unterminated tail last;
// - a blank line is no event; an event's type is the line's "type" and its
//   object the line's "object"; anything else is a retryable BadWatchEvent.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "fuzz_check.h"
#include "kube/client.h"
#include "kube/transport.h"

namespace {

using nlohmann::json;

std::string_view without_carriage_return(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

std::vector<std::string> reference_lines(std::string_view body) {
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t nl; (nl = body.find('\n', start)) != std::string_view::npos; start = nl + 1) {
    lines.emplace_back(without_carriage_return(body.substr(start, nl - start)));
  }
  if (start < body.size()) lines.emplace_back(without_carriage_return(body.substr(start)));
  return lines;
}

const char* type_name(kube::WatchEvent::Type t) {
  switch (t) {
    case kube::WatchEvent::Type::Added: return "ADDED";
    case kube::WatchEvent::Type::Modified: return "MODIFIED";
    case kube::WatchEvent::Type::Deleted: return "DELETED";
    case kube::WatchEvent::Type::Bookmark: return "BOOKMARK";
    case kube::WatchEvent::Type::Error: return "ERROR";
  }
  return "";
}

void check_decoded(std::string_view line) {
  auto decoded = kube::decode_watch_line(line);
  const bool blank = line.find_first_not_of(" \t\r") == std::string_view::npos;
  if (!decoded.ok()) {
    FUZZ_CHECK(!blank, "a blank line is a BadWatchEvent");
    FUZZ_CHECK(decoded.error().reason == "BadWatchEvent", "a bad line is not a BadWatchEvent");
    FUZZ_CHECK(decoded.error().is_retryable(), "a BadWatchEvent is not retryable");
    return;
  }
  if (!decoded.value()) {
    FUZZ_CHECK(blank, "a line that is not blank was skipped");
    return;
  }
  const kube::WatchEvent& event = *decoded.value();
  const json parsed = json::parse(line.begin(), line.end(), nullptr, false);
  FUZZ_CHECK(parsed.is_object(), "an event from a line that is not a JSON object");
  FUZZ_CHECK(parsed.contains("type") && parsed["type"] == type_name(event.type),
             "an event's type is not the line's");
  FUZZ_CHECK(parsed.contains("object") && parsed["object"] == event.object,
             "an event's object is not the line's");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  // A small generator seeded from the input: chunk lengths 1..64 and a stop
  // after every `stop_every`-th line (0: never).
  InputSeededRandom random(data, size);
  auto next = [&random] { return random.next(); };
  const unsigned stop_every = next() % 4;

  std::vector<std::string> lines;
  const auto on_line = [&](std::string_view line) {
    lines.emplace_back(line);
    return stop_every == 0 || lines.size() % stop_every != 0;
  };
  kube::LineFramer framer;
  size_t offset = 0;
  while (offset < size) {
    const size_t length = std::min<size_t>(size - offset, 1 + next() % 64);
    bool more = framer.feed(body.substr(offset, length), on_line);
    // A stop keeps the rest of the chunk: feeding nothing resumes it.
    for (size_t guard = 0; !more; ++guard) {
      FUZZ_CHECK(guard <= size, "the framer does not resume after a stop");
      more = framer.feed({}, on_line);
    }
    offset += length;
  }
  for (size_t guard = 0; !framer.finish(on_line); ++guard) {
    FUZZ_CHECK(guard <= size, "the framer does not finish after a stop");
  }
  FUZZ_CHECK(lines == reference_lines(body), "the lines delivered are not the body's lines");

  for (const std::string& line : lines) check_decoded(line);
  return 0;
}
