#include "electric/quantity.h"

#include <gtest/gtest.h>

namespace electric {
namespace {

__int128 bytes(const char* text) {
  auto q = parse_quantity(text);
  EXPECT_TRUE(q.ok()) << text << ": " << (q ? "" : q.error());
  return q ? q->millis / 1000 : -1;
}

TEST(Quantity, BinarySuffixes) {
  EXPECT_TRUE(bytes("1Ki") == 1024);
  EXPECT_TRUE(bytes("10Gi") == static_cast<__int128>(10) << 30);
  EXPECT_TRUE(bytes("1Ti") == static_cast<__int128>(1) << 40);
  EXPECT_TRUE(bytes("2Pi") == static_cast<__int128>(2) << 50);
  EXPECT_TRUE(bytes("1Ei") == static_cast<__int128>(1) << 60);
  EXPECT_TRUE(bytes("3Mi") == 3 * 1024 * 1024);
}

TEST(Quantity, DecimalSuffixesAndPlainNumbers) {
  EXPECT_TRUE(bytes("1k") == 1000);
  EXPECT_TRUE(bytes("5M") == 5000000);
  EXPECT_TRUE(bytes("2G") == 2000000000);
  EXPECT_TRUE(bytes("1T") == static_cast<__int128>(1000000000000LL));
  EXPECT_TRUE(bytes("1P") == static_cast<__int128>(1000000000000000LL));
  EXPECT_TRUE(bytes("1E") == static_cast<__int128>(1000000000000000000LL));
  EXPECT_TRUE(bytes("1073741824") == static_cast<__int128>(1) << 30);
}

TEST(Quantity, FractionsExponentsAndMillis) {
  EXPECT_TRUE(bytes("1.5Gi") == (static_cast<__int128>(3) << 29));
  EXPECT_TRUE(bytes("1e3") == 1000);
  EXPECT_TRUE(bytes("1E6") == 1000000);
  EXPECT_TRUE(parse_quantity("500m")->millis == 500);
  EXPECT_TRUE(parse_quantity("0.5")->millis == 500);
  EXPECT_TRUE(parse_quantity(".5")->millis == 500);
  EXPECT_TRUE(parse_quantity("1.")->millis == 1000);
  EXPECT_TRUE(parse_quantity("+1")->millis == 1000);
  EXPECT_TRUE(parse_quantity("-1")->millis == -1000);
  // Below a milli rounds up, as Kubernetes does.
  EXPECT_TRUE(parse_quantity("1u")->millis == 1);
  EXPECT_TRUE(parse_quantity("1n")->millis == 1);
  EXPECT_TRUE(parse_quantity("0")->millis == 0);
  EXPECT_TRUE(parse_quantity("1e-3")->millis == 1);
}

TEST(Quantity, ComparesExactlyAcrossNotations) {
  EXPECT_EQ(*parse_quantity("1Gi"), *parse_quantity("1073741824"));
  EXPECT_EQ(*parse_quantity("1Gi"), *parse_quantity("1024Mi"));
  EXPECT_LT(*parse_quantity("1G"), *parse_quantity("1Gi"));
  EXPECT_LT(*parse_quantity("5Gi"), *parse_quantity("10Gi"));
  EXPECT_EQ(*parse_quantity("1.5Gi"), *parse_quantity("1536Mi"));
  EXPECT_EQ(*parse_quantity("1000M"), *parse_quantity("1G"));
  EXPECT_EQ(*parse_quantity("0.1Gi"), *parse_quantity("107374182.4"));
}

TEST(Quantity, RejectsWhatIsNotAQuantity) {
  for (const char* bad : {"", "Gi", "10GB", "ten", "1.2.3", "10 Gi", "1e", "1e1000", "--1", "0x10",
                          "1Gi ", "1ki", "1KI"}) {
    auto q = parse_quantity(bad);
    EXPECT_FALSE(q.ok()) << bad;
  }
  EXPECT_NE(parse_quantity("10GB").error().find("unknown suffix"), std::string::npos);
}

TEST(Quantity, RefusesAbsurdlyLarge) {
  EXPECT_FALSE(parse_quantity("100000Ei").ok());
  EXPECT_FALSE(parse_quantity("1e30").ok());
  EXPECT_TRUE(parse_quantity("8Ei").ok());
}

}  // namespace
}  // namespace electric
