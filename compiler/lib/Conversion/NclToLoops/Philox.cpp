//===- Philox.cpp - Emit Philox4x32-10 random numbers as arith/math ops ---===//
//
// Mirrors runtime/include/ncl/philox.h operation for operation; see that
// file for the formulas. Where seed, step, entity and stream sit in key and
// counter is read from ncl/random_streams.h, as the reference reads it. Every float step is a
// single IEEE operation (+, -, *, /, sqrt, fma) in both, in the same order: the normals' log and
// cos are the reference's own branch-free arithmetic (log_unit, cos_two_pi, constants from
// ncl/philox.h), not libm, so the results agree bit for bit on any CPU or GPU (test/unit/random
// checks it).
//
//===----------------------------------------------------------------------===//
#include "ncl/Conversion/Philox.h"
#include "ncl/philox.h"
#include "ncl/random_streams.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
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

namespace {
/// Emits log_unit and cos_two_pi of ncl/philox.h (section 5 there) for f32
/// or f64, scalar or vector: straight-line arith ops, llvm.intr.fma (not
/// math.fma, which math-to-libm would turn into a call that keeps the loop
/// scalar) and selects instead of branches.
template <typename T> class NormalArithmetic {
  using C = ::ncl::philox::NormalConstants<T>;

public:
  NormalArithmetic(OpBuilder &b, Location loc, Type floatType)
      : b(b), loc(loc), ft(floatType), it(shapedLike(b.getIntegerType(sizeof(T) * 8), floatType)) {}

  /// log(u) for a normal u in (0, 1].
  Value logUnit(Value u) {
    Value t = arith::AddIOp::create(b, loc, arith::BitcastOp::create(b, loc, it, u),
                                    integer(C::kOneBits - C::kSqrtHalfBits));
    Value biasedExponent = arith::ShRUIOp::create(b, loc, t, integer(C::kMantissaBits));
    Value k = sub(arith::BitcastOp::create(
                      b, loc, ft,
                      arith::OrIOp::create(b, loc, biasedExponent, integer(C::kExponentMagicBits))),
                  cst(C::kExponentOffset));
    Value mantissa =
        arith::AndIOp::create(b, loc, t, integer((uint64_t(1) << C::kMantissaBits) - 1));
    Value m = arith::BitcastOp::create(
        b, loc, ft, arith::AddIOp::create(b, loc, mantissa, integer(C::kSqrtHalfBits)));
    Value f = sub(m, cst(1));
    Value half = mul(cst(0.5), f);
    Value hfsq = mul(half, f);
    Value hfsqLow = fma(half, f, neg(hfsq));
    Value s = arith::DivFOp::create(b, loc, f, add(cst(2), f));
    Value z = mul(s, s);
    Value r = mul(z, horner(C::kLog, z));
    Value sum = sub(f, hfsq);
    Value lost = sub(sub(f, sum), hfsq);
    Value tail = fma(s, add(hfsq, r), sub(lost, hfsqLow));
    Value high = mul(k, cst(C::kLn2Hi));
    Value total = add(high, sum);
    Value lostTotal = add(sub(high, total), sum);
    return add(total, add(lostTotal, fma(k, cst(C::kLn2Lo), tail)));
  }

  /// cos(2 pi u) for u in (0, 1).
  Value cosTwoPi(Value u) {
    Value magic = cst(C::kRoundMagic);
    Value q = sub(add(mul(cst(4), u), magic), magic);
    Value f = sub(u, mul(q, cst(0.25)));
    Value f2 = mul(f, f);
    Value f2Low = fma(f, f, neg(f2));
    Value sinInner = fma(f2, horner(C::kSin, f2), cst(C::kTwoPiLo));
    Value sine = fma(f, cst(C::kTwoPiHi), mul(f, sinInner));
    Value product = mul(cst(C::kCosHi), f2);
    Value productLow = fma(cst(C::kCosHi), f2, neg(product));
    Value sum = add(cst(1), product);
    Value lost = add(sub(cst(1), sum), product);
    Value tail = fma(cst(C::kCosLo), f2, fma(cst(C::kCosHi), f2Low, productLow));
    tail = fma(mul(f2, f2), horner(C::kCos, f2), tail);
    Value cosine = add(sum, add(lost, tail));
    auto quadrant = [&](double n) {
      return arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, q, cst(n));
    };
    Value useSine = arith::OrIOp::create(b, loc, quadrant(1), quadrant(3));
    Value negative = arith::OrIOp::create(b, loc, quadrant(1), quadrant(2));
    Value value = arith::SelectOp::create(b, loc, useSine, sine, cosine);
    return arith::SelectOp::create(b, loc, negative, neg(value), value);
  }

private:
  Value cst(double v) { return floatConst(b, loc, ft, v); }
  Value integer(uint64_t v) { return intConst(b, loc, it, v); }
  Value add(Value x, Value y) { return arith::AddFOp::create(b, loc, x, y); }
  Value sub(Value x, Value y) { return arith::SubFOp::create(b, loc, x, y); }
  Value mul(Value x, Value y) { return arith::MulFOp::create(b, loc, x, y); }
  Value neg(Value x) { return arith::NegFOp::create(b, loc, x); }
  Value fma(Value x, Value y, Value z) { return LLVM::FMAOp::create(b, loc, x, y, z); }
  /// c[0] + z (c[1] + z (c[2] + ...)).
  template <size_t N> Value horner(const std::array<T, N> &c, Value z) {
    Value p = cst(c[N - 1]);
    for (size_t n = N - 1; n-- > 0;)
      p = fma(p, z, cst(c[n]));
    return p;
  }

  OpBuilder &b;
  Location loc;
  Type ft, it;
};
} // namespace

Value mlir::ncl::emitNormal(OpBuilder &b, Location loc, std::array<Value, 4> words,
                            FloatType type) {
  Type ft = shapedLike(type, words[0].getType());
  Value u1 = emitUniform01(b, loc, {words[0], words[1], words[2], words[3]}, type);
  Value u2 = emitUniform01(b, loc, {words[2], words[3], words[0], words[1]}, type);
  Value t, c;
  if (type.isF64()) {
    NormalArithmetic<double> arithmetic(b, loc, ft);
    t = arithmetic.logUnit(u1);
    c = arithmetic.cosTwoPi(u2);
  } else {
    NormalArithmetic<float> arithmetic(b, loc, ft);
    t = arithmetic.logUnit(u1);
    c = arithmetic.cosTwoPi(u2);
  }
  Value r =
      math::SqrtOp::create(b, loc, arith::MulFOp::create(b, loc, floatConst(b, loc, ft, -2.0), t));
  return arith::MulFOp::create(b, loc, r, c);
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
