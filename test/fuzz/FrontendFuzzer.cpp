//===- FrontendFuzzer.cpp - libFuzzer entry point over parse + Sema ------===//
//
// Feeds arbitrary bytes to the front end as the text of a .ncl file: parse,
// dump the AST and run semantic analysis when it parsed, and, when a
// network is present, the network analysis too. Diagnostics go to a stream
// that discards them, but are still formatted (the source-line quoting and
// caret code runs). Built with clang's -fsanitize=fuzzer,address,undefined
// by test/fuzz/CMakeLists.txt; run as the ctest fuzz/frontend.
//
//===----------------------------------------------------------------------===//
#include "ncl/DSL/Frontend.h"
#include "ncl/DSL/Sema.h"

#include <cstddef>
#include <cstdint>
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
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static NullBuffer buffer;
  static std::ostream sink(&buffer);
  std::string text(reinterpret_cast<const char *>(data), size);
  {
    ncl::DiagnosticEngine diags(sink);
    std::unique_ptr<ncl::ast::Module> module = ncl::parseSource("fuzz.ncl", text, diags);
    if (!module)
      return 0;
    ncl::ast::dump(*module, sink);
    if (!ncl::analyzeModule(*module, diags))
      return 0;
  }
  // A module that checks: also choose and evaluate its network, as nclc does.
  ncl::DiagnosticEngine diags(sink);
  std::unique_ptr<ncl::ast::Module> module = ncl::parseSource("fuzz.ncl", text, diags);
  if (module && !module->networks.empty()) {
    ncl::NetworkModel net;
    (void)ncl::analyze(*module, diags, net, module->networks.front().name);
  }
  return 0;
}
