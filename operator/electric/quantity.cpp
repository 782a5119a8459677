#include "electric/quantity.h"

#include <cctype>
#include <cstdint>

namespace electric {
namespace {

using Int = __int128;

// Largest magnitude accepted: 2^63 units, in millis. Kubernetes itself caps
// quantities near int64; nothing real (storage in bytes) comes close.
const Int kMaxMillis = (static_cast<Int>(1) << 63) * 1000;

bool checked_mul(Int a, Int b, Int& out) { return !__builtin_mul_overflow(a, b, &out); }

Int pow10(int n) {
  Int r = 1;
  for (int i = 0; i < n; ++i) r *= 10;
  return r;
}

base::Expected<Quantity, std::string> fail(std::string why) {
  return base::Expected<Quantity, std::string>::failure(std::move(why));
}

}  // namespace

base::Expected<Quantity, std::string> parse_quantity(std::string_view text) {
  const std::string kGrammar =
      "a quantity is a number with an optional suffix, e.g. 10Gi, 500Mi, 1.5G or 1e9";
  if (text.empty()) return fail("is empty; " + kGrammar);
  std::size_t i = 0;
  bool negative = false;
  if (text[i] == '+' || text[i] == '-') {
    negative = text[i] == '-';
    ++i;
  }
  std::string digits;  // integer and fraction digits, without the dot
  int fraction_digits = 0;
  bool seen_digit = false, seen_dot = false;
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (std::isdigit(static_cast<unsigned char>(c))) {
      seen_digit = true;
      digits.push_back(c);
      if (seen_dot) ++fraction_digits;
    } else if (c == '.' && !seen_dot) {
      seen_dot = true;
    } else {
      break;
    }
  }
  if (!seen_digit) return fail("does not start with a number; " + kGrammar);

  std::string_view suffix = text.substr(i);
  int exp10 = 0;  // value = digits * 10^exp10 * 2^exp2
  int exp2 = 0;
  if (suffix.empty()) {
  } else if (suffix == "Ki") { exp2 = 10;
  } else if (suffix == "Mi") { exp2 = 20;
  } else if (suffix == "Gi") { exp2 = 30;
  } else if (suffix == "Ti") { exp2 = 40;
  } else if (suffix == "Pi") { exp2 = 50;
  } else if (suffix == "Ei") { exp2 = 60;
  } else if (suffix == "n") { exp10 = -9;
  } else if (suffix == "u") { exp10 = -6;
  } else if (suffix == "m") { exp10 = -3;
  } else if (suffix == "k") { exp10 = 3;
  } else if (suffix == "M") { exp10 = 6;
  } else if (suffix == "G") { exp10 = 9;
  } else if (suffix == "T") { exp10 = 12;
  } else if (suffix == "P") { exp10 = 15;
  } else if (suffix == "E") { exp10 = 18;
  } else if (suffix[0] == 'e' || suffix[0] == 'E') {
    std::string_view e = suffix.substr(1);
    bool e_negative = false;
    if (!e.empty() && (e[0] == '+' || e[0] == '-')) {
      e_negative = e[0] == '-';
      e.remove_prefix(1);
    }
    if (e.empty() || e.size() > 3) return fail("has a malformed exponent; " + kGrammar);
    int value = 0;
    for (char c : e) {
      if (!std::isdigit(static_cast<unsigned char>(c)))
        return fail("has a malformed exponent; " + kGrammar);
      value = value * 10 + (c - '0');
    }
    exp10 = e_negative ? -value : value;
  } else {
    return fail("has an unknown suffix \"" + std::string(suffix.substr(0, 8)) + "\"; " + kGrammar);
  }

  // Leading zeros carry no magnitude; trailing fraction zeros none either.
  std::size_t first = digits.find_first_not_of('0');
  digits = first == std::string::npos ? "0" : digits.substr(first);
  exp10 += 3 - fraction_digits;  // to millis, minus the fraction's places
  while (digits.size() > 1 && digits.back() == '0') {
    digits.pop_back();
    ++exp10;
  }
  if (digits.size() > 30) return fail("has too many significant digits");

  Int mantissa = 0;
  for (char c : digits) mantissa = mantissa * 10 + (c - '0');
  if (mantissa != 0) {
    if (exp10 > 30 || exp2 > 70) return fail("is too large");
    Int value = mantissa;
    if (!checked_mul(value, static_cast<Int>(1) << exp2, value)) return fail("is too large");
    if (exp10 >= 0) {
      if (!checked_mul(value, pow10(exp10), value)) return fail("is too large");
    } else if (-exp10 > 36) {
      value = 1;  // far below one milli: rounds up to the smallest step
    } else {
      Int divisor = pow10(-exp10);
      value = value / divisor + (value % divisor != 0 ? 1 : 0);  // round up, as Kubernetes does
    }
    if (value > kMaxMillis) return fail("is too large");
    mantissa = value;
  }
  return Quantity{negative ? -mantissa : mantissa};
}

}  // namespace electric
