//===- NclEnums.cpp - Enumerations of the ncl dialect ---------------------===//
//
// Their names and parsers (NclEnums.td), in a library of their own without
// the dialect, so that the front end can check a `method` name against the
// same list the dialect's attribute and ncl-integrate use.
//
//===----------------------------------------------------------------------===//
#include "ncl/Dialect/Ncl/IR/NclEnums.h"

#include "ncl/Dialect/Ncl/IR/NclEnums.cpp.inc"
