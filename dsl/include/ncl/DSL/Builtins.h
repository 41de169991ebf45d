//===- Builtins.h - The built-in functions of NCL ---------------*- C++ -*-===//
//
// One entry per function a model may call (`exp(x)`, `rand()`, `clip(x, a,
// b)`): its name, arity, purity, how its result's dimension follows from its
// arguments, and its value for constant arguments. Sema checks calls and
// folds constants from this table, suggests its names for a misspelt call,
// and MLIRGen switches over `BuiltinId` to emit each one, so a new function
// is one entry here and one case there.
//
//===----------------------------------------------------------------------===//
#ifndef NCL_DSL_BUILTINS_H
#define NCL_DSL_BUILTINS_H

#include <string>
#include <vector>

namespace ncl {

/// Every built-in function, in the order of the table.
enum class BuiltinId {
  Rand,
  Randn,
  Exp,
  Expm1,
  Exprel,
  Log,
  Log1p,
  Log10,
  Sin,
  Cos,
  Tan,
  Tanh,
  Sigmoid,
  Softplus,
  Floor,
  Ceil,
  Abs,
  Relu,
  Min,
  Max,
  Clip,
  Heaviside,
  Sqrt,
  Pow,
  Poisson,
};

/// How a call's dimension follows from its arguments' (docs/language.md).
enum class UnitRule {
  Random,          ///< no arguments; a dimensionless draw per neuron and step
  RandomCount,     ///< poisson(mean): a dimensionless mean in, a drawn count out
  Dimensionless,   ///< f(x): x and the result dimensionless
  SameAsArgument,  ///< abs, relu: the argument's dimension
  SameAsArguments, ///< min, max, clip: one dimension for all arguments and the result
  AnyToNumber,     ///< heaviside: any dimension in, a dimensionless number out
  SquareRoot,      ///< sqrt: half the argument's dimension
  IntegerPower,    ///< pow(x, n): n dimensionless, an integer when x has a unit
};

struct Builtin {
  const char *name;
  BuiltinId id;
  unsigned arity;
  /// Whether the value depends only on the arguments (rand and randn draw).
  bool pure;
  UnitRule unitRule;
  /// The value for constant arguments (`arity` of them, in internal units);
  /// null for the functions that are never constant.
  double (*evaluate)(const double *args);
};

/// The entry for `name`, or null when no built-in function has that name.
const Builtin *lookupBuiltin(const std::string &name);

/// The entry for `id`.
const Builtin &getBuiltin(BuiltinId id);

/// Every built-in function's name, in table order (for "did you mean").
std::vector<std::string> builtinNames();

} // namespace ncl

#endif // NCL_DSL_BUILTINS_H
