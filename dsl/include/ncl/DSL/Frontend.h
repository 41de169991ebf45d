//===- Frontend.h - Read a .ncl file into the owned AST ---------*- C++ -*-===//
//
// The only entry point into the ANTLR-generated parser. It includes no ANTLR
// header and throws nothing: syntax errors go to the diagnostics engine.
//
//===----------------------------------------------------------------------===//
#ifndef NCL_DSL_FRONTEND_H
#define NCL_DSL_FRONTEND_H

#include "ncl/DSL/AST.h"

#include <functional>
#include <vector>

namespace ncl {

/// Parses `text` (the contents of `fileName`). Returns null if there were
/// syntax errors, all of which have been reported to `diags`.
std::unique_ptr<ast::Module> parseSource(const std::string &fileName, const std::string &text,
                                         DiagnosticEngine &diags) noexcept;

/// Runs `fn` on a thread with a stack (1 GiB, reserved, touched only as
/// needed) deep enough for the recursive walks of the deepest expression
/// the parser accepts: ANTLR recurses once per nesting level, and Sema and
/// MLIRGen once per AST level, which for a flat sum is its length.
/// parseSource uses it itself; drivers run Sema and MLIRGen in it.
void runOnLargeStack(const std::function<void()> &fn) noexcept;
constexpr size_t kLargeStackBytes = size_t(1) << 30;

/// Reads and parses a file; a missing file is reported as an error.
std::unique_ptr<ast::Module> parseFile(const std::string &path, DiagnosticEngine &diags) noexcept;

/// Where `import "file.ncl"` looks, after the importing file's directory.
struct ImportOptions {
  std::vector<std::string> includeDirs; ///< -I, in order
  std::vector<std::string> libraryDirs; ///< NCL's standard library, last
};

/// Parses `path` and every file it imports, transitively. The neurons of
/// imported files join the returned module (before the file's own); their
/// networks are not imported. Each file is read once; a cycle is an error.
std::unique_ptr<ast::Module> loadModule(const std::string &path, const ImportOptions &options,
                                        DiagnosticEngine &diags) noexcept;

/// loadModule for a file whose contents are `text` rather than what is on
/// disk (a model compiled from a string): `fileName` names it in messages
/// and its directory is where its imports are looked for first.
std::unique_ptr<ast::Module> loadModuleFromSource(const std::string &fileName,
                                                  const std::string &text,
                                                  const ImportOptions &options,
                                                  DiagnosticEngine &diags) noexcept;

} // namespace ncl

#endif // NCL_DSL_FRONTEND_H
