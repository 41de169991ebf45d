//===- Phi.h - Emit phi(z) = expm1(z)/z with its limit at 0 -----*- C++ -*-===//
//
// phi(z) = (e^z - 1)/z, also called exprel, is 1 at z = 0, but the quotient
// there is 0/0 and loses digits nearby. Exponential Euler (its gain
// h*phi(b*h)), the exact Ornstein-Uhlenbeck variance (h*phi(2*b*h)) and the
// language's exprel() all need it; they build it here, as
//     select(|z| < cut, series(z), expm1(z) / z)
// with the series and cut chosen by the caller (see PhiSeries). The ops are
// arith and math on a scalar float, so any lowering can take them.
//
//===----------------------------------------------------------------------===//
#ifndef NCL_DIALECT_NCL_UTILS_PHI_H
#define NCL_DIALECT_NCL_UTILS_PHI_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/Value.h"

namespace mlir::ncl {

/// The series that stands in for expm1(z)/z near 0. Each keeps its cut-off
/// where its truncation error is below the type's rounding.
enum class PhiSeries {
  /// 1 + z*0.5 for |z| < 1e-8 (f64) or 1e-4 (f32): error z^2/6, below
  /// eps. Exponential Euler and the Ornstein-Uhlenbeck noise variance.
  Linear,
  /// 1 + z*(0.5 + z*(1/6)) for |z| < 1e-5 (f64) or 1e-3 (f32): error
  /// z^3/24, below rounding. The built-in function exprel().
  Quadratic,
};

/// Builds phi(z) = expm1(z)/z for a scalar f32 or f64 `z`: the quotient,
/// or `series` where |z| is below its cut-off.
Value buildPhi(OpBuilder &b, Location loc, Value z, PhiSeries series = PhiSeries::Linear);

} // namespace mlir::ncl

#endif // NCL_DIALECT_NCL_UTILS_PHI_H
