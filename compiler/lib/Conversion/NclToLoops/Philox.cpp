//===- Philox.cpp - Emit Philox4x32-10 random numbers as arith/math ops ---===//
//
// Mirrors runtime/include/ncl/philox.h operation for operation; see that
// file for the formulas. Where seed, step, entity and stream sit in key and
// counter is read from ncl/random_streams.h, as the reference reads it. Every float step is exact
// except log, sqrt, cos and the two final multiplications, which are single IEEE operations in
// both, so the results agree bit for bit (test/unit/random checks it).
//
//===----------------------------------------------------------------------===//
#include "ncl/Conversion/Philox.h"
#include "ncl/random_streams.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/TypeUtilities.h"

#include <cassert>
#include <limits>

using namespace mlir;

namespace {
constexpr uint32_t kMul0 = 0xD2511F53u;
constexpr uint32_t kMul1 = 0xCD9E8D57u;
constexpr uint32_t kWeyl0 = 0x9E3779B9u;
constexpr uint32_t kWeyl1 = 0xBB67AE85u;
constexpr unsigned kRounds = 10;

/// `elem`, or a vector of `elem` shaped like `like`.
Type shapedLike(Type elem, Type like) {
  if (auto vec = dyn_cast<VectorType>(like))
    return vec.clone(elem);
  return elem;
}

Value intConst(OpBuilder &b, Location loc, Type type, uint64_t v) {
  Type elem = getElementTypeOrSelf(type);
  auto attr = IntegerAttr::get(elem, APInt(elem.getIntOrFloatBitWidth(), v));
  if (auto vec = dyn_cast<VectorType>(type))
    return arith::ConstantOp::create(b, loc, DenseElementsAttr::get(vec, attr));
  return arith::ConstantOp::create(b, loc, attr);
}

Value floatConst(OpBuilder &b, Location loc, Type type, double v) {
  Type elem = getElementTypeOrSelf(type);
  auto attr = b.getFloatAttr(elem, v);
  if (auto vec = dyn_cast<VectorType>(type))
    return arith::ConstantOp::create(b, loc, DenseElementsAttr::get(vec, attr));
  return arith::ConstantOp::create(b, loc, attr);
}

/// Any integer / index (or vector of them) zero-extended or truncated to i64.
Value toI64(OpBuilder &b, Location loc, Value v) {
  Type i64 = shapedLike(b.getI64Type(), v.getType());
  Type elem = getElementTypeOrSelf(v.getType());
  if (elem.isIndex())
    return arith::IndexCastUIOp::create(b, loc, i64, v);
  unsigned width = elem.getIntOrFloatBitWidth();
  if (width < 64)
    return arith::ExtUIOp::create(b, loc, i64, v);
  if (width > 64)
    return arith::TruncIOp::create(b, loc, i64, v);
  return v;
}

/// Low and high 32 bits of an i64 value, as i32.
std::pair<Value, Value> split64(OpBuilder &b, Location loc, Value v) {
  Type i32 = shapedLike(b.getI32Type(), v.getType());
  Value lo = arith::TruncIOp::create(b, loc, i32, v);
  Value shifted = arith::ShRUIOp::create(b, loc, v, intConst(b, loc, v.getType(), 32));
  Value hi = arith::TruncIOp::create(b, loc, i32, shifted);
  return {lo, hi};
}
} // namespace

std::array<Value, 4> mlir::ncl::emitPhilox4x32x10(OpBuilder &b, Location loc, Value key0,
                                                  Value key1, std::array<Value, 4> ctr) {
  Type t = ctr[0].getType();
  Value m0 = intConst(b, loc, t, kMul0);
  Value m1 = intConst(b, loc, t, kMul1);
  Value w0 = intConst(b, loc, t, kWeyl0);
  Value w1 = intConst(b, loc, t, kWeyl1);
  for (unsigned r = 0; r < kRounds; ++r) {
    if (r != 0) {
      key0 = arith::AddIOp::create(b, loc, key0, w0);
      key1 = arith::AddIOp::create(b, loc, key1, w1);
    }
    auto p0 = arith::MulUIExtendedOp::create(b, loc, m0, ctr[0]);
    auto p1 = arith::MulUIExtendedOp::create(b, loc, m1, ctr[2]);
    Value n0 =
        arith::XOrIOp::create(b, loc, arith::XOrIOp::create(b, loc, p1.getHigh(), ctr[1]), key0);
    Value n2 =
        arith::XOrIOp::create(b, loc, arith::XOrIOp::create(b, loc, p0.getHigh(), ctr[3]), key1);
    ctr = {n0, p1.getLow(), n2, p0.getLow()};
  }
  return ctr;
}

mlir::ncl::PhiloxInput mlir::ncl::emitPhiloxCounter(OpBuilder &b, Location loc, Value seed,
                                                    Value step, Value entity, uint32_t stream) {
  assert(stream <= NCL_RANDOM_STREAM_MASK && "Philox stream ids are 16 bits");
  PhiloxInput in;
  std::array<Value, 2> key;
  std::array<Value, 4> &ctr = in.ctr;
  std::tie(key[NCL_RANDOM_KEY_SEED_LO], key[NCL_RANDOM_KEY_SEED_HI]) =
      split64(b, loc, toI64(b, loc, seed));
  std::tie(ctr[NCL_RANDOM_CTR_STEP_LO], ctr[NCL_RANDOM_CTR_STEP_HI]) =
      split64(b, loc, toI64(b, loc, step));
  auto [elo, ehi] = split64(b, loc, toI64(b, loc, entity));
  ctr[NCL_RANDOM_CTR_ENTITY_LO] = elo;
  Type t = elo.getType();
  Value ehi16 = arith::AndIOp::create(b, loc, ehi, intConst(b, loc, t, NCL_RANDOM_ENTITY_HI_MASK));
  uint64_t streamBits = uint64_t(stream & NCL_RANDOM_STREAM_MASK) << NCL_RANDOM_STREAM_SHIFT;
  ctr[NCL_RANDOM_CTR_STREAM_ENTITY_HI] =
      arith::OrIOp::create(b, loc, ehi16, intConst(b, loc, t, streamBits));
  in.key0 = key[0]; // emitPhilox4x32x10's key0/key1 are Philox's key[0]/key[1]
  in.key1 = key[1];
  return in;
}

std::array<Value, 4> mlir::ncl::emitPhiloxDraw(OpBuilder &b, Location loc, Value seed, Value step,
                                               Value entity, uint32_t stream) {
  PhiloxInput in = emitPhiloxCounter(b, loc, seed, step, entity, stream);
  return emitPhilox4x32x10(b, loc, in.key0, in.key1, in.ctr);
}

Value mlir::ncl::emitUniform01(OpBuilder &b, Location loc, std::array<Value, 4> words,
                               FloatType type) {
  Type like = words[0].getType();
  Type ft = shapedLike(type, like);
  if (type.isF64()) {
    Type i64 = shapedLike(b.getI64Type(), like);
    Value hi = arith::ShLIOp::create(b, loc, arith::ExtUIOp::create(b, loc, i64, words[0]),
                                     intConst(b, loc, i64, 20));
    Value lo = arith::ExtUIOp::create(
        b, loc, i64, arith::ShRUIOp::create(b, loc, words[1], intConst(b, loc, like, 12)));
    Value k = arith::OrIOp::create(b, loc, hi, lo);
    // (k + 1/2) 2^-52 for the 52-bit k, without an integer conversion
    // (x86 has no vector one from 64 bits before AVX-512, so a loop of
    // draws would not vectorise): 2^52 + k has k as its significand, and
    // subtracting 2^52 - 1/2 (53 bits, exact) leaves k + 1/2 exactly, the
    // same bits as converting k and adding 1/2.
    Value biased = arith::OrIOp::create(b, loc, k, intConst(b, loc, i64, 0x4330000000000000LL));
    Value f = arith::BitcastOp::create(b, loc, ft, biased);
    Value half = arith::SubFOp::create(b, loc, f, floatConst(b, loc, ft, 0x1p52 - 0.5));
    return arith::MulFOp::create(b, loc, half, floatConst(b, loc, ft, 0x1p-52));
  }
  assert(type.isF32() && "Philox uniforms are f32 or f64");
  Value k = arith::ShRUIOp::create(b, loc, words[0], intConst(b, loc, like, 9));
  Value f = arith::UIToFPOp::create(b, loc, ft, k);
  Value half = arith::AddFOp::create(b, loc, f, floatConst(b, loc, ft, 0.5));
  return arith::MulFOp::create(b, loc, half, floatConst(b, loc, ft, 0x1p-23));
}

Value mlir::ncl::emitNormal(OpBuilder &b, Location loc, std::array<Value, 4> words,
                            FloatType type) {
  Type ft = shapedLike(type, words[0].getType());
  Value u1 = emitUniform01(b, loc, {words[0], words[1], words[2], words[3]}, type);
  Value u2 = emitUniform01(b, loc, {words[2], words[3], words[0], words[1]}, type);
  // The nearest double / float to 2pi, as in philox.h.
  double twoPi = type.isF64() ? 6.283185307179586 : double(6.28318548f);
  Value t = math::LogOp::create(b, loc, u1);
  Value r =
      math::SqrtOp::create(b, loc, arith::MulFOp::create(b, loc, floatConst(b, loc, ft, -2.0), t));
  Value a = arith::MulFOp::create(b, loc, floatConst(b, loc, ft, twoPi), u2);
  return arith::MulFOp::create(b, loc, r, math::CosOp::create(b, loc, a));
}

Value mlir::ncl::emitPoisson(OpBuilder &b, Location loc, Value seed, Value step, Value entity,
                             uint32_t stream, Value mean) {
  Type f64 = b.getF64Type();
  Type i64 = b.getI64Type();
  auto f64Const = [&](double v) { return floatConst(b, loc, f64, v); };
  // A negative, NaN or infinite mean gives NaN; it draws as a mean of 0.
  Value nonNegative = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGE, mean, f64Const(0.0));
  Value finite = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::ONE, mean,
                                       f64Const(std::numeric_limits<double>::infinity()));
  Value valid = arith::AndIOp::create(b, loc, nonNegative, finite);
  Value lambda = arith::SelectOp::create(b, loc, valid, mean, f64Const(0.0));
  Value perChunk = arith::DivFOp::create(b, loc, lambda, f64Const(kPoissonChunkMean));
  Value parts =
      arith::MaximumFOp::create(b, loc, f64Const(1.0), math::CeilOp::create(b, loc, perChunk));
  Value mu = arith::DivFOp::create(b, loc, lambda, parts);
  Value first = math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, mu));
  Value parts64 = arith::FPToSIOp::create(b, loc, i64, parts);
  Value count = arith::IndexCastOp::create(b, loc, b.getIndexType(), parts64);

  PhiloxInput in = emitPhiloxCounter(b, loc, seed, step, entity, stream);
  std::array<Value, 4> words = emitPhilox4x32x10(b, loc, in.key0, in.key1, in.ctr);
  Value c0 = arith::ConstantIndexOp::create(b, loc, 0);
  Value c1 = arith::ConstantIndexOp::create(b, loc, 1);
  SmallVector<Value> init = {f64Const(0.0), words[0], words[1], words[2], words[3]};
  auto loop = scf::ForOp::create(
      b, loc, c0, count, c1, init, [&](OpBuilder &, Location, Value, ValueRange iter) {
        std::array<Value, 4> w = {iter[1], iter[2], iter[3], iter[4]};
        Value u = emitUniform01(b, loc, w, b.getF64Type());
        // Sequential search: k, its probability p and the distribution F.
        Value zero = f64Const(0.0);
        auto search = scf::WhileOp::create(
            b, loc, TypeRange{f64, f64, f64}, ValueRange{zero, first, first},
            [&](OpBuilder &, Location, ValueRange a) {
              Value beyond = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, u, a[2]);
              Value bounded =
                  arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, a[0], f64Const(100.0));
              scf::ConditionOp::create(b, loc, arith::AndIOp::create(b, loc, beyond, bounded), a);
            },
            [&](OpBuilder &, Location, ValueRange a) {
              Value k = arith::AddFOp::create(b, loc, a[0], f64Const(1.0));
              Value p = arith::MulFOp::create(b, loc, a[1], arith::DivFOp::create(b, loc, mu, k));
              Value f = arith::AddFOp::create(b, loc, a[2], p);
              scf::YieldOp::create(b, loc, ValueRange{k, p, f});
            });
        Value total = arith::AddFOp::create(b, loc, iter[0], search.getResult(0));
        std::array<Value, 4> next = emitPhilox4x32x10(b, loc, in.key0, in.key1, w);
        scf::YieldOp::create(b, loc, ValueRange{total, next[0], next[1], next[2], next[3]});
      });
  Value nan = f64Const(std::numeric_limits<double>::quiet_NaN());
  return arith::SelectOp::create(b, loc, valid, loop.getResult(0), nan);
}
