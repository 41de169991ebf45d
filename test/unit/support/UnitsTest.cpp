//===- UnitsTest.cpp - Unit parsing and dimension arithmetic --------------===//
//
// Scales are checked against their SI definitions, not against the parser's
// own output: 1 Mohm = 1e6 kg m^2 s^-3 A^-2, 1 mM = 1 mol/m^3, and so on.
//
//===----------------------------------------------------------------------===//
#include "ncl/Support/Units.h"

#include <gtest/gtest.h>

using namespace ncl::units;

namespace {

Dimension base(int m, int kg, int s, int a, int k = 0, int mol = 0) {
  Dimension d;
  // Dimension stores exponents doubled (see Units.h).
  d.exponents = {static_cast<int8_t>(2 * m),
                 static_cast<int8_t>(2 * kg),
                 static_cast<int8_t>(2 * s),
                 static_cast<int8_t>(2 * a),
                 static_cast<int8_t>(2 * k),
                 static_cast<int8_t>(2 * mol),
                 0};
  return d;
}

void expectUnit(const char *text, double scale, Dimension dim) {
  std::string error;
  auto u = parseUnit(text, &error);
  ASSERT_TRUE(u.has_value()) << text << ": " << error;
  EXPECT_NEAR(u->scale / scale, 1.0, 1e-12) << text;
  EXPECT_EQ(u->dim, dim) << text << " is " << u->dim.str();
}

TEST(Units, PrefixedNames) {
  expectUnit("ms", 1e-3, base(0, 0, 1, 0));
  expectUnit("mV", 1e-3, base(2, 1, -3, -1));
  expectUnit("Mohm", 1e6, base(2, 1, -3, -2));
  expectUnit("nA", 1e-9, base(0, 0, 0, 1));
  expectUnit("pF", 1e-12, base(-2, -1, 4, 2));
  expectUnit("nS", 1e-9, base(-2, -1, 3, 2));
  expectUnit("kHz", 1e3, base(0, 0, -1, 0));
  expectUnit("uA", 1e-6, base(0, 0, 0, 1));
  expectUnit("\xC2\xB5"
             "A",
             1e-6, base(0, 0, 0, 1));            // µA
  expectUnit("\xCE\xA9", 1, base(2, 1, -3, -2)); // Ω
}

TEST(Units, WholeNamesBeforePrefixes) {
  expectUnit("M", 1e3, base(-3, 0, 0, 0, 0, 1));  // molar, not mega-
  expectUnit("mM", 1.0, base(-3, 0, 0, 0, 0, 1)); // 1 mM = 1 mol/m^3
  expectUnit("min", 60, base(0, 0, 1, 0));        // minute, not milli-inch
  expectUnit("mol", 1, base(0, 0, 0, 0, 0, 1));
  expectUnit("m", 1, base(1, 0, 0, 0));
  expectUnit("mm", 1e-3, base(1, 0, 0, 0));
}

TEST(Units, Compound) {
  expectUnit("mV/ms", 1.0, base(2, 1, -4, -1));
  expectUnit("uA/cm2", 1e-6 / 1e-4, base(-2, 0, 0, 1));
  expectUnit("mS/cm**2", 1e-3 / 1e-4, base(-4, -1, 3, 2));
  expectUnit("mS/cm^2", 1e-3 / 1e-4, base(-4, -1, 3, 2));
  expectUnit("1/s", 1, base(0, 0, -1, 0));
  expectUnit("nS*mV", 1e-12, base(0, 0, 0, 1)); // S*V = A
  expectUnit("s**-1", 1, base(0, 0, -1, 0));
}

TEST(Units, Errors) {
  std::string error;
  EXPECT_FALSE(parseUnit("parsec", &error));
  EXPECT_EQ(error, "unknown unit 'parsec'");
  EXPECT_FALSE(parseUnit("mV/", &error));
  EXPECT_FALSE(parseUnit("kms", &error)); // prefixes do not stack
  EXPECT_FALSE(parseUnit("Mkg", &error)); // kg takes no prefix
}

TEST(Units, Quantities) {
  auto q = parseQuantity("2.5nA");
  ASSERT_TRUE(q);
  EXPECT_DOUBLE_EQ(q->first, 2.5e-9);
  EXPECT_EQ(q->second, base(0, 0, 0, 1));
  q = parseQuantity("-70 mV");
  ASSERT_TRUE(q);
  EXPECT_DOUBLE_EQ(q->first, -0.07);
  q = parseQuantity("3");
  ASSERT_TRUE(q);
  EXPECT_TRUE(q->second.isDimensionless());
  std::string error;
  EXPECT_FALSE(parseQuantity("nA", &error));
  EXPECT_FALSE(parseQuantity("2 furlongs", &error));
}

TEST(Units, DimensionNames) {
  EXPECT_EQ(base(2, 1, -3, -1).str(), "V");
  EXPECT_EQ(base(2, 1, -4, -1).str(), "V/s");
  EXPECT_EQ(base(0, 0, -1, 0).str(), "Hz");
  EXPECT_EQ(Dimension::none().str(), "1");
  EXPECT_EQ(base(1, 0, -2, 0).str(), "m s^-2");
  EXPECT_EQ(base(2, 1, -3, -1) / Dimension::time(), base(2, 1, -4, -1));
  EXPECT_EQ(base(1, 0, 0, 0).pow(3), base(3, 0, 0, 0));
  // Half-integer exponents: the dimension of white noise, 1/sqrt(s).
  auto root = Dimension::time().sqrt();
  ASSERT_TRUE(root);
  EXPECT_EQ(root->str(), "s^1/2");
  EXPECT_EQ((Dimension::none() / *root).str(), "s^-1/2");
  EXPECT_EQ(root->pow(2), Dimension::time());
  EXPECT_FALSE(root->sqrt()); // a quarter power
}

} // namespace
