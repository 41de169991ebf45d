//===- Builtins.cpp - The table of built-in functions ---------------------===//
//
// The constant evaluations here are what Sema folds parameter values with;
// MLIRGen emits the same functions as math/arith ops, so a formula that
// changes here must change in MLIRGen's case for it too.
//
//===----------------------------------------------------------------------===//
#include "ncl/DSL/Builtins.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <iterator>

using namespace ncl;

namespace {

// (e^x - 1)/x, 1 at x = 0; the series below 1e-5 as MLIRGen emits it in f64.
double exprel(double x) { return std::fabs(x) < 1e-5 ? 1 + x * (0.5 + x / 6) : std::expm1(x) / x; }

using R = UnitRule;
using Id = BuiltinId;

// In the order of BuiltinId; also the order "did you mean" considers names in.
const Builtin kBuiltins[] = {
    {"rand", Id::Rand, 0, false, R::Random, nullptr},
    {"randn", Id::Randn, 0, false, R::Random, nullptr},
    {"exp", Id::Exp, 1, true, R::Dimensionless, [](const double *a) { return std::exp(a[0]); }},
    {"expm1", Id::Expm1, 1, true, R::Dimensionless,
     [](const double *a) { return std::expm1(a[0]); }},
    {"exprel", Id::Exprel, 1, true, R::Dimensionless, [](const double *a) { return exprel(a[0]); }},
    {"log", Id::Log, 1, true, R::Dimensionless, [](const double *a) { return std::log(a[0]); }},
    {"log1p", Id::Log1p, 1, true, R::Dimensionless,
     [](const double *a) { return std::log1p(a[0]); }},
    {"log10", Id::Log10, 1, true, R::Dimensionless,
     [](const double *a) { return std::log10(a[0]); }},
    {"sin", Id::Sin, 1, true, R::Dimensionless, [](const double *a) { return std::sin(a[0]); }},
    {"cos", Id::Cos, 1, true, R::Dimensionless, [](const double *a) { return std::cos(a[0]); }},
    {"tan", Id::Tan, 1, true, R::Dimensionless, [](const double *a) { return std::tan(a[0]); }},
    {"tanh", Id::Tanh, 1, true, R::Dimensionless, [](const double *a) { return std::tanh(a[0]); }},
    {"sigmoid", Id::Sigmoid, 1, true, R::Dimensionless,
     [](const double *a) { return 1.0 / (1.0 + std::exp(-a[0])); }},
    {"softplus", Id::Softplus, 1, true, R::Dimensionless,
     [](const double *a) { return std::max(a[0], 0.0) + std::log1p(std::exp(-std::fabs(a[0]))); }},
    {"floor", Id::Floor, 1, true, R::Dimensionless,
     [](const double *a) { return std::floor(a[0]); }},
    {"ceil", Id::Ceil, 1, true, R::Dimensionless, [](const double *a) { return std::ceil(a[0]); }},
    {"abs", Id::Abs, 1, true, R::SameAsArgument, [](const double *a) { return std::fabs(a[0]); }},
    {"relu", Id::Relu, 1, true, R::SameAsArgument,
     [](const double *a) { return a[0] > 0 ? a[0] : 0.0; }},
    {"min", Id::Min, 2, true, R::SameAsArguments,
     [](const double *a) { return std::min(a[0], a[1]); }},
    {"max", Id::Max, 2, true, R::SameAsArguments,
     [](const double *a) { return std::max(a[0], a[1]); }},
    {"clip", Id::Clip, 3, true, R::SameAsArguments,
     [](const double *a) { return std::min(std::max(a[0], a[1]), a[2]); }},
    {"heaviside", Id::Heaviside, 1, true, R::AnyToNumber,
     [](const double *a) { return a[0] > 0 ? 1.0 : 0.0; }},
    {"sqrt", Id::Sqrt, 1, true, R::SquareRoot, [](const double *a) { return std::sqrt(a[0]); }},
    {"pow", Id::Pow, 2, true, R::IntegerPower,
     [](const double *a) { return std::pow(a[0], a[1]); }},
    {"poisson", Id::Poisson, 1, false, R::RandomCount, nullptr},
};

} // namespace

const Builtin *ncl::lookupBuiltin(const std::string &name) {
  for (const Builtin &b : kBuiltins)
    if (name == b.name)
      return &b;
  return nullptr;
}

const Builtin &ncl::getBuiltin(BuiltinId id) {
  const Builtin &b = kBuiltins[static_cast<size_t>(id)];
  assert(b.id == id && "kBuiltins is in the order of BuiltinId");
  return b;
}

std::vector<std::string> ncl::builtinNames() {
  std::vector<std::string> names;
  for (const Builtin &b : kBuiltins)
    names.push_back(b.name);
  return names;
}
