//===- FrontendFuzzer.cpp - libFuzzer entry point over the front end -----===//
//
// Feeds arbitrary bytes to nclc's path as the text of a .ncl file: parse,
// dump the AST and run semantic analysis when it parsed; when a network
// checks, lower it as nclc does: MLIRGen, the verifier, and the target-
// independent pipeline (ncl-integrate, ncl-to-loops, canonicalize, CSE,
// LICM). LLVM code generation and linking are left out: too slow per input.
// Diagnostics are formatted (the source-line quoting and caret code runs)
// but dropped. IR that does not verify after Sema accepted the model is a
// compiler bug: the fuzzer stops on it. Built with clang's
// -fsanitize=fuzzer,address,undefined by test/fuzz/CMakeLists.txt; run as
// the ctest fuzz/frontend.
//
//===----------------------------------------------------------------------===//
#include "ncl/Compiler/MLIRGen.h"
#include "ncl/Compiler/Pipeline.h"
#include "ncl/DSL/Frontend.h"
#include "ncl/DSL/Sema.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ostream>
#include <streambuf>
#include <string>

namespace {
/// A streambuf that accepts and drops everything (std::ostream with a null
/// buffer would stop formatting after the first write).
class NullBuffer : public std::streambuf {
protected:
  int overflow(int c) override { return traits_type::not_eof(c); }
  std::streamsize xsputn(const char *, std::streamsize n) override { return n; }
};

/// MLIRGen and the pipeline up to loops, as nclc runs them, in a fresh
/// context so that nothing carries over from one input to the next.
void lower(const ncl::NetworkModel &net, unsigned realBits) {
  mlir::DialectRegistry registry;
  ncl::registerNclDialects(registry);
  mlir::MLIRContext context(registry, mlir::MLIRContext::Threading::DISABLED);
  context.loadAllAvailableDialects();
  context.printOpOnDiagnostic(false);
  // Passes may refuse a model with a located error; collect nothing.
  mlir::ScopedDiagnosticHandler drop(&context, [](mlir::Diagnostic &) { return mlir::success(); });
  ncl::CodegenOptions options;
  options.realBits = realBits;
  mlir::OwningOpRef<mlir::ModuleOp> ir = ncl::mlirGen(context, net, options);
  // No module: MLIRGen refused, at the user's line, something it cannot
  // compile yet (a state monitor, a per-synapse delay).
  if (!ir)
    return;
  if (mlir::failed(mlir::verify(*ir))) {
    std::fprintf(stderr, "ncl-fuzz-frontend: MLIRGen produced IR that does not verify\n");
    std::abort();
  }
  mlir::PassManager pm(&context);
  ncl::buildNclToLoopsPipeline(pm);
  (void)pm.run(*ir);
}

void fuzzOne(const std::string &text) {
  static NullBuffer buffer;
  static std::ostream sink(&buffer);
  {
    ncl::DiagnosticEngine diags(sink);
    std::unique_ptr<ncl::ast::Module> module = ncl::parseSource("fuzz.ncl", text, diags);
    if (!module)
      return;
    ncl::ast::dump(*module, sink);
    if (!ncl::analyzeModule(*module, diags))
      return;
  }
  // A module that checks: also choose and evaluate its network, and lower
  // it, as nclc does (in f32 for inputs of odd length, for variety).
  ncl::DiagnosticEngine diags(sink);
  std::unique_ptr<ncl::ast::Module> module = ncl::parseSource("fuzz.ncl", text, diags);
  if (!module || module->networks.empty())
    return;
  ncl::NetworkModel net;
  if (ncl::analyze(*module, diags, net, module->networks.front().name))
    lower(net, text.size() % 2 ? 32 : 64);
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string text(reinterpret_cast<const char *>(data), size);
  // Sema and MLIRGen recurse once per AST level, as in nclc.
  ncl::runOnLargeStack([&] { fuzzOne(text); });
  return 0;
}
