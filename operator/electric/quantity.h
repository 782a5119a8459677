// Kubernetes resource quantities ("10Gi", "1.5G", "500M", "1e9", "100m"),
// parsed exactly so a storage shrink is told from a grow without rounding
// surprises ("1Gi" == "1073741824", "1G" < "1Gi").
//
//   auto want = electric::parse_quantity("5Gi");
//   auto have = electric::parse_quantity(pvc_request);
//   if (want && have && *want < *have) -> StorageShrinkNotSupported
#pragma once

#include <string>
#include <string_view>

#include "base/expected.h"

namespace electric {

// A quantity in thousandths of its unit (bytes for storage), rounded up the
// way Kubernetes rounds a quantity to milli precision.
struct Quantity {
  __int128 millis = 0;

  friend bool operator==(const Quantity& a, const Quantity& b) { return a.millis == b.millis; }
  friend bool operator!=(const Quantity& a, const Quantity& b) { return a.millis != b.millis; }
  friend bool operator<(const Quantity& a, const Quantity& b) { return a.millis < b.millis; }
  friend bool operator>(const Quantity& a, const Quantity& b) { return a.millis > b.millis; }
  friend bool operator<=(const Quantity& a, const Quantity& b) { return a.millis <= b.millis; }
  friend bool operator>=(const Quantity& a, const Quantity& b) { return a.millis >= b.millis; }
  bool positive() const { return millis > 0; }
};

// Accepts Kubernetes' grammar: optional sign, digits with an optional
// fraction, then one suffix: binary (Ki Mi Gi Ti Pi Ei), decimal (n u m "" k
// M G T P E) or an exponent (e3, E-2). The error says what is wrong in words
// a user understands; values beyond 2^63 units are refused as too large.
base::Expected<Quantity, std::string> parse_quantity(std::string_view text);

}  // namespace electric
