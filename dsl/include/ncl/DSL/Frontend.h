//===- Frontend.h - Read a .ncl file into the owned AST ---------*- C++ -*-===//
//
// The only entry point into the ANTLR-generated parser. It includes no ANTLR
// header and throws nothing: syntax errors go to the diagnostics engine.
//
//===----------------------------------------------------------------------===//
#ifndef NCL_DSL_FRONTEND_H
#define NCL_DSL_FRONTEND_H

#include "ncl/DSL/AST.h"

namespace ncl {

/// Parses `text` (the contents of `fileName`). Returns null if there were
/// syntax errors, all of which have been reported to `diags`.
std::unique_ptr<ast::Module> parseSource(const std::string &fileName, const std::string &text,
                                         DiagnosticEngine &diags) noexcept;

/// Reads and parses a file; a missing file is reported as an error.
std::unique_ptr<ast::Module> parseFile(const std::string &path, DiagnosticEngine &diags) noexcept;

} // namespace ncl

#endif // NCL_DSL_FRONTEND_H
