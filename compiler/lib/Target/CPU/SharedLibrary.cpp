//===- SharedLibrary.cpp - LLVM dialect to a loadable shared library ------===//
//
// Three steps: (1) translate the module and wrap each lowered kernel in a
// `void(ncl_kernel_args *)` entry point, expanding memref descriptors from
// the argument struct; (2) add the `ncl_model` descriptor as constant data;
// (3) optimise at O3 for the host CPU, emit an object and link it with lld,
// in memory, then write the library with checked writes.
//
//===----------------------------------------------------------------------===//
#include "ncl/Compiler/CPUTarget.h"
#include "ncl/Support/DimensionABI.h"
#include "ncl/model_abi.h"

#include "mlir/Target/LLVMIR/Export.h"

#include "lld/Common/Driver.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/Verifier.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/SubtargetFeature.h"

#include <cctype>
#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <limits>
#include <map>
#include <pthread.h>
#include <thread>
#include <unistd.h>

LLD_HAS_DRIVER(elf)

using namespace ncl;

#ifndef NCL_VERSION_STRING
#define NCL_VERSION_STRING "unknown"
#endif

namespace {

class LibraryBuilder {
public:
  LibraryBuilder(llvm::Module &m) : m(m), ctx(m.getContext()), b(ctx) {
    ptr = llvm::PointerType::getUnqual(ctx);
    i8 = b.getInt8Ty();
    i32 = b.getInt32Ty();
    i64 = b.getInt64Ty();
    f64 = b.getDoubleTy();
    // Must match ncl_kernel_args field for field.
    argsType = llvm::StructType::create(
        ctx, {ptr, ptr, ptr, i64, i64, i64, i64, i64, ptr, ptr, i64, i64, i64, i64, ptr, f64},
        "ncl_kernel_args");
  }

  /// Wraps `ncl_<pop>_<kind>` into `ncl_<pop>_<kind>_entry(ncl_kernel_args *)`.
  llvm::Function *entryPoint(const std::string &name, bool update, size_t numVars,
                             size_t numParams, std::string &error) {
    llvm::Function *impl = m.getFunction(name);
    if (!impl) {
      error = "internal error: kernel '" + name + "' was not generated";
      return nullptr;
    }
    impl->setLinkage(llvm::GlobalValue::InternalLinkage);
    auto *fnType = llvm::FunctionType::get(b.getVoidTy(), {ptr}, false);
    auto *entry = llvm::Function::Create(fnType, llvm::GlobalValue::InternalLinkage, name + "_entry", m);
    b.SetInsertPoint(llvm::BasicBlock::Create(ctx, "entry", entry));
    llvm::Value *args = entry->getArg(0);
    auto field = [&](unsigned i, llvm::Type *t) {
      return b.CreateLoad(t, b.CreateStructGEP(argsType, args, i));
    };
    llvm::SmallVector<llvm::Value *> call;
    auto memref = [&](llvm::Value *base, llvm::Value *size) {
      call.append({base, base, b.getInt64(0), size, b.getInt64(1)});
    };
    llvm::Value *begin = field(3, i64), *end = field(4, i64);
    memref(field(0, ptr), b.getInt64(numParams));
    llvm::Value *vars = field(1, ptr);
    for (size_t k = 0; k < numVars; ++k)
      memref(b.CreateLoad(ptr, b.CreateConstGEP1_64(ptr, vars, k)), end);
    memref(field(2, ptr), end);
    if (update) {
      llvm::Value *capacity = field(10, i64);
      memref(field(8, ptr), capacity);
      memref(field(9, ptr), capacity);
      memref(field(14, ptr), capacity);
      call.append({begin, end, field(13, i64), field(7, i64), field(5, i64), field(6, i64), capacity});
      memref(b.CreateStructGEP(argsType, args, 11), b.getInt64(2));
    } else {
      call.append({begin, end, field(13, i64), field(7, i64)});
    }
    call.push_back(field(15, f64));
    if (impl->arg_size() != call.size()) {
      error = "internal error: kernel '" + name + "' has an unexpected signature";
      return nullptr;
    }
    b.CreateCall(impl, call);
    b.CreateRetVoid();
    return entry;
  }

  llvm::Constant *string(const std::string &s) {
    return b.CreateGlobalString(s, ".str", 0, &m);
  }

  /// An ncl_dimension constant, laid out by units::toABI.
  llvm::Constant *dimension(const units::Dimension &d) {
    static_assert(sizeof(ncl_dimension) == units::kABIDimensionSize,
                  "ncl_dimension and ncl/Support/DimensionABI.h disagree");
    llvm::SmallVector<llvm::Constant *, units::kABIDimensionSize> e;
    for (int8_t x : units::toABI(d))
      e.push_back(llvm::ConstantInt::get(i8, x));
    return llvm::ConstantArray::get(llvm::ArrayType::get(i8, e.size()), e);
  }

  /// A constant array of C strings, or null when there are none.
  llvm::Constant *stringArray(const std::vector<llvm::Constant *> &strings) {
    if (strings.empty())
      return llvm::ConstantPointerNull::get(ptr);
    auto *type = llvm::ArrayType::get(ptr, strings.size());
    return new llvm::GlobalVariable(m, type, true, llvm::GlobalValue::PrivateLinkage,
                                    llvm::ConstantArray::get(type, strings), ".names");
  }

  template <typename T> llvm::Constant *array(llvm::StructType *t, const std::vector<T> &items,
                                              const char *name) {
    std::vector<llvm::Constant *> elems;
    for (auto &item : items)
      elems.push_back(item);
    auto *at = llvm::ArrayType::get(t, elems.size());
    return new llvm::GlobalVariable(m, at, true, llvm::GlobalValue::PrivateLinkage,
                                    llvm::ConstantArray::get(at, elems), name);
  }

  bool descriptor(const NetworkModel &net, const LibraryInfo &info, std::string &error) {
    auto *paramType = llvm::StructType::create(
        ctx, {ptr, ptr, f64, llvm::ArrayType::get(i8, 8), f64, i32, f64, f64}, "ncl_param_info");
    auto *varType = llvm::StructType::create(ctx, {ptr, ptr, f64, llvm::ArrayType::get(i8, 8)}, "ncl_var_info");
    auto *popType = llvm::StructType::create(
        ctx, {ptr, ptr, i64, i32, i32, ptr, ptr, i32, i32, ptr, ptr, ptr, f64, f64, i32, ptr},
        "ncl_population_info");
    auto *derivedType = llvm::StructType::create(ctx, {ptr, i32, ptr}, "ncl_derived_info");
    auto *modelType = llvm::StructType::create(
        ctx, {i32, i32, ptr, ptr, ptr, i32, i32, f64, f64, i64, ptr}, "ncl_model_descriptor");
    std::vector<llvm::Constant *> pops;
    for (const PopulationModel &pop : net.populations) {
      const std::string &name = pop.decl->name;
      std::vector<llvm::Constant *> vars, params;
      // Per-neuron parameters, state variables, then outputs: the order of
      // the population's arrays (MLIRGen's state_vars).
      for (auto *group : {&pop.neuron->parameters, &pop.neuron->state, &pop.neuron->outputs})
        for (const auto &s : *group) {
          if (group == &pop.neuron->parameters && !s.perNeuron)
            continue;
          std::string unit = s.unitText;
          if (unit.empty() && !s.unit.dim.isDimensionless())
            unit = s.unit.dim.str();
          vars.push_back(llvm::ConstantStruct::get(
              varType, {string(s.name), string(unit), llvm::ConstantFP::get(f64, s.unit.scale),
                        dimension(s.unit.dim)}));
        }
      for (const auto &p : pop.parameters) {
        bool hasRange = p.minValue > -HUGE_VAL || p.maxValue < HUGE_VAL;
        params.push_back(llvm::ConstantStruct::get(
            paramType, {string(p.name), string(p.unitText), llvm::ConstantFP::get(f64, p.unit.scale),
                        dimension(p.unit.dim), llvm::ConstantFP::get(f64, p.value),
                        b.getInt32(hasRange ? NCL_PARAM_HAS_RANGE : 0),
                        llvm::ConstantFP::get(f64, p.minValue),
                        llvm::ConstantFP::get(f64, p.maxValue)}));
      }
      llvm::Function *init = entryPoint("ncl_" + name + "_init", false, vars.size(), params.size(), error);
      llvm::Function *update = entryPoint("ncl_" + name + "_update", true, vars.size(), params.size(), error);
      if (!init || !update)
        return false;
      std::vector<llvm::Constant *> eventNames;
      for (const auto &ev : pop.neuron->events)
        eventNames.push_back(string(ev.name));
      llvm::Constant *events = stringArray(eventNames);
      std::vector<llvm::Constant *> derived;
      for (const DerivedParameter &d : pop.derived) {
        std::vector<llvm::Constant *> sources;
        for (const std::string &source : d.sources)
          sources.push_back(string(source));
        derived.push_back(llvm::ConstantStruct::get(
            derivedType, {string(d.name), b.getInt32(sources.size()), stringArray(sources)}));
      }
      pops.push_back(llvm::ConstantStruct::get(
          popType, {string(name), string(pop.neuron->name), b.getInt64(pop.decl->size),
                    b.getInt32(vars.size()), b.getInt32(params.size()),
                    array(varType, vars, ".vars"), array(paramType, params, ".params"),
                    b.getInt32(pop.recordSpikes ? 1 : 0), b.getInt32(eventNames.size()), init,
                    update, events, llvm::ConstantFP::get(f64, stepLimit(maxDt, name, kNoLimit)),
                    llvm::ConstantFP::get(f64, stepLimit(minDt, name, 0.0)),
                    b.getInt32(derived.size()),
                    derived.empty() ? llvm::ConstantPointerNull::get(ptr)
                                    : array(derivedType, derived, ".derived")}));
    }
    llvm::Constant *model = llvm::ConstantStruct::get(
        modelType,
        {b.getInt32(NCL_MODEL_MAGIC), b.getInt32(NCL_ABI_VERSION), string(net.decl->name),
         string(info.sourceFile), string(NCL_VERSION_STRING), b.getInt32(info.realBits),
         b.getInt32(pops.size()), llvm::ConstantFP::get(f64, net.dt),
         llvm::ConstantFP::get(f64, net.duration), b.getInt64(net.seed),
         array(popType, pops, ".populations")});
    new llvm::GlobalVariable(m, modelType, true, llvm::GlobalValue::ExternalLinkage, model,
                             NCL_MODEL_SYMBOL);
    return true;
  }

  /// The populations' largest and smallest dt at load time, from the
  /// module's `ncl.max_dt` (set by ncl-integrate for explicit schemes and by
  /// MLIRGen for discrete updates) and `ncl.min_dt` (discrete updates that do
  /// not scale with dt).
  void setStepLimits(mlir::DictionaryAttr largest, mlir::DictionaryAttr smallest) {
    auto read = [](mlir::DictionaryAttr limits, std::map<std::string, double> &into) {
      if (!limits)
        return;
      for (mlir::NamedAttribute a : limits)
        if (auto f = llvm::dyn_cast<mlir::FloatAttr>(a.getValue()))
          into[a.getName().str()] = f.getValueAsDouble();
    };
    read(largest, maxDt);
    read(smallest, minDt);
  }

private:
  static constexpr double kNoLimit = std::numeric_limits<double>::infinity();
  static double stepLimit(const std::map<std::string, double> &limits, const std::string &pop,
                          double none) {
    auto it = limits.find(pop);
    return it == limits.end() ? none : it->second;
  }

  std::map<std::string, double> maxDt, minDt;
  llvm::Module &m;
  llvm::LLVMContext &ctx;
  llvm::IRBuilder<> b;
  llvm::PointerType *ptr;
  llvm::Type *i8, *i32, *i64, *f64;
  llvm::StructType *argsType;
};

std::unique_ptr<llvm::TargetMachine> hostMachine(std::string &error) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  llvm::Triple triple(llvm::sys::getProcessTriple());
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return nullptr;
  llvm::SubtargetFeatures features;
  for (auto &f : llvm::sys::getHostCPUFeatures())
    features.AddFeature(f.first(), f.second);
  llvm::TargetOptions options;
  return std::unique_ptr<llvm::TargetMachine>(target->createTargetMachine(
      triple, llvm::sys::getHostCPUName(), features.getString(), options, llvm::Reloc::PIC_,
      std::nullopt, llvm::CodeGenOptLevel::Aggressive));
}

void optimize(llvm::Module &m, llvm::TargetMachine &tm) {
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PassBuilder pb(&tm);
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  pb.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3).run(m, mam);
}

//===----------------------------------------------------------------------===//
// Linking without temporary files
//===----------------------------------------------------------------------===//
//
// lld writes its output through a shared mmap of a sparse file: on a full
// file system the first store to an unbacked page raises SIGBUS, and the
// object it reads would be one more temporary to leave behind. So lld reads
// the object from a pipe and writes the library into another (for an output
// that is not a regular file lld buffers in memory and writes with
// write(2)); nclc then writes the bytes itself, checking every write, to a
// temporary in the output's directory that is renamed over the output.

/// Error text in NCL's style: "no space left on device".
std::string describe(std::error_code ec) {
  std::string text = ec.message();
  if (!text.empty())
    text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

std::error_code lastError() { return std::error_code(errno, std::generic_category()); }

/// write(2) until done; false with `ec` set on the first failure.
bool writeAll(int fd, llvm::StringRef bytes, std::error_code &ec) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      ec = n < 0 ? lastError() : std::make_error_code(std::errc::no_space_on_device);
      return false;
    }
    bytes = bytes.drop_front(static_cast<size_t>(n));
  }
  return true;
}

/// A pipe that a thread feeds with bytes or drains into a string while lld
/// opens the other end as /proc/self/fd/N (an input lld reads to its end,
/// an output it buffers in memory and writes with write(2)).
class LinkerPipe {
public:
  enum Direction { ToLinker, FromLinker };

  LinkerPipe(Direction direction, llvm::StringRef input = {}) : direction(direction) {
    if (::pipe2(fds, O_CLOEXEC) != 0) {
      ec = lastError();
      fds[0] = fds[1] = -1;
      return;
    }
    if (direction == ToLinker)
      thread = std::thread([this, input] { feed(input); });
    else
      thread = std::thread([this] { drain(); });
  }
  /// Closes lld's end, so that the thread sees end of file (or a broken
  /// pipe, if lld stopped before reading), and waits for it.
  ~LinkerPipe() { finish(); }

  void finish() {
    int &linkerEnd = fds[direction == ToLinker ? 0 : 1];
    if (linkerEnd >= 0) {
      ::close(linkerEnd);
      linkerEnd = -1;
    }
    if (thread.joinable())
      thread.join();
    int &ownEnd = fds[direction == ToLinker ? 1 : 0];
    if (ownEnd >= 0) {
      ::close(ownEnd);
      ownEnd = -1;
    }
  }

  bool ok() const { return !ec; }
  std::error_code error() const { return ec; }
  std::string path() const {
    return "/proc/self/fd/" + std::to_string(fds[direction == ToLinker ? 0 : 1]);
  }
  /// What lld wrote, once finish() returned.
  std::string &output() { return received; }

private:
  void feed(llvm::StringRef bytes) {
    // A write to a pipe whose reader is gone raises SIGPIPE in this thread:
    // blocked, it becomes the error EPIPE (lld stopped before reading).
    sigset_t pipeSignal;
    sigemptyset(&pipeSignal);
    sigaddset(&pipeSignal, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipeSignal, nullptr);
    std::error_code ignored;
    writeAll(fds[1], bytes, ignored);
    ::close(fds[1]);
    fds[1] = -1;
  }

  void drain() {
    char chunk[1 << 16];
    for (;;) {
      ssize_t n = ::read(fds[0], chunk, sizeof chunk);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      received.append(chunk, static_cast<size_t>(n));
    }
  }

  Direction direction;
  int fds[2] = {-1, -1};
  std::error_code ec;
  std::thread thread;
  std::string received;
};

/// Links `object` into a shared library returned in `library`.
bool linkInMemory(llvm::StringRef object, std::string &library, std::string &error) {
  LinkerPipe input(LinkerPipe::ToLinker, object), output(LinkerPipe::FromLinker);
  if (!input.ok() || !output.ok()) {
    error = "linking failed: " + describe(input.ok() ? output.error() : input.error());
    return false;
  }
  std::string inputPath = input.path(), outputPath = output.path();
  std::string linkOut, linkErr;
  llvm::raw_string_ostream linkOutStream(linkOut), linkErrStream(linkErr);
  std::vector<const char *> argv = {"ld.lld", "-shared", "--no-undefined", "-o", outputPath.c_str(),
                                    inputPath.c_str(), "-L/usr/lib/x86_64-linux-gnu",
                                    "-L/lib/x86_64-linux-gnu", "-lm", "-lc"};
  lld::Result result = lld::lldMain(argv, linkOutStream, linkErrStream, {{lld::Gnu, &lld::elf::link}});
  input.finish();
  output.finish();
  if (result.retCode != 0) {
    error = "linking failed: " + linkErr;
    return false;
  }
  library = std::move(output.output());
  if (library.empty()) {
    error = "linking failed: the linker wrote no library";
    return false;
  }
  return true;
}

/// Writes `bytes` to `path`. A regular file (or a new one) is written to a
/// temporary beside it and renamed over it, so a failed write leaves any
/// earlier library intact and no temporary behind; a device or pipe
/// (-o /dev/null) is written directly.
bool writeOutput(const std::string &path, llvm::StringRef bytes, std::string &error) {
  auto fail = [&](std::error_code ec) {
    error = "linking failed: " + describe(ec) + " (writing '" + path + "')";
    return false;
  };
  llvm::sys::fs::file_status status;
  std::error_code statError = llvm::sys::fs::status(path, status);
  if (!statError && llvm::sys::fs::is_directory(status))
    return fail(std::make_error_code(std::errc::is_a_directory));
  if (!statError && !llvm::sys::fs::is_regular_file(status)) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0)
      return fail(lastError());
    std::error_code ec;
    bool written = writeAll(fd, bytes, ec);
    if (::close(fd) != 0 && written) {
      ec = lastError();
      written = false;
    }
    return written || fail(ec);
  }
  llvm::SmallString<256> model(llvm::sys::path::parent_path(path));
  llvm::sys::path::append(model, "." + llvm::sys::path::filename(path).str() + ".tmp%%%%%%");
  int fd;
  llvm::SmallString<256> temporary;
  if (std::error_code ec = llvm::sys::fs::createUniqueFile(model, fd, temporary, llvm::sys::fs::OF_None,
                                                           0755))
    return fail(ec);
  std::error_code ec;
  bool written = writeAll(fd, bytes, ec);
  if (::close(fd) != 0 && written) {
    ec = lastError();
    written = false;
  }
  if (written)
    ec = llvm::sys::fs::rename(temporary, path);
  if (!written || ec) {
    llvm::sys::fs::remove(temporary);
    return fail(ec);
  }
  return true;
}

} // namespace

bool ncl::emitSharedLibrary(mlir::ModuleOp module, const NetworkModel &network,
                            const LibraryInfo &info, const std::string &path, std::string &error,
                            llvm::raw_ostream *llvmOut) {
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> m = mlir::translateModuleToLLVMIR(module, llvmContext, "ncl");
  if (!m) {
    error = "internal error: cannot translate the model to LLVM IR";
    return false;
  }
  std::unique_ptr<llvm::TargetMachine> tm = hostMachine(error);
  if (!tm)
    return false;
  m->setDataLayout(tm->createDataLayout());
  m->setTargetTriple(tm->getTargetTriple());
  LibraryBuilder builder(*m);
  builder.setStepLimits(module->getAttrOfType<mlir::DictionaryAttr>("ncl.max_dt"),
                        module->getAttrOfType<mlir::DictionaryAttr>("ncl.min_dt"));
  if (!builder.descriptor(network, info, error))
    return false;
  std::string verifyMessage;
  llvm::raw_string_ostream verifyStream(verifyMessage);
  if (llvm::verifyModule(*m, &verifyStream)) {
    error = "internal error: invalid LLVM IR: " + verifyMessage;
    return false;
  }
  optimize(*m, *tm);
  if (llvmOut) {
    m->print(*llvmOut, nullptr);
    return true;
  }

  llvm::SmallVector<char, 0> object;
  {
    llvm::raw_svector_ostream os(object);
    llvm::legacy::PassManager pm;
    if (tm->addPassesToEmitFile(pm, os, nullptr, llvm::CodeGenFileType::ObjectFile)) {
      error = "internal error: the target cannot emit object files";
      return false;
    }
    pm.run(*m);
  }
  std::string library;
  if (!linkInMemory(llvm::StringRef(object.data(), object.size()), library, error))
    return false;
  return writeOutput(path, library, error);
}
