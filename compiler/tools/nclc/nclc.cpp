//===- nclc.cpp - The NCL compiler driver ---------------------------------===//
//
// nclc model.ncl -o model.so: parse, check, emit the ncl dialect, run the
// ncl-to-llvm pipeline, and write a shared library with the ncl_model
// descriptor. --emit stops after a stage and prints it; --check stops after
// semantic analysis.
//
//===----------------------------------------------------------------------===//
#include "ncl/Compiler/CPUTarget.h"
#include "ncl/Compiler/CUDATarget.h"
#include "ncl/Compiler/MLIRGen.h"
#include "ncl/Compiler/Pipeline.h"
#include "ncl/DSL/Frontend.h"
#include "ncl/Dialect/Ncl/IR/NclOps.h"
#include "ncl/Dialect/Ncl/Transforms/Passes.h"
#include "ncl/model_abi.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/Timing.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/Timer.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <optional>
#include <sstream>
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
enum class Emit { Library, Ast, Mlir, MlirLoops, MlirLowered, Llvm, Ptx };
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

/// Prints ncl-integrate's choices (its remarks) once per neuron model and
/// integration method, naming the populations that share them: the pass runs
/// on a copy of the first such population; then, for each projection whose
/// synapse has dynamics, whether they are event- or clock-driven and how
/// they are integrated.
static mlir::LogicalResult explainIntegration(mlir::MLIRContext &context, mlir::ModuleOp module,
                                              const ncl::NetworkModel &net) {
  struct Group {
    const ncl::PopulationModel *first;
    std::vector<std::string> populations;
  };
  auto location = [&](const ncl::SourceLoc &at) -> mlir::Location {
    return mlir::FileLineColLoc::get(&context, at.file ? *at.file : "<unknown>", at.line,
                                     at.column);
  };
  std::vector<Group> groups;
  for (const ncl::PopulationModel &pop : net.populations) {
    if (pop.spikeGenerator)
      continue; // its spikes come from files: nothing is integrated
    auto same = [&](const Group &g) {
      return g.first->neuron == pop.neuron && g.first->method == pop.method &&
             g.first->substeps == pop.substeps;
    };
    auto it = std::find_if(groups.begin(), groups.end(), same);
    if (it == groups.end())
      groups.push_back({&pop, {}}), it = groups.end() - 1;
    it->populations.push_back(pop.decl->name);
  }
  for (const Group &group : groups) {
    const ncl::ast::NeuronDecl &neuron = *group.first->neuron;
    mlir::ncl::PopulationOp pop;
    module.walk([&](mlir::ncl::PopulationOp op) {
      if (op.getSymName() == group.first->decl->name)
        pop = op;
    });
    if (!pop)
      continue;
    std::string populations;
    for (const std::string &name : group.populations)
      populations += (populations.empty() ? "" : ", ") + name;
    mlir::emitRemark(
        location(group.first->decl->method.empty() ? neuron.loc : group.first->decl->methodLoc))
        << "neuron '" << neuron.name << "' in population"
        << (group.populations.size() > 1 ? "s " : " ") << populations << ":";
    if (!neuron.update.empty()) {
      // Set by MLIRGen: which dt the difference equations hold at.
      bool fixedStep = static_cast<bool>(pop.getMinDtAttr());
      char dt[32];
      std::snprintf(dt, sizeof dt, "%g", net.dt);
      mlir::emitRemark(location(neuron.updateLoc))
          << "update: difference equations, integrated by nothing; they "
          << (fixedStep ? "do not read dt, so the runtime accepts only dt = "
                        : "scale with dt, so the runtime accepts dt <= ")
          << dt << " s";
    }
    if (neuron.odes.empty())
      continue;
    // The pass runs on a module holding the network with this population alone.
    auto copy = mlir::OwningOpRef<mlir::ModuleOp>(mlir::ModuleOp::create(module.getLoc()));
    auto network = llvm::cast<mlir::ncl::NetworkOp>(pop->getParentOp());
    mlir::OpBuilder builder(copy->getBodyRegion());
    auto shell = llvm::cast<mlir::ncl::NetworkOp>(builder.cloneWithoutRegions(*network));
    shell.getBody().emplaceBlock().push_back(pop->clone());
    mlir::PassManager pm(&context);
    pm.addPass(mlir::ncl::createNclIntegrate());
    if (mlir::failed(pm.run(*copy)))
      return mlir::failure();
  }
  // A projection's synapse dynamics: the pass runs on a copy holding the
  // projection and its endpoints (without their programs, so that only
  // the synapse's choices are reported).
  for (const ncl::ProjectionModel &projection : net.projections) {
    if (projection.synapse->odes.empty())
      continue;
    mlir::ncl::ProjectionOp proj;
    module.walk([&](mlir::ncl::ProjectionOp op) {
      if (op.getSymName() == projection.decl->name)
        proj = op;
    });
    if (!proj)
      continue;
    mlir::emitRemark(location(projection.decl->method.empty() ? projection.decl->loc
                                                              : projection.decl->methodLoc))
        << "synapse '" << projection.synapse->name << "' in projection '" << projection.decl->name
        << "':";
    auto copy = mlir::OwningOpRef<mlir::ModuleOp>(mlir::ModuleOp::create(module.getLoc()));
    auto network = llvm::cast<mlir::ncl::NetworkOp>(proj->getParentOp());
    mlir::OpBuilder builder(copy->getBodyRegion());
    auto shell = llvm::cast<mlir::ncl::NetworkOp>(builder.cloneWithoutRegions(*network));
    mlir::Block &body = shell.getBody().emplaceBlock();
    builder.setInsertionPointToEnd(&body);
    network.walk([&](mlir::ncl::PopulationOp pop) {
      if (pop.getSymName() == net.populations[projection.pre].decl->name ||
          pop.getSymName() == net.populations[projection.post].decl->name)
        builder.cloneWithoutRegions(*pop.getOperation());
    });
    builder.clone(*proj.getOperation());
    // Its monitors: a recorded variable is advanced every step.
    network.walk([&](mlir::ncl::MonitorOp monitor) {
      if (monitor.getPopulation() == proj.getSymName())
        builder.clone(*monitor.getOperation());
    });
    mlir::PassManager pm(&context);
    pm.addPass(mlir::ncl::createNclIntegrate());
    if (mlir::failed(pm.run(*copy)))
      return mlir::failure();
  }
  return mlir::success();
}

/// --time-phases: times the phase named last until the next one starts (or
/// the timer is destroyed); the timers print when nclc exits.
class PhaseTimer {
public:
  explicit PhaseTimer(bool enabled) : enabled(enabled) {}
  void start(llvm::StringRef name, llvm::StringRef description) {
    timer.reset();
    timer = std::make_unique<llvm::NamedRegionTimer>(name, description, ncl::kPhaseTimerGroup,
                                                     ncl::kPhaseTimerGroupDescription, enabled);
  }
  void stop() { timer.reset(); }

private:
  bool enabled;
  std::unique_ptr<llvm::NamedRegionTimer> timer;
};

/// The exit status after printing a stage (--emit): a failed write to
/// stdout (a full disk, /dev/full) is an error, not a silent success or
/// LLVM's fatal "IO failure" at exit.
static int finishPrinting() {
  std::cout.flush();
  llvm::outs().flush();
  std::error_code ec = llvm::outs().error();
  if (!std::cout)
    ec = std::make_error_code(std::errc::io_error);
  if (!ec)
    return 0;
  llvm::outs().clear_error();
  llvm::errs() << "nclc: error: cannot write the output: " << ec.message() << "\n";
  return 1;
}

/// `target: source import...` for make and ninja (spaces escaped), so that
/// a build system recompiles a model when any file it imports changes.
static int writeDepFile(const std::string &path, const std::string &target,
                        const std::vector<std::string> &sources) {
  auto escaped = [](const std::string &path) {
    std::string out;
    for (char c : path) {
      if (c == ' ' || c == '#')
        out += '\\';
      if (c == '$')
        out += '$';
      out += c;
    }
    return out;
  };
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec, llvm::sys::fs::OF_Text);
  if (!ec) {
    os << escaped(target) << ":";
    for (const std::string &source : sources)
      os << " \\\n  " << escaped(source);
    os << "\n";
    os.close();
    ec = os.error();
  }
  if (!ec)
    return 0;
  os.clear_error();
  llvm::errs() << "nclc: error: cannot write the dependency file '" << path << "': " << ec.message()
               << "\n";
  return 1;
}

/// --target=cuda|all (or --emit=ptx): the GPU images, set by compile().
static std::optional<ncl::CUDAOptions> cudaTarget;

/// Runs the pipeline on `ir` (generated or read) and prints the stage asked
/// for or writes the library; returns the exit status.
static int lowerAndEmit(mlir::MLIRContext &context, mlir::ModuleOp ir, Emit stage,
                        const std::string &output, unsigned threads, bool timed) {
  ncl::GPUModule gpu;
  if (cudaTarget && (stage == Emit::Library || stage == Emit::Ptx || stage == Emit::Llvm)) {
    std::string error;
    if (!ncl::compileGPUModule(ir, *cudaTarget, !noFuse, gpu, error, timed)) {
      if (!error.empty())
        llvm::errs() << "nclc: error: " << error << "\n";
      return 1;
    }
    if (stage == Emit::Ptx) {
      llvm::outs() << gpu.images.front().data;
      return finishPrinting();
    }
  }
  PhaseTimer timer(timed);
  timer.start("pipeline", "MLIR pipeline (ncl to the LLVM dialect)");
  mlir::PassManager pm(&context);
  // --mlir-print-ir-after-all, --mlir-timing and the other pass-manager options.
  if (mlir::failed(mlir::applyPassManagerCLOptions(pm)))
    return 1;
  mlir::applyDefaultTimingPassManagerCLOptions(pm);
  if (stage == Emit::MlirLoops)
    ncl::buildNclToLoopsPipeline(pm, !noFuse);
  else
    ncl::buildNclToLLVMPipeline(pm, !noFuse);
  if (mlir::failed(pm.run(ir)))
    return 1;
  timer.stop();
  if (stage == Emit::MlirLoops || stage == Emit::MlirLowered) {
    ir.print(llvm::outs());
    return finishPrinting();
  }
  std::string error;
  if (!ncl::emitSharedLibrary(ir, output, error, stage == Emit::Llvm ? &llvm::outs() : nullptr,
                              threads, timed, cudaTarget ? &gpu : nullptr)) {
    llvm::errs() << "nclc: error: " << error << "\n";
    return 1;
  }
  return stage == Emit::Llvm ? finishPrinting() : 0;
}

/// `nclc m.mlir`: the ncl dialect (with its network) at any stage before
/// LLVM, e.g. what `--emit=mlir` printed. Every pass of the pipeline leaves
/// what an earlier run already lowered as it is, so the same pipeline runs
/// from any stage and gives the same library.
static int compileIR(mlir::MLIRContext &context, llvm::SourceMgr &sourceMgr, Emit stage, bool check,
                     const std::string &output, unsigned threads, bool timed) {
  if (sourceMgr.getNumBuffers() == 0) {
    llvm::errs() << "nclc: error: cannot read '" << inputFile << "'\n";
    return 1;
  }
  mlir::OwningOpRef<mlir::ModuleOp> ir = mlir::parseSourceFile<mlir::ModuleOp>(sourceMgr, &context);
  if (!ir)
    return 1;
  if (ir->getOps<mlir::ncl::NetworkOp>().empty()) {
    llvm::errs() << "nclc: error: '" << inputFile << "' holds no ncl.network to compile\n";
    return 1;
  }
  if (check)
    return 0;
  if (stage == Emit::Ast) {
    llvm::errs() << "nclc: error: --emit=ast needs a .ncl input\n";
    return 2;
  }
  if (stage == Emit::Mlir) {
    ir->print(llvm::outs());
    return finishPrinting();
  }
  return lowerAndEmit(context, *ir, stage, output, threads, timed);
}

/// Everything after option parsing; returns the exit status.
static int compile(const char *argv0) {
  // lld resets cl::opt values when it runs: copy them first.
  const std::string input = inputFile, network = networkName, prec = precision;
  std::string output = outputFile;
  const Emit stage = emit;
  const bool check = checkOnly;
  const unsigned threads = jobs;
  const bool timed = timePhases;
  PhaseTimer timer(timed);
  ncl::ImportOptions importOptions;
  importOptions.includeDirs.assign(includeDirs.begin(), includeDirs.end());
  importOptions.libraryDirs = libraryDirs(argv0);

  if (prec != "f32" && prec != "f64") {
    llvm::errs() << "nclc: error: --precision must be f32 or f64, not '" << prec << "'\n";
    return 2;
  }
  if (target != "cpu" && target != "cuda" && target != "all") {
    llvm::errs() << "nclc: error: --target must be cpu, cuda or all, not '" << target << "'\n";
    return 1;
  }
  if (target != "cpu" || stage == Emit::Ptx || gpuArch.getNumOccurrences()) {
    std::string error;
    ncl::CUDAOptions options;
    options.toolkit = ncl::cudaToolkitPath();
    options.cubin = stage != Emit::Ptx; // --emit=ptx prints PTX only
    if (!ncl::parseGPUArchs(gpuArch, options.archs, error)) {
      llvm::errs() << "nclc: error: " << error << "\n";
      return 1;
    }
    if (target != "cpu" || stage == Emit::Ptx)
      cudaTarget = std::move(options);
  }
  if (stage == Emit::Library && !check && output.empty()) {
    llvm::StringRef stem = llvm::StringRef(input).rsplit('/').second;
    if (stem.empty())
      stem = input;
    if (stem.ends_with(".ncl"))
      stem = stem.drop_back(4);
    else if (stem.ends_with(".mlir"))
      stem = stem.drop_back(5);
    output = stem.str() + ".so";
  }

  // Writing the library over the source would lose the model.
  if (!output.empty() && llvm::sys::fs::exists(output) &&
      llvm::sys::fs::equivalent(input, output)) {
    llvm::errs() << "nclc: error: the output '" << output
                 << "' is the input file; choose another -o\n";
    return 2;
  }

  timer.start("context", "MLIR context and dialects");
  mlir::DialectRegistry registry;
  ncl::registerNclDialects(registry);
  mlir::MLIRContext context(registry);
  context.loadAllAvailableDialects();
  // Diagnostics from passes point into the user's file (read once it has
  // passed the front end's checks, which refuse an endless one).
  llvm::SourceMgr sourceMgr;
  mlir::SourceMgrDiagnosticHandler handler(sourceMgr, &context);
  auto addSource = [&] {
    if (auto buffer = llvm::MemoryBuffer::getFile(input))
      sourceMgr.AddNewSourceBuffer(std::move(*buffer), llvm::SMLoc());
  };
  bool showRemarks = verbose || explain;
  context.getDiagEngine().registerHandler([&showRemarks](mlir::Diagnostic &d) {
    return mlir::success(d.getSeverity() == mlir::DiagnosticSeverity::Remark && !showRemarks);
  });

  // IR at any stage before LLVM compiles like the model it came from.
  if (llvm::StringRef(input).ends_with(".mlir")) {
    addSource();
    timer.stop();
    return compileIR(context, sourceMgr, stage, check, output, threads, timed);
  }

  timer.start("parse", "Parsing the model and its imports");
  ncl::DiagnosticEngine diags(std::cerr);
  std::unique_ptr<ncl::ast::Module> module = ncl::loadModule(input, importOptions, diags);
  if (!module)
    return 1;
  if (stage == Emit::Ast) {
    ncl::ast::dump(*module, std::cout);
    return finishPrinting();
  }
  // --check also accepts a file of neurons without a network (a library).
  // A network is also generated and integrated: the choices ncl-integrate
  // makes (a method that cannot apply) are the user's errors too.
  if (check) {
    if (!ncl::analyzeModule(*module, diags))
      return 1;
    addSource();
    context.printOpOnDiagnostic(false);
    for (const ncl::ast::NetworkDecl &decl : module->networks) {
      // Sema annotates the tree it checks: each network gets a fresh one,
      // whose warnings were reported above.
      std::ostringstream again;
      ncl::DiagnosticEngine quiet(again);
      std::unique_ptr<ncl::ast::Module> fresh = ncl::loadModule(input, importOptions, quiet);
      ncl::NetworkModel net;
      if (!fresh || !ncl::analyze(*fresh, quiet, net, decl.name)) {
        std::cerr << again.str();
        return 1;
      }
      ncl::CodegenOptions options;
      options.realBits = prec == "f32" ? 32 : 64;
      mlir::OwningOpRef<mlir::ModuleOp> ir = ncl::mlirGen(context, net, options);
      if (!ir)
        return 1;
      mlir::PassManager pm(&context);
      pm.addPass(mlir::ncl::createNclIntegrate());
      if (mlir::failed(pm.run(*ir)))
        return 1;
    }
    return 0;
  }
  timer.start("sema", "Semantic analysis");
  ncl::NetworkModel net;
  if (!ncl::analyze(*module, diags, net, network))
    return 1;

  addSource();
  // Messages point at the user's line; the IR behind them is for ncl-opt.
  context.printOpOnDiagnostic(false);

  timer.start("mlirgen", "MLIRGen and verifier");
  ncl::CodegenOptions options;
  options.realBits = prec == "f32" ? 32 : 64;
  mlir::OwningOpRef<mlir::ModuleOp> ir = ncl::mlirGen(context, net, options);
  if (!ir)
    return 1; // what the network uses that nclc cannot compile yet, reported at its line
  if (mlir::failed(mlir::verify(*ir))) {
    llvm::errs() << "nclc: internal error: generated IR does not verify\n";
    return 1;
  }
  if (stage == Emit::Mlir) {
    ir->print(llvm::outs());
    return finishPrinting();
  }
  if (showRemarks) {
    if (mlir::failed(explainIntegration(context, *ir, net)))
      return 1;
    // --explain alone explains; with -o (or -v, or --emit) it also compiles.
    if (explain && !verbose && stage == Emit::Library && outputFile.empty())
      return 0;
    showRemarks = false; // each choice was explained once, above
  }
  timer.stop();
  // Read before linking: lld resets the command-line options.
  const std::string dependencies = depFile;
  int status = lowerAndEmit(context, *ir, stage, output, threads, timed);
  if (status == 0 && !dependencies.empty())
    status = writeDepFile(dependencies, output, diags.files());
  return status;
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
