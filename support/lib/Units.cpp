//===- Units.cpp - Physical units and dimensions --------------------------===//
//
// The unit table and the small parser for unit expressions. Names are tried
// whole first ("M" is molar, "min" is minutes, "mol" is mole), then as an SI
// prefix followed by a unit name ("Mohm", "mV", "uA").
//
//===----------------------------------------------------------------------===//
#include "ncl/Support/Units.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <cstring>

using namespace ncl::units;

namespace {
enum Base { M = 0, KG, S, A, K, MOL, CD };

/// Exponents are int8_t. Saturate instead of wrapping (or overflowing an int
/// in pow), so that an absurd power like (1 m)**256 keeps a dimension and is
/// rejected where dimensions are compared, rather than becoming
/// dimensionless.
int8_t saturate(long long e) {
  return static_cast<int8_t>(std::clamp<long long>(e, INT8_MIN, INT8_MAX));
}

Dimension dim(std::initializer_list<std::pair<Base, int>> parts) {
  Dimension d;
  for (auto [b, e] : parts)
    d.exponents[b] = static_cast<int8_t>(2 * e); // stored doubled: see Units.h
  return d;
}

struct NamedUnit {
  const char *name;
  double scale;
  Dimension dim;
  bool prefixable;
};

const NamedUnit *unitTable(size_t &count) {
  static const NamedUnit table[] = {
      {"s", 1, dim({{S, 1}}), true},
      {"second", 1, dim({{S, 1}}), false},
      {"min", 60, dim({{S, 1}}), false},
      {"h", 3600, dim({{S, 1}}), false},
      {"Hz", 1, dim({{S, -1}}), true},
      {"V", 1, dim({{KG, 1}, {M, 2}, {S, -3}, {A, -1}}), true},
      {"volt", 1, dim({{KG, 1}, {M, 2}, {S, -3}, {A, -1}}), false},
      {"A", 1, dim({{A, 1}}), true},
      {"amp", 1, dim({{A, 1}}), true},
      {"ohm", 1, dim({{KG, 1}, {M, 2}, {S, -3}, {A, -2}}), true},
      {"Ohm", 1, dim({{KG, 1}, {M, 2}, {S, -3}, {A, -2}}), true},
      {"\xCE\xA9", 1, dim({{KG, 1}, {M, 2}, {S, -3}, {A, -2}}), true}, // Ω
      {"S", 1, dim({{KG, -1}, {M, -2}, {S, 3}, {A, 2}}), true},
      {"siemens", 1, dim({{KG, -1}, {M, -2}, {S, 3}, {A, 2}}), false},
      {"F", 1, dim({{KG, -1}, {M, -2}, {S, 4}, {A, 2}}), true},
      {"farad", 1, dim({{KG, -1}, {M, -2}, {S, 4}, {A, 2}}), false},
      {"C", 1, dim({{A, 1}, {S, 1}}), true},
      {"W", 1, dim({{KG, 1}, {M, 2}, {S, -3}}), true},
      {"J", 1, dim({{KG, 1}, {M, 2}, {S, -2}}), true},
      {"m", 1, dim({{M, 1}}), true},
      {"meter", 1, dim({{M, 1}}), false},
      {"g", 1e-3, dim({{KG, 1}}), true},
      {"kg", 1, dim({{KG, 1}}), false},
      {"K", 1, dim({{K, 1}}), true},
      {"kelvin", 1, dim({{K, 1}}), false},
      {"mol", 1, dim({{MOL, 1}}), true},
      {"M", 1e3, dim({{MOL, 1}, {M, -3}}), true}, // molar = mol/L
      {"molar", 1e3, dim({{MOL, 1}, {M, -3}}), false},
      {"L", 1e-3, dim({{M, 3}}), true},
      {"l", 1e-3, dim({{M, 3}}), true},
      {"cd", 1, dim({{CD, 1}}), true},
  };
  count = sizeof(table) / sizeof(table[0]);
  return table;
}

struct Prefix {
  const char *name;
  double scale;
};
const Prefix prefixes[] = {
    {"Y", 1e24},        {"Z", 1e21}, {"E", 1e18},  {"P", 1e15},  {"T", 1e12},
    {"G", 1e9},         {"M", 1e6},  {"k", 1e3},   {"h", 1e2},   {"da", 1e1},
    {"d", 1e-1},        {"c", 1e-2}, {"m", 1e-3},  {"u", 1e-6},  {"\xC2\xB5", 1e-6}, // µ
    {"\xCE\xBC", 1e-6}, {"n", 1e-9}, {"p", 1e-12}, {"f", 1e-15}, {"a", 1e-18}};

const NamedUnit *findWhole(std::string_view name) {
  size_t n;
  const NamedUnit *t = unitTable(n);
  for (size_t i = 0; i < n; ++i)
    if (name == t[i].name)
      return &t[i];
  return nullptr;
}
} // namespace

Dimension Dimension::time() { return dim({{S, 1}}); }

bool Dimension::isDimensionless() const {
  for (int8_t e : exponents)
    if (e)
      return false;
  return true;
}

Dimension Dimension::operator*(const Dimension &o) const {
  Dimension r;
  for (int i = 0; i < 7; ++i)
    r.exponents[i] = saturate(exponents[i] + o.exponents[i]);
  return r;
}

Dimension Dimension::operator/(const Dimension &o) const {
  Dimension r;
  for (int i = 0; i < 7; ++i)
    r.exponents[i] = saturate(exponents[i] - o.exponents[i]);
  return r;
}

Dimension Dimension::pow(int n) const {
  Dimension r;
  for (int i = 0; i < 7; ++i)
    r.exponents[i] = saturate(static_cast<long long>(exponents[i]) * n);
  return r;
}

std::string Dimension::str() const {
  if (isDimensionless())
    return "1";
  // Named units users recognise, and their ratios to time.
  static const char *named[] = {"V", "A", "ohm", "S", "F", "C", "s", "Hz", "m", "mol", "K"};
  for (const char *n : named) {
    const NamedUnit *u = findWhole(n);
    if (u->dim == *this)
      return n;
  }
  for (const char *n : named) {
    const NamedUnit *u = findWhole(n);
    if (u->dim / Dimension::time() == *this)
      return std::string(n) + "/s";
  }
  static const char *base[] = {"m", "kg", "s", "A", "K", "mol", "cd"};
  std::string out;
  for (int i = 0; i < 7; ++i) {
    if (!exponents[i])
      continue;
    if (!out.empty())
      out += ' ';
    out += base[i];
    // Stored doubled: an odd value is a half-integer exponent.
    if (exponents[i] % 2)
      out += "^" + std::to_string(exponents[i]) + "/2";
    else if (exponents[i] != 2)
      out += "^" + std::to_string(exponents[i] / 2);
  }
  return out;
}

std::optional<Dimension> Dimension::sqrt() const {
  Dimension r;
  for (int i = 0; i < 7; ++i) {
    if (exponents[i] % 2)
      return std::nullopt; // a quarter power
    r.exponents[i] = static_cast<int8_t>(exponents[i] / 2);
  }
  return r;
}

std::optional<Unit> ncl::units::lookupUnitName(std::string_view name) {
  if (const NamedUnit *u = findWhole(name))
    return Unit{u->scale, u->dim};
  for (const Prefix &p : prefixes) {
    size_t len = std::strlen(p.name);
    if (name.size() <= len || name.substr(0, len) != p.name)
      continue;
    const NamedUnit *u = findWhole(name.substr(len));
    if (u && u->prefixable)
      return Unit{p.scale * u->scale, u->dim};
  }
  return std::nullopt;
}

std::optional<Unit> ncl::units::parseUnit(std::string_view text, std::string *error) {
  Unit result;
  size_t pos = 0;
  bool divide = false, expectAtom = true;
  auto fail = [&](const std::string &msg) -> std::optional<Unit> {
    if (error)
      *error = msg;
    return std::nullopt;
  };
  auto skipSpace = [&] {
    while (pos < text.size() && std::isspace(static_cast<unsigned char>(text[pos])))
      ++pos;
  };
  while (true) {
    skipSpace();
    if (pos >= text.size())
      break;
    if (!expectAtom) {
      if (text.compare(pos, 2, "**") == 0)
        return fail("misplaced '**' in unit '" + std::string(text) + "'");
      if (text[pos] == '*' || text[pos] == '/') {
        divide = text[pos] == '/';
        ++pos;
        expectAtom = true;
        continue;
      }
      return fail("unexpected '" + std::string(1, text[pos]) + "' in unit '" + std::string(text) +
                  "'");
    }
    size_t start = pos;
    // "1/s": a literal 1 is the empty product.
    if (text[pos] == '1' &&
        (pos + 1 == text.size() || !std::isdigit(static_cast<unsigned char>(text[pos + 1])))) {
      ++pos;
      expectAtom = false;
      continue;
    }
    while (pos < text.size() && (std::isalpha(static_cast<unsigned char>(text[pos])) ||
                                 static_cast<unsigned char>(text[pos]) >= 0x80))
      ++pos;
    std::string_view name = text.substr(start, pos - start);
    if (name.empty())
      return fail("expected a unit name in '" + std::string(text) + "'");
    // Powers: "cm2", "cm^2", "cm**2", "s**-1".
    int power = 1;
    size_t save = pos;
    if (text.compare(pos, 2, "**") == 0)
      pos += 2;
    else if (pos < text.size() && text[pos] == '^')
      pos += 1;
    if (pos < text.size() &&
        (std::isdigit(static_cast<unsigned char>(text[pos])) || text[pos] == '-')) {
      char *end = nullptr;
      std::string rest(text.substr(pos));
      long p = std::strtol(rest.c_str(), &end, 10);
      if (end == rest.c_str())
        return fail("bad power in unit '" + std::string(text) + "'");
      pos += static_cast<size_t>(end - rest.c_str());
      if (p < INT8_MIN || p > INT8_MAX)
        return fail("power out of range in unit '" + std::string(text) + "'");
      power = static_cast<int>(p);
    } else {
      pos = save;
    }
    std::optional<Unit> u = lookupUnitName(name);
    if (!u)
      return fail("unknown unit '" + std::string(name) + "'");
    double s = std::pow(u->scale, power);
    Dimension d = u->dim.pow(power);
    if (divide) {
      result.scale /= s;
      result.dim = result.dim / d;
    } else {
      result.scale *= s;
      result.dim = result.dim * d;
    }
    expectAtom = false;
  }
  if (expectAtom)
    return fail("incomplete unit '" + std::string(text) + "'");
  return result;
}

std::optional<std::pair<double, Dimension>> ncl::units::parseQuantity(std::string_view text,
                                                                      std::string *error) {
  std::string s(text);
  const char *begin = s.c_str();
  char *end = nullptr;
  double value = std::strtod(begin, &end);
  if (end == begin) {
    if (error)
      *error = "expected a number in '" + s + "'";
    return std::nullopt;
  }
  std::string_view rest(end);
  while (!rest.empty() && std::isspace(static_cast<unsigned char>(rest.front())))
    rest.remove_prefix(1);
  if (rest.empty())
    return std::make_pair(value, Dimension::none());
  std::optional<Unit> u = parseUnit(rest, error);
  if (!u)
    return std::nullopt;
  return std::make_pair(value * u->scale, u->dim);
}
