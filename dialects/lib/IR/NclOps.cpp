//===- NclOps.cpp - Verifiers of the ncl operations -----------------------===//
//
// The invariants later passes rely on: state variables and parameters named
// by an op exist in the enclosing population, an ODE's region matches its
// state, and integration steps are positive.
//
//===----------------------------------------------------------------------===//
#include "ncl/Dialect/Ncl/IR/NclOps.h"
#include "ncl/random_streams.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/StringSet.h"

using namespace mlir;
using namespace mlir::ncl;

#define GET_OP_CLASSES
#include "ncl/Dialect/Ncl/IR/NclOps.cpp.inc"

static bool hasStateVar(PopulationOp pop, StringRef name) {
  for (Attribute a : pop.getStateVars())
    if (cast<StringAttr>(a).getValue() == name)
      return true;
  return false;
}

LogicalResult PopulationOp::verify() {
  // I64Attr accessors return uint64_t; read the signed value to catch < 0.
  if (getSizeAttr().getInt() <= 0)
    return emitOpError("size must be positive, got ") << getSizeAttr().getInt();
  if (!(getDt().convertToDouble() > 0))
    return emitOpError("dt must be positive");
  if (getNumParamsAttr().getInt() < 0)
    return emitOpError("num_params must not be negative");
  if (auto m = getMethod();
      m && !llvm::is_contained({"auto", "exact", "exp_euler", "euler", "rk2", "rk4", "heun"}, *m))
    return emitOpError("unknown integration method '") << *m << "'";
  if (getSubstepsAttr() && getSubstepsAttr().getInt() < 1)
    return emitOpError("substeps must be at least 1");
  // At most one write per variable and region: the final value is unique.
  for (Region *region : {&getInit(), &getStep()}) {
    llvm::StringSet<> written;
    for (auto write : region->getOps<StateWriteOp>())
      if (!written.insert(write.getVar()).second)
        return write.emitOpError("writes state variable '") << write.getVar() << "' twice";
  }
  return success();
}

LogicalResult ParamOp::verify() {
  auto pop = (*this)->getParentOfType<PopulationOp>();
  if (!pop)
    return emitOpError("must be inside an ncl.population");
  int64_t index = getIndexAttr().getInt();
  if (index < 0 || index >= pop.getNumParamsAttr().getInt())
    return emitOpError("index ") << index << " is out of range for a population with "
                                 << pop.getNumParamsAttr().getInt() << " parameters";
  return success();
}

template <typename OpT> static LogicalResult verifyStateVar(OpT op) {
  auto pop = op->template getParentOfType<PopulationOp>();
  if (!pop)
    return op.emitOpError("must be inside an ncl.population");
  if (!hasStateVar(pop, op.getVar()))
    return op.emitOpError("unknown state variable '") << op.getVar() << "'";
  return success();
}

LogicalResult StateReadOp::verify() { return verifyStateVar(*this); }
LogicalResult StateWriteOp::verify() { return verifyStateVar(*this); }

LogicalResult OdeOp::verify() {
  Block &body = getRhs().front();
  if (body.getNumArguments() != 1 || body.getArgument(0).getType() != getState().getType())
    return emitOpError("region must take one argument of the state's type ")
           << getState().getType();
  if (getResult().getType() != getState().getType())
    return emitOpError("result type must match the state's type");
  auto yield = dyn_cast<YieldOp>(body.getTerminator());
  if (!yield || yield.getValue().getType() != getState().getType())
    return emitOpError("region must yield dx/dt of the state's type");
  return success();
}

LogicalResult EventOp::verify() {
  if (getChannelAttr().getInt() < 1)
    return emitOpError("channel must be at least 1 (channel 0 is the spike)");
  return success();
}

LogicalResult RandOp::verify() {
  int64_t stream = getStreamAttr().getInt();
  // The stream field of Philox's counter is 16 bits wide.
  if (stream < 0 || stream > NCL_RANDOM_STREAM_MASK)
    return emitOpError("stream ") << stream << " is outside [0, " << NCL_RANDOM_STREAM_MASK << "]";
  return success();
}
