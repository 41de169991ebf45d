//===- NclDialect.cpp - The ncl dialect -----------------------------------===//
#include "ncl/Dialect/Ncl/IR/NclDialect.h"
#include "ncl/Dialect/Ncl/IR/NclAttributes.h"
#include "ncl/Dialect/Ncl/IR/NclOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::ncl;

#include "ncl/Dialect/Ncl/IR/NclOpsDialect.cpp.inc"
#define GET_ATTRDEF_CLASSES
#include "ncl/Dialect/Ncl/IR/NclAttributes.cpp.inc"

void NclDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "ncl/Dialect/Ncl/IR/NclOps.cpp.inc"
      >();
  registerAttributes();
}

void NclDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "ncl/Dialect/Ncl/IR/NclAttributes.cpp.inc"
      >();
}
