//===- Compile.h - One compile, from a .ncl file to a library ---*- C++ -*-===//
//
// Everything nclc does after reading its command line, as a function of a
// request: parse and load imports, check, generate the ncl dialect, run the
// pipeline, print a stage or write the shared library (and a dependency
// file). nclc and the compiler's C API (ncl/compiler.h, libnclcompiler)
// both call it, so they compile alike and report alike: each message is
// printed as nclc prints it and also handed over as a record.
//
//===----------------------------------------------------------------------===//
#ifndef NCL_COMPILER_COMPILE_H
#define NCL_COMPILER_COMPILE_H

#include "ncl/DSL/Frontend.h"

#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace llvm {
class raw_ostream;
}

namespace ncl {

/// What a compile produces: the library, or a stage printed to stdout.
enum class EmitStage { Library, Ast, Mlir, MlirLoops, MlirLowered, Llvm, Ptx };

struct CompileRequest {
  /// The model (.ncl, or .mlir: the ncl dialect at any stage before LLVM).
  std::string input;
  /// When set, the model's text: `input` only names it (in messages) and
  /// its directory is searched first for imports. .ncl only.
  std::optional<std::string> source;
  std::string output; ///< the library (EmitStage::Library and Llvm)
  EmitStage stage = EmitStage::Library;
  bool checkOnly = false;   ///< parse, check and integrate only
  unsigned realBits = 64;   ///< 32 or 64
  std::string network;      ///< the network to compile ("": the only one)
  ImportOptions imports;    ///< -I and the standard library
  bool remarks = false;     ///< report remarks (nclc -v)
  bool explain = false;     ///< explain each integration choice
  bool explainOnly = false; ///< with explain: stop after explaining
  unsigned threads = 0;     ///< to compile the kernels with (0: one per core)
  bool fuse = true;
  std::string depFile;     ///< with a library: a Makefile rule of its sources
  bool timePhases = false; ///< time each phase (kPhaseTimerGroup)
  /// Apply MLIR's pass-manager command-line options (--mlir-timing, ...);
  /// only a tool that registered them (nclc) may ask.
  bool passManagerCommandLine = false;
  std::string toolName = "nclc"; ///< prefixes messages that have no place
  /// What the library runs on: "cpu", "cuda" or "all" (docs/gpu.md); the
  /// GPU's architectures, comma-separated ("": the default), and whether
  /// they were given (then checked even for a CPU-only library).
  std::string target = "cpu";
  std::string gpuArchs;
  bool gpuArchsGiven = false;
  /// Also compile the GPU kernels for the host, for the fake driver's tests
  /// (nclc --gpu-emulation; docs/gpu.md).
  bool gpuEmulation = false;
};

/// One message, as a record.
struct CompileDiagnostic {
  enum class Severity { Error, Warning, Note, Remark };
  Severity severity = Severity::Error;
  std::string file; ///< "" for a message that has no place in a file
  unsigned line = 0, column = 0;
  std::string message;
};

/// Where messages go: their text (exactly what nclc prints, source line and
/// caret included) to `text` (the front end's) and `irText` (MLIR's), and
/// each one to `record` if set.
struct CompileDiagnosticSinks {
  std::ostream &text;
  llvm::raw_ostream &irText;
  std::function<void(const CompileDiagnostic &)> record;
};

/// Runs the compile. Returns nclc's exit status: 0 on success, 1 when the
/// model or an output has an error, 2 for a request that cannot be served
/// (e.g. --emit=ast of a .mlir file). `dependencies`, if given, receives the
/// files read (the model and what it imports). Run it on a large stack
/// (runOnLargeStack): Sema and MLIRGen recurse once per expression level.
int compile(const CompileRequest &request, CompileDiagnosticSinks &sinks,
            std::vector<std::string> *dependencies = nullptr);

} // namespace ncl

#endif
