//===- SharedLibrary.cpp - LLVM dialect to a loadable shared library ------===//
//
// Three steps: (1) translate the module and wrap each lowered kernel in a
// `void(ncl_kernel_args *)` entry point, expanding memref descriptors from
// the argument struct; (2) add the `ncl_model` descriptor as constant data;
// (3) optimise at O3 for the host CPU, emit an object and link it with lld.
//
//===----------------------------------------------------------------------===//
#include "ncl/Compiler/CPUTarget.h"
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

#include <limits>
#include <map>

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

  llvm::Constant *dimension(const units::Dimension &d) {
    llvm::SmallVector<llvm::Constant *, 8> e;
    for (int i = 0; i < 8; ++i)
      e.push_back(llvm::ConstantInt::get(i8, i < 7 ? d.exponents[i] : 0));
    return llvm::ConstantArray::get(llvm::ArrayType::get(i8, 8), e);
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
    auto *paramType = llvm::StructType::create(ctx, {ptr, ptr, f64, llvm::ArrayType::get(i8, 8), f64}, "ncl_param_info");
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
      for (const auto &p : pop.parameters)
        params.push_back(llvm::ConstantStruct::get(
            paramType, {string(p.name), string(p.unitText), llvm::ConstantFP::get(f64, p.unit.scale),
                        dimension(p.unit.dim), llvm::ConstantFP::get(f64, p.value)}));
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

  // Object next to the library, removed after linking.
  llvm::SmallString<128> object;
  int fd;
  if (std::error_code ec = llvm::sys::fs::createTemporaryFile("ncl", "o", fd, object)) {
    error = "cannot create a temporary file: " + ec.message();
    return false;
  }
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    llvm::legacy::PassManager pm;
    if (tm->addPassesToEmitFile(pm, os, nullptr, llvm::CodeGenFileType::ObjectFile)) {
      error = "internal error: the target cannot emit object files";
      return false;
    }
    pm.run(*m);
  }
  std::string linkOut, linkErr;
  llvm::raw_string_ostream linkOutStream(linkOut), linkErrStream(linkErr);
  std::vector<const char *> argv = {"ld.lld", "-shared", "--no-undefined", "-o", path.c_str(),
                                    object.c_str(), "-L/usr/lib/x86_64-linux-gnu",
                                    "-L/lib/x86_64-linux-gnu", "-lm", "-lc"};
  lld::Result result = lld::lldMain(argv, linkOutStream, linkErrStream, {{lld::Gnu, &lld::elf::link}});
  llvm::sys::fs::remove(object);
  if (result.retCode != 0) {
    error = "linking '" + path + "' failed: " + linkErr;
    return false;
  }
  return true;
}
