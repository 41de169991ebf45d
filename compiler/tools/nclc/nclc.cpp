//===- nclc.cpp - The NCL compiler driver ---------------------------------===//
//
// nclc model.ncl -o model.so: parse, check, emit the ncl dialect, run the
// ncl-to-llvm pipeline, and write a shared library with the ncl_model
// descriptor. --emit stops after a stage and prints it; --check stops after
// semantic analysis. The command line is read here; the compile itself is
// ncl::compile (compiler/lib/Driver), which libnclcompiler's C API calls too.
//
//===----------------------------------------------------------------------===//
#include "ncl/Compiler/CUDATarget.h"
#include "ncl/Compiler/Compile.h"
#include "ncl/DSL/Frontend.h"
#include "ncl/model_abi.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/Timing.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <csignal>
#include <cstdio>
#include <iostream>
#include <sys/resource.h>

namespace cl = llvm::cl;

/// NCL's own options: the only ones `--help` lists (LLVM's backend options
/// stay behind `--help-hidden`).
static cl::OptionCategory nclOptions("nclc options");

static cl::opt<std::string> inputFile(cl::Positional,
                                      cl::desc("<model.ncl or model.mlir, e.g. lif.ncl>"),
                                      cl::Required, cl::cat(nclOptions));
static cl::opt<std::string> outputFile("o", cl::desc("Output shared library, e.g. -o lif.so"),
                                       cl::value_desc("model.so"), cl::cat(nclOptions));
using Emit = ncl::EmitStage;
static cl::opt<Emit> emit(
    "emit", cl::desc("Print a stage instead of writing the library, e.g. --emit=mlir"),
    cl::init(Emit::Library), cl::cat(nclOptions),
    cl::values(clEnumValN(Emit::Ast, "ast", "the syntax tree with source locations"),
               clEnumValN(Emit::Mlir, "mlir", "the ncl dialect, as generated"),
               clEnumValN(Emit::MlirLoops, "mlir-loops", "after integration, as loops on memrefs"),
               clEnumValN(Emit::MlirLowered, "mlir-lowered", "the LLVM dialect, fully lowered"),
               clEnumValN(Emit::Llvm, "llvm", "optimised LLVM IR with the descriptor"),
               clEnumValN(Emit::Ptx, "ptx", "the GPU kernels' PTX for the first --gpu-arch")));
static cl::opt<std::string>
    target("target",
           cl::desc("What the library runs on: cpu; cuda (NVIDIA GPUs, with the CPU code "
                    "kept for the runtime's fallback); all (every target), e.g. --target=cuda"),
           cl::value_desc("cpu|cuda|all"), cl::init("cpu"), cl::cat(nclOptions));
static cl::opt<std::string>
    gpuArch("gpu-arch",
            cl::desc("CUDA architectures of the GPU images (default sm_80,sm_90), e.g. "
                     "--gpu-arch=sm_90"),
            cl::value_desc("list"), cl::init(ncl::kDefaultGPUArchs), cl::cat(nclOptions));
static cl::opt<bool> gpuEmulation(
    "gpu-emulation",
    cl::desc("With --target=cuda: also compile the GPU kernels for the host, where the test "
             "suite's fake CUDA driver runs them a thread at a time (docs/gpu.md)"),
    cl::cat(nclOptions));
static cl::opt<bool> checkOnly("check", cl::desc("Parse and check only, e.g. nclc --check m.ncl"),
                               cl::cat(nclOptions));
static cl::opt<std::string>
    precision("precision", cl::desc("Precision of state: f32 or f64, e.g. --precision=f32"),
              cl::value_desc("f32|f64"), cl::init("f64"), cl::cat(nclOptions));
static cl::opt<std::string> networkName("network",
                                        cl::desc("Network to compile (default: the only one), "
                                                 "e.g. --network=Brunel"),
                                        cl::value_desc("name"), cl::cat(nclOptions));
static cl::opt<bool> verbose("v", cl::desc("Print remarks, e.g. the integration method chosen"),
                             cl::cat(nclOptions));
static cl::opt<bool>
    explain("explain",
            cl::desc("Print the integration method chosen for each neuron and synapse, "
                     "and why (with -o, also compile)"),
            cl::cat(nclOptions));
static cl::opt<unsigned> jobs("j",
                              cl::desc("Threads to compile the kernels with (default: one per "
                                       "core), e.g. -j1"),
                              cl::value_desc("n"), cl::init(0), cl::Prefix, cl::cat(nclOptions));
static cl::opt<bool> noFuse("no-fuse",
                            cl::desc("Skip ncl-fuse (fused and unfused builds give the same "
                                     "results), e.g. to measure what fusion buys"),
                            cl::cat(nclOptions));
static cl::opt<std::string>
    depFile("depfile",
            cl::desc("With -o, also write a Makefile rule naming the model and every file "
                     "it imports, for build systems, e.g. --depfile=m.d"),
            cl::value_desc("file"), cl::cat(nclOptions));
static cl::opt<bool> timePhases("time-phases",
                                cl::desc("Print the CPU and wall time of each phase of the "
                                         "compile at exit, e.g. nclc m.ncl --time-phases"),
                                cl::cat(nclOptions));
static cl::list<std::string> includeDirs("I", cl::Prefix,
                                         cl::desc("Add a directory to the import search path, "
                                                  "e.g. -I models/"),
                                         cl::value_desc("dir"), cl::cat(nclOptions));

/// NCL's standard library of neuron models: installed next to nclc, or in
/// the source tree it was built from.
static std::vector<std::string> libraryDirs(const char *argv0) {
  std::vector<std::string> dirs;
  std::string exe = llvm::sys::fs::getMainExecutable(argv0, reinterpret_cast<void *>(&libraryDirs));
  llvm::SmallString<256> installed(llvm::sys::path::parent_path(llvm::sys::path::parent_path(exe)));
  llvm::sys::path::append(installed, "share", "ncl", "stdlib");
  if (llvm::sys::fs::is_directory(installed))
    dirs.push_back(installed.str().str());
#ifdef NCL_STDLIB_DIR
  dirs.push_back(NCL_STDLIB_DIR);
#endif
  return dirs;
}

/// Everything after option parsing, done by ncl::compile (the library
/// behind ncl/compiler.h too); returns the exit status.
static int compile(const char *argv0) {
  // lld resets cl::opt values when it runs: everything is copied first.
  ncl::CompileRequest request;
  request.input = inputFile;
  request.output = outputFile;
  request.stage = emit;
  request.checkOnly = checkOnly;
  request.network = networkName;
  request.imports.includeDirs.assign(includeDirs.begin(), includeDirs.end());
  request.imports.libraryDirs = libraryDirs(argv0);
  request.remarks = verbose;
  request.explain = explain;
  // --explain alone explains; with -o (or -v, or --emit) it also compiles.
  request.explainOnly =
      explain && !verbose && request.stage == Emit::Library && request.output.empty();
  request.threads = jobs;
  request.fuse = !noFuse;
  request.depFile = depFile;
  request.timePhases = timePhases;
  request.passManagerCommandLine = true;
  request.target = target;
  request.gpuArchs = gpuArch;
  request.gpuArchsGiven = gpuArch.getNumOccurrences() > 0;
  request.gpuEmulation = gpuEmulation;

  const std::string prec = precision;
  if (prec != "f32" && prec != "f64") {
    llvm::errs() << "nclc: error: --precision must be f32 or f64, not '" << prec << "'\n";
    return 2;
  }
  request.realBits = prec == "f32" ? 32 : 64;
  if (request.stage == ncl::EmitStage::Library && !request.checkOnly && request.output.empty()) {
    llvm::StringRef stem = llvm::StringRef(request.input).rsplit('/').second;
    if (stem.empty())
      stem = request.input;
    if (stem.ends_with(".ncl"))
      stem = stem.drop_back(4);
    else if (stem.ends_with(".mlir"))
      stem = stem.drop_back(5);
    request.output = stem.str() + ".so";
  }
  ncl::CompileDiagnosticSinks sinks{std::cerr, llvm::errs(), nullptr};
  return ncl::compile(request, sinks);
}

/// CPU seconds this process has used so far.
static double cpuSeconds() {
  rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         1e-6 * (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}

int main(int argc, char **argv) {
  // What loading nclc took: the dynamic linker's relocations and the
  // libraries' static initialisers (--time-phases prints it).
  const double startUp = cpuSeconds();
  llvm::InitLLVM init(argc, argv);
  // A file-size limit (ulimit -f) must fail a write with EFBIG, reported
  // like a full disk, rather than kill nclc.
  std::signal(SIGXFSZ, SIG_IGN);
  // MLIR's pass-manager, context and printer options (--mlir-print-ir-after-all,
  // --mlir-timing, ...) work as in mlir-opt. They, and LLVM's own options
  // (backends, passes), stay available but are listed only by --help-hidden.
  mlir::registerPassManagerCLOptions();
  mlir::registerDefaultTimingManagerCLOptions();
  mlir::registerMLIRContextCLOptions();
  mlir::registerAsmPrinterCLOptions();
  for (auto &entry : cl::getRegisteredOptions()) {
    cl::Option *option = entry.second;
    bool shown = llvm::any_of(option->Categories, [](cl::OptionCategory *c) {
      return c == &nclOptions || c->getName() == "Generic Options"; // --help, --version
    });
    if (!shown && option->getOptionHiddenFlag() == cl::NotHidden)
      option->setHiddenFlag(cl::Hidden);
  }
  cl::SetVersionPrinter([](llvm::raw_ostream &os) {
    os << "nclc (NCL) " << NCL_VERSION_STRING << "\n  LLVM " << LLVM_VERSION_STRING
       << "\n  model library ABI " << NCL_ABI_VERSION << "\n";
  });
  cl::ParseCommandLineOptions(
      argc, argv,
      "nclc: the NCL compiler\n\n"
      "  nclc model.ncl -o model.so       compile a network into a library\n"
      "  nclc model.ncl --explain -o m.so say how each neuron is integrated\n"
      "  nclc model.ncl --emit=mlir       print the ncl dialect\n"
      "  ncl-run model.so --out results/  run it (see ncl-run --help)\n");
  // Sema and MLIRGen recurse once per level of the deepest expression.
  const bool printStartUp = timePhases; // lld resets the options
  int status = 1;
  ncl::runOnLargeStack([&] { status = compile(argv[0]); });
  if (printStartUp)
    llvm::errs() << llvm::format("nclc: start-up before main (dynamic loading, static "
                                 "initialisers): %.4f s CPU\n",
                                 startUp);
  return status;
}
