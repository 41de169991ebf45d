//===- CompilerCApi.cpp - ncl/compiler.h over ncl::compile -----------------===//
//
// libnclcompiler: the C API of ncl/compiler.h. Each compile call fills an
// ncl::CompileRequest and runs ncl::compile (compiler/lib/Driver), the code
// nclc runs, on a large stack, with its messages recorded and their text
// kept. Only the ncl_compile* and ncl_compiler_* symbols are exported
// (nclcompiler.map); LLVM, MLIR and the front end stay private.
//
//===----------------------------------------------------------------------===//
#include "ncl/compiler.h"

#include "ncl/Compiler/Compile.h"
#include "ncl/DSL/Frontend.h"
#include "ncl/model_abi.h"

#include "llvm/Config/llvm-config.h"
#include "llvm/Support/raw_os_ostream.h"

#include <algorithm>
#include <dlfcn.h>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <new>
#include <optional>
#include <sstream>

struct ncl_compiler_options {
  unsigned realBits = 64;
  std::string network;
  std::vector<std::string> includeDirs;
  std::optional<std::string> stdlibDir;
  bool fuse = true;
  unsigned threads = 0;
  bool remarks = false;
  bool printDiagnostics = false;
  std::string target = "cpu";
  std::string gpuArchs; ///< "": the default (ncl::kDefaultGPUArchs)
};

struct ncl_compile_result {
  bool ok = false;
  std::string output;
  std::vector<ncl::CompileDiagnostic> records;
  std::vector<ncl_diagnostic> views; ///< into `records`, filled once complete
  std::string text;
  std::vector<std::string> dependencies;
};

namespace {

/// The in-process linker (lld) and LLVM's option registry are global: one
/// compile at a time in a process.
std::mutex compileMutex;

/// share/ncl/stdlib of the installation this library belongs to (found from
/// the library's own path, so the prefix can move), else the source tree
/// it was built from.
std::vector<std::string> defaultLibraryDirs() {
  std::vector<std::string> dirs;
  Dl_info info;
  if (dladdr(reinterpret_cast<void *>(&ncl_compiler_version), &info) && info.dli_fname) {
    std::error_code ec;
    std::filesystem::path libdir = std::filesystem::path(info.dli_fname).parent_path();
    std::filesystem::path installed =
        (libdir / NCL_LIBDIR_TO_DATADIR / "ncl" / "stdlib").lexically_normal();
    if (std::filesystem::is_directory(installed, ec))
      dirs.push_back(installed.string());
  }
  dirs.push_back(NCL_STDLIB_DIR);
  return dirs;
}

ncl_diagnostic_severity severityOf(ncl::CompileDiagnostic::Severity severity) {
  switch (severity) {
  case ncl::CompileDiagnostic::Severity::Error:
    return NCL_DIAGNOSTIC_ERROR;
  case ncl::CompileDiagnostic::Severity::Warning:
    return NCL_DIAGNOSTIC_WARNING;
  case ncl::CompileDiagnostic::Severity::Note:
    return NCL_DIAGNOSTIC_NOTE;
  case ncl::CompileDiagnostic::Severity::Remark:
    return NCL_DIAGNOSTIC_REMARK;
  }
  return NCL_DIAGNOSTIC_ERROR;
}

/// A failure before the compiler runs (an argument missing).
void refuse(ncl_compile_result &result, const std::string &message) {
  result.records.push_back({ncl::CompileDiagnostic::Severity::Error, "", 0, 0, message});
  result.text += "ncl: error: " + message + "\n";
}

ncl_compile_result *compile(const ncl_compiler_options *options, const char *path,
                            const char *source, const char *output) {
  try {
    auto result = std::make_unique<ncl_compile_result>();
    ncl_compiler_options defaults;
    if (!options)
      options = &defaults;
    if (!path || !*path)
      refuse(*result, source ? "no file name given for the source" : "no input file given");
    else if (!output || !*output)
      refuse(*result, "no output library given");
    else {
      ncl::CompileRequest request;
      request.input = path;
      if (source)
        request.source = std::string(source);
      request.output = output;
      request.realBits = options->realBits;
      request.network = options->network;
      request.imports.includeDirs = options->includeDirs;
      request.imports.libraryDirs =
          options->stdlibDir ? std::vector<std::string>{*options->stdlibDir} : defaultLibraryDirs();
      request.remarks = options->remarks;
      request.threads = options->threads;
      request.fuse = options->fuse;
      request.target = options->target;
      request.gpuArchs = options->gpuArchs;
      request.gpuArchsGiven = !options->gpuArchs.empty();
      request.toolName = "ncl";

      std::ostringstream text;
      llvm::raw_os_ostream irText(text);
      irText.SetUnbuffered(); // keeps MLIR's messages in order with the front end's
      ncl::CompileDiagnosticSinks sinks{text, irText, [&](const ncl::CompileDiagnostic &record) {
                                          result->records.push_back(record);
                                        }};
      int status = 1;
      {
        std::lock_guard<std::mutex> lock(compileMutex);
        ncl::runOnLargeStack([&] { status = ncl::compile(request, sinks, &result->dependencies); });
      }
      irText.flush();
      result->text = text.str();
      result->ok = status == 0;
      if (result->ok)
        result->output = output;
      else if (std::none_of(result->records.begin(), result->records.end(), [](const auto &r) {
                 return r.severity == ncl::CompileDiagnostic::Severity::Error;
               }))
        refuse(*result, "the compile failed"); // every failure says so in a record
    }
    for (const ncl::CompileDiagnostic &record : result->records)
      result->views.push_back({severityOf(record.severity), record.file.c_str(), record.line,
                               record.column, record.message.c_str()});
    if (options->printDiagnostics)
      std::cerr << result->text << std::flush;
    return result.release();
  } catch (...) {
    return nullptr; // out of memory
  }
}

} // namespace

//===----------------------------------------------------------------------===//
// Versions
//===----------------------------------------------------------------------===//

const char *ncl_compiler_version(void) { return NCL_VERSION_STRING; }
const char *ncl_compiler_llvm_version(void) { return LLVM_VERSION_STRING; }
uint32_t ncl_compiler_abi_version(void) { return NCL_ABI_VERSION; }

//===----------------------------------------------------------------------===//
// Options
//===----------------------------------------------------------------------===//

ncl_compiler_options *ncl_compiler_options_create(void) {
  return new (std::nothrow) ncl_compiler_options();
}
void ncl_compiler_options_destroy(ncl_compiler_options *options) { delete options; }

int ncl_compiler_options_set_precision(ncl_compiler_options *options, const char *precision) {
  if (!options || !precision)
    return -1;
  std::string p = precision;
  if (p != "f32" && p != "f64")
    return -1;
  options->realBits = p == "f32" ? 32 : 64;
  return 0;
}

int ncl_compiler_options_set_target(ncl_compiler_options *options, const char *target) {
  if (!options || !target)
    return -1;
  std::string t = target;
  if (t != "cpu" && t != "cuda" && t != "all")
    return -1;
  options->target = t;
  return 0;
}

int ncl_compiler_options_set_gpu_archs(ncl_compiler_options *options, const char *archs) {
  if (!options || !archs)
    return -1;
  options->gpuArchs = archs;
  return 0;
}

int ncl_compiler_options_set_network(ncl_compiler_options *options, const char *network) {
  if (!options)
    return -1;
  options->network = network ? network : "";
  return 0;
}

int ncl_compiler_options_add_include_dir(ncl_compiler_options *options, const char *dir) {
  if (!options || !dir || !*dir)
    return -1;
  options->includeDirs.push_back(dir);
  return 0;
}

int ncl_compiler_options_set_stdlib_dir(ncl_compiler_options *options, const char *dir) {
  if (!options || !dir)
    return -1;
  options->stdlibDir = dir;
  return 0;
}

void ncl_compiler_options_set_fuse(ncl_compiler_options *options, int fuse) {
  if (options)
    options->fuse = fuse != 0;
}
void ncl_compiler_options_set_threads(ncl_compiler_options *options, unsigned threads) {
  if (options)
    options->threads = threads;
}
void ncl_compiler_options_set_remarks(ncl_compiler_options *options, int remarks) {
  if (options)
    options->remarks = remarks != 0;
}
void ncl_compiler_options_set_print_diagnostics(ncl_compiler_options *options, int print) {
  if (options)
    options->printDiagnostics = print != 0;
}

//===----------------------------------------------------------------------===//
// Compiling and results
//===----------------------------------------------------------------------===//

ncl_compile_result *ncl_compile_file(const ncl_compiler_options *options, const char *path,
                                     const char *output_path) {
  return compile(options, path, nullptr, output_path);
}

ncl_compile_result *ncl_compile_string(const ncl_compiler_options *options, const char *source,
                                       const char *file_name, const char *output_path) {
  if (!source) {
    ncl_compile_result *result = new (std::nothrow) ncl_compile_result();
    if (result) {
      refuse(*result, "no source text given");
      result->views.push_back({NCL_DIAGNOSTIC_ERROR, "", 0, 0, result->records[0].message.c_str()});
    }
    return result;
  }
  return compile(options, file_name, source, output_path);
}

int ncl_compile_result_ok(const ncl_compile_result *result) { return result && result->ok; }

size_t ncl_compile_result_num_diagnostics(const ncl_compile_result *result) {
  return result ? result->views.size() : 0;
}

const ncl_diagnostic *ncl_compile_result_diagnostic(const ncl_compile_result *result,
                                                    size_t index) {
  return result && index < result->views.size() ? &result->views[index] : nullptr;
}

const char *ncl_compile_result_diagnostics_text(const ncl_compile_result *result) {
  return result ? result->text.c_str() : "";
}

const char *ncl_compile_result_output(const ncl_compile_result *result) {
  return result && result->ok ? result->output.c_str() : nullptr;
}

size_t ncl_compile_result_num_dependencies(const ncl_compile_result *result) {
  return result ? result->dependencies.size() : 0;
}

const char *ncl_compile_result_dependency(const ncl_compile_result *result, size_t index) {
  return result && index < result->dependencies.size() ? result->dependencies[index].c_str()
                                                       : nullptr;
}

void ncl_compile_result_destroy(ncl_compile_result *result) { delete result; }
