//===- PTXImages.cpp - NVVM kernels to PTX and cubin images ---------------===//
//
// (1) Translate the kernels of `gpu.module @ncl_kernels` (NVVM and LLVM
// dialects, from ncl-to-nvvm) to LLVM IR and give each stage's kernel an
// entry `<kernel>_gpu(ncl_kernel_args *)`, built like the CPU's entry points
// and marked as a PTX kernel, which stages that differ only in their buffers
// and constants share (`ncl_<kind>_shared<n>_gpu`); (2) link the libdevice functions the kernels
// call; (3) per architecture, O3 and LLVM's NVPTX backend, contraction of
// multiplies and adds into FMAs off, give PTX; (4) where the toolkit's
// ptxas exists, it assembles each PTX into a cubin. (3) and (4) run in the
// background, each architecture on its own thread, while nclc compiles the
// CPU's code.
//
//===----------------------------------------------------------------------===//
#include "ncl/Compiler/CUDATarget.h"
#include "ncl/Compiler/Pipeline.h"
#include "ncl/Dialect/Ncl/IR/NclOps.h"
#include "ncl/model_abi.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Export.h"

#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Analysis/ValueTracking.h"
#include "llvm/Bitcode/BitcodeReader.h"
#include "llvm/Bitcode/BitcodeWriter.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/InstIterator.h"
#include "llvm/IR/Instructions.h"
#include "llvm/IR/Intrinsics.h"
#include "llvm/IR/IntrinsicsNVPTX.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/StructuralHash.h"
#include "llvm/IR/Verifier.h"
#include "llvm/Linker/Linker.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/Timer.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Triple.h"
#include "llvm/Transforms/Utils/Cloning.h"

#include <cstdlib>
#include <functional>
#include <future>
#include <mutex>
#include <set>
#include <thread>

extern "C" {
void LLVMInitializeNVPTXTargetInfo();
void LLVMInitializeNVPTXTarget();
void LLVMInitializeNVPTXTargetMC();
void LLVMInitializeNVPTXAsmPrinter();
}

using namespace ncl;

namespace {

constexpr const char *kTriple = "nvptx64-nvidia-cuda";

const llvm::Target *nvptxTarget(std::string &error) {
  static std::once_flag once;
  std::call_once(once, [] {
    LLVMInitializeNVPTXTargetInfo();
    LLVMInitializeNVPTXTarget();
    LLVMInitializeNVPTXTargetMC();
    LLVMInitializeNVPTXAsmPrinter();
  });
  return llvm::TargetRegistry::lookupTarget(llvm::Triple(kTriple), error);
}

/// A target machine for `arch` whose code computes what the CPU's does:
/// no contraction of a multiply and an add into an FMA (the ops carry no
/// `contract` flag either), IEEE division and square root (NVPTX's
/// defaults without fast-math flags).
std::unique_ptr<llvm::TargetMachine> machineFor(const llvm::Target &target, llvm::StringRef arch) {
  llvm::TargetOptions options;
  options.AllowFPOpFusion = llvm::FPOpFusion::Strict;
  return std::unique_ptr<llvm::TargetMachine>(
      target.createTargetMachine(llvm::Triple(kTriple), arch, "", options, std::nullopt,
                                 std::nullopt, llvm::CodeGenOptLevel::Aggressive));
}

void optimize(llvm::Module &m, llvm::TargetMachine &tm) {
  // NVPTX's callbacks run too: NVVMReflect for libdevice. PassBuilder's
  // default tuning (no SLP vectoriser: a GPU thread is scalar).
  ncl::optimizeModule(m, tm, /*slpVectorize=*/false);
}

bool emitPTX(llvm::Module &m, llvm::TargetMachine &tm, std::string &ptx, std::string &error) {
  llvm::SmallString<0> text;
  llvm::raw_svector_ostream os(text);
  llvm::legacy::PassManager pm;
  if (tm.addPassesToEmitFile(pm, os, nullptr, llvm::CodeGenFileType::AssemblyFile)) {
    error = "internal error: the NVPTX target cannot emit PTX";
    return false;
  }
  pm.run(m);
  ptx = text.str().str();
  return true;
}

/// The libdevice functions of exact operations (convert-gpu-to-nvvm calls
/// them for math.absf, math.roundeven, arith.maxnumf, ...) as the LLVM
/// intrinsics that NVPTX lowers to one instruction each (abs, cvt.rni, max,
/// sqrt.rn, ...): the same results, and no libdevice needed for them.
void useIntrinsicsForExactFunctions(llvm::Module &m) {
  static const std::pair<const char *, llvm::Intrinsic::ID> exact[] = {
      {"fabs", llvm::Intrinsic::fabs},         {"rint", llvm::Intrinsic::rint},
      {"fmax", llvm::Intrinsic::maxnum},       {"fmin", llvm::Intrinsic::minnum},
      {"sqrt", llvm::Intrinsic::sqrt},         {"floor", llvm::Intrinsic::floor},
      {"ceil", llvm::Intrinsic::ceil},         {"trunc", llvm::Intrinsic::trunc},
      {"copysign", llvm::Intrinsic::copysign}, {"fma", llvm::Intrinsic::fma},
      {"round", llvm::Intrinsic::round}};
  for (auto [name, id] : exact)
    for (const char *suffix : {"", "f"}) {
      llvm::Function *f = m.getFunction(std::string("__nv_") + name + suffix);
      if (!f || !f->isDeclaration())
        continue;
      llvm::Type *type = f->getReturnType();
      llvm::Function *intrinsic = llvm::Intrinsic::getOrInsertDeclaration(&m, id, {type});
      if (intrinsic->getFunctionType() != f->getFunctionType())
        continue;
      f->replaceAllUsesWith(intrinsic);
      f->eraseFromParent();
    }
}

/// Links the libdevice functions `m` declares (`__nv_log`, ...) from the
/// toolkit's libdevice.10.bc; an error names them where it is missing.
bool linkLibdevice(llvm::Module &m, const std::string &toolkit, std::string &error) {
  std::vector<std::string> needed;
  for (llvm::Function &f : m)
    if (f.isDeclaration() && f.getName().starts_with("__nv_"))
      needed.push_back(f.getName().str());
  if (needed.empty())
    return true;
  llvm::SmallString<256> path(toolkit);
  llvm::sys::path::append(path, "nvvm", "libdevice", "libdevice.10.bc");
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer) {
    error = "the GPU kernels call " + llvm::join(needed, ", ") +
            " (math functions that NCL does not expand itself), which come from CUDA's "
            "libdevice, but '" +
            path.str().str() +
            "' cannot be read: install the CUDA toolkit there, set NCL_CUDA_PATH to its "
            "directory, or compile with --target=cpu";
    return false;
  }
  // Lazily: only the functions the kernels call (and theirs) are read.
  llvm::Expected<std::unique_ptr<llvm::Module>> library =
      llvm::getLazyBitcodeModule((*buffer)->getMemBufferRef(), m.getContext());
  if (!library) {
    error =
        "cannot read libdevice '" + path.str().str() + "': " + llvm::toString(library.takeError());
    return false;
  }
  (*library)->setTargetTriple(m.getTargetTriple());
  (*library)->setDataLayout(m.getDataLayout());
  if (llvm::Linker::linkModules(m, std::move(*library), llvm::Linker::Flags::LinkOnlyNeeded)) {
    error = "cannot link libdevice '" + path.str().str() + "'";
    return false;
  }
  return true;
}

/// Makes every load, store and atomic of the kernels in `m` that may reach
/// memory other threads share (not a stack slot, not a module constant)
/// call, first, the function the exported pointer
/// `ncl_gpu_emulated_access` names where it is not null:
/// `void (uint64_t address, uint64_t bytes, uint64_t value, int32_t kind)`,
/// kind 0 a load, 1 a store (value: the stored bits, for 8 bytes or fewer),
/// 2 an atomic, plus 256 times the log2 of the alignment the access claims
/// (NVPTX makes one access of the whole where that is at least its size,
/// which a GPU requires to be aligned to it). The fake driver sets it to find
/// threads of one launch that touch the same memory, and misaligned accesses
/// (docs/gpu.md, "The GPU's code on the host").
void instrumentAccesses(llvm::Module &m) {
  llvm::LLVMContext &context = m.getContext();
  llvm::Type *i32 = llvm::Type::getInt32Ty(context);
  llvm::Type *i64 = llvm::Type::getInt64Ty(context);
  llvm::PointerType *ptr = llvm::PointerType::get(context, 0);
  auto *hook =
      new llvm::GlobalVariable(m, ptr, /*isConstant=*/false, llvm::GlobalValue::ExternalLinkage,
                               llvm::ConstantPointerNull::get(ptr), "ncl_gpu_emulated_access");
  auto *hookType = llvm::FunctionType::get(llvm::Type::getVoidTy(context), {i64, i64, i64, i32},
                                           /*isVarArg=*/false);
  // One internal function does the test, called before each access.
  llvm::Function *access = llvm::Function::Create(hookType, llvm::GlobalValue::InternalLinkage,
                                                  "ncl_gpu_emulated_access_check", m);
  {
    auto *entry = llvm::BasicBlock::Create(context, "entry", access);
    auto *call = llvm::BasicBlock::Create(context, "call", access);
    auto *done = llvm::BasicBlock::Create(context, "done", access);
    llvm::IRBuilder<> b(entry);
    llvm::Value *target = b.CreateLoad(ptr, hook);
    b.CreateCondBr(b.CreateIsNotNull(target), call, done);
    b.SetInsertPoint(call);
    llvm::SmallVector<llvm::Value *> args;
    for (llvm::Argument &argument : access->args())
      args.push_back(&argument);
    b.CreateCall(hookType, target, args);
    b.CreateBr(done);
    b.SetInsertPoint(done);
    b.CreateRetVoid();
  }
  const llvm::DataLayout &layout = m.getDataLayout();
  for (llvm::Function &f : m) {
    if (f.isDeclaration() || &f == access)
      continue;
    std::vector<llvm::Instruction *> accesses;
    for (llvm::Instruction &i : llvm::instructions(f))
      if (llvm::isa<llvm::LoadInst, llvm::StoreInst, llvm::AtomicRMWInst, llvm::AtomicCmpXchgInst>(
              i))
        accesses.push_back(&i);
    for (llvm::Instruction *i : accesses) {
      llvm::Value *address = llvm::getLoadStorePointerOperand(i);
      if (!address)
        address = llvm::isa<llvm::AtomicRMWInst>(i)
                      ? llvm::cast<llvm::AtomicRMWInst>(i)->getPointerOperand()
                      : llvm::cast<llvm::AtomicCmpXchgInst>(i)->getPointerOperand();
      const llvm::Value *object = llvm::getUnderlyingObject(address, /*MaxLookup=*/0);
      if (llvm::isa<llvm::AllocaInst>(object) ||
          (llvm::isa<llvm::GlobalVariable>(object) &&
           llvm::cast<llvm::GlobalVariable>(object)->isConstant()))
        continue; // the thread's own, or read only
      llvm::IRBuilder<> b(i);
      llvm::Type *type =
          llvm::isa<llvm::LoadInst>(i) ? i->getType()
          : llvm::isa<llvm::StoreInst>(i)
              ? llvm::cast<llvm::StoreInst>(i)->getValueOperand()->getType()
          : llvm::isa<llvm::AtomicRMWInst>(i)
              ? llvm::cast<llvm::AtomicRMWInst>(i)->getValOperand()->getType()
              : llvm::cast<llvm::AtomicCmpXchgInst>(i)->getNewValOperand()->getType();
      const uint64_t bytes = layout.getTypeStoreSize(type).getFixedValue();
      llvm::Value *value = b.getInt64(0);
      int32_t kind = llvm::isa<llvm::LoadInst>(i) ? 0 : llvm::isa<llvm::StoreInst>(i) ? 1 : 2;
      const llvm::Align align =
          llvm::isa<llvm::LoadInst, llvm::StoreInst>(i) ? llvm::getLoadStoreAlignment(i)
          : llvm::isa<llvm::AtomicRMWInst>(i) ? llvm::cast<llvm::AtomicRMWInst>(i)->getAlign()
                                              : llvm::cast<llvm::AtomicCmpXchgInst>(i)->getAlign();
      kind += 256 * static_cast<int32_t>(llvm::Log2(align));
      if (auto *store = llvm::dyn_cast<llvm::StoreInst>(i); store && bytes <= 8) {
        llvm::Value *stored = store->getValueOperand();
        if (stored->getType()->isPointerTy())
          stored = b.CreatePtrToInt(stored, i64);
        else if (!stored->getType()->isIntegerTy())
          stored = b.CreateBitCast(stored, b.getIntNTy(static_cast<unsigned>(bytes * 8)));
        value = b.CreateZExtOrTrunc(stored, i64);
      }
      b.CreateCall(access,
                   {b.CreatePtrToInt(address, i64), b.getInt64(bytes), value, b.getInt32(kind)});
    }
  }
}

/// The kernels of `kernels` (NVPTX LLVM IR with its entries, before
/// libdevice) as host code, in bitcode (docs/gpu.md, "The GPU's code on the
/// host"): every read of a thread or block index or dimension is a load from
/// the exported `ncl_gpu_emulated_thread` (threadIdx.x, blockIdx.x,
/// blockDim.x, gridDim.x; the y and z indices are 0 and their dimensions 1),
/// which the fake driver sets before it calls an entry for each thread; a
/// libdevice function is libm's of the same name (`__nv_sin` is `sin`); the
/// entries are C functions of the same names. Only the thread's place
/// changes: what the kernels compute is the GPU's IR.
bool emulationBitcode(const llvm::Module &kernels, const std::set<std::string> &entries,
                      std::string &bitcode, std::string &error) {
  std::unique_ptr<llvm::Module> m = llvm::CloneModule(kernels);
  llvm::LLVMContext &context = m->getContext();
  llvm::Type *i32 = llvm::Type::getInt32Ty(context);
  auto *slots = llvm::ArrayType::get(i32, 4);
  auto *thread =
      new llvm::GlobalVariable(*m, slots, /*isConstant=*/false, llvm::GlobalValue::ExternalLinkage,
                               llvm::ConstantAggregateZero::get(slots), "ncl_gpu_emulated_thread");
  std::vector<llvm::Function *> intrinsics;
  for (llvm::Function &f : *m) {
    if (!f.isDeclaration())
      continue;
    llvm::StringRef name = f.getName();
    if (name.consume_front("llvm.nvvm.read.ptx.sreg.")) {
      intrinsics.push_back(&f);
      continue;
    }
    if (name.starts_with("llvm.nvvm.")) {
      error = "internal error: the GPU kernels' host emulation does not know " + name.str();
      return false;
    }
    if (name.consume_front("__nv_"))
      f.setName(name.str()); // libm's function of the same name
  }
  for (llvm::Function *f : intrinsics) {
    llvm::StringRef name = f->getName().drop_front(strlen("llvm.nvvm.read.ptx.sreg."));
    int slot = name == "tid.x"      ? 0
               : name == "ctaid.x"  ? 1
               : name == "ntid.x"   ? 2
               : name == "nctaid.x" ? 3
                                    : -1;
    unsigned constant = name.starts_with("ntid.") || name.starts_with("nctaid.") ? 1 : 0;
    if (slot < 0 && !(name.ends_with(".y") || name.ends_with(".z"))) {
      error = "internal error: the GPU kernels' host emulation does not know " + f->getName().str();
      return false;
    }
    for (llvm::User *user : llvm::make_early_inc_range(f->users())) {
      auto *call = llvm::cast<llvm::CallInst>(user);
      llvm::IRBuilder<> b(call);
      llvm::Value *value =
          slot < 0 ? static_cast<llvm::Value *>(b.getInt32(constant))
                   : b.CreateLoad(i32, b.CreateConstInBoundsGEP2_32(slots, thread, 0, slot));
      call->replaceAllUsesWith(value);
      call->eraseFromParent();
    }
    f->eraseFromParent();
  }
  for (llvm::Function &f : *m) {
    f.removeFnAttr("target-cpu");
    f.removeFnAttr("target-features");
    if (f.isDeclaration())
      continue;
    if (entries.count(f.getName().str())) {
      f.setCallingConv(llvm::CallingConv::C);
      f.setLinkage(llvm::GlobalValue::ExternalLinkage);
      f.setVisibility(llvm::GlobalValue::DefaultVisibility);
    } else {
      f.setLinkage(llvm::GlobalValue::InternalLinkage);
    }
  }
  instrumentAccesses(*m);
  for (llvm::GlobalVariable &g : m->globals())
    if (!g.isDeclaration() && &g != thread && g.getName() != "ncl_gpu_emulated_access")
      g.setLinkage(llvm::GlobalValue::InternalLinkage);
  if (llvm::NamedMDNode *annotations = m->getNamedMetadata("nvvm.annotations"))
    m->eraseNamedMetadata(annotations);
  llvm::raw_string_ostream os(bitcode);
  llvm::WriteBitcodeToFile(*m, os);
  return true;
}

/// Runs ptxas on `ptx` for `arch` and reads the cubin it writes.
bool assembleCubin(const std::string &ptxas, const std::string &arch, const std::string &ptx,
                   std::string &cubin, std::string &error) {
  llvm::SmallString<128> input, output, log;
  auto cleanUp = [&] {
    for (auto *file : {&input, &output, &log})
      if (!file->empty())
        llvm::sys::fs::remove(*file);
  };
  int fd;
  if (llvm::sys::fs::createTemporaryFile("ncl-" + arch, "ptx", fd, input) ||
      llvm::sys::fs::createTemporaryFile("ncl-" + arch, "cubin", output) ||
      llvm::sys::fs::createTemporaryFile("ncl-" + arch, "log", log)) {
    cleanUp();
    error = "cannot create a temporary file for ptxas";
    return false;
  }
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    os << ptx;
  }
  std::string archFlag = "-arch=" + arch;
  llvm::SmallVector<llvm::StringRef> argv = {ptxas, archFlag, "-o", output, input};
  std::optional<llvm::StringRef> redirects[] = {std::nullopt, log.str(), log.str()};
  std::string message;
  bool failed = false;
  int status =
      llvm::sys::ExecuteAndWait(ptxas, argv, std::nullopt, redirects, 0, 0, &message, &failed);
  auto result = llvm::MemoryBuffer::getFile(output);
  bool ok = !failed && status == 0 && result;
  if (failed) {
    error = "cannot run '" + ptxas + "': " + message;
  } else if (!ok) {
    auto text = llvm::MemoryBuffer::getFile(log);
    error = "'" + ptxas + " " + archFlag + "' failed on NCL's PTX: " +
            (text ? llvm::StringRef((*text)->getBuffer()).trim().str() : "");
  } else {
    cubin = (*result)->getBuffer().str();
  }
  cleanUp();
  return ok;
}

/// The number of a plain architecture name (`sm_90`: 90), 0 for any other
/// (`sm_90a`, whose code runs on that architecture only).
unsigned plainArchNumber(llvm::StringRef arch) {
  unsigned number = 0;
  if (!arch.consume_front("sm_") || arch.getAsInteger(10, number))
    return 0;
  return number;
}

/// Whether `arch` runs the PTX NVPTX writes for `first`: PTX for a plain
/// architecture runs on every later one (CUDA's forward compatibility).
bool runsPTXOf(llvm::StringRef first, llvm::StringRef arch) {
  unsigned from = plainArchNumber(first), to = plainArchNumber(arch);
  return from && to && from <= to;
}

/// The `.version` and `.target` lines NVPTX writes for `arch` (its lowest
/// PTX ISA version), from the PTX of an empty module.
bool ptxHeader(const llvm::Target &target, llvm::StringRef arch, std::string &header,
               std::string &error) {
  llvm::LLVMContext context;
  llvm::Module empty("ncl_header", context);
  std::unique_ptr<llvm::TargetMachine> tm = machineFor(target, arch);
  empty.setTargetTriple(llvm::Triple(kTriple));
  empty.setDataLayout(tm->createDataLayout());
  std::string ptx;
  if (!emitPTX(empty, *tm, ptx, error))
    return false;
  llvm::SmallVector<llvm::StringRef> lines;
  llvm::StringRef(ptx).split(lines, '\n');
  int found = 0;
  for (llvm::StringRef line : lines)
    if (line.starts_with(".version ") || line.starts_with(".target ")) {
      header += line.str() + "\n";
      ++found;
    }
  if (found != 2)
    error = "internal error: NVPTX wrote no single .version and .target for " + arch.str();
  return found == 2;
}

/// `ptx` with its `.version` and `.target` lines replaced by `header`'s.
std::string withHeader(llvm::StringRef ptx, llvm::StringRef header) {
  std::string result;
  bool replaced = false;
  while (!ptx.empty()) {
    auto [line, rest] = ptx.split('\n');
    if (line.starts_with(".version ") || line.starts_with(".target ")) {
      if (!replaced)
        result += header.str();
      replaced = true;
    } else {
      result += line.str() + "\n";
    }
    ptx = rest;
  }
  return result;
}

/// What the background compile of emitCUDAImages does with the verified
/// kernels `m` (in `context`): O3 once (for the first architecture; the IR
/// passes do not depend on which, and a newer architecture runs an older
/// one's code), the NVPTX code generator once for the first architecture
/// and once for each that cannot run its PTX (runsPTXOf), then, each on
/// its own thread, ptxas per architecture where `ptxas` is not empty. The
/// images are in the order of `archs`, each PTX followed by its cubin.
GPUModule::Images compileImages(std::unique_ptr<llvm::LLVMContext> context,
                                std::unique_ptr<llvm::Module> m, std::vector<std::string> archs,
                                std::string ptxas, bool timePhases) {
  // The module goes before its context (parameters are destroyed in no
  // order the language fixes).
  auto releaseModule = llvm::make_scope_exit([&] { m.reset(); });
  GPUModule::Images result;
  std::string error;
  const llvm::Target *target = nvptxTarget(error);
  if (!target) {
    result.error = error;
    return result;
  }
  {
    llvm::NamedRegionTimer timer("gpu-optimize", "GPU: O3", kPhaseTimerGroup,
                                 kPhaseTimerGroupDescription, timePhases);
    optimize(*m, *machineFor(*target, archs.front()));
  }
  // An architecture that runs the first's PTX gets that PTX under its own
  // header (NVPTX writes the same instructions for both: the kernels use
  // nothing newer than sm_80); any other is generated on its own thread,
  // from its own copy in its own context, so that the code generators run
  // at once.
  std::vector<std::string> headers(archs.size());
  bool copies = false;
  for (size_t i = 1; i < archs.size(); ++i)
    if (!runsPTXOf(archs.front(), archs[i]))
      copies = true;
    else if (!ptxHeader(*target, archs[i], headers[i], error)) {
      result.error = error;
      return result;
    }
  std::string bitcode;
  if (copies) {
    llvm::raw_string_ostream os(bitcode);
    llvm::WriteBitcodeToFile(*m, os);
  }
  struct Output {
    std::string ptx, cubin, error;
  };
  std::vector<Output> outputs(archs.size());
  auto generate = [&](size_t i, llvm::Module &module) {
    llvm::NamedRegionTimer timer("gpu-codegen-" + archs[i], "GPU: PTX for " + archs[i],
                                 kPhaseTimerGroup, kPhaseTimerGroupDescription, timePhases);
    std::unique_ptr<llvm::TargetMachine> tm = machineFor(*target, archs[i]);
    return emitPTX(module, *tm, outputs[i].ptx, outputs[i].error);
  };
  auto assemble = [&](size_t i) {
    if (ptxas.empty())
      return;
    llvm::NamedRegionTimer timer("gpu-ptxas-" + archs[i], "GPU: ptxas for " + archs[i],
                                 kPhaseTimerGroup, kPhaseTimerGroupDescription, timePhases);
    assembleCubin(ptxas, archs[i], outputs[i].ptx, outputs[i].cubin, outputs[i].error);
  };
  // --time-phases times each phase alone: one architecture after another.
  std::vector<std::thread> threads;
  auto start = [&](std::function<void()> work) {
    threads.emplace_back(std::move(work));
    if (timePhases)
      threads.back().join();
  };
  for (size_t i = 1; i < archs.size(); ++i)
    if (headers[i].empty())
      start([&, i] {
        llvm::LLVMContext copyContext;
        llvm::Expected<std::unique_ptr<llvm::Module>> copy =
            llvm::parseBitcodeFile(llvm::MemoryBufferRef(bitcode, "ncl_kernels"), copyContext);
        if (!copy) {
          outputs[i].error =
              "internal error: cannot copy the GPU kernels: " + llvm::toString(copy.takeError());
          return;
        }
        if (generate(i, **copy))
          assemble(i);
      });
  if (generate(0, *m)) {
    for (size_t i = 1; i < archs.size(); ++i)
      if (!headers[i].empty()) {
        outputs[i].ptx = withHeader(outputs[0].ptx, headers[i]);
        start([&, i] { assemble(i); });
      }
    assemble(0);
  }
  for (std::thread &thread : threads)
    if (thread.joinable())
      thread.join();
  for (size_t i = 0; i < archs.size(); ++i) {
    if (!outputs[i].error.empty()) {
      result.error = outputs[i].error;
      result.images.clear();
      return result;
    }
    result.images.push_back({archs[i], NCL_GPU_PTX, std::move(outputs[i].ptx)});
    if (!ptxas.empty())
      result.images.push_back({archs[i], NCL_GPU_CUBIN, std::move(outputs[i].cubin)});
  }
  return result;
}

/// Whether an entry's operand may hold another integer constant in an
/// entry shared with it: an index into the buffer table (a GEP over
/// pointers, not a field of the header) or a value passed to the kernel
/// (a fixed extent, a random stream that mergeIdenticalKernels made an
/// argument).
bool perStageOperand(const llvm::Instruction &i, unsigned k) {
  if (auto *gep = llvm::dyn_cast<llvm::GetElementPtrInst>(&i))
    return k >= 1 && gep->getNumIndices() == 1 && gep->getSourceElementType()->isPointerTy();
  if (auto *call = llvm::dyn_cast<llvm::CallInst>(&i))
    return k < call->arg_size();
  return false;
}

/// Adds `<entry>_seq(ncl_seq_launch_args *)` beside the shared entry
/// `entry(ncl_kernel_args *, int32 row)`, whose code moves into a function
/// that both call: thread g runs it for each header and row of the
/// arguments, in order (inlined into each; the loop over the launches is
/// not unrolled, which would copy the code once more per launch unrolled),
/// from the launch's first block (first_blocks; the stages get
/// NCL_GPU_LAUNCH_SEQ_BLOCKS): the code's block index is less that block.
/// Null, with no `_seq`, where a call in the shared code could not be
/// inlined (its block index would not be shifted); the stages then launch
/// one by one.
llvm::Function *buildSeqEntry(llvm::Module &m, llvm::Function *entry) {
  llvm::LLVMContext &ctx = m.getContext();
  llvm::Type *ptr = llvm::PointerType::getUnqual(ctx);
  llvm::Type *i32 = llvm::Type::getInt32Ty(ctx);
  llvm::Type *i64 = llvm::Type::getInt64Ty(ctx);
  // The shared code, with a third parameter: the launch's first block,
  // taken from every read of the block index (a launch onto another
  // population may start at a later block, ncl_seq_launch_args).
  auto *bodyType = llvm::FunctionType::get(llvm::Type::getVoidTy(ctx), {ptr, i32, i32}, false);
  llvm::Function *body = llvm::Function::Create(bodyType, llvm::GlobalValue::InternalLinkage,
                                                entry->getName() + "_body", m);
  body->addFnAttr(llvm::Attribute::AlwaysInline);
  body->splice(body->begin(), entry);
  for (auto [from, to] : llvm::zip(entry->args(), body->args()))
    from.replaceAllUsesWith(&to);
  // The kernel the entry calls, and what it calls, inlined first: their
  // reads of the block index are the body's to shift (O3 inlines them
  // anyway).
  for (bool inlined = true; inlined;) {
    inlined = false;
    llvm::SmallVector<llvm::CallBase *> calls;
    for (llvm::Instruction &i : llvm::instructions(body))
      if (auto *call = llvm::dyn_cast<llvm::CallBase>(&i))
        if (llvm::Function *callee = call->getCalledFunction(); callee && !callee->isDeclaration())
          calls.push_back(call);
    for (llvm::CallBase *call : calls) {
      llvm::InlineFunctionInfo info;
      inlined |= llvm::InlineFunction(*call, info).isSuccess();
    }
  }
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", entry));
  b.CreateCall(body, {entry->getArg(0), entry->getArg(1), b.getInt32(0)});
  b.CreateRetVoid();
  for (llvm::Instruction &i : llvm::instructions(body))
    if (auto *call = llvm::dyn_cast<llvm::CallBase>(&i))
      if (llvm::Function *callee = call->getCalledFunction(); !callee || !callee->isDeclaration())
        return nullptr;
  llvm::Function *blockIndex =
      llvm::Intrinsic::getDeclarationIfExists(&m, llvm::Intrinsic::nvvm_read_ptx_sreg_ctaid_x);
  if (blockIndex)
    for (llvm::User *user : llvm::make_early_inc_range(blockIndex->users()))
      if (auto *read = llvm::dyn_cast<llvm::CallInst>(user); read && read->getFunction() == body) {
        llvm::IRBuilder<> at(read->getNextNode());
        auto *shifted = llvm::cast<llvm::Instruction>(at.CreateSub(read, body->getArg(2)));
        read->replaceUsesWithIf(shifted, [&](llvm::Use &use) { return use.getUser() != shifted; });
      }

  auto *argsType = llvm::StructType::get(ctx, {i64, ptr, ptr, ptr}); // ncl_seq_launch_args
  auto *seq = llvm::Function::Create(llvm::FunctionType::get(b.getVoidTy(), {ptr}, false),
                                     entry->getLinkage(), entry->getName() + NCL_GPU_SEQ_SUFFIX, m);
  seq->setCallingConv(entry->getCallingConv());
  llvm::Value *args = seq->getArg(0);
  auto *start = llvm::BasicBlock::Create(ctx, "entry", seq);
  auto *loop = llvm::BasicBlock::Create(ctx, "launch", seq);
  auto *run = llvm::BasicBlock::Create(ctx, "run", seq);
  auto *next = llvm::BasicBlock::Create(ctx, "next", seq);
  auto *done = llvm::BasicBlock::Create(ctx, "done", seq);
  b.SetInsertPoint(start);
  llvm::Value *count = b.CreateLoad(i64, b.CreateStructGEP(argsType, args, 0));
  llvm::Value *headers = b.CreateLoad(ptr, b.CreateStructGEP(argsType, args, 1));
  llvm::Value *rows = b.CreateLoad(ptr, b.CreateStructGEP(argsType, args, 2));
  llvm::Value *firsts = b.CreateLoad(ptr, b.CreateStructGEP(argsType, args, 3));
  llvm::Value *hasFirsts =
      b.CreateICmpNE(firsts, llvm::ConstantPointerNull::get(llvm::PointerType::getUnqual(ctx)));
  llvm::Value *block = b.CreateIntrinsic(llvm::Intrinsic::nvvm_read_ptx_sreg_ctaid_x, {});
  b.CreateCondBr(b.CreateICmpSGT(count, b.getInt64(0)), loop, done);
  b.SetInsertPoint(loop);
  llvm::PHINode *k = b.CreatePHI(i64, 2);
  k->addIncoming(b.getInt64(0), start);
  llvm::Value *header = b.CreateLoad(ptr, b.CreateInBoundsGEP(ptr, headers, k));
  llvm::Value *row = b.CreateLoad(i32, b.CreateInBoundsGEP(i32, rows, k));
  // The launch's first block (0 without first_blocks); blocks before it
  // have nothing of it.
  llvm::Value *first =
      b.CreateSelect(hasFirsts, b.CreateLoad(i32, b.CreateInBoundsGEP(i32, firsts, k)),
                     b.getInt32(0), "first.block");
  b.CreateCondBr(b.CreateICmpUGE(block, first), run, next);
  b.SetInsertPoint(run);
  b.CreateCall(body, {header, row, first});
  b.CreateBr(next);
  b.SetInsertPoint(next);
  llvm::Value *following = b.CreateAdd(k, b.getInt64(1));
  k->addIncoming(following, next);
  markNotUnrolled(b.CreateCondBr(b.CreateICmpSLT(following, count), loop, done));
  b.SetInsertPoint(done);
  b.CreateRetVoid();
  return seq;
}

/// Adds `<seq>_lean`, the same code as the `_seq` entry `seq` compiled in
/// at most NCL_GPU_LEAN_REGISTERS registers a thread (`.maxnreg`): ptxas
/// spills what does not fit to local memory, and more blocks fit on a
/// multiprocessor. Which runs faster only the device can say, so the
/// runtime times both (docs/gpu.md, "Lean updates"); the arithmetic is the
/// same instructions, so either gives the same numbers.
llvm::Function *buildLeanEntry(llvm::Function *seq) {
  llvm::ValueToValueMapTy map;
  llvm::Function *lean = llvm::CloneFunction(seq, map);
  lean->setName(seq->getName() + NCL_GPU_LEAN_SUFFIX);
  lean->addFnAttr("nvvm.maxnreg", std::to_string(NCL_GPU_LEAN_REGISTERS));
  return lean;
}

/// The stages' entries that differ only in integer constants (the buffers
/// they load, the constants they pass: populations of one neuron model,
/// projections of one synapse model, whose kernels ncl-merge-kernels made
/// one) become one entry, `ncl_<kind>_shared<n>_gpu(ncl_kernel_args *,
/// int32 row)`, which reads those constants from row `row` of a table,
/// `<entry>_rows`, a row per stage naming it in the schedule's order (the
/// descriptor's). The kernel, inlined into each entry before, is then
/// compiled once for all of them: ptxas's time grew with the microcircuit's
/// 55 projections. Split delivers and member-tiled sums (two entries)
/// keep their own. `kinds`:
/// each stage's kind, in the schedule's order.
void shareEntries(llvm::Module &m, GPUModule &gpu, std::set<std::string> &entries,
                  const std::vector<std::string> &kinds) {
  llvm::LLVMContext &ctx = m.getContext();
  llvm::Type *i64 = llvm::Type::getInt64Ty(ctx);
  const size_t numStages = gpu.stageEntries.size();
  // Candidates: the stages' entries, in the schedule's order.
  std::vector<size_t> candidates;
  for (size_t i = 0; i < numStages; ++i)
    if (!gpu.stageEntries[i].empty() && gpu.stageLaunches[i] != NCL_GPU_LAUNCH_PER_INDEX_COMMIT &&
        !(gpu.stageLaunches[i] & NCL_GPU_LAUNCH_MEMBER_TILES_ANY))
      candidates.push_back(i);
  auto entryOf = [&](size_t stage) { return m.getFunction(gpu.stageEntries[stage]); };
  std::map<llvm::stable_hash, std::vector<std::vector<size_t>>> buckets;
  for (size_t stage : candidates) {
    llvm::Function *entry = entryOf(stage);
    std::vector<std::vector<size_t>> &similar =
        buckets[llvm::StructuralHash(*entry, /*DetailedHash=*/false)];
    auto group = llvm::find_if(similar, [&](const std::vector<size_t> &g) {
      return gpu.stageLaunches[g.front()] == gpu.stageLaunches[stage] &&
             integerConstantDifferences(*entryOf(g.front()), *entry, perStageOperand).has_value();
    });
    if (group != similar.end())
      group->push_back(stage);
    else
      similar.push_back({stage});
  }
  // The groups of two or more, in the order of their first stages.
  std::vector<std::vector<size_t> *> order;
  for (auto &bucket : buckets)
    for (std::vector<size_t> &group : bucket.second)
      if (group.size() > 1)
        order.push_back(&group);
  llvm::sort(order, [](auto *x, auto *y) { return x->front() < y->front(); });
  unsigned shared = 0;
  for (std::vector<size_t> *group : order) {
    llvm::Function *first = entryOf(group->front());
    std::vector<OperandSlot> slots;
    for (size_t stage : *group) {
      std::optional<std::vector<OperandSlot>> differences =
          integerConstantDifferences(*first, *entryOf(stage), perStageOperand);
      for (OperandSlot slot : *differences)
        if (!llvm::is_contained(slots, slot))
          slots.push_back(slot);
    }
    // The table: a row per stage of the group, in the schedule's order.
    std::vector<llvm::Constant *> rows;
    auto *rowType = llvm::ArrayType::get(i64, slots.size());
    for (size_t stage : *group) {
      std::vector<llvm::Constant *> row;
      for (auto [instruction, operand] : slots) {
        auto *value = llvm::cast<llvm::ConstantInt>(
            samePlace(*first, *entryOf(stage), instruction)->getOperand(operand));
        row.push_back(llvm::ConstantInt::get(i64, value->getValue().sextOrTrunc(64)));
      }
      rows.push_back(llvm::ConstantArray::get(rowType, row));
    }
    std::string name =
        "ncl_" + kinds[group->front()] + "_shared" + std::to_string(shared++) + "_gpu";
    auto *tableType = llvm::ArrayType::get(rowType, rows.size());
    auto *table = new llvm::GlobalVariable(
        m, tableType, /*isConstant=*/true, llvm::GlobalValue::InternalLinkage,
        llvm::ConstantArray::get(tableType, rows), name + "_rows");
    // The first entry, with the row as a second parameter and its
    // constants read from the row.
    auto *type = llvm::FunctionType::get(
        first->getReturnType(), {first->getArg(0)->getType(), llvm::Type::getInt32Ty(ctx)}, false);
    llvm::Function *entry = llvm::Function::Create(type, first->getLinkage(), name, m);
    entry->setCallingConv(first->getCallingConv());
    entry->setAttributes(first->getAttributes());
    entry->splice(entry->begin(), first);
    first->getArg(0)->replaceAllUsesWith(entry->getArg(0));
    llvm::IRBuilder<> b(&*entry->getEntryBlock().getFirstInsertionPt());
    llvm::Value *row = b.CreateSExt(entry->getArg(1), i64);
    for (unsigned n = 0; n < slots.size(); ++n) {
      auto [instruction, operand] = slots[n];
      llvm::Value *value = b.CreateLoad(
          i64, b.CreateInBoundsGEP(tableType, table, {b.getInt64(0), row, b.getInt64(n)}));
      instruction->setOperand(operand,
                              b.CreateTrunc(value, instruction->getOperand(operand)->getType()));
    }
    // Deliveries a thread per postsynaptic neuron, and updates a thread
    // per neuron: `<entry>_seq` runs several of their launches in one
    // (model_abi.h, ncl_seq_launch_args).
    const int32_t shape = gpu.stageLaunches[group->front()];
    const std::string &kind = kinds[group->front()];
    // Updates run together in a network of three populations or more of
    // the model (the microcircuit's 8), where a `_seq` saves two launches a
    // step or more; with two it would save one, and ptxas would compile
    // the update twice (0.09 s for `lsm`'s); a model without projections
    // launches each population once a chunk.
    const bool stepsTogether =
        (llvm::is_contained(kinds, "deliver") || llvm::is_contained(kinds, "deliver_synapses")) &&
        group->size() >= 3;
    if (((kind == "deliver" || kind == "deliver_synapses") &&
         (shape == NCL_GPU_LAUNCH_PER_INDEX || shape == NCL_GPU_LAUNCH_PER_TARGET_BUCKETS)) ||
        (kind == "step" && shape == NCL_GPU_LAUNCH_PER_INDEX && stepsTogether)) {
      if (llvm::Function *seq = buildSeqEntry(m, entry)) {
        entries.insert(seq->getName().str());
        // An update's, whose many registers (a random draw's, most of the
        // microcircuit's) may leave a multiprocessor few blocks, has a
        // lean form beside it.
        if (kind == "step")
          entries.insert(buildLeanEntry(seq)->getName().str());
        for (size_t stage : *group)
          gpu.stageLaunches[stage] |= NCL_GPU_LAUNCH_SEQ_BLOCKS;
      }
    }
    for (size_t stage : *group) {
      llvm::Function *old = entryOf(stage);
      entries.erase(old->getName().str());
      if (old != first)
        old->eraseFromParent();
      gpu.stageEntries[stage] = name;
      gpu.stageLaunches[stage] |= NCL_GPU_LAUNCH_SHARED_ENTRY;
    }
    first->eraseFromParent();
    entries.insert(name);
  }
}

} // namespace

bool ncl::parseGPUArchs(llvm::StringRef list, std::vector<std::string> &archs, std::string &error) {
  archs.clear();
  const llvm::Target *target = nvptxTarget(error);
  if (!target)
    return false;
  llvm::SmallVector<llvm::StringRef> names;
  list.split(names, ',');
  std::unique_ptr<llvm::MCSubtargetInfo> info;
  for (llvm::StringRef name : names) {
    name = name.trim();
    if (name.empty())
      continue;
    if (!info)
      info.reset(target->createMCSubtargetInfo(llvm::Triple(kTriple), "sm_80", ""));
    if (!name.starts_with("sm_") || !info->isCPUStringValid(name)) {
      error = "--gpu-arch: '" + name.str() +
              "' is not a CUDA architecture that LLVM's NVPTX backend knows (e.g. sm_80, sm_90)";
      return false;
    }
    if (std::find(archs.begin(), archs.end(), name.str()) == archs.end())
      archs.push_back(name.str());
  }
  if (archs.empty()) {
    error = "--gpu-arch needs at least one architecture, e.g. --gpu-arch=sm_80,sm_90";
    return false;
  }
  return true;
}

std::string ncl::cudaToolkitPath() {
  if (const char *path = std::getenv("NCL_CUDA_PATH"))
    return path;
  return "/usr/local/cuda";
}

bool ncl::emitCUDAImages(mlir::ModuleOp module, const CUDAOptions &options, GPUModule &gpu,
                         std::string &error, bool timePhases) {
  std::unique_ptr<llvm::NamedRegionTimer> timer;
  auto phase = [&](llvm::StringRef name, llvm::StringRef description) {
    timer.reset();
    timer = std::make_unique<llvm::NamedRegionTimer>(name, description, kPhaseTimerGroup,
                                                     kPhaseTimerGroupDescription, timePhases);
  };
  auto networks = module.getOps<mlir::ncl::NetworkOp>();
  if (networks.empty() || std::next(networks.begin()) != networks.end()) {
    error = "the module must hold exactly one ncl.network";
    return false;
  }
  mlir::ncl::NetworkOp network = *networks.begin();
  auto kernels = module.lookupSymbol<mlir::gpu::GPUModuleOp>("ncl_kernels");
  if (!kernels) {
    error = "internal error: no gpu.module @ncl_kernels (run ncl-to-nvvm first)";
    return false;
  }
  const llvm::Target *target = nvptxTarget(error);
  if (!target)
    return false;

  phase("gpu-translate", "GPU: translation to LLVM IR, entries, libdevice");
  // The GPU module's body, alone in a module, translates like the CPU's.
  mlir::OpBuilder builder(module.getContext());
  mlir::OwningOpRef<mlir::ModuleOp> body(mlir::ModuleOp::create(kernels.getLoc()));
  builder.setInsertionPointToEnd(body->getBody());
  for (mlir::Operation &op : kernels.getBody()->getOperations())
    if (!op.hasTrait<mlir::OpTrait::IsTerminator>())
      builder.clone(op);
  // Translated with NVPTX's data layout, so that a load or store the
  // kernels leave unaligned gets the alignment of its type there: with
  // LLVM's default layout an i64 (a row start) would get 4 bytes, and
  // NVPTX would split each such load in two. The runtime's buffers are
  // aligned to at least their element (docs/gpu.md).
  std::unique_ptr<llvm::TargetMachine> first = machineFor(*target, options.archs.front());
  const llvm::DataLayout layout = first->createDataLayout();
  (*body)->setAttr(mlir::LLVM::LLVMDialect::getDataLayoutAttrName(),
                   builder.getStringAttr(layout.getStringRepresentation()));
  auto context = std::make_unique<llvm::LLVMContext>();
  std::unique_ptr<llvm::Module> m = mlir::translateModuleToLLVMIR(*body, *context, "ncl_kernels");
  if (!m) {
    error = "internal error: cannot translate the GPU kernels to LLVM IR";
    return false;
  }
  m->setTargetTriple(llvm::Triple(kTriple));
  m->setDataLayout(layout);

  gpu = GPUModule();
  std::vector<llvm::Function *> entryFunctions;
  // ncl-gpu-map's launch shape of each kernel.
  std::map<std::string, int32_t> launches;
  for (mlir::Operation &op : kernels.getBody()->getOperations())
    if (auto shape = op.getAttrOfType<mlir::StringAttr>("ncl.gpu_launch")) {
      int32_t launch = llvm::StringSwitch<int32_t>(shape.getValue())
                           .Case("per_index", NCL_GPU_LAUNCH_PER_INDEX)
                           .Case("whole_range", NCL_GPU_LAUNCH_WHOLE_RANGE)
                           .Case("per_spike", NCL_GPU_LAUNCH_PER_SPIKE)
                           .Case("per_target_buckets", NCL_GPU_LAUNCH_PER_TARGET_BUCKETS)
                           .Case("per_index_commit", NCL_GPU_LAUNCH_PER_INDEX_COMMIT)
                           // A dense sum's second entry (below), named by no stage.
                           .Case("member_tiles", NCL_GPU_LAUNCH_PER_INDEX)
                           .Default(-1);
      auto name = op.getAttrOfType<mlir::StringAttr>(mlir::SymbolTable::getSymbolAttrName());
      if (launch < 0 || !name) {
        error = "internal error: unknown ncl.gpu_launch '" + shape.getValue().str() + "'";
        return false;
      }
      launches[name.getValue().str()] = launch;
    }
  std::set<std::string> entries;
  // Each GPU stage's kind, in the schedule's order (shareEntries).
  std::vector<std::string> kinds;
  if (mlir::ncl::ScheduleOp schedule = network.getSchedule())
    for (auto stage : schedule.getBody().getOps<mlir::ncl::StageOp>()) {
      gpu.stageEntries.emplace_back();
      gpu.stageLaunches.push_back(NCL_GPU_LAUNCH_BY_KIND);
      kinds.push_back(mlir::ncl::stringifyStageKind(stage.getKind()).str());
      if (!stage.getKernel()) {
        error = "internal error: a stage of '" + stage.getPopulation().str() + "' has no kernel";
        return false;
      }
      // init, connect and connect_condition run on the host's CPU kernels
      // (docs/gpu.md): no GPU entry, and their kernels are dropped below.
      if (stage.getKind() == mlir::ncl::StageKind::Init ||
          stage.getKind() == mlir::ncl::StageKind::Connect ||
          stage.getKind() == mlir::ncl::StageKind::ConnectCondition)
        continue;
      std::string kernel = stage.getKernel()->str();
      if (!launches.count(kernel)) {
        error = "internal error: the GPU kernel '" + kernel + "' has no ncl.gpu_launch";
        return false;
      }
      // An entry per stage: stages that share a kernel (ncl-merge-kernels)
      // load their own buffers. Each is named after the kernel the stage
      // had before (stageKernelName).
      std::string name = stageKernelName(stage) + "_gpu";
      for (int k = 2; entries.count(name); ++k)
        name = stageKernelName(stage) + std::to_string(k) + "_gpu";
      llvm::Function *entry = buildKernelEntry(*m, stage, network, name, error);
      if (!entry)
        return false;
      entry->setCallingConv(llvm::CallingConv::PTX_Kernel);
      entryFunctions.push_back(entry);
      gpu.stageEntries.back() = name;
      gpu.stageLaunches.back() = launches[kernel];
      entries.insert(name);
      // A deliver split in two (NCL_GPU_LAUNCH_PER_INDEX_COMMIT): its
      // commit kernel's entry is named after the stage's, `<entry>_commit`.
      mlir::Operation *function = kernels.lookupSymbol(kernel);
      if (auto commit = function
                            ? function->getAttrOfType<mlir::FlatSymbolRefAttr>("ncl.gpu_commit")
                            : mlir::FlatSymbolRefAttr()) {
        llvm::Function *commitEntry =
            buildKernelEntry(*m, stage, network, name + "_commit", error, commit.getValue());
        if (!commitEntry)
          return false;
        commitEntry->setCallingConv(llvm::CallingConv::PTX_Kernel);
        entryFunctions.push_back(commitEntry);
        entries.insert(name + "_commit");
      }
      // A dense sum's member-tiled forms (NCL_GPU_LAUNCH_MEMBER_TILES and
      // its sizes): an entry each, `<entry>_tiles`, `<entry>_tiles8` and
      // `<entry>_tiles16`, loading the same arguments.
      if (auto tiles = function ? function->getAttrOfType<mlir::ArrayAttr>("ncl.gpu_tiles")
                                : mlir::ArrayAttr()) {
        static constexpr ncl_gpu_member_tile_form forms[] = NCL_GPU_MEMBER_TILE_FORMS;
        for (auto symbol : tiles.getAsRange<mlir::FlatSymbolRefAttr>()) {
          mlir::Operation *tiled = kernels.lookupSymbol(symbol.getAttr());
          auto members = tiled ? tiled->getAttrOfType<mlir::IntegerAttr>("ncl.gpu_member_tile")
                               : mlir::IntegerAttr();
          const ncl_gpu_member_tile_form *form =
              llvm::find_if(forms, [&](const ncl_gpu_member_tile_form &f) {
                return members && f.members == members.getInt();
              });
          if (form == std::end(forms)) {
            error = "internal error: '" + symbol.getValue().str() +
                    "' is not a member-tiled form of a size model_abi.h names";
            return false;
          }
          llvm::Function *tilesEntry =
              buildKernelEntry(*m, stage, network, name + form->suffix, error, symbol.getValue());
          if (!tilesEntry)
            return false;
          tilesEntry->setCallingConv(llvm::CallingConv::PTX_Kernel);
          entryFunctions.push_back(tilesEntry);
          entries.insert(name + form->suffix);
          gpu.stageLaunches.back() |= form->gpu_launch;
        }
      }
    }
  // The C-interface wrappers the lowering of func.func added call the
  // kernels too: gone, each kernel has one caller, its entry, and kernels
  // that differ only in their random streams merge. One copy of identical
  // kernels, as on the CPU (the microcircuit's 55 projections of one
  // synapse model share one deliver kernel), then one entry for the
  // stages that call it.
  for (llvm::Function &f : llvm::make_early_inc_range(*m))
    if (f.getName().starts_with("_mlir_ciface_") && f.use_empty())
      f.eraseFromParent();
  mergeIdenticalKernels(entryFunctions);
  shareEntries(*m, gpu, entries, kinds);
  // Only the entries are visible: everything else may be inlined away, and
  // what no entry reaches (the merged copies; ncl-gpu-map erased the
  // host's stages' kernels already) goes now, with the libdevice functions
  // only it called.
  for (llvm::Function &f : *m)
    if (!f.isDeclaration() && !entries.count(f.getName().str()))
      f.setLinkage(llvm::GlobalValue::InternalLinkage);
  for (bool erased = true; erased;) {
    erased = false;
    for (llvm::Function &f : llvm::make_early_inc_range(*m))
      if (f.use_empty() && !entries.count(f.getName().str()) &&
          (f.hasLocalLinkage() || f.isDeclaration())) {
        f.eraseFromParent();
        erased = true;
      }
  }
  // The runtime's own entries: a step's spike lists on the device (one
  // launch for all; NCL_GPU_SPIKE_LIST_ENTRY, a launch per list, is for
  // older runtimes only and not made any more: they exchange through the
  // host instead), the copies of the lists' lengths into the deliveries' headers, and the
  // step launches' spike entries packed into one run for the host.
  entries.insert(buildSpikeListsKernel(*m)->getName().str());
  entries.insert(buildCopyCountsKernel(*m)->getName().str());
  entries.insert(buildGatherSpikesKernel(*m)->getName().str());
  // And a synapse monitor's samples, gathered on the device.
  entries.insert(buildGatherRecordsKernel(*m)->getName().str());
  // And the test of a chunk's state for NaN and infinities.
  entries.insert(buildFindNonFiniteKernel(*m)->getName().str());
  // And, for a network with per-synapse delays, their arrival queues.
  if (llvm::is_contained(kinds, "deliver_synapses"))
    entries.insert(buildArrivalsKernel(*m)->getName().str());
  useIntrinsicsForExactFunctions(*m);
  if (options.emulation && !emulationBitcode(*m, entries, gpu.emulation, error))
    return false;
  if (!linkLibdevice(*m, options.toolkit, error))
    return false;
  // libdevice's functions are internal too.
  for (llvm::Function &f : *m)
    if (!f.isDeclaration() && !entries.count(f.getName().str()))
      f.setLinkage(llvm::GlobalValue::InternalLinkage);
  for (llvm::GlobalVariable &g : m->globals())
    if (!g.isDeclaration())
      g.setLinkage(llvm::GlobalValue::InternalLinkage);
  std::string verifyMessage;
  llvm::raw_string_ostream verifyStream(verifyMessage);
  if (llvm::verifyModule(*m, &verifyStream)) {
    error = "internal error: invalid GPU LLVM IR: " + verifyMessage;
    return false;
  }

  // The rest (O3, PTX, ptxas) runs in the background while nclc compiles
  // the CPU's code: GPUModule::waitForImages.
  llvm::SmallString<256> ptxas(options.toolkit);
  llvm::sys::path::append(ptxas, "bin", "ptxas");
  const bool cubins = options.cubin && llvm::sys::fs::can_execute(ptxas);
  gpu.numImages = options.archs.size() * (cubins ? 2 : 1);
  first.reset();
  // --time-phases: when waited for, so that each phase is timed alone.
  gpu.pending = std::async(timePhases ? std::launch::deferred : std::launch::async, compileImages,
                           std::move(context), std::move(m), options.archs,
                           cubins ? ptxas.str().str() : std::string(), timePhases);
  return true;
}

bool ncl::compileGPUModule(mlir::ModuleOp ir, const CUDAOptions &options, bool fuse, GPUModule &gpu,
                           std::string &error, bool timePhases) {
  std::unique_ptr<llvm::NamedRegionTimer> timer = std::make_unique<llvm::NamedRegionTimer>(
      "gpu-pipeline", "GPU: MLIR pipeline (ncl-to-nvvm)", kPhaseTimerGroup,
      kPhaseTimerGroupDescription, timePhases);
  mlir::MLIRContext *context = ir.getContext();
  mlir::DialectRegistry registry;
  registerNclGPUDialects(registry);
  context->appendDialectRegistry(registry);
  // The CPU pipeline runs on `ir` itself and reports ncl-integrate's
  // remarks; this copy's would repeat them.
  mlir::ScopedDiagnosticHandler quiet(context, [](mlir::Diagnostic &d) {
    return mlir::success(d.getSeverity() == mlir::DiagnosticSeverity::Remark);
  });
  mlir::OwningOpRef<mlir::ModuleOp> copy(ir.clone());
  mlir::PassManager pm(context);
  buildNclToNVVMPipeline(pm, fuse);
  if (mlir::failed(pm.run(*copy))) {
    error.clear(); // reported at the model's lines
    return false;
  }
  timer.reset();
  return emitCUDAImages(*copy, options, gpu, error, timePhases);
}
