//===- Phi.cpp - Emit phi(z) = expm1(z)/z with its limit at 0 -------------===//
//
// The ops are created in the order the sites that use this emitted them
// before it existed (quotient, series, comparison, select), so their IR
// and their numbers are unchanged.
//
//===----------------------------------------------------------------------===//
#include "ncl/Dialect/Ncl/Utils/Phi.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"

using namespace mlir;

Value mlir::ncl::buildPhi(OpBuilder &b, Location loc, Value z, PhiSeries series) {
  Type type = z.getType();
  bool single = type.isF32();
  auto cst = [&](double v) { return arith::ConstantOp::create(b, loc, b.getFloatAttr(type, v)); };
  Value quotient = arith::DivFOp::create(b, loc, math::ExpM1Op::create(b, loc, z), z);
  Value approx;
  double cut = 0;
  switch (series) {
  case PhiSeries::Linear: {
    Value half = cst(0.5), one = cst(1.0);
    approx = arith::AddFOp::create(b, loc, one, arith::MulFOp::create(b, loc, z, half));
    cut = single ? 1e-4 : 1e-8;
    break;
  }
  case PhiSeries::Quadratic: {
    Value sixth = cst(1.0 / 6.0), half = cst(0.5);
    Value inner = arith::AddFOp::create(b, loc, half, arith::MulFOp::create(b, loc, z, sixth));
    Value one = cst(1.0);
    approx = arith::AddFOp::create(b, loc, one, arith::MulFOp::create(b, loc, z, inner));
    cut = single ? 1e-3 : 1e-5;
    break;
  }
  }
  Value absz = math::AbsFOp::create(b, loc, z);
  Value small = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, absz, cst(cut));
  return arith::SelectOp::create(b, loc, small, approx, quotient);
}
