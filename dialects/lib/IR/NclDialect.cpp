//===- NclDialect.cpp - The ncl dialect -----------------------------------===//
#include "ncl/Dialect/Ncl/IR/NclDialect.h"
#include "ncl/Dialect/Ncl/IR/NclOps.h"

using namespace mlir;
using namespace mlir::ncl;

#include "ncl/Dialect/Ncl/IR/NclOpsDialect.cpp.inc"

void NclDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "ncl/Dialect/Ncl/IR/NclOps.cpp.inc"
      >();
}
