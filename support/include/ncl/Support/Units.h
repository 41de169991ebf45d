//===- Units.h - Physical units and dimensions ------------------*- C++ -*-===//
//
// Units are checked at compile time and then erased: every value is converted
// once to NCL's internal system, plain SI (s, V, A, ohm, S, F, Hz, m, mol/m^3),
// so generated code never multiplies by a unit. Part of the support/ leaf
// (no LLVM or ANTLR dependency): the front end checks units with it, and
// libnclrt links it too, to parse `--set P.I=2.5nA`.
//
//===----------------------------------------------------------------------===//
#ifndef NCL_SUPPORT_UNITS_H
#define NCL_SUPPORT_UNITS_H

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ncl::units {

/// Exponents of the SI base units, in the order m, kg, s, A, K, mol, cd,
/// stored doubled so that half-integer exponents (1/sqrt(s) for white
/// noise, sqrt(Hz)) are exact: {0, 0, -2, 0, ...} is 1/s.
struct Dimension {
  std::array<int8_t, 7> exponents{};

  static Dimension none() { return {}; }
  static Dimension time();
  bool isDimensionless() const;
  Dimension operator*(const Dimension &o) const;
  Dimension operator/(const Dimension &o) const;
  Dimension pow(int n) const;
  /// The square root, if every exponent stays a multiple of 1/2.
  std::optional<Dimension> sqrt() const;
  bool operator==(const Dimension &o) const { return exponents == o.exponents; }
  bool operator!=(const Dimension &o) const { return !(*this == o); }
  /// A readable name: a named unit where one fits ("V", "A", "ohm", "s",
  /// "Hz", "V/s"), otherwise the base form ("m^2 kg s^-3 A^-1"); "1" if none.
  std::string str() const;
};

/// A unit: internal value = value in this unit * scale.
struct Unit {
  double scale = 1.0;
  Dimension dim;
};

/// Parses a unit expression: a product/quotient of (prefixed) unit names with
/// optional integer powers, e.g. "mV", "Mohm", "uA/cm2", "mS/cm**2", "mV/ms",
/// "1/s", "nS*mV". Returns nullopt and sets `error` if a name is unknown.
std::optional<Unit> parseUnit(std::string_view text, std::string *error = nullptr);

/// Looks up a single (possibly prefixed) unit name such as "ms" or "Mohm".
std::optional<Unit> lookupUnitName(std::string_view name);

/// Parses a quantity such as "2.5nA", "2.5 nA", "-70 mV" or "3" (no unit).
/// Returns the value in internal units and its dimension.
std::optional<std::pair<double, Dimension>> parseQuantity(std::string_view text,
                                                          std::string *error = nullptr);

} // namespace ncl::units

#endif // NCL_SUPPORT_UNITS_H
