//===- NclAttributes.h - Attributes of the ncl dialect ----------*- C++ -*-===//
#ifndef NCL_DIALECT_NCL_IR_NCLATTRIBUTES_H
#define NCL_DIALECT_NCL_IR_NCLATTRIBUTES_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectImplementation.h"

#include "ncl/Dialect/Ncl/IR/NclEnums.h"

#define GET_ATTRDEF_CLASSES
#include "ncl/Dialect/Ncl/IR/NclAttributes.h.inc"

#endif
