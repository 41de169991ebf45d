//===- MergeKernels.cpp - One kernel for stages of one model --------------===//
//
// Keeps one kernel of each set that the stages name and that differ only in
// integer constants of arithmetic (NclMergeKernels in compiler/include/ncl/
// Conversion/Passes.td): the constants become arguments, which the stages
// pass (`constants`). Runs right after ncl-to-loops, so that the targets'
// pipelines and LLVM see each kernel once.
//
//===----------------------------------------------------------------------===//
#include "ncl/Conversion/Passes.h"
#include "ncl/Dialect/Ncl/IR/NclOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"

#include "llvm/ADT/BitVector.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/Hashing.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/StringSet.h"

namespace mlir::ncl {
#define GEN_PASS_DEF_NCLMERGEKERNELS
#include "ncl/Conversion/Passes.h.inc"
} // namespace mlir::ncl

using namespace mlir;

namespace {

/// Marks a network whose kernels this pass has merged.
constexpr llvm::StringLiteral kMergedAttr = "ncl.kernels_merged";

/// Whether every use of `constant` is arithmetic on it (an op of the arith
/// dialect, a select's values): another value there computes the same
/// thing with another operand (a random stream, a synapse's entity), where
/// a loop bound, an index or a shape would change the code.
bool usedByArithmeticOnly(arith::ConstantOp constant) {
  return llvm::all_of(constant->getUses(), [](OpOperand &use) {
    Operation *user = use.getOwner();
    if (isa<arith::SelectOp>(user))
      return use.getOperandNumber() > 0;
    return isa<arith::ArithDialect>(user->getDialect());
  });
}

/// Compares two kernels op by op, in the order of a walk.
class KernelComparison {
public:
  KernelComparison(func::FuncOp a, func::FuncOp b) : a(a), b(b) {}

  /// Whether they are the same code but for integer constants used by
  /// arithmetic only; `differences` then holds the walk indices of those.
  bool sameBut(llvm::SmallVectorImpl<unsigned> &differences) {
    if (a.getFunctionType() != b.getFunctionType())
      return false;
    NamedAttrList attrsA(a->getAttrDictionary()), attrsB(b->getAttrDictionary());
    attrsA.erase(SymbolTable::getSymbolAttrName());
    attrsB.erase(SymbolTable::getSymbolAttrName());
    if (attrsA.getDictionary(a.getContext()) != attrsB.getDictionary(b.getContext()))
      return false;
    index = 0;
    found = &differences;
    return regions(a.getBody(), b.getBody());
  }

private:
  bool regions(Region &x, Region &y) {
    if (x.getBlocks().size() != y.getBlocks().size())
      return false;
    for (auto [bx, by] : llvm::zip(x, y)) {
      if (bx.getNumArguments() != by.getNumArguments())
        return false;
      for (auto [ax, ay] : llvm::zip(bx.getArguments(), by.getArguments())) {
        if (ax.getType() != ay.getType())
          return false;
        values[ax] = ay;
      }
      blocks[&bx] = &by;
    }
    for (auto [bx, by] : llvm::zip(x, y)) {
      if (bx.getOperations().size() != by.getOperations().size())
        return false;
      for (auto [ox, oy] : llvm::zip(bx, by))
        if (!ops(&ox, &oy))
          return false;
    }
    return true;
  }

  bool ops(Operation *x, Operation *y) {
    const unsigned here = index++;
    if (x->getName() != y->getName() || x->getNumOperands() != y->getNumOperands() ||
        x->getNumRegions() != y->getNumRegions() || x->getResultTypes() != y->getResultTypes() ||
        x->getNumSuccessors() != y->getNumSuccessors())
      return false;
    auto cx = dyn_cast<arith::ConstantOp>(x);
    auto cy = dyn_cast<arith::ConstantOp>(y);
    if (cx && cy && cx.getValue() != cy.getValue()) {
      auto ix = dyn_cast<IntegerAttr>(cx.getValue());
      auto iy = dyn_cast<IntegerAttr>(cy.getValue());
      if (!ix || !iy || ix.getType() != iy.getType() || !usedByArithmeticOnly(cx) ||
          !usedByArithmeticOnly(cy))
        return false;
      found->push_back(here);
    } else if (x->getRawDictionaryAttrs() != y->getRawDictionaryAttrs() ||
               !x->getName().compareOpProperties(x->getPropertiesStorage(),
                                                 y->getPropertiesStorage())) {
      return false;
    }
    for (auto [vx, vy] : llvm::zip(x->getOperands(), y->getOperands())) {
      auto it = values.find(vx);
      if (it == values.end() || it->second != vy)
        return false;
    }
    for (auto [sx, sy] : llvm::zip(x->getSuccessors(), y->getSuccessors()))
      if (blocks.lookup(sx) != sy)
        return false;
    for (auto [rx, ry] : llvm::zip(x->getResults(), y->getResults()))
      values[rx] = ry;
    for (auto [rx, ry] : llvm::zip(x->getRegions(), y->getRegions()))
      if (!regions(rx, ry))
        return false;
    return true;
  }

  func::FuncOp a, b;
  llvm::DenseMap<Value, Value> values;
  llvm::DenseMap<Block *, Block *> blocks;
  unsigned index = 0;
  llvm::SmallVectorImpl<unsigned> *found = nullptr;
};

/// A hash of what KernelComparison compares but the constants' values.
llvm::hash_code shapeHash(func::FuncOp kernel) {
  llvm::hash_code h = llvm::hash_value(kernel.getFunctionType().getAsOpaquePointer());
  kernel.walk([&](Operation *op) {
    h = llvm::hash_combine(h, op->getName().getAsOpaquePointer(), op->getNumOperands(),
                           op->getNumResults());
  });
  return h;
}

/// The ops of `kernel` in the order KernelComparison numbers them.
std::vector<Operation *> opsInOrder(func::FuncOp kernel) {
  std::vector<Operation *> ops;
  kernel.getBody().walk<WalkOrder::PreOrder>([&](Operation *op) { ops.push_back(op); });
  return ops;
}

struct NclMergeKernels : mlir::ncl::impl::NclMergeKernelsBase<NclMergeKernels> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    // The kernels, wherever they are (the module, or its gpu.module).
    llvm::StringMap<func::FuncOp> functions;
    module.walk([&](func::FuncOp f) { functions[f.getSymName()] = f; });
    llvm::StringSet<> called;
    module.walk([&](func::CallOp call) { called.insert(call.getCallee()); });
    for (auto network : module.getOps<mlir::ncl::NetworkOp>()) {
      mlir::ncl::ScheduleOp schedule = network.getSchedule();
      if (!schedule)
        continue;
      // Merged by an earlier run (IR printed after it and read back): the
      // kernels have been cleaned up since, and would compare otherwise.
      if (network->hasAttr(kMergedAttr))
        continue;
      network->setAttr(kMergedAttr, UnitAttr::get(network.getContext()));
      // The stages of each kernel, the kernels in the order of their first
      // stage.
      llvm::MapVector<func::FuncOp, std::vector<mlir::ncl::StageOp>> stages;
      for (auto stage : schedule.getBody().getOps<mlir::ncl::StageOp>())
        if (stage.getKernel())
          if (func::FuncOp kernel = functions.lookup(*stage.getKernel()))
            stages[kernel].push_back(stage);
      for (auto &entry : stages)
        if (failed(dropUnusedBuffers(entry.first, entry.second, called)))
          return signalPassFailure();
      // Sets of kernels that are the same code up to such constants.
      llvm::DenseMap<llvm::hash_code, std::vector<std::vector<func::FuncOp>>> buckets;
      std::vector<std::pair<llvm::hash_code, size_t>> order;
      for (auto &entry : stages) {
        func::FuncOp kernel = entry.first;
        llvm::hash_code h = shapeHash(kernel);
        std::vector<std::vector<func::FuncOp>> &similar = buckets[h];
        auto group = llvm::find_if(similar, [&](const std::vector<func::FuncOp> &g) {
          llvm::SmallVector<unsigned> differences;
          return KernelComparison(g.front(), kernel).sameBut(differences);
        });
        if (group != similar.end()) {
          group->push_back(kernel);
          continue;
        }
        similar.push_back({kernel});
        order.push_back({h, similar.size() - 1});
      }
      for (auto [h, n] : order)
        merge(buckets[h][n], stages);
    }
  }

  /// Removes the arguments of `kernel` that its stages name as buffers and
  /// that it never reads or writes (a synapse's deliver is passed every
  /// variable of its postsynaptic population and adds to one), and those
  /// buffers from the stages' `args`: kernels that differ only in which
  /// buffer they use become the same code. Header fields stay (the targets'
  /// mappings may use them), and so does a kernel something calls.
  LogicalResult dropUnusedBuffers(func::FuncOp kernel, ArrayRef<mlir::ncl::StageOp> users,
                                  const llvm::StringSet<> &called) {
    if (called.contains(kernel.getSymName()) || kernel.isExternal())
      return success();
    llvm::BitVector unused(kernel.getNumArguments());
    for (BlockArgument arg : kernel.getArguments()) {
      const unsigned n = arg.getArgNumber();
      if (!arg.use_empty())
        continue;
      if (llvm::all_of(users, [&](mlir::ncl::StageOp stage) {
            ArrayAttr args = stage.getArgsAttr();
            return args && n < args.size() && isa<IntegerAttr>(args[n]);
          }))
        unused.set(n);
    }
    if (unused.none())
      return success();
    if (failed(kernel.eraseArguments(unused)))
      return failure();
    for (mlir::ncl::StageOp stage : users) {
      llvm::SmallVector<Attribute> kept;
      for (auto [n, a] : llvm::enumerate(stage.getArgsAttr()))
        if (!unused.test(n))
          kept.push_back(a);
      stage.setArgsAttr(ArrayAttr::get(stage.getContext(), kept));
    }
    return success();
  }

  /// Keeps the first kernel of `group`, with the constants where some
  /// member differs as arguments, and points every member's stages at it.
  void merge(const std::vector<func::FuncOp> &group,
             llvm::MapVector<func::FuncOp, std::vector<mlir::ncl::StageOp>> &stages) {
    func::FuncOp kept = group.front();
    std::vector<unsigned> places;
    for (func::FuncOp kernel : group) {
      llvm::SmallVector<unsigned> differences;
      KernelComparison(kept, kernel).sameBut(differences);
      for (unsigned place : differences)
        if (!llvm::is_contained(places, place))
          places.push_back(place);
    }
    llvm::sort(places);
    // Each member's values, read before the kept kernel changes.
    std::vector<ArrayAttr> values;
    for (func::FuncOp kernel : group) {
      std::vector<Operation *> ops = opsInOrder(kernel);
      llvm::SmallVector<Attribute> row;
      for (unsigned place : places)
        row.push_back(cast<arith::ConstantOp>(ops[place]).getValue());
      values.push_back(ArrayAttr::get(kept.getContext(), row));
    }
    std::vector<Operation *> ops = opsInOrder(kept);
    for (unsigned place : places) {
      auto constant = cast<arith::ConstantOp>(ops[place]);
      unsigned n = kept.getNumArguments();
      if (failed(kept.insertArgument(n, constant.getType(), {}, constant.getLoc())))
        return signalPassFailure();
      constant.replaceAllUsesWith(kept.getArgument(n));
      constant.erase();
    }
    for (auto [member, row] : llvm::zip(group, values)) {
      func::FuncOp kernel = member;
      for (mlir::ncl::StageOp stage : stages[kernel]) {
        stage.setKernelAttr(FlatSymbolRefAttr::get(kept.getSymNameAttr()));
        if (!places.empty())
          stage.setConstantsAttr(row);
      }
      if (kernel != kept)
        kernel.erase();
    }
  }
};

} // namespace
