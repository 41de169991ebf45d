//===- NclOps.h - Operations of the ncl dialect -----------------*- C++ -*-===//
#ifndef NCL_DIALECT_NCL_IR_NCLOPS_H
#define NCL_DIALECT_NCL_IR_NCLOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "ncl/Dialect/Ncl/IR/NclAttributes.h"
#include "ncl/Dialect/Ncl/IR/NclDialect.h"

namespace mlir::ncl {
class ScheduleOp;
}

#define GET_OP_CLASSES
#include "ncl/Dialect/Ncl/IR/NclOps.h.inc"

#endif
