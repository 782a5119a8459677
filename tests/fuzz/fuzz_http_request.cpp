// runtime::parse_request_head, the request parser of the probe and metrics
// server, on any bytes a client sends, fed as recv() would hand them over:
// in chunks (drawn from the input), the outcome asked after each chunk
// until it is decided.
//
// Invariants, beyond not crashing:
// - chunking is no matter: the outcome decided on a prefix is the outcome of
//   the whole input, and an input undecided in one go stays undecided;
// - nothing is decided before the head's blank line, except TooLarge, and
//   that only beyond the limit;
// - a request served is GET or HEAD (head_only for HEAD) of a path that is
//   the request target up to its '?', with no space or LF in it.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "runtime/http_server.h"

namespace {

using Kind = runtime::RequestHeadOutcome::Kind;

bool same(const runtime::RequestHeadOutcome& a, const runtime::RequestHeadOutcome& b) {
  return a.kind == b.kind && a.path == b.path && a.head_only == b.head_only;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  InputSeededRandom random(data, size);
  auto next = [&random] { return random.next(); };
  // The server's limit, or a small one so that the fuzzer's short inputs
  // reach TooLarge too.
  const size_t limit = next() % 2 == 0 ? runtime::HttpServerLimits{}.max_request_bytes : 16 + next() % 256;

  runtime::RequestHeadOutcome incremental;
  size_t consumed = 0;
  while (consumed < size && incremental.kind == Kind::Incomplete) {
    consumed += std::min<size_t>(size - consumed, 1 + next() % 512);
    incremental = runtime::parse_request_head(input.substr(0, consumed), limit);
  }
  const runtime::RequestHeadOutcome whole = runtime::parse_request_head(input, limit);
  FUZZ_CHECK(same(incremental, whole), "the outcome depends on how the bytes arrived");

  // The bytes read when it was decided, and those within the limit.
  const std::string_view seen = input.substr(0, std::min(consumed, limit));
  const bool has_blank_line =
      seen.find("\r\n\r\n") != std::string_view::npos || seen.find("\n\n") != std::string_view::npos;
  if (whole.kind == Kind::TooLarge) {
    FUZZ_CHECK(consumed > limit, "TooLarge within the limit");
  } else if (whole.kind != Kind::Incomplete) {
    FUZZ_CHECK(has_blank_line, "decided before a blank line within the limit");
  }
  if (whole.kind == Kind::Serve) {
    const bool head = input.rfind("HEAD ", 0) == 0;
    FUZZ_CHECK(head || input.rfind("GET ", 0) == 0, "served a method other than GET or HEAD");
    FUZZ_CHECK(whole.head_only == head, "head_only is not HEAD");
    FUZZ_CHECK(whole.path.find_first_of(" \n?") == std::string::npos, "a path with a space, LF or '?'");
    const size_t target = head ? 5 : 4;
    FUZZ_CHECK(input.substr(target, whole.path.size()) == whole.path, "the path is not the target's start");
    const char after = input.size() > target + whole.path.size() ? input[target + whole.path.size()] : '\0';
    FUZZ_CHECK(after == ' ' || after == '?', "the path stops inside the target");
  }
  return 0;
}
