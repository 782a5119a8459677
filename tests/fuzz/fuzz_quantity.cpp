// electric::parse_quantity on any bytes (spec.storage.size, a PVC's request).
//
// Invariants, beyond not crashing:
// - an accepted quantity, rendered back in millis ("<n>m") and in plain
//   units when whole, parses to the same value;
// - the sign is symmetric: "-x" is the negation of "x" for an unsigned x;
// - the binary suffixes scale exactly: "xKi" is 1024 times "x" when both fit;
// - values stay within the documented 2^63 units.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "electric/quantity.h"
#include "fuzz_check.h"

namespace {

std::string to_decimal(__int128 v) {
  if (v == 0) return "0";
  const bool negative = v < 0;
  unsigned __int128 magnitude = negative ? -static_cast<unsigned __int128>(v) : v;
  std::string digits;
  while (magnitude != 0) {
    digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(magnitude % 10)));
    magnitude /= 10;
  }
  return negative ? "-" + digits : digits;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = electric::parse_quantity(text);
  if (!parsed) {
    FUZZ_CHECK(!parsed.error().empty(), "a refusal without a reason");
    return 0;
  }
  const __int128 max_millis = (static_cast<__int128>(1) << 63) * 1000;
  FUZZ_CHECK(parsed->millis <= max_millis && parsed->millis >= -max_millis,
             "a quantity beyond 2^63 units was accepted");

  auto in_millis = electric::parse_quantity(to_decimal(parsed->millis) + "m");
  FUZZ_CHECK(in_millis.ok(), "a quantity rendered in millis is refused");
  FUZZ_CHECK(*in_millis == *parsed, "a quantity rendered in millis parses to another value");
  if (parsed->millis % 1000 == 0) {
    auto in_units = electric::parse_quantity(to_decimal(parsed->millis / 1000));
    FUZZ_CHECK(in_units.ok(), "a whole quantity rendered in units is refused");
    FUZZ_CHECK(*in_units == *parsed, "a whole quantity rendered in units parses to another value");
  }

  if (!text.empty() && text[0] != '+' && text[0] != '-') {
    auto negated = electric::parse_quantity("-" + std::string(text));
    FUZZ_CHECK(negated.ok(), "\"-x\" is refused where \"x\" is accepted");
    FUZZ_CHECK(negated->millis == -parsed->millis, "\"-x\" is not the negation of \"x\"");
    // A plain number (no suffix) times 1024 is the same number with "Ki".
    if (text.find_first_not_of("0123456789.") == std::string_view::npos &&
        parsed->millis <= max_millis / 1024) {
      auto kibi = electric::parse_quantity(std::string(text) + "Ki");
      FUZZ_CHECK(kibi.ok(), "\"xKi\" is refused where \"x\" fits");
      // x is rounded up to millis before scaling on one side only, so
      // compare within the rounding of one milli times 1024.
      FUZZ_CHECK(kibi->millis <= parsed->millis * 1024 && kibi->millis > (parsed->millis - 1) * 1024,
                 "\"xKi\" is not 1024 times \"x\"");
    }
  }
  return 0;
}
