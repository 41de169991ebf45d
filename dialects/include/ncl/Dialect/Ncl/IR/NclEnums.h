//===- NclEnums.h - Enumerations of the ncl dialect -------------*- C++ -*-===//
//
// The integration methods, buffer roles and extents and stage kinds, as C++
// enums with their names (NclEnums.td). Usable without the dialect: the
// front end includes it to name the integration methods.
//
//===----------------------------------------------------------------------===//
#ifndef NCL_DIALECT_NCL_IR_NCLENUMS_H
#define NCL_DIALECT_NCL_IR_NCLENUMS_H

#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/StringRef.h"

#include <optional>

#include "ncl/Dialect/Ncl/IR/NclEnums.h.inc"

#endif
