//===- Compile.cpp - One compile, from a .ncl file to a library ----------===//
//
// The body of nclc (and of ncl/compiler.h's compile calls): parse, check,
// emit the ncl dialect, run the ncl-to-llvm pipeline, and write a shared
// library with the ncl_model descriptor, or print a stage. Messages are
// printed as nclc always printed them and handed to the caller as records.
//
//===----------------------------------------------------------------------===//
#include "ncl/Compiler/Compile.h"
#include "ncl/Compiler/CPUTarget.h"
#include "ncl/Compiler/CUDATarget.h"
#include "ncl/Compiler/MLIRGen.h"
#include "ncl/Compiler/Pipeline.h"
#include "ncl/DSL/Frontend.h"
#include "ncl/Dialect/Ncl/IR/NclOps.h"
#include "ncl/Dialect/Ncl/Transforms/Passes.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/Timing.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/Timer.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <sstream>

using namespace ncl;

namespace {

//===----------------------------------------------------------------------===//
// Messages as records
//===----------------------------------------------------------------------===//

CompileDiagnostic::Severity severityOf(DiagnosticEngine::Severity severity) {
  switch (severity) {
  case DiagnosticEngine::Severity::Error:
    return CompileDiagnostic::Severity::Error;
  case DiagnosticEngine::Severity::Warning:
    return CompileDiagnostic::Severity::Warning;
  case DiagnosticEngine::Severity::Note:
    return CompileDiagnostic::Severity::Note;
  }
  return CompileDiagnostic::Severity::Error;
}

CompileDiagnostic::Severity severityOf(mlir::DiagnosticSeverity severity) {
  switch (severity) {
  case mlir::DiagnosticSeverity::Error:
    return CompileDiagnostic::Severity::Error;
  case mlir::DiagnosticSeverity::Warning:
    return CompileDiagnostic::Severity::Warning;
  case mlir::DiagnosticSeverity::Note:
    return CompileDiagnostic::Severity::Note;
  case mlir::DiagnosticSeverity::Remark:
    return CompileDiagnostic::Severity::Remark;
  }
  return CompileDiagnostic::Severity::Error;
}

CompileDiagnostic recordOf(DiagnosticEngine::Severity severity, const SourceLoc &loc,
                           const std::string &message) {
  CompileDiagnostic record;
  record.severity = severityOf(severity);
  if (loc.isValid()) {
    record.file = loc.file ? *loc.file : "";
    record.line = loc.line;
    record.column = loc.column;
  }
  record.message = message;
  return record;
}

/// An MLIR message's place: the user's line the generated op came from
/// (MLIRGen gives every op the location of the source it stands for).
CompileDiagnostic recordOf(mlir::Location loc, mlir::DiagnosticSeverity severity,
                           const std::string &message) {
  CompileDiagnostic record;
  record.severity = severityOf(severity);
  if (auto place = loc->findInstanceOf<mlir::FileLineColLoc>()) {
    record.file = place.getFilename().str();
    record.line = place.getLine();
    record.column = place.getColumn();
  }
  record.message = message;
  return record;
}

/// One compile's state shared by its stages: the request, where messages
/// go, and the MLIR context.
class Compilation {
public:
  Compilation(const CompileRequest &request, CompileDiagnosticSinks &sinks)
      : request(request), sinks(sinks) {}

  int run(std::vector<std::string> *dependencies);

private:
  /// A message with no place (an output that cannot be written), as
  /// `nclc: error: ...`; returns `status`.
  int fail(const std::string &message, int status = 1, const char *kind = "error") {
    sinks.irText << request.toolName << ": " << kind << ": " << message << "\n";
    if (sinks.record)
      sinks.record({CompileDiagnostic::Severity::Error, "", 0, 0, message});
    return status;
  }
  /// Records the front end's messages too (it prints them itself).
  void observe(DiagnosticEngine &diags) {
    if (sinks.record)
      diags.setObserver(
          [this](DiagnosticEngine::Severity severity, const SourceLoc &loc,
                 const std::string &message) { sinks.record(recordOf(severity, loc, message)); });
  }
  std::unique_ptr<ast::Module> load(DiagnosticEngine &diags) {
    if (request.source)
      return loadModuleFromSource(request.input, *request.source, request.imports, diags);
    return loadModule(request.input, request.imports, diags);
  }
  int finishPrinting();
  int writeDepFile(const std::vector<std::string> &sources);
  int lowerAndEmit(mlir::ModuleOp ir);
  int compileIR(llvm::SourceMgr &sourceMgr);

  const CompileRequest &request;
  CompileDiagnosticSinks &sinks;
  std::unique_ptr<mlir::MLIRContext> context;
  /// --target=cuda|all (or --emit=ptx): the GPU images to build.
  std::optional<CUDAOptions> cudaTarget;
};

/// --time-phases: times the phase named last until the next one starts (or
/// the timer is destroyed); the timers print when the process exits.
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

} // namespace

//===----------------------------------------------------------------------===//
// --explain
//===----------------------------------------------------------------------===//

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

//===----------------------------------------------------------------------===//
// Outputs
//===----------------------------------------------------------------------===//

/// The status after printing a stage: a failed write to stdout (a full
/// disk, /dev/full) is an error, not a silent success or LLVM's fatal "IO
/// failure" at exit.
int Compilation::finishPrinting() {
  std::cout.flush();
  llvm::outs().flush();
  std::error_code ec = llvm::outs().error();
  if (!std::cout)
    ec = std::make_error_code(std::errc::io_error);
  if (!ec)
    return 0;
  llvm::outs().clear_error();
  return fail("cannot write the output: " + ec.message());
}

/// `target: source import...` for make and ninja (spaces escaped), so that
/// a build system recompiles a model when any file it imports changes.
int Compilation::writeDepFile(const std::vector<std::string> &sources) {
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
  llvm::raw_fd_ostream os(request.depFile, ec, llvm::sys::fs::OF_Text);
  if (!ec) {
    os << escaped(request.output) << ":";
    for (const std::string &source : sources)
      os << " \\\n  " << escaped(source);
    os << "\n";
    os.close();
    ec = os.error();
  }
  if (!ec)
    return 0;
  os.clear_error();
  return fail("cannot write the dependency file '" + request.depFile + "': " + ec.message());
}

//===----------------------------------------------------------------------===//
// Lowering
//===----------------------------------------------------------------------===//

/// Runs the pipeline on `ir` (generated or read) and prints the stage asked
/// for or writes the library.
int Compilation::lowerAndEmit(mlir::ModuleOp ir) {
  const EmitStage stage = request.stage;
  GPUModule gpu;
  if (cudaTarget &&
      (stage == EmitStage::Library || stage == EmitStage::Ptx || stage == EmitStage::Llvm)) {
    // The kernels both targets start from, lowered once.
    mlir::PassManager shared(context.get());
    if (request.passManagerCommandLine) {
      if (mlir::failed(mlir::applyPassManagerCLOptions(shared)))
        return 1;
      mlir::applyDefaultTimingPassManagerCLOptions(shared);
    }
    ncl::buildNclKernelsPipeline(shared, request.fuse);
    {
      PhaseTimer timer(request.timePhases);
      timer.start("kernels", "MLIR: the kernels both targets start from");
      if (mlir::failed(shared.run(ir)))
        return 1;
    }
    std::string error;
    if (!ncl::compileGPUModule(ir, *cudaTarget, request.fuse, gpu, error, request.timePhases))
      return error.empty() ? 1 : fail(error);
    if (stage == EmitStage::Ptx) {
      if (!gpu.waitForImages(error))
        return fail(error);
      llvm::outs() << gpu.images.front().data;
      return finishPrinting();
    }
  }
  PhaseTimer timer(request.timePhases);
  timer.start("pipeline", "MLIR pipeline (ncl to the LLVM dialect)");
  mlir::PassManager pm(context.get());
  // --mlir-print-ir-after-all, --mlir-timing and the other pass-manager options.
  if (request.passManagerCommandLine) {
    if (mlir::failed(mlir::applyPassManagerCLOptions(pm)))
      return 1;
    mlir::applyDefaultTimingPassManagerCLOptions(pm);
  }
  if (stage == EmitStage::MlirLoops)
    ncl::buildNclToLoopsPipeline(pm, request.fuse);
  else
    ncl::buildNclToLLVMPipeline(pm, request.fuse);
  if (mlir::failed(pm.run(ir)))
    return 1;
  timer.stop();
  if (stage == EmitStage::MlirLoops || stage == EmitStage::MlirLowered) {
    ir.print(llvm::outs());
    return finishPrinting();
  }
  std::string error;
  if (!ncl::emitSharedLibrary(ir, request.output, error,
                              stage == EmitStage::Llvm ? &llvm::outs() : nullptr, request.threads,
                              request.timePhases, cudaTarget ? &gpu : nullptr))
    return fail(error);
  return stage == EmitStage::Llvm ? finishPrinting() : 0;
}

/// `nclc m.mlir`: the ncl dialect (with its network) at any stage before
/// LLVM, e.g. what `--emit=mlir` printed. Every pass of the pipeline leaves
/// what an earlier run already lowered as it is, so the same pipeline runs
/// from any stage and gives the same library.
int Compilation::compileIR(llvm::SourceMgr &sourceMgr) {
  if (sourceMgr.getNumBuffers() == 0)
    return fail("cannot read '" + request.input + "'");
  mlir::OwningOpRef<mlir::ModuleOp> ir =
      mlir::parseSourceFile<mlir::ModuleOp>(sourceMgr, context.get());
  if (!ir)
    return 1;
  if (ir->getOps<mlir::ncl::NetworkOp>().empty())
    return fail("'" + request.input + "' holds no ncl.network to compile");
  if (request.checkOnly)
    return 0;
  if (request.stage == EmitStage::Ast)
    return fail("--emit=ast needs a .ncl input", 2);
  if (request.stage == EmitStage::Mlir) {
    ir->print(llvm::outs());
    return finishPrinting();
  }
  return lowerAndEmit(*ir);
}

//===----------------------------------------------------------------------===//
// The compile
//===----------------------------------------------------------------------===//

int Compilation::run(std::vector<std::string> *dependencies) {
  const std::string &input = request.input;
  const std::string &output = request.output;
  const EmitStage stage = request.stage;
  PhaseTimer timer(request.timePhases);

  if (request.target != "cpu" && request.target != "cuda" && request.target != "all")
    return fail("--target must be cpu, cuda or all, not '" + request.target + "'");
  if (request.gpuEmulation && request.target == "cpu")
    return fail("--gpu-emulation compiles the GPU kernels for the host: it needs --target=cuda "
                "or --target=all");
  if (request.target != "cpu" || stage == EmitStage::Ptx || request.gpuArchsGiven) {
    std::string error;
    CUDAOptions options;
    options.toolkit = cudaToolkitPath();
    options.cubin = stage != EmitStage::Ptx; // --emit=ptx prints PTX only
    options.emulation = request.gpuEmulation;
    if (!parseGPUArchs(request.gpuArchs.empty() ? kDefaultGPUArchs : request.gpuArchs,
                       options.archs, error))
      return fail(error);
    if (request.target != "cpu" || stage == EmitStage::Ptx)
      cudaTarget = std::move(options);
  }

  // Writing the library over the source would lose the model.
  if (!request.source && !output.empty() && llvm::sys::fs::exists(output) &&
      llvm::sys::fs::equivalent(input, output))
    return fail("the output '" + output + "' is the input file; choose another -o", 2);

  timer.start("context", "MLIR context and dialects");
  mlir::DialectRegistry registry;
  ncl::registerNclDialects(registry);
  context = std::make_unique<mlir::MLIRContext>(registry);
  context->loadAllAvailableDialects();
  // Diagnostics from passes point into the user's file (read once it has
  // passed the front end's checks, which refuse an endless one).
  llvm::SourceMgr sourceMgr;
  mlir::SourceMgrDiagnosticHandler handler(sourceMgr, context.get(), sinks.irText);
  auto addSource = [&] {
    if (request.source)
      sourceMgr.AddNewSourceBuffer(llvm::MemoryBuffer::getMemBufferCopy(*request.source, input),
                                   llvm::SMLoc());
    else if (auto buffer = llvm::MemoryBuffer::getFile(input))
      sourceMgr.AddNewSourceBuffer(std::move(*buffer), llvm::SMLoc());
  };
  // Handlers run newest first: remarks not asked for are dropped, then each
  // message is recorded, then printed.
  if (sinks.record)
    context->getDiagEngine().registerHandler([this](mlir::Diagnostic &d) {
      sinks.record(recordOf(d.getLocation(), d.getSeverity(), d.str()));
      for (const mlir::Diagnostic &note : d.getNotes())
        sinks.record(recordOf(note.getLocation(), note.getSeverity(), note.str()));
      return mlir::failure();
    });
  bool showRemarks = request.remarks || request.explain;
  context->getDiagEngine().registerHandler([&showRemarks](mlir::Diagnostic &d) {
    return mlir::success(d.getSeverity() == mlir::DiagnosticSeverity::Remark && !showRemarks);
  });

  // IR at any stage before LLVM compiles like the model it came from.
  if (!request.source && llvm::StringRef(input).ends_with(".mlir")) {
    addSource();
    timer.stop();
    return compileIR(sourceMgr);
  }

  timer.start("parse", "Parsing the model and its imports");
  ncl::DiagnosticEngine diags(sinks.text);
  observe(diags);
  std::unique_ptr<ncl::ast::Module> module = load(diags);
  if (dependencies)
    *dependencies = diags.files();
  if (!module)
    return 1;
  if (stage == EmitStage::Ast) {
    ncl::ast::dump(*module, std::cout);
    return finishPrinting();
  }
  // --check also accepts a file of neurons without a network (a library).
  // A network is also generated and integrated: the choices ncl-integrate
  // makes (a method that cannot apply) are the user's errors too.
  if (request.checkOnly) {
    if (!ncl::analyzeModule(*module, diags))
      return 1;
    addSource();
    context->printOpOnDiagnostic(false);
    for (const ncl::ast::NetworkDecl &decl : module->networks) {
      // Sema annotates the tree it checks: each network gets a fresh one,
      // whose warnings were reported above (so its messages are shown
      // only if it fails).
      std::ostringstream again;
      std::vector<CompileDiagnostic> againRecords;
      ncl::DiagnosticEngine quiet(again);
      quiet.setObserver([&againRecords](DiagnosticEngine::Severity severity, const SourceLoc &loc,
                                        const std::string &message) {
        againRecords.push_back(recordOf(severity, loc, message));
      });
      std::unique_ptr<ncl::ast::Module> fresh = load(quiet);
      ncl::NetworkModel net;
      if (!fresh || !ncl::analyze(*fresh, quiet, net, decl.name)) {
        sinks.text << again.str();
        if (sinks.record)
          for (const CompileDiagnostic &record : againRecords)
            sinks.record(record);
        return 1;
      }
      ncl::CodegenOptions options;
      options.realBits = request.realBits;
      mlir::OwningOpRef<mlir::ModuleOp> ir = ncl::mlirGen(*context, net, options);
      if (!ir)
        return 1;
      mlir::PassManager pm(context.get());
      pm.addPass(mlir::ncl::createNclIntegrate());
      if (mlir::failed(pm.run(*ir)))
        return 1;
    }
    return 0;
  }
  timer.start("sema", "Semantic analysis");
  ncl::NetworkModel net;
  if (!ncl::analyze(*module, diags, net, request.network))
    return 1;

  addSource();
  // Messages point at the user's line; the IR behind them is for ncl-opt.
  context->printOpOnDiagnostic(false);

  timer.start("mlirgen", "MLIRGen and verifier");
  ncl::CodegenOptions options;
  options.realBits = request.realBits;
  mlir::OwningOpRef<mlir::ModuleOp> ir = ncl::mlirGen(*context, net, options);
  if (!ir)
    return 1; // what the network uses that nclc cannot compile yet, reported at its line
  if (mlir::failed(mlir::verify(*ir)))
    return fail("generated IR does not verify", 1, "internal error");
  if (stage == EmitStage::Mlir) {
    ir->print(llvm::outs());
    return finishPrinting();
  }
  if (showRemarks) {
    if (mlir::failed(explainIntegration(*context, *ir, net)))
      return 1;
    // --explain alone explains; with -o (or -v, or --emit) it also compiles.
    if (request.explainOnly)
      return 0;
    showRemarks = false; // each choice was explained once, above
  }
  timer.stop();
  int status = lowerAndEmit(*ir);
  if (status == 0 && !request.depFile.empty())
    status = writeDepFile(diags.files());
  return status;
}

int ncl::compile(const CompileRequest &request, CompileDiagnosticSinks &sinks,
                 std::vector<std::string> *dependencies) {
  return Compilation(request, sinks).run(dependencies);
}
