//===- NclDialect.h - The ncl dialect ---------------------------*- C++ -*-===//
#ifndef NCL_DIALECT_NCL_IR_NCLDIALECT_H
#define NCL_DIALECT_NCL_IR_NCLDIALECT_H

#include "mlir/IR/Dialect.h"

#include "ncl/Dialect/Ncl/IR/NclOpsDialect.h.inc"

#endif
