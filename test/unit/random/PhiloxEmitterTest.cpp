//===- PhiloxEmitterTest.cpp - The MLIR emitter against ncl/philox.h ------===//
//
// Builds functions out of mlir::ncl::emitPhilox* inside scf.for loops,
// lowers them with the passes of nclc's CPU pipeline (Pipeline.cpp), JIT-
// compiles them with MLIR's ExecutionEngine (LLVM at O0 and O3) and compares
// every word, uniform and normal, f32 and f64, bit for bit with the
// reference header on thousands of (seed, step, entity, stream) tuples.
//
//===----------------------------------------------------------------------===//
#include "ncl/Conversion/Philox.h"
#include "ncl/philox.h"

#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVMPass.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/MathToLibm/MathToLibm.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Conversion/VectorToLLVM/ConvertVectorToLLVMPass.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/ExecutionEngine/CRunnerUtils.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Transforms/Passes.h"

#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

using namespace mlir;
namespace ref = ::ncl::philox;

namespace {

template <typename T> StridedMemRefType<T, 1> view(std::vector<T> &v) {
  StridedMemRefType<T, 1> m;
  m.basePtr = m.data = v.data();
  m.offset = 0;
  m.sizes[0] = int64_t(v.size());
  m.strides[0] = 1;
  return m;
}

uint64_t bits(double x) {
  uint64_t b;
  std::memcpy(&b, &x, sizeof b);
  return b;
}
uint32_t bits(float x) {
  uint32_t b;
  std::memcpy(&b, &x, sizeof b);
  return b;
}

uint64_t splitmix64(uint64_t &s) {
  uint64_t z = (s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

const uint32_t kStreams[] = {0, 1, 2, 0x1234, 0xFFFF};
const uint32_t kVectorStream = 0x00AB;

/// How the entity reaches the emitter: i64, index, or i32 (zero-extended).
enum class EntityKind { I64, Index, I32 };

class PhiloxEmitter : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  }

  PhiloxEmitter() {
    DialectRegistry registry;
    registry
        .insert<arith::ArithDialect, cf::ControlFlowDialect, func::FuncDialect, LLVM::LLVMDialect,
                math::MathDialect, memref::MemRefDialect, scf::SCFDialect, vector::VectorDialect>();
    registerBuiltinDialectTranslation(registry);
    registerLLVMDialectTranslation(registry);
    ctx.appendDialectRegistry(registry);
    ctx.loadAllAvailableDialects();
  }

  /// func @name(seed, step, entity: memref<?xi64>, words: memref<?xi32>,
  ///            uf64: memref<?xf64>, uf32: memref<?xf32>,
  ///            nf64: memref<?xf64>, nf32: memref<?xf32>)
  /// for i in [0, n): words[4i..4i+3], the uniforms and the normals of draw
  /// (seed[i], step[i], entity[i], stream).
  void buildDrawFunc(OpBuilder &b, Location loc, StringRef name, uint32_t stream, EntityKind kind) {
    Type i64m = MemRefType::get({ShapedType::kDynamic}, b.getI64Type());
    Type i32m = MemRefType::get({ShapedType::kDynamic}, b.getI32Type());
    Type f64m = MemRefType::get({ShapedType::kDynamic}, b.getF64Type());
    Type f32m = MemRefType::get({ShapedType::kDynamic}, b.getF32Type());
    auto fnType = b.getFunctionType({i64m, i64m, i64m, i32m, f64m, f32m, f64m, f32m}, {});
    auto fn = func::FuncOp::create(b, loc, name, fnType);
    fn->setAttr("llvm.emit_c_interface", b.getUnitAttr());
    Block *entry = fn.addEntryBlock();
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(entry);
    auto args = entry->getArguments();
    Value c0 = arith::ConstantIndexOp::create(b, loc, 0);
    Value c1 = arith::ConstantIndexOp::create(b, loc, 1);
    Value n = memref::DimOp::create(b, loc, args[0], c0);
    auto loop = scf::ForOp::create(b, loc, c0, n, c1);
    b.setInsertionPointToStart(loop.getBody());
    Value i = loop.getInductionVar();
    Value seed = memref::LoadOp::create(b, loc, args[0], ValueRange{i});
    Value step = memref::LoadOp::create(b, loc, args[1], ValueRange{i});
    Value entity = memref::LoadOp::create(b, loc, args[2], ValueRange{i});
    if (kind == EntityKind::Index)
      entity = arith::IndexCastOp::create(b, loc, b.getIndexType(), entity);
    else if (kind == EntityKind::I32)
      entity = arith::TruncIOp::create(b, loc, b.getI32Type(), entity);
    std::array<Value, 4> w = mlir::ncl::emitPhiloxDraw(b, loc, seed, step, entity, stream);
    Value c4 = arith::ConstantIndexOp::create(b, loc, 4);
    Value base = arith::MulIOp::create(b, loc, i, c4);
    for (int j = 0; j < 4; ++j) {
      Value at = arith::AddIOp::create(b, loc, base, arith::ConstantIndexOp::create(b, loc, j));
      memref::StoreOp::create(b, loc, w[j], args[3], ValueRange{at});
    }
    memref::StoreOp::create(b, loc, mlir::ncl::emitUniform01(b, loc, w, b.getF64Type()), args[4],
                            ValueRange{i});
    memref::StoreOp::create(b, loc, mlir::ncl::emitUniform01(b, loc, w, b.getF32Type()), args[5],
                            ValueRange{i});
    memref::StoreOp::create(b, loc, mlir::ncl::emitNormal(b, loc, w, b.getF64Type()), args[6],
                            ValueRange{i});
    memref::StoreOp::create(b, loc, mlir::ncl::emitNormal(b, loc, w, b.getF32Type()), args[7],
                            ValueRange{i});
    b.setInsertionPointToEnd(entry);
    func::ReturnOp::create(b, loc);
  }

  /// func @vec(seed, step, entity: memref<?xi64>, w0..w3: memref<?xi32>,
  ///           uf64, uf32, nf64, nf32): the same with vector<4x...> operands
  /// (vector.load / vector.store, 4 lanes per iteration).
  void buildVectorFunc(OpBuilder &b, Location loc, uint32_t stream) {
    Type i64m = MemRefType::get({ShapedType::kDynamic}, b.getI64Type());
    Type i32m = MemRefType::get({ShapedType::kDynamic}, b.getI32Type());
    Type f64m = MemRefType::get({ShapedType::kDynamic}, b.getF64Type());
    Type f32m = MemRefType::get({ShapedType::kDynamic}, b.getF32Type());
    auto fn = func::FuncOp::create(
        b, loc, "vec",
        b.getFunctionType({i64m, i64m, i64m, i32m, i32m, i32m, i32m, f64m, f32m, f64m, f32m}, {}));
    fn->setAttr("llvm.emit_c_interface", b.getUnitAttr());
    Block *entry = fn.addEntryBlock();
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(entry);
    auto args = entry->getArguments();
    Value c0 = arith::ConstantIndexOp::create(b, loc, 0);
    Value c4 = arith::ConstantIndexOp::create(b, loc, 4);
    Value n = memref::DimOp::create(b, loc, args[0], c0);
    auto loop = scf::ForOp::create(b, loc, c0, n, c4);
    b.setInsertionPointToStart(loop.getBody());
    Value i = loop.getInductionVar();
    auto vt = [&](Type t) { return VectorType::get({4}, t); };
    auto load = [&](Value m) {
      auto t = cast<MemRefType>(m.getType()).getElementType();
      return vector::LoadOp::create(b, loc, vt(t), m, ValueRange{i}).getResult();
    };
    auto store = [&](Value v, Value m) { vector::StoreOp::create(b, loc, v, m, ValueRange{i}); };
    std::array<Value, 4> w =
        mlir::ncl::emitPhiloxDraw(b, loc, load(args[0]), load(args[1]), load(args[2]), stream);
    for (int j = 0; j < 4; ++j)
      store(w[j], args[3 + j]);
    store(mlir::ncl::emitUniform01(b, loc, w, b.getF64Type()), args[7]);
    store(mlir::ncl::emitUniform01(b, loc, w, b.getF32Type()), args[8]);
    store(mlir::ncl::emitNormal(b, loc, w, b.getF64Type()), args[9]);
    store(mlir::ncl::emitNormal(b, loc, w, b.getF32Type()), args[10]);
    b.setInsertionPointToEnd(entry);
    func::ReturnOp::create(b, loc);
  }

  /// func @raw(ctr: memref<?xi32> (4n), key: memref<?xi32> (2n),
  ///           out: memref<?xi32> (4n)): emitPhilox4x32x10 on raw words.
  void buildRawFunc(OpBuilder &b, Location loc) {
    Type i32m = MemRefType::get({ShapedType::kDynamic}, b.getI32Type());
    auto fn = func::FuncOp::create(b, loc, "raw", b.getFunctionType({i32m, i32m, i32m}, {}));
    fn->setAttr("llvm.emit_c_interface", b.getUnitAttr());
    Block *entry = fn.addEntryBlock();
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(entry);
    auto args = entry->getArguments();
    Value c0 = arith::ConstantIndexOp::create(b, loc, 0);
    Value c1 = arith::ConstantIndexOp::create(b, loc, 1);
    Value c2 = arith::ConstantIndexOp::create(b, loc, 2);
    Value c4 = arith::ConstantIndexOp::create(b, loc, 4);
    Value n = arith::DivUIOp::create(b, loc, memref::DimOp::create(b, loc, args[0], c0), c4);
    auto loop = scf::ForOp::create(b, loc, c0, n, c1);
    b.setInsertionPointToStart(loop.getBody());
    Value i = loop.getInductionVar();
    auto at = [&](Value base, int j) {
      return arith::AddIOp::create(b, loc, base, arith::ConstantIndexOp::create(b, loc, j));
    };
    Value b4 = arith::MulIOp::create(b, loc, i, c4);
    Value b2 = arith::MulIOp::create(b, loc, i, c2);
    std::array<Value, 4> ctr;
    for (int j = 0; j < 4; ++j)
      ctr[j] = memref::LoadOp::create(b, loc, args[0], ValueRange{at(b4, j)});
    Value k0 = memref::LoadOp::create(b, loc, args[1], ValueRange{at(b2, 0)});
    Value k1 = memref::LoadOp::create(b, loc, args[1], ValueRange{at(b2, 1)});
    auto out = mlir::ncl::emitPhilox4x32x10(b, loc, k0, k1, ctr);
    for (int j = 0; j < 4; ++j)
      memref::StoreOp::create(b, loc, out[j], args[2], ValueRange{at(b4, j)});
    b.setInsertionPointToEnd(entry);
    func::ReturnOp::create(b, loc);
  }

  std::unique_ptr<ExecutionEngine> compile(unsigned optLevel) {
    OpBuilder b(&ctx);
    Location loc = b.getUnknownLoc();
    module = ModuleOp::create(b, loc);
    b.setInsertionPointToEnd(module->getBody());
    for (uint32_t s : kStreams)
      buildDrawFunc(b, loc, "draw_" + std::to_string(s), s, EntityKind::I64);
    buildDrawFunc(b, loc, "draw_index", 5, EntityKind::Index);
    buildDrawFunc(b, loc, "draw_i32", 6, EntityKind::I32);
    buildRawFunc(b, loc);
    buildVectorFunc(b, loc, kVectorStream);
    if (failed(verify(*module))) {
      module->print(llvm::errs());
      ADD_FAILURE() << "emitted module does not verify";
      return nullptr;
    }

    // nclc's CPU lowering (compiler/lib/Pipeline/Pipeline.cpp), with the
    // canonicalisation nclc runs before it.
    PassManager pm(&ctx);
    pm.addPass(createCanonicalizerPass());
    pm.addPass(createCSEPass());
    pm.addPass(createLoopInvariantCodeMotionPass());
    pm.addPass(createSCFToControlFlowPass());
    pm.addPass(createConvertMathToLibmPass());
    pm.addPass(createConvertMathToLLVMPass());
    pm.addPass(createConvertVectorToLLVMPass());
    pm.addPass(createArithToLLVMConversionPass());
    pm.addPass(createFinalizeMemRefToLLVMConversionPass());
    pm.addPass(createConvertFuncToLLVMPass());
    pm.addPass(createConvertControlFlowToLLVMPass());
    pm.addPass(createReconcileUnrealizedCastsPass());
    if (failed(pm.run(*module))) {
      ADD_FAILURE() << "lowering failed";
      return nullptr;
    }

    ExecutionEngineOptions opts;
    auto transformer = makeOptimizingTransformer(optLevel, 0, nullptr);
    opts.transformer = transformer;
    opts.jitCodeGenOptLevel =
        optLevel ? llvm::CodeGenOptLevel::Aggressive : llvm::CodeGenOptLevel::None;
    auto engine = ExecutionEngine::create(*module, opts);
    if (!engine) {
      std::string msg;
      llvm::raw_string_ostream os(msg);
      os << engine.takeError();
      ADD_FAILURE() << "ExecutionEngine: " << msg;
      return nullptr;
    }
    return std::move(*engine);
  }

  struct Inputs {
    std::vector<int64_t> seed, step, entity;
  };

  static Inputs makeInputs(size_t n, uint64_t rng, uint64_t entityMask) {
    Inputs in;
    // Edge cases first, then random tuples of mixed magnitudes.
    const uint64_t edges[] = {0, 1, 0xFFFFFFFFull, 0x100000000ull, ~0ull};
    for (uint64_t s : edges)
      for (uint64_t e : edges) {
        in.seed.push_back(int64_t(s));
        in.step.push_back(int64_t(e));
        in.entity.push_back(int64_t(e & entityMask));
      }
    while (in.seed.size() < n) {
      uint64_t a = splitmix64(rng), b = splitmix64(rng), c = splitmix64(rng);
      unsigned shift = splitmix64(rng) % 64;
      in.seed.push_back(int64_t(a));
      in.step.push_back(int64_t(b >> shift)); // small and large steps
      in.entity.push_back(int64_t((c >> (shift % 48)) & entityMask));
    }
    return in;
  }

  /// Runs @name on the inputs and compares with the reference; `stream` is
  /// the id compiled into @name, `entityMask` what the emitter sees.
  void check(ExecutionEngine &engine, const std::string &name, uint32_t stream, uint64_t entityMask,
             uint64_t rng) {
    SCOPED_TRACE(name);
    const size_t n = 4096;
    Inputs in = makeInputs(n, rng, entityMask);
    std::vector<int32_t> words(4 * n);
    std::vector<double> uf64(n), nf64(n);
    std::vector<float> uf32(n), nf32(n);
    auto mSeed = view(in.seed), mStep = view(in.step), mEnt = view(in.entity);
    auto mWords = view(words);
    auto mU64 = view(uf64), mN64 = view(nf64);
    auto mU32 = view(uf32), mN32 = view(nf32);
    llvm::Error err =
        engine.invoke(name, &mSeed, &mStep, &mEnt, &mWords, &mU64, &mU32, &mN64, &mN32);
    ASSERT_FALSE(bool(err)) << llvm::toString(std::move(err));
    size_t bad = 0;
    for (size_t i = 0; i < n && bad < 10; ++i) {
      uint64_t seed = uint64_t(in.seed[i]), step = uint64_t(in.step[i]),
               ent = uint64_t(in.entity[i]);
      ref::Words w = ref::draw(seed, step, ent, stream);
      ref::Words got{uint32_t(words[4 * i]), uint32_t(words[4 * i + 1]), uint32_t(words[4 * i + 2]),
                     uint32_t(words[4 * i + 3])};
      bool ok = got == w && bits(uf64[i]) == bits(ref::uniform01_f64(w)) &&
                bits(uf32[i]) == bits(ref::uniform01_f32(w)) &&
                bits(nf64[i]) == bits(ref::normal_f64(w)) &&
                bits(nf32[i]) == bits(ref::normal_f32(w));
      if (!ok) {
        ++bad;
        ADD_FAILURE() << "tuple " << i << " seed=" << seed << " step=" << step << " entity=" << ent
                      << " stream=" << stream << ": word0 " << got[0] << " vs " << w[0] << ", uf64 "
                      << uf64[i] << " vs " << ref::uniform01_f64(w) << ", nf64 " << nf64[i]
                      << " vs " << ref::normal_f64(w) << ", nf32 " << nf32[i] << " vs "
                      << ref::normal_f32(w);
      }
    }
    EXPECT_EQ(bad, 0u);
  }

  void checkVector(ExecutionEngine &engine, uint64_t rng) {
    SCOPED_TRACE("vec");
    const size_t n = 4096;
    Inputs in = makeInputs(n, rng, (1ull << 48) - 1);
    std::vector<int32_t> w0(n), w1(n), w2(n), w3(n);
    std::vector<double> uf64(n), nf64(n);
    std::vector<float> uf32(n), nf32(n);
    auto mSeed = view(in.seed), mStep = view(in.step), mEnt = view(in.entity);
    auto m0 = view(w0), m1 = view(w1), m2 = view(w2), m3 = view(w3);
    auto mU64 = view(uf64), mN64 = view(nf64);
    auto mU32 = view(uf32), mN32 = view(nf32);
    llvm::Error err =
        engine.invoke("vec", &mSeed, &mStep, &mEnt, &m0, &m1, &m2, &m3, &mU64, &mU32, &mN64, &mN32);
    ASSERT_FALSE(bool(err)) << llvm::toString(std::move(err));
    size_t bad = 0;
    for (size_t i = 0; i < n; ++i) {
      ref::Words w = ref::draw(uint64_t(in.seed[i]), uint64_t(in.step[i]), uint64_t(in.entity[i]),
                               kVectorStream);
      ref::Words got{uint32_t(w0[i]), uint32_t(w1[i]), uint32_t(w2[i]), uint32_t(w3[i])};
      bad +=
          !(got == w && bits(uf64[i]) == bits(ref::uniform01_f64(w)) &&
            bits(uf32[i]) == bits(ref::uniform01_f32(w)) &&
            bits(nf64[i]) == bits(ref::normal_f64(w)) && bits(nf32[i]) == bits(ref::normal_f32(w)));
    }
    EXPECT_EQ(bad, 0u);
  }

  void checkAll(unsigned optLevel) {
    auto engine = compile(optLevel);
    ASSERT_TRUE(engine);
    uint64_t rng = 0x5EED0000 + optLevel;
    const uint64_t all = ~0ull, low48 = (1ull << 48) - 1;
    for (uint32_t s : kStreams)
      check(*engine, "draw_" + std::to_string(s), s, low48, rng++);
    // Entity bits above 47 are dropped: the emitter must agree there too.
    check(*engine, "draw_0", 0, all, rng++);
    check(*engine, "draw_index", 5, all >> 1, rng++);
    check(*engine, "draw_i32", 6, 0xFFFFFFFFull, rng++);

    checkVector(*engine, rng++);

    // Raw generator: the KATs and random counters / keys.
    const size_t n = 2048;
    std::vector<int32_t> ctr(4 * n), key(2 * n), out(4 * n);
    const uint32_t kat[3][10] = {
        {0, 0, 0, 0, 0, 0, 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
        {~0u, ~0u, ~0u, ~0u, ~0u, ~0u, 0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
        {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, 0xd16cfe09,
         0x94fdcceb, 0x5001e420, 0x24126ea1}};
    for (size_t i = 0; i < n; ++i) {
      for (int j = 0; j < 4; ++j)
        ctr[4 * i + j] = int32_t(i < 3 ? kat[i][j] : uint32_t(splitmix64(rng)));
      for (int j = 0; j < 2; ++j)
        key[2 * i + j] = int32_t(i < 3 ? kat[i][4 + j] : uint32_t(splitmix64(rng)));
    }
    auto mc = view(ctr), mk = view(key), mo = view(out);
    llvm::Error err = engine->invoke("raw", &mc, &mk, &mo);
    ASSERT_FALSE(bool(err)) << llvm::toString(std::move(err));
    for (size_t i = 0; i < 3; ++i)
      for (int j = 0; j < 4; ++j)
        EXPECT_EQ(uint32_t(out[4 * i + j]), kat[i][6 + j]) << "KAT " << i << " word " << j;
    size_t bad = 0;
    for (size_t i = 0; i < n; ++i) {
      ref::Words c{uint32_t(ctr[4 * i]), uint32_t(ctr[4 * i + 1]), uint32_t(ctr[4 * i + 2]),
                   uint32_t(ctr[4 * i + 3])};
      ref::Words want =
          ref::philox4x32_10(c, ref::Key{uint32_t(key[2 * i]), uint32_t(key[2 * i + 1])});
      for (int j = 0; j < 4; ++j)
        bad += uint32_t(out[4 * i + j]) != want[j];
    }
    EXPECT_EQ(bad, 0u);
  }

  MLIRContext ctx;
  OwningOpRef<ModuleOp> module;
};

TEST_F(PhiloxEmitter, BitExactUnoptimised) { checkAll(0); }
TEST_F(PhiloxEmitter, BitExactO3) { checkAll(3); }

} // namespace
