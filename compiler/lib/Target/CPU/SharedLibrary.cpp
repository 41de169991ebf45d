//===- SharedLibrary.cpp - LLVM dialect to a loadable shared library ------===//
//
// Three steps: (1) translate the module and wrap each lowered kernel in a
// `void(ncl_kernel_args *)` entry point, expanding memref descriptors from
// the argument struct; (2) add the `ncl_model` descriptor as constant data;
// (3) optimise at O3 for the host CPU, emit objects (the kernels shared out
// among the cores, compiled in parallel) and link them with lld,
// in memory, then write the library with checked writes.
//
//===----------------------------------------------------------------------===//
#include "ncl/Compiler/CPUTarget.h"
#include "ncl/Dialect/Ncl/IR/NclOps.h"
#include "ncl/Support/DimensionABI.h"
#include "ncl/Target/KernelABI.h"
#include "ncl/model_abi.h"

#include "mlir/Target/LLVMIR/Export.h"

#include "lld/Common/Driver.h"
#include "llvm/ADT/EquivalenceClasses.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Bitcode/BitcodeReader.h"
#include "llvm/Bitcode/BitcodeWriter.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/InstIterator.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/StructuralHash.h"
#include "llvm/IR/Verifier.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Pass.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/Threading.h"
#include "llvm/Support/Timer.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/SubtargetFeature.h"
#include "llvm/Transforms/Utils/Cloning.h"
#include "llvm/Transforms/Utils/FunctionComparator.h"
#include "llvm/Transforms/Utils/Local.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstddef>
#include <ctime>
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

using mlir::ncl::BufferAttr;
using mlir::ncl::NetworkOp;
using mlir::ncl::StageOp;

/// ncl_kernel_args as an LLVM struct, from the one list of its fields
/// (KernelABI.h); one per context.
static llvm::StructType *kernelArgsType(llvm::LLVMContext &ctx) {
  if (llvm::StructType *type = llvm::StructType::getTypeByName(ctx, "ncl_kernel_args"))
    return type;
  llvm::PointerType *ptr = llvm::PointerType::getUnqual(ctx);
  llvm::SmallVector<llvm::Type *> fields;
  for (const abi::HeaderField &f : abi::kHeaderFields)
    fields.push_back(f.kind == abi::FieldKind::Pointer || f.kind == abi::FieldKind::Spikes ||
                             f.kind == abi::FieldKind::Synapses
                         ? static_cast<llvm::Type *>(ptr)
                     : f.kind == abi::FieldKind::F64 ? llvm::Type::getDoubleTy(ctx)
                                                     : llvm::Type::getInt64Ty(ctx));
  return llvm::StructType::create(ctx, fields, "ncl_kernel_args");
}

std::string ncl::stageKernelName(StageOp stage) {
  llvm::StringRef kernel = *stage.getKernel();
  auto schedule = stage->getParentOfType<mlir::ncl::ScheduleOp>();
  if (!schedule)
    return kernel.str();
  // The first stage naming the kernel is the one it was made for.
  for (StageOp first : schedule.getBody().getOps<StageOp>()) {
    if (first.getKernel() != stage.getKernel())
      continue;
    std::string prefix = ("ncl_" + first.getPopulation() + "_").str();
    if (first == stage || !kernel.starts_with(prefix))
      return kernel.str();
    return ("ncl_" + stage.getPopulation() + "_" + kernel.drop_front(prefix.size())).str();
  }
  return kernel.str();
}

llvm::Function *ncl::buildKernelEntry(llvm::Module &m, StageOp stage, NetworkOp network,
                                      llvm::StringRef entryName, std::string &error,
                                      llvm::StringRef kernel) {
  llvm::LLVMContext &ctx = m.getContext();
  llvm::IRBuilder<> b(ctx);
  llvm::PointerType *ptr = llvm::PointerType::getUnqual(ctx);
  llvm::StructType *argsType = kernelArgsType(ctx);
  std::string name = kernel.empty() ? stage.getKernel()->str() : kernel.str();
  llvm::Function *impl = m.getFunction(name);
  if (!impl) {
    error = "internal error: kernel '" + name + "' was not generated";
    return nullptr;
  }
  impl->setLinkage(llvm::GlobalValue::InternalLinkage);
  auto *fnType = llvm::FunctionType::get(b.getVoidTy(), {ptr}, false);
  auto *entry = llvm::Function::Create(fnType, llvm::GlobalValue::ExternalLinkage, entryName, m);
  b.SetInsertPoint(llvm::BasicBlock::Create(ctx, "entry", entry));
  llvm::Value *args = entry->getArg(0);
  auto field = [&](unsigned i) {
    return b.CreateLoad(argsType->getElementType(i), b.CreateStructGEP(argsType, args, i));
  };
  llvm::Value *table = field(*abi::headerField("buffers"));
  llvm::SmallVector<llvm::Value *> call;
  auto memref = [&](llvm::Value *base, llvm::Value *size) {
    call.append({base, base, b.getInt64(0), size, b.getInt64(1)});
  };
  for (mlir::Attribute a : stage.getArgsAttr()) {
    if (auto k = llvm::dyn_cast<mlir::IntegerAttr>(a)) {
      auto buffer = llvm::cast<BufferAttr>(network.getBuffersAttr()[k.getInt()]);
      llvm::Value *base = b.CreateLoad(ptr, b.CreateConstGEP1_64(ptr, table, k.getInt()));
      llvm::Value *extent = nullptr;
      switch (buffer.getExtent()) {
      case mlir::ncl::BufferExtent::Fixed:
        extent = b.getInt64(buffer.getCount());
        break;
      case mlir::ncl::BufferExtent::Neurons:
        extent = field(*abi::headerField("end"));
        break;
      case mlir::ncl::BufferExtent::SpikeCapacity:
        extent = field(*abi::headerField("spike_capacity"));
        break;
      case mlir::ncl::BufferExtent::Synapses:
      case mlir::ncl::BufferExtent::Rows:
      case mlir::ncl::BufferExtent::Columns:
        // Known to the runtime only; kernels index within it and never
        // read the size.
        extent = b.getInt64(std::numeric_limits<int32_t>::max());
        break;
      }
      memref(base, extent);
      continue;
    }
    unsigned f = *abi::headerField(llvm::cast<mlir::StringAttr>(a).getValue());
    if (abi::kHeaderFields[f].kind == abi::FieldKind::Results)
      memref(b.CreateStructGEP(argsType, args, f), b.getInt64(2));
    else if (abi::kHeaderFields[f].kind == abi::FieldKind::Spikes)
      memref(field(f), field(*abi::headerField("num_spikes")));
    else if (abi::kHeaderFields[f].kind == abi::FieldKind::Synapses)
      memref(field(f), field(*abi::headerField("num_synapses")));
    else
      call.push_back(field(f));
  }
  // What the stage's kernel, shared with other stages, takes as arguments
  // (ncl-merge-kernels): its own values. (A split deliver's kernels are
  // never shared: each names its own commit kernel.)
  if (mlir::ArrayAttr constants = kernel.empty() ? stage.getConstantsAttr() : nullptr)
    for (mlir::Attribute a : constants) {
      if (call.size() >= impl->arg_size())
        break; // reported below
      call.push_back(llvm::ConstantInt::get(impl->getFunctionType()->getParamType(call.size()),
                                            llvm::cast<mlir::IntegerAttr>(a).getValue()));
    }
  if (impl->arg_size() != call.size()) {
    error = "internal error: kernel '" + name + "' has an unexpected signature (" +
            std::to_string(impl->arg_size()) + " arguments, " + std::to_string(call.size()) +
            " given)";
    return nullptr;
  }
  b.CreateCall(impl, call);
  b.CreateRetVoid();
  return entry;
}

namespace {

using mlir::ncl::BufferAttr;
using mlir::ncl::NetworkOp;
using mlir::ncl::PopulationOp;
using mlir::ncl::ProjectionOp;
using mlir::ncl::StageOp;

/// The symbol of the GPU images' table when the library's last object
/// defines it (hidden: the descriptor is its only user).
constexpr const char *kGPUImagesSymbol = "ncl_gpu_images";

/// Defines `name` in `m`: the ncl_gpu_image array of `images` (imageType,
/// model_abi.h's layout), their data as constants (PTX NUL-terminated).
llvm::GlobalVariable *defineGPUImages(llvm::Module &m, llvm::StructType *imageType,
                                      const std::vector<GPUImage> &images, const char *name,
                                      llvm::GlobalValue::LinkageTypes linkage) {
  llvm::LLVMContext &ctx = m.getContext();
  llvm::IRBuilder<> b(ctx);
  std::vector<llvm::Constant *> items;
  for (const GPUImage &image : images) {
    bool text = image.format == NCL_GPU_PTX;
    llvm::Constant *bytes = llvm::ConstantDataArray::getString(ctx, image.data, text);
    auto *data = new llvm::GlobalVariable(m, bytes->getType(), true,
                                          llvm::GlobalValue::PrivateLinkage, bytes, ".gpu");
    data->setAlignment(llvm::Align(8));
    items.push_back(llvm::ConstantStruct::get(
        imageType, {b.CreateGlobalString(image.arch, ".str", 0, &m), b.getInt32(image.format),
                    b.getInt32(0), data, b.getInt64(image.data.size())}));
  }
  auto *type = llvm::ArrayType::get(imageType, items.size());
  auto *table =
      new llvm::GlobalVariable(m, type, true, linkage, llvm::ConstantArray::get(type, items), name);
  if (linkage == llvm::GlobalValue::ExternalLinkage)
    table->setVisibility(llvm::GlobalValue::HiddenVisibility);
  return table;
}

/// Synapses a connect kernel draws at or above which it is compiled for
/// speed (LibraryBuilder::connectsForSpeed).
constexpr double kConnectForSpeed = 1e7;

/// The synapses `projection` has at the model's sizes, as its rule expects
/// them (its mean for a random count; a file's or a condition's: its ranges'
/// product, at most).
double expectedSynapses(ProjectionOp projection) {
  llvm::ArrayRef<int64_t> pre = projection.getPreRange(), post = projection.getPostRange();
  const double n = static_cast<double>(pre[1] - pre[0]), m = static_cast<double>(post[1] - post[0]);
  mlir::ncl::ConnectAttr connect = projection.getConnect();
  const double count = static_cast<double>(connect.getN());
  switch (connect.getRule()) {
  case mlir::ncl::ConnectRule::OneToOne:
    return std::min(n, m);
  case mlir::ncl::ConnectRule::FixedProbability:
    return connect.getP().getValueAsDouble() * n * m;
  case mlir::ncl::ConnectRule::FixedInDegree:
    return count * m;
  case mlir::ncl::ConnectRule::FixedOutDegree:
    return count * n;
  case mlir::ncl::ConnectRule::FixedTotal:
    return count;
  default:
    return n * m;
  }
}

/// Whether `stage`'s kernel in `m` draws random numbers: it reads the
/// run's seed (every connect kernel takes it; one that stores constants
/// does not read it). The kernel takes the stage's arguments in order, a
/// buffer as a one-dimensional memref's five values.
bool drawsRandomNumbers(StageOp stage, llvm::Module &m) {
  llvm::Function *kernel = stage.getKernel() ? m.getFunction(*stage.getKernel()) : nullptr;
  mlir::ArrayAttr args = stage.getArgsAttr();
  if (!kernel || !args)
    return true; // not known: as if it did
  unsigned place = 0, seed = ~0u;
  for (mlir::Attribute arg : args) {
    auto name = llvm::dyn_cast<mlir::StringAttr>(arg);
    if (name && name.getValue() == "seed")
      seed = place;
    place += name ? 1 : 5;
  }
  if (place != kernel->arg_size())
    return true;
  return seed < place && !kernel->getArg(seed)->use_empty();
}

/// The descriptor and the kernels' C-ABI entry points, computed from the
/// module's `ncl.network` alone (its populations, buffer table and lowered
/// schedule) and added to the translated LLVM module.
class LibraryBuilder {
public:
  LibraryBuilder(llvm::Module &m) : m(m), ctx(m.getContext()), b(ctx) {
    ptr = llvm::PointerType::getUnqual(ctx);
    i8 = b.getInt8Ty();
    i32 = b.getInt32Ty();
    i64 = b.getInt64Ty();
    f64 = b.getDoubleTy();
  }

  /// Wraps `kernel` into `<kernel>_entry(ncl_kernel_args *)` (buildKernelEntry).
  llvm::Function *entryPoint(StageOp stage, NetworkOp network, std::string &error) {
    std::string name = stage.getKernel()->str();
    llvm::Function *entry =
        buildKernelEntry(m, stage, network, stageKernelName(stage) + "_entry", error);
    if (!entry)
      return nullptr;
    entry->setLinkage(llvm::GlobalValue::InternalLinkage);
    // An init stage runs once per neuron, a connect stage once per synapse
    // (its initial values and delays): optimised for size, they are not
    // vectorised, which halves nclc's time for a model whose initial state
    // draws random numbers through libm (4-wide log, cos, sqrt calls and
    // 64-bit vector arithmetic are the costliest code to select). Except a
    // connect kernel that draws many synapses (connectsForSpeed).
    const bool forSize = stage.getKind() == mlir::ncl::StageKind::Init ||
                         (stage.getKind() == mlir::ncl::StageKind::Connect &&
                          !connectsForSpeed(network).contains(name));
    if (forSize)
      for (llvm::Function *fn : {m.getFunction(name), entry})
        fn->addFnAttr(llvm::Attribute::OptimizeForSize);
    entries.push_back(entry);
    return entry;
  }

  /// The entry points made so far, which the descriptor names.
  llvm::ArrayRef<llvm::Function *> entryPoints() const { return entries; }

  /// The connect kernels compiled for speed (vectorised): those whose
  /// stages draw random numbers (initial values, delays) for
  /// kConnectForSpeed synapses or more in all at the model's sizes, where
  /// the init takes seconds and the compile's extra tenth of a second does
  /// not count (the microcircuit's 3e8 synapses: 45 % of its init in its
  /// connect kernels at optsize). A kernel that stores constants gains
  /// nothing (bench/brunel_stdp.ncl's 10^7 synapses: the same init, a compile
  /// 0.15 s longer).
  const llvm::StringSet<> &connectsForSpeed(NetworkOp network) {
    if (connectsForSpeedKnown)
      return fastConnects;
    connectsForSpeedKnown = true;
    llvm::StringMap<double> drawn;
    if (mlir::ncl::ScheduleOp schedule = network.getSchedule())
      for (StageOp stage : schedule.getBody().getOps<StageOp>())
        if (stage.getKind() == mlir::ncl::StageKind::Connect && stage.getKernel() &&
            drawsRandomNumbers(stage, m))
          if (auto projection = network.lookupSymbol<ProjectionOp>(stage.getPopulationAttr()))
            drawn[*stage.getKernel()] += expectedSynapses(projection);
    for (const auto &kernel : drawn)
      if (kernel.second >= kConnectForSpeed)
        fastConnects.insert(kernel.first());
    return fastConnects;
  }

  llvm::Constant *string(llvm::StringRef s) { return b.CreateGlobalString(s, ".str", 0, &m); }

  /// An ncl_dimension constant from the IR's exponents, laid out by
  /// units::toABI.
  llvm::Constant *dimension(mlir::DenseI8ArrayAttr dim) {
    static_assert(sizeof(ncl_dimension) == units::kABIDimensionSize,
                  "ncl_dimension and ncl/Support/DimensionABI.h disagree");
    units::Dimension d;
    if (dim)
      for (size_t i = 0; i < d.exponents.size() && i < static_cast<size_t>(dim.size()); ++i)
        d.exponents[i] = dim[i];
    llvm::SmallVector<llvm::Constant *, units::kABIDimensionSize> e;
    for (int8_t x : units::toABI(d))
      e.push_back(llvm::ConstantInt::get(i8, x));
    return llvm::ConstantArray::get(llvm::ArrayType::get(i8, e.size()), e);
  }

  /// A C string, or null when there is none.
  llvm::Constant *optionalString(std::optional<llvm::StringRef> s) {
    return s ? string(*s) : llvm::ConstantPointerNull::get(ptr);
  }

  llvm::Constant *real(mlir::FloatAttr value, double none) {
    return llvm::ConstantFP::get(f64, value ? value.getValueAsDouble() : none);
  }

  /// A constant array of C strings, or null when there are none.
  llvm::Constant *stringArray(const std::vector<llvm::Constant *> &strings) {
    if (strings.empty())
      return llvm::ConstantPointerNull::get(ptr);
    auto *type = llvm::ArrayType::get(ptr, strings.size());
    return new llvm::GlobalVariable(m, type, true, llvm::GlobalValue::PrivateLinkage,
                                    llvm::ConstantArray::get(type, strings), ".names");
  }

  llvm::Constant *array(llvm::StructType *t, const std::vector<llvm::Constant *> &items,
                        const char *name) {
    if (items.empty())
      return llvm::ConstantPointerNull::get(ptr);
    auto *at = llvm::ArrayType::get(t, items.size());
    return new llvm::GlobalVariable(m, at, true, llvm::GlobalValue::PrivateLinkage,
                                    llvm::ConstantArray::get(at, items), name);
  }

  std::vector<llvm::Constant *> describeVars(llvm::StructType *varType, mlir::ArrayAttr list) {
    std::vector<llvm::Constant *> vars;
    for (auto v : list.getAsRange<mlir::ncl::VariableAttr>())
      vars.push_back(
          llvm::ConstantStruct::get(varType, {string(v.getName()), string(v.getUnit()),
                                              real(v.getScale(), 1), dimension(v.getDim())}));
    return vars;
  }

  std::vector<llvm::Constant *> describeParams(llvm::StructType *paramType, mlir::ArrayAttr list) {
    std::vector<llvm::Constant *> params;
    for (auto p : list.getAsRange<mlir::ncl::ParameterAttr>())
      params.push_back(llvm::ConstantStruct::get(
          paramType,
          {string(p.getName()), string(p.getUnit()), real(p.getScale(), 1), dimension(p.getDim()),
           real(p.getValue(), 0), b.getInt32(p.getMin() || p.getMax() ? NCL_PARAM_HAS_RANGE : 0),
           real(p.getMin(), -HUGE_VAL), real(p.getMax(), HUGE_VAL)}));
    return params;
  }

  bool descriptor(NetworkOp network, std::string &error) {
    auto *paramType = llvm::StructType::create(
        ctx, {ptr, ptr, f64, llvm::ArrayType::get(i8, 8), f64, i32, f64, f64}, "ncl_param_info");
    auto *varType =
        llvm::StructType::create(ctx, {ptr, ptr, f64, llvm::ArrayType::get(i8, 8)}, "ncl_var_info");
    auto *popType =
        llvm::StructType::create(ctx, {ptr, ptr, i64, i32, i32, ptr, ptr, i32, i32, ptr, f64,
                                       f64, i32, ptr, i32, i32, i32, i32, ptr, ptr, ptr, ptr},
                                 "ncl_population_info");
    auto *timedType = llvm::StructType::create(ctx, {ptr, ptr, f64, f64}, "ncl_timed_input_info");
    auto *derivedType = llvm::StructType::create(ctx, {ptr, i32, ptr}, "ncl_derived_info");
    auto *bufferType = llvm::StructType::create(ctx, {ptr, i32, i32, i32, i32, i32, i64, i32, i32},
                                                "ncl_buffer_info");
    auto *stageType = llvm::StructType::create(ctx, {ptr, i32, i32, ptr, i32, i32, i64, f64, ptr},
                                               "ncl_stage_info");
    auto *projectionType =
        llvm::StructType::create(ctx, {ptr, ptr, i32, i32, i64, i64, i64, i64, i32, i32, i32, i32,
                                       f64, i64, f64, i32, i32, ptr, ptr, i32, i32, ptr, ptr, ptr,
                                       ptr, f64, f64, i32, i32, ptr, ptr, ptr, i32, i32, ptr},
                                 "ncl_projection_info");
    auto *signedRangeType = llvm::StructType::create(ctx, {i64, i64, i32, i32}, "ncl_signed_range");
    auto *monitorType = llvm::StructType::create(
        ctx, {ptr, i32, i32, i32, i32, i64, i64, i64, i32, i32}, "ncl_monitor_info");
    auto *imageType = llvm::StructType::create(ctx, {ptr, i32, i32, ptr, i64}, "ncl_gpu_image");
    auto *modelType = llvm::StructType::create(ctx, {i32, i32, ptr, ptr, ptr, i32, i32, f64, f64,
                                                     i64, ptr, i32, i32, ptr, ptr, i32, i32, ptr,
                                                     i32, i32, ptr, i64, ptr, i32, i32, ptr},
                                               "ncl_model_descriptor");
    // The LLVM structs must lay out as the C header's, field for field.
    if (!checkLayout(paramType, "ncl_param_info", sizeof(ncl_param_info),
                     {offsetof(ncl_param_info, name), offsetof(ncl_param_info, unit),
                      offsetof(ncl_param_info, unit_scale), offsetof(ncl_param_info, dim),
                      offsetof(ncl_param_info, default_value), offsetof(ncl_param_info, flags),
                      offsetof(ncl_param_info, min_value), offsetof(ncl_param_info, max_value)},
                     error) ||
        !checkLayout(varType, "ncl_var_info", sizeof(ncl_var_info),
                     {offsetof(ncl_var_info, name), offsetof(ncl_var_info, unit),
                      offsetof(ncl_var_info, unit_scale), offsetof(ncl_var_info, dim)},
                     error) ||
        !checkLayout(popType, "ncl_population_info", sizeof(ncl_population_info),
                     {offsetof(ncl_population_info, name),
                      offsetof(ncl_population_info, neuron),
                      offsetof(ncl_population_info, default_size),
                      offsetof(ncl_population_info, num_vars),
                      offsetof(ncl_population_info, num_params),
                      offsetof(ncl_population_info, vars),
                      offsetof(ncl_population_info, params),
                      offsetof(ncl_population_info, record_spikes),
                      offsetof(ncl_population_info, num_events),
                      offsetof(ncl_population_info, event_names),
                      offsetof(ncl_population_info, max_dt),
                      offsetof(ncl_population_info, min_dt),
                      offsetof(ncl_population_info, num_derived),
                      offsetof(ncl_population_info, derived),
                      offsetof(ncl_population_info, emits_spikes),
                      offsetof(ncl_population_info, reserved),
                      offsetof(ncl_population_info, source_kind),
                      offsetof(ncl_population_info, num_timed_inputs),
                      offsetof(ncl_population_info, data_dir),
                      offsetof(ncl_population_info, spike_times_file),
                      offsetof(ncl_population_info, spike_indices_file),
                      offsetof(ncl_population_info, timed_inputs)},
                     error) ||
        !checkLayout(timedType, "ncl_timed_input_info", sizeof(ncl_timed_input_info),
                     {offsetof(ncl_timed_input_info, input), offsetof(ncl_timed_input_info, file),
                      offsetof(ncl_timed_input_info, interval),
                      offsetof(ncl_timed_input_info, scale)},
                     error) ||
        !checkLayout(derivedType, "ncl_derived_info", sizeof(ncl_derived_info),
                     {offsetof(ncl_derived_info, name), offsetof(ncl_derived_info, num_sources),
                      offsetof(ncl_derived_info, sources)},
                     error) ||
        !checkLayout(bufferType, "ncl_buffer_info", sizeof(ncl_buffer_info),
                     {offsetof(ncl_buffer_info, name), offsetof(ncl_buffer_info, role),
                      offsetof(ncl_buffer_info, element), offsetof(ncl_buffer_info, extent),
                      offsetof(ncl_buffer_info, population), offsetof(ncl_buffer_info, index),
                      offsetof(ncl_buffer_info, count), offsetof(ncl_buffer_info, projection),
                      offsetof(ncl_buffer_info, reserved)},
                     error) ||
        !checkLayout(stageType, "ncl_stage_info", sizeof(ncl_stage_info),
                     {offsetof(ncl_stage_info, name), offsetof(ncl_stage_info, kind),
                      offsetof(ncl_stage_info, population), offsetof(ncl_stage_info, fn),
                      offsetof(ncl_stage_info, projection), offsetof(ncl_stage_info, gpu_launch),
                      offsetof(ncl_stage_info, kwta_keep), offsetof(ncl_stage_info, kwta_fraction),
                      offsetof(ncl_stage_info, gpu_kernel)},
                     error) ||
        !checkLayout(signedRangeType, "ncl_signed_range", sizeof(ncl_signed_range),
                     {offsetof(ncl_signed_range, begin), offsetof(ncl_signed_range, end),
                      offsetof(ncl_signed_range, sign), offsetof(ncl_signed_range, reserved)},
                     error) ||
        !checkLayout(projectionType, "ncl_projection_info", sizeof(ncl_projection_info),
                     {offsetof(ncl_projection_info, name),
                      offsetof(ncl_projection_info, synapse),
                      offsetof(ncl_projection_info, pre),
                      offsetof(ncl_projection_info, post),
                      offsetof(ncl_projection_info, pre_begin),
                      offsetof(ncl_projection_info, pre_end),
                      offsetof(ncl_projection_info, post_begin),
                      offsetof(ncl_projection_info, post_end),
                      offsetof(ncl_projection_info, rule),
                      offsetof(ncl_projection_info, autapses),
                      offsetof(ncl_projection_info, multapses),
                      offsetof(ncl_projection_info, reserved),
                      offsetof(ncl_projection_info, p),
                      offsetof(ncl_projection_info, n),
                      offsetof(ncl_projection_info, delay),
                      offsetof(ncl_projection_info, num_params),
                      offsetof(ncl_projection_info, num_vars),
                      offsetof(ncl_projection_info, params),
                      offsetof(ncl_projection_info, vars),
                      offsetof(ncl_projection_info, reads_presynaptic_state),
                      offsetof(ncl_projection_info, reserved5),
                      offsetof(ncl_projection_info, pre_file),
                      offsetof(ncl_projection_info, post_file),
                      offsetof(ncl_projection_info, var_files),
                      offsetof(ncl_projection_info, delay_file),
                      offsetof(ncl_projection_info, post_delay),
                      offsetof(ncl_projection_info, max_dt),
                      offsetof(ncl_projection_info, num_pre_traces),
                      offsetof(ncl_projection_info, num_post_traces),
                      offsetof(ncl_projection_info, pre_traces),
                      offsetof(ncl_projection_info, post_traces),
                      offsetof(ncl_projection_info, mask_file),
                      offsetof(ncl_projection_info, weight_var),
                      offsetof(ncl_projection_info, num_signed_ranges),
                      offsetof(ncl_projection_info, signed_ranges)},
                     error) ||
        !checkLayout(modelType, "ncl_model_descriptor", sizeof(ncl_model_descriptor),
                     {offsetof(ncl_model_descriptor, magic),
                      offsetof(ncl_model_descriptor, abi_version),
                      offsetof(ncl_model_descriptor, model_name),
                      offsetof(ncl_model_descriptor, source_file),
                      offsetof(ncl_model_descriptor, compiler_version),
                      offsetof(ncl_model_descriptor, real_bits),
                      offsetof(ncl_model_descriptor, num_populations),
                      offsetof(ncl_model_descriptor, dt),
                      offsetof(ncl_model_descriptor, default_duration),
                      offsetof(ncl_model_descriptor, default_seed),
                      offsetof(ncl_model_descriptor, populations),
                      offsetof(ncl_model_descriptor, num_buffers),
                      offsetof(ncl_model_descriptor, num_stages),
                      offsetof(ncl_model_descriptor, buffers),
                      offsetof(ncl_model_descriptor, stages),
                      offsetof(ncl_model_descriptor, num_projections),
                      offsetof(ncl_model_descriptor, reserved),
                      offsetof(ncl_model_descriptor, projections),
                      offsetof(ncl_model_descriptor, num_monitors),
                      offsetof(ncl_model_descriptor, reserved_monitors),
                      offsetof(ncl_model_descriptor, monitors),
                      offsetof(ncl_model_descriptor, default_batch),
                      offsetof(ncl_model_descriptor, batch_refusal),
                      offsetof(ncl_model_descriptor, num_gpu_images),
                      offsetof(ncl_model_descriptor, reserved_gpu),
                      offsetof(ncl_model_descriptor, gpu_images)},
                     error) ||
        !checkLayout(imageType, "ncl_gpu_image", sizeof(ncl_gpu_image),
                     {offsetof(ncl_gpu_image, arch), offsetof(ncl_gpu_image, format),
                      offsetof(ncl_gpu_image, reserved), offsetof(ncl_gpu_image, data),
                      offsetof(ncl_gpu_image, size)},
                     error) ||
        !checkLayout(monitorType, "ncl_monitor_info", sizeof(ncl_monitor_info),
                     {offsetof(ncl_monitor_info, name), offsetof(ncl_monitor_info, kind),
                      offsetof(ncl_monitor_info, population), offsetof(ncl_monitor_info, var),
                      offsetof(ncl_monitor_info, reserved), offsetof(ncl_monitor_info, begin),
                      offsetof(ncl_monitor_info, end), offsetof(ncl_monitor_info, every),
                      offsetof(ncl_monitor_info, projection),
                      offsetof(ncl_monitor_info, reserved_projection)},
                     error))
      return false;
    llvm::StringMap<int32_t> populationIndex;
    std::vector<llvm::Constant *> pops;
    for (PopulationOp pop : network.getBody().getOps<PopulationOp>()) {
      if (!pop.isLowered()) {
        error = "internal error: population '" + pop.getSymName().str() + "' was not lowered";
        return false;
      }
      populationIndex[pop.getSymName()] = static_cast<int32_t>(pops.size());
      std::vector<llvm::Constant *> vars = describeVars(varType, pop.getVars()),
                                    params = describeParams(paramType, pop.getParams()), eventNames,
                                    derived;
      if (auto events = pop.getEvents())
        for (auto name : events->getAsValueRange<mlir::StringAttr>())
          eventNames.push_back(string(name));
      std::optional<llvm::SmallVector<llvm::StringRef>> spikeFiles;
      if (auto files = pop.getSpikeFiles())
        spikeFiles = llvm::to_vector(files->getAsValueRange<mlir::StringAttr>());
      std::vector<llvm::Constant *> timed;
      if (auto list = pop.getTimedInputs())
        for (auto t : list->getAsRange<mlir::ncl::TimedInputAttr>())
          timed.push_back(llvm::ConstantStruct::get(
              timedType, {string(t.getInput()), string(t.getFile()), real(t.getInterval(), 0),
                          real(t.getScale(), 1)}));
      if (auto list = pop.getDerived())
        for (auto d : list->getAsRange<mlir::ncl::DerivedAttr>()) {
          std::vector<llvm::Constant *> sources;
          for (auto source : d.getSources().getAsValueRange<mlir::StringAttr>())
            sources.push_back(string(source));
          derived.push_back(llvm::ConstantStruct::get(
              derivedType,
              {string(d.getName()), b.getInt32(sources.size()), stringArray(sources)}));
        }
      pops.push_back(llvm::ConstantStruct::get(
          popType, {string(pop.getSymName()),
                    string(pop.getNeuron()),
                    b.getInt64(pop.getSize()),
                    b.getInt32(vars.size()),
                    b.getInt32(params.size()),
                    array(varType, vars, ".vars"),
                    array(paramType, params, ".params"),
                    b.getInt32(pop.getRecordSpikes() ? 1 : 0),
                    b.getInt32(eventNames.size()),
                    stringArray(eventNames),
                    real(pop.getMaxDtAttr(), HUGE_VAL),
                    real(pop.getMinDtAttr(), 0.0),
                    b.getInt32(derived.size()),
                    array(derivedType, derived, ".derived"),
                    b.getInt32(pop.getEmitsSpikes() ? 1 : 0),
                    b.getInt32(0),
                    b.getInt32(spikeFiles ? NCL_SOURCE_SPIKE_GENERATOR : NCL_SOURCE_NEURONS),
                    b.getInt32(timed.size()),
                    optionalString(pop.getDataDir()),
                    optionalString(spikeFiles ? std::optional<llvm::StringRef>((*spikeFiles)[0])
                                              : std::nullopt),
                    optionalString(spikeFiles ? std::optional<llvm::StringRef>((*spikeFiles)[1])
                                              : std::nullopt),
                    array(timedType, timed, ".timed_inputs")}));
    }
    llvm::StringMap<int32_t> projectionIndex;
    std::vector<llvm::Constant *> projections;
    for (ProjectionOp projection : network.getBody().getOps<ProjectionOp>()) {
      if (!projection.isLowered()) {
        error =
            "internal error: projection '" + projection.getSymName().str() + "' was not lowered";
        return false;
      }
      projectionIndex[projection.getSymName()] = static_cast<int32_t>(projections.size());
      std::vector<llvm::Constant *> vars = describeVars(varType, projection.getVars()),
                                    params = describeParams(paramType, projection.getParams());
      mlir::ArrayAttr noTraces = mlir::ArrayAttr::get(projection.getContext(), {});
      std::vector<llvm::Constant *> preTraces = describeVars(
          varType, projection.getPreTracesAttr() ? projection.getPreTracesAttr() : noTraces);
      std::vector<llvm::Constant *> postTraces = describeVars(
          varType, projection.getPostTracesAttr() ? projection.getPostTracesAttr() : noTraces);
      mlir::ncl::ConnectAttr connect = projection.getConnect();
      // Explicit connectivity's files: paths, read by the runtime at load time.
      auto file = [&](llvm::StringRef key) -> llvm::Constant * {
        auto path = connect.getFiles() ? connect.getFiles().getAs<mlir::StringAttr>(key) : nullptr;
        return path ? string(path.getValue()) : llvm::ConstantPointerNull::get(ptr);
      };
      std::vector<llvm::Constant *> varFiles;
      bool anyVarFile = false;
      for (auto v : projection.getVars().getAsRange<mlir::ncl::VariableAttr>()) {
        varFiles.push_back(file(v.getName()));
        anyVarFile |= !llvm::isa<llvm::ConstantPointerNull>(varFiles.back());
      }
      llvm::Constant *varFileTable = llvm::ConstantPointerNull::get(ptr);
      if (anyVarFile) {
        auto *type = llvm::ArrayType::get(ptr, varFiles.size());
        varFileTable =
            new llvm::GlobalVariable(m, type, true, llvm::GlobalValue::PrivateLinkage,
                                     llvm::ConstantArray::get(type, varFiles), ".var_files");
      }
      // Dale's law: (begin, end, sign) triples of presynaptic neurons.
      std::vector<llvm::Constant *> signedRanges;
      if (auto ranges = projection.getSignedRanges())
        for (size_t k = 0; k + 2 < ranges->size(); k += 3)
          signedRanges.push_back(llvm::ConstantStruct::get(
              signedRangeType,
              {b.getInt64((*ranges)[k]), b.getInt64((*ranges)[k + 1]),
               b.getInt32(static_cast<int32_t>((*ranges)[k + 2])), b.getInt32(0)}));
      int32_t weightVar = projection.getWeight()
                              ? static_cast<int32_t>(projection.varIndex(*projection.getWeight()))
                              : -1;
      projections.push_back(llvm::ConstantStruct::get(
          projectionType, {string(projection.getSymName()),
                           string(projection.getSynapse()),
                           b.getInt32(populationIndex.lookup(projection.getPre())),
                           b.getInt32(populationIndex.lookup(projection.getPost())),
                           b.getInt64(projection.getPreRange()[0]),
                           b.getInt64(projection.getPreRange()[1]),
                           b.getInt64(projection.getPostRange()[0]),
                           b.getInt64(projection.getPostRange()[1]),
                           b.getInt32(static_cast<int32_t>(connect.getRule())),
                           b.getInt32(connect.getAutapses() ? 1 : 0),
                           b.getInt32(connect.getMultapses() ? 1 : 0),
                           b.getInt32(0),
                           real(connect.getP(), 0),
                           b.getInt64(connect.getN()),
                           real(projection.getDelayAttr(), 0),
                           b.getInt32(params.size()),
                           b.getInt32(vars.size()),
                           array(paramType, params, ".params"),
                           array(varType, vars, ".vars"),
                           b.getInt32(projection.getReadsPresynapticState() ? 1 : 0),
                           b.getInt32(0),
                           file("pre"),
                           file("post"),
                           varFileTable,
                           file("delay"),
                           real(projection.getPostDelayAttr(), 0),
                           real(projection.getMaxDtAttr(), HUGE_VAL),
                           b.getInt32(preTraces.size()),
                           b.getInt32(postTraces.size()),
                           array(varType, preTraces, ".pre_traces"),
                           array(varType, postTraces, ".post_traces"),
                           file("mask"),
                           b.getInt32(weightVar),
                           b.getInt32(signedRanges.size()),
                           array(signedRangeType, signedRanges, ".signed_ranges")}));
    }
    // A buffer's owner: a population or a projection.
    auto owners = [&](llvm::StringRef owner) -> std::pair<int32_t, int32_t> {
      if (auto it = projectionIndex.find(owner); it != projectionIndex.end())
        return {-1, it->second};
      return {populationIndex.lookup(owner), -1};
    };
    std::vector<llvm::Constant *> buffers;
    for (auto buffer : network.getBuffersAttr().getAsRange<BufferAttr>()) {
      mlir::Type t = buffer.getElement();
      int32_t element = t.isF32()         ? NCL_ELEMENT_F32
                        : t.isF64()       ? NCL_ELEMENT_F64
                        : t.isInteger(32) ? NCL_ELEMENT_I32
                        : t.isInteger(16) ? NCL_ELEMENT_I16
                                          : NCL_ELEMENT_I64;
      auto [population, projection] = owners(buffer.getPopulation().getValue());
      buffers.push_back(llvm::ConstantStruct::get(
          bufferType, {string(buffer.getName()), b.getInt32(static_cast<int32_t>(buffer.getRole())),
                       b.getInt32(element), b.getInt32(static_cast<int32_t>(buffer.getExtent())),
                       b.getInt32(population), b.getInt32(static_cast<int32_t>(buffer.getIndex())),
                       b.getInt64(buffer.getCount()), b.getInt32(projection), b.getInt32(0)}));
    }
    std::vector<llvm::Constant *> stages;
    if (mlir::ncl::ScheduleOp schedule = network.getSchedule())
      for (StageOp stage : schedule.getBody().getOps<StageOp>()) {
        if (!stage.getKernel()) {
          error = "internal error: a stage of population '" + stage.getPopulation().str() +
                  "' has no kernel";
          return false;
        }
        llvm::Function *fn = entryPoint(stage, network, error);
        if (!fn)
          return false;
        const char *suffix = ".update";
        switch (stage.getKind()) {
        case mlir::ncl::StageKind::Init:
          suffix = ".init";
          break;
        case mlir::ncl::StageKind::Step:
          break;
        case mlir::ncl::StageKind::Connect:
          suffix = ".connect";
          break;
        case mlir::ncl::StageKind::Deliver:
        case mlir::ncl::StageKind::DeliverSynapses:
          suffix = ".deliver";
          break;
        case mlir::ncl::StageKind::Sum:
          suffix = ".sum";
          break;
        case mlir::ncl::StageKind::OnPost:
          suffix = ".on_post";
          break;
        case mlir::ncl::StageKind::SynapseStep:
          suffix = ".synapse_step";
          break;
        case mlir::ncl::StageKind::ConnectCondition:
          suffix = ".condition";
          break;
        case mlir::ncl::StageKind::Kwta:
          suffix = ".kwta";
          break;
        case mlir::ncl::StageKind::KwtaKeys:
          suffix = ".kwta_keys";
          break;
        case mlir::ncl::StageKind::KwtaGate:
          suffix = ".kwta_gate";
          break;
        case mlir::ncl::StageKind::AdvancePreTraces:
          suffix = ".advance_pre_traces";
          break;
        case mlir::ncl::StageKind::AdvancePostTraces:
          suffix = ".advance_post_traces";
          break;
        }
        auto [population, projection] = owners(stage.getPopulation());
        int64_t keep = 0;
        double fraction = 0;
        if (stage.getKind() == mlir::ncl::StageKind::Kwta ||
            stage.getKind() == mlir::ncl::StageKind::KwtaGate)
          for (mlir::ncl::KwtaOp kwta : network.getBody().getOps<mlir::ncl::KwtaOp>())
            if (kwta.getPopulation() == stage.getPopulation()) {
              keep = kwta.getKeep().value_or(0);
              fraction = kwta.getFraction() ? kwta.getFraction()->convertToDouble() : 0;
            }
        stages.push_back(llvm::ConstantStruct::get(
            stageType,
            {string((stage.getPopulation() + suffix).str()),
             b.getInt32(static_cast<int32_t>(stage.getKind())), b.getInt32(population), fn,
             b.getInt32(projection), b.getInt32(gpuLaunch(stages.size())), b.getInt64(keep),
             llvm::ConstantFP::get(f64, fraction), gpuKernel(stages.size())}));
      }
    std::vector<llvm::Constant *> monitors;
    for (mlir::ncl::MonitorOp monitor : network.getBody().getOps<mlir::ncl::MonitorOp>()) {
      int32_t population = -1, projection = -1, var = -1;
      if (monitor.getKind() == mlir::ncl::MonitorKind::Synapse) {
        auto op = network.lookupSymbol<ProjectionOp>(monitor.getPopulationAttr());
        projection = owners(monitor.getPopulation()).second;
        var = static_cast<int32_t>(op.varIndex(*monitor.getVar()));
      } else {
        population = populationIndex.lookup(monitor.getPopulation());
        if (monitor.getVar())
          var = static_cast<int32_t>(network.lookupSymbol<PopulationOp>(monitor.getPopulationAttr())
                                         .varIndex(*monitor.getVar()));
      }
      monitors.push_back(llvm::ConstantStruct::get(
          monitorType,
          {string(monitor.getName()), b.getInt32(static_cast<int32_t>(monitor.getKind())),
           b.getInt32(population), b.getInt32(var), b.getInt32(0),
           b.getInt64(monitor.getRange()[0]), b.getInt64(monitor.getRange()[1]),
           b.getInt64(monitor.getEvery()), b.getInt32(projection), b.getInt32(0)}));
    }
    llvm::Constant *model = llvm::ConstantStruct::get(
        modelType, {b.getInt32(NCL_MODEL_MAGIC),
                    b.getInt32(NCL_ABI_VERSION),
                    string(network.getSymName()),
                    string(network.getSource()),
                    string(NCL_VERSION_STRING),
                    b.getInt32(network.getReal().isF32() ? 32 : 64),
                    b.getInt32(pops.size()),
                    llvm::ConstantFP::get(f64, network.getDt().convertToDouble()),
                    llvm::ConstantFP::get(f64, network.getDuration().convertToDouble()),
                    b.getInt64(network.getSeed()),
                    array(popType, pops, ".populations"),
                    b.getInt32(buffers.size()),
                    b.getInt32(stages.size()),
                    array(bufferType, buffers, ".buffers"),
                    array(stageType, stages, ".stages"),
                    b.getInt32(projections.size()),
                    b.getInt32(0),
                    array(projectionType, projections, ".projections"),
                    b.getInt32(monitors.size()),
                    b.getInt32(0),
                    array(monitorType, monitors, ".monitors"),
                    b.getInt64(network.getBatch()),
                    optionalString(network.getBatchRefusal()),
                    b.getInt32(gpu ? gpu->numImages : 0),
                    b.getInt32(0),
                    gpuImages(imageType)});
    new llvm::GlobalVariable(m, modelType, true, llvm::GlobalValue::ExternalLinkage, model,
                             NCL_MODEL_SYMBOL);
    return true;
  }

private:
  /// The GPU entry of the schedule's stage `n`, or null (a CPU-only
  /// library, a stage the host runs).
  llvm::Constant *gpuKernel(size_t n) {
    if (!gpu || n >= gpu->stageEntries.size() || gpu->stageEntries[n].empty())
      return llvm::ConstantPointerNull::get(ptr);
    return string(gpu->stageEntries[n]);
  }

  /// How the GPU entry of the schedule's stage `n` divides its work
  /// (ncl_gpu_launch).
  int32_t gpuLaunch(size_t n) {
    if (!gpu || n >= gpu->stageLaunches.size())
      return NCL_GPU_LAUNCH_BY_KIND;
    return gpu->stageLaunches[n];
  }

  /// The ncl_gpu_image array: here, where the images are compiled already
  /// (--emit=llvm), else a declaration of kGPUImagesSymbol, which the
  /// library's last object defines once the background compile of the
  /// images is done (emitSharedLibrary).
  llvm::Constant *gpuImages(llvm::StructType *imageType) {
    if (!gpu || gpu->numImages == 0)
      return llvm::ConstantPointerNull::get(ptr);
    if (gpu->images.size() == gpu->numImages)
      return defineGPUImages(m, imageType, gpu->images, ".gpu_images",
                             llvm::GlobalValue::PrivateLinkage);
    auto *table =
        new llvm::GlobalVariable(m, llvm::ArrayType::get(imageType, gpu->numImages), true,
                                 llvm::GlobalValue::ExternalLinkage, nullptr, kGPUImagesSymbol);
    table->setVisibility(llvm::GlobalValue::HiddenVisibility);
    return table;
  }

  /// Whether `type` lays out like the C struct whose size and field offsets
  /// are given (model_abi.h), in the target's data layout.
  bool checkLayout(llvm::StructType *type, const char *name, size_t size,
                   std::initializer_list<size_t> offsets, std::string &error) {
    const llvm::StructLayout *layout = m.getDataLayout().getStructLayout(type);
    bool same = layout->getSizeInBytes() == size && type->getNumElements() == offsets.size();
    unsigned k = 0;
    for (size_t offset : offsets)
      same = same && k < type->getNumElements() && layout->getElementOffset(k++) == offset;
    if (!same)
      error = std::string("internal error: the descriptor's ") + name +
              " does not lay out as model_abi.h's";
    return same;
  }

  llvm::Module &m;
  llvm::LLVMContext &ctx;
  llvm::IRBuilder<> b;
  llvm::PointerType *ptr;
  llvm::Type *i8, *i32, *i64, *f64;
  std::vector<llvm::Function *> entries;
  llvm::StringSet<> fastConnects; // connectsForSpeed's, once known
  bool connectsForSpeedKnown = false;

public:
  /// The GPU images to embed (nclc --target=cuda), or null.
  const GPUModule *gpu = nullptr;
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
  // The SLP vectoriser too (off by default outside clang): it turns the
  // append loop's test of a block of spike marks (ncl-cpu-schedule) into
  // vector compares.
  ncl::optimizeModule(m, tm, /*slpVectorize=*/true);
}

/// Appends the object code of `m` (optimised already) to `object`.
bool emitObject(llvm::Module &m, llvm::TargetMachine &tm, llvm::SmallVectorImpl<char> &object,
                std::string &error) {
  llvm::raw_svector_ostream os(object);
  llvm::legacy::PassManager pm;
  if (tm.addPassesToEmitFile(pm, os, nullptr, llvm::CodeGenFileType::ObjectFile)) {
    error = "internal error: the target cannot emit object files";
    return false;
  }
  pm.run(m);
  return true;
}

//===----------------------------------------------------------------------===//
// Compiling kernels in parallel
//===----------------------------------------------------------------------===//
//
// Optimisation and code generation take most of nclc's time, one kernel at a
// time. With more than one core the module is split into parts, each holding
// whole kernels (an entry point, the kernel it calls and every internal symbol
// they use), and each part is optimised and compiled on its own thread in its
// own LLVMContext; lld links the objects. A kernel sees the same code as in
// one module, so O3 inlines and specialises it the same way and the machine
// code of each kernel is that of a single-threaded compile.

/// Splits `m` into at most `n` parts balanced by instruction count; returns
/// no parts if there is nothing to share out. The entry points become hidden
/// external symbols, since the descriptor that names them (data, in the
/// lightest part) may be in another part.
std::vector<std::unique_ptr<llvm::Module>>
splitByKernel(llvm::Module &m, llvm::ArrayRef<llvm::Function *> entries, unsigned n) {
  std::vector<std::unique_ptr<llvm::Module>> parts;
  if (n < 2)
    return parts;
  for (llvm::Function *entry : entries) {
    entry->setLinkage(llvm::GlobalValue::ExternalLinkage);
    entry->setVisibility(llvm::GlobalValue::HiddenVisibility);
  }
  // A symbol that only this module sees stays with every function and
  // global that uses it (through constants too).
  llvm::EquivalenceClasses<const llvm::GlobalValue *> groups;
  for (const llvm::GlobalValue &value : m.global_values()) {
    if (value.isDeclaration())
      continue;
    groups.insert(&value);
    if (!value.hasLocalLinkage())
      continue;
    llvm::SmallVector<const llvm::User *> users(value.users());
    while (!users.empty()) {
      const llvm::User *user = users.pop_back_val();
      if (auto *instruction = llvm::dyn_cast<llvm::Instruction>(user))
        groups.unionSets(&value, instruction->getFunction());
      else if (auto *global = llvm::dyn_cast<llvm::GlobalValue>(user))
        groups.unionSets(&value, global);
      else
        users.append(user->user_begin(), user->user_end());
    }
  }
  // Largest group first, each to the part with the fewest instructions so
  // far (ties: module order, so the split is the same on every run). Dead
  // instructions, which O3 removes first, are not counted: IR read back
  // from an earlier stage (`nclc m.mlir`) has fewer of them, and must be
  // split, and so linked, the same way.
  llvm::MapVector<const llvm::GlobalValue *, size_t> size;
  for (llvm::GlobalValue &value : m.global_values())
    if (groups.contains(&value)) {
      size_t &total = size[groups.getLeaderValue(&value)];
      if (auto *function = llvm::dyn_cast<llvm::Function>(&value))
        for (llvm::Instruction &instruction : llvm::instructions(*function))
          total += !llvm::isInstructionTriviallyDead(&instruction);
    }
  // Sizes in units of 64 instructions, rounded: IR that reaches here by
  // another road (read back from `--emit=mlir-loops`) may differ by an
  // instruction or two the MLIR passes placed differently, which must not
  // change the split, and so the library's bytes.
  for (auto &entry : size)
    entry.second = (entry.second + 32) / 64;
  std::vector<std::pair<const llvm::GlobalValue *, size_t>> bySize(size.begin(), size.end());
  std::stable_sort(bySize.begin(), bySize.end(),
                   [](const auto &a, const auto &b) { return a.second > b.second; });
  size_t nonEmpty = llvm::count_if(bySize, [](const auto &group) { return group.second > 0; });
  n = std::min<size_t>(n, nonEmpty);
  if (n < 2)
    return parts;
  std::vector<size_t> load(n, 0);
  llvm::DenseMap<const llvm::GlobalValue *, unsigned> partOf;
  for (const auto &[leader, instructions] : bySize) {
    unsigned lightest = std::min_element(load.begin(), load.end()) - load.begin();
    partOf[leader] = lightest;
    load[lightest] += instructions;
  }
  for (unsigned i = 0; i < n; ++i) {
    llvm::ValueToValueMapTy map;
    parts.push_back(llvm::CloneModule(m, map, [&](const llvm::GlobalValue *value) {
      return groups.contains(value) && partOf.lookup(groups.getLeaderValue(value)) == i;
    }));
  }
  return parts;
}

/// CPU seconds the calling thread has used.
double threadCPUSeconds() {
  timespec now;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + 1e-9 * static_cast<double>(now.tv_nsec);
}

/// Optimises and compiles `parts` on a thread each (the first on this one),
/// through bitcode into a context per thread; appends their objects. With
/// `timePhases`, prints each part's size and CPU time (how well the kernels
/// were shared out).
bool compileParts(llvm::ArrayRef<std::unique_ptr<llvm::Module>> parts,
                  std::vector<llvm::SmallVector<char, 0>> &objects, std::string &error,
                  bool timePhases) {
  size_t n = parts.size();
  std::vector<llvm::SmallVector<char, 0>> bitcode(n), compiled(n);
  std::vector<std::unique_ptr<llvm::TargetMachine>> machines(n);
  std::vector<std::string> errors(n);
  std::vector<double> seconds(n);
  for (size_t i = 0; i < n; ++i) {
    llvm::raw_svector_ostream os(bitcode[i]);
    llvm::WriteBitcodeToFile(*parts[i], os);
    if (!(machines[i] = hostMachine(error)))
      return false;
  }
  auto compile = [&](size_t i) {
    double start = threadCPUSeconds();
    llvm::scope_exit stop([&] { seconds[i] = threadCPUSeconds() - start; });
    llvm::LLVMContext context;
    llvm::Expected<std::unique_ptr<llvm::Module>> part = llvm::parseBitcodeFile(
        llvm::MemoryBufferRef(llvm::StringRef(bitcode[i].data(), bitcode[i].size()), "ncl"),
        context);
    if (!part) {
      errors[i] = "internal error: " + llvm::toString(part.takeError());
      return;
    }
    optimize(**part, *machines[i]);
    emitObject(**part, *machines[i], compiled[i], errors[i]);
  };
  std::vector<std::thread> threads;
  for (size_t i = 1; i < n; ++i)
    threads.emplace_back(compile, i);
  compile(0);
  for (std::thread &thread : threads)
    thread.join();
  if (timePhases)
    for (size_t i = 0; i < n; ++i) {
      size_t kernels = 0, instructions = 0;
      for (const llvm::Function &function : *parts[i])
        if (!function.isDeclaration()) {
          kernels += function.getName().ends_with("_entry");
          instructions += function.getInstructionCount();
        }
      llvm::errs() << llvm::format("nclc: part %zu: %zu kernels, %zu instructions before O3, "
                                   "%.4f s CPU\n",
                                   i, kernels, instructions, seconds[i]);
    }
  for (size_t i = 0; i < n; ++i) {
    if (!errors[i].empty()) {
      error = errors[i];
      return false;
    }
    objects.push_back(std::move(compiled[i]));
  }
  return true;
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

/// Links `objects` into a shared library returned in `library`.
bool linkInMemory(llvm::ArrayRef<llvm::SmallVector<char, 0>> objects, std::string &library,
                  std::string &error) {
  std::vector<std::unique_ptr<LinkerPipe>> inputs;
  for (const llvm::SmallVector<char, 0> &object : objects)
    inputs.push_back(std::make_unique<LinkerPipe>(LinkerPipe::ToLinker,
                                                  llvm::StringRef(object.data(), object.size())));
  LinkerPipe output(LinkerPipe::FromLinker);
  for (const std::unique_ptr<LinkerPipe> &pipe : inputs)
    if (!pipe->ok()) {
      error = "linking failed: " + describe(pipe->error());
      return false;
    }
  if (!output.ok()) {
    error = "linking failed: " + describe(output.error());
    return false;
  }
  std::vector<std::string> inputPaths;
  for (const std::unique_ptr<LinkerPipe> &pipe : inputs)
    inputPaths.push_back(pipe->path());
  std::string outputPath = output.path();
  std::string linkOut, linkErr;
  llvm::raw_string_ostream linkOutStream(linkOut), linkErrStream(linkErr);
  std::vector<const char *> argv = {"ld.lld", "-shared", "--no-undefined", "-o",
                                    outputPath.c_str()};
  for (const std::string &path : inputPaths)
    argv.push_back(path.c_str());
  argv.insert(argv.end(), {"-L/usr/lib/x86_64-linux-gnu", "-L/lib/x86_64-linux-gnu", "-lm", "-lc"});
  lld::Result result =
      lld::lldMain(argv, linkOutStream, linkErrStream, {{lld::Gnu, &lld::elf::link}});
  for (const std::unique_ptr<LinkerPipe> &pipe : inputs)
    pipe->finish();
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
  if (std::error_code ec =
          llvm::sys::fs::createUniqueFile(model, fd, temporary, llvm::sys::fs::OF_None, 0755))
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

namespace {

using ncl::OperandSlot;

/// Whether a kernel's operand may hold another integer constant in a kernel
/// merged with it: an operand of arithmetic (a binary operator, a
/// comparison, a select's values). Kernels of one model differ so in the
/// random streams of their draws (ncl_random_stream_id of the population or
/// projection), a constant that a xor of the counter takes.
bool arithmeticOperand(const llvm::Instruction &i, unsigned k) {
  return llvm::isa<llvm::BinaryOperator>(i) || llvm::isa<llvm::ICmpInst>(i) ||
         (llvm::isa<llvm::SelectInst>(i) && k > 0);
}

} // namespace

std::optional<std::vector<OperandSlot>>
ncl::integerConstantDifferences(llvm::Function &a, llvm::Function &b,
                                llvm::function_ref<bool(const llvm::Instruction &, unsigned)> may) {
  if (a.getFunctionType() != b.getFunctionType() || a.size() != b.size() ||
      a.getAttributes() != b.getAttributes())
    return std::nullopt;
  llvm::DenseMap<const llvm::Value *, const llvm::Value *> same;
  for (auto [x, y] : llvm::zip(a.args(), b.args()))
    same[&x] = &y;
  for (auto [x, y] : llvm::zip(a, b)) {
    if (x.size() != y.size())
      return std::nullopt;
    same[&x] = &y;
    for (auto [i, j] : llvm::zip(x, y))
      same[&i] = &j;
  }
  std::vector<OperandSlot> differences;
  for (auto [x, y] : llvm::zip(a, b))
    for (auto [i, j] : llvm::zip(x, y)) {
      if (!i.isSameOperationAs(&j) || i.getNumOperands() != j.getNumOperands())
        return std::nullopt;
      if (auto *phi = llvm::dyn_cast<llvm::PHINode>(&i))
        for (auto [from, to] : llvm::zip(phi->blocks(), llvm::cast<llvm::PHINode>(j).blocks()))
          if (same.lookup(from) != to)
            return std::nullopt;
      for (unsigned k = 0, e = i.getNumOperands(); k < e; ++k) {
        const llvm::Value *u = i.getOperand(k), *v = j.getOperand(k);
        if (auto it = same.find(u); it != same.end()) {
          if (it->second != v)
            return std::nullopt;
          continue;
        }
        if (u == v)
          continue; // the same constant, global or function
        auto *cu = llvm::dyn_cast<llvm::ConstantInt>(u);
        auto *cv = llvm::dyn_cast<llvm::ConstantInt>(v);
        if (!cu || !cv || cu->getType() != cv->getType() || !may(i, k))
          return std::nullopt;
        differences.push_back({&i, k});
      }
    }
  return differences;
}

llvm::Instruction *ncl::samePlace(llvm::Function &a, llvm::Function &b, llvm::Instruction *i) {
  for (auto [x, y] : llvm::zip(a, b))
    for (auto [p, q] : llvm::zip(x, y))
      if (&p == i)
        return &q;
  return nullptr;
}

namespace {

/// Replaces `kernels` (same code but for integer constants at `slots` of the
/// first) by one kernel that takes those constants as extra arguments;
/// `calls[k]` calls kernels[k] and is rewritten to pass its kernel's values.
void mergeWithConstantArguments(llvm::ArrayRef<llvm::Function *> kernels,
                                llvm::ArrayRef<llvm::CallInst *> calls,
                                llvm::ArrayRef<OperandSlot> slots) {
  llvm::Function *first = kernels.front();
  // Each call's values, read before the first kernel's body moves.
  std::vector<std::vector<llvm::Value *>> values(kernels.size());
  for (size_t k = 0; k < kernels.size(); ++k)
    for (auto [instruction, operand] : slots)
      values[k].push_back(samePlace(*first, *kernels[k], instruction)->getOperand(operand));
  llvm::SmallVector<llvm::Type *> params(first->getFunctionType()->params());
  for (auto [instruction, operand] : slots)
    params.push_back(instruction->getOperand(operand)->getType());
  auto *type = llvm::FunctionType::get(first->getReturnType(), params, false);
  llvm::Function *merged = llvm::Function::Create(
      type, first->getLinkage(), first->getName() + ".streams", first->getParent());
  merged->setAttributes(first->getAttributes());
  merged->splice(merged->begin(), first);
  for (auto [from, to] : llvm::zip(first->args(), merged->args()))
    from.replaceAllUsesWith(&to);
  for (size_t n = 0; n < slots.size(); ++n)
    slots[n].first->setOperand(slots[n].second, merged->getArg(first->arg_size() + n));
  for (size_t k = 0; k < kernels.size(); ++k) {
    llvm::SmallVector<llvm::Value *> args(calls[k]->args());
    args.append(values[k].begin(), values[k].end());
    auto *call = llvm::CallInst::Create(merged, args, "", calls[k]->getIterator());
    call->setCallingConv(calls[k]->getCallingConv());
    calls[k]->eraseFromParent();
  }
  for (llvm::Function *kernel : kernels)
    kernel->eraseFromParent();
}

} // namespace

/// Populations of one neuron model (and projections of one synapse model)
/// get kernels that differ only in name: their entry points differ in the
/// buffers they load, the kernels not at all. Each set of identical kernels
/// whose entry points pass the same constants (memref offsets and strides,
/// fixed extents) is compiled once, called by every entry point of the set;
/// O3 propagates those constants into the one kernel, as inlining did into
/// each, so its loops are the same machine code. Kernels that draw random
/// numbers differ in the stream of each draw (a constant per population
/// or projection): those that are the same code but for such integer
/// constants become one kernel that takes them as arguments, each entry
/// passing its own, so every draw is the one it was (the microcircuit's 55
/// connect kernels become one per synapse model).
void ncl::mergeIdenticalKernels(llvm::ArrayRef<llvm::Function *> entries) {
  // Each kernel is called once, by its entry point.
  llvm::MapVector<llvm::Function *, llvm::CallInst *> calls;
  for (llvm::Function *entry : entries)
    for (llvm::Instruction &instruction : entry->getEntryBlock())
      if (auto *call = llvm::dyn_cast<llvm::CallInst>(&instruction))
        if (llvm::Function *kernel = call->getCalledFunction(); kernel && !kernel->isDeclaration())
          calls.insert({kernel, call});
  auto sameConstants = [](llvm::CallInst *a, llvm::CallInst *b) {
    for (unsigned i = 0, e = a->arg_size(); i < e; ++i) {
      auto *constantA = llvm::dyn_cast<llvm::Constant>(a->getArgOperand(i));
      auto *constantB = llvm::dyn_cast<llvm::Constant>(b->getArgOperand(i));
      if ((constantA || constantB) && constantA != constantB)
        return false;
    }
    return true;
  };
  llvm::GlobalNumberState globals;
  llvm::DenseMap<llvm::stable_hash, llvm::SmallVector<llvm::Function *>> kept;
  std::vector<llvm::Function *> distinct;
  for (auto [kernel, call] : calls) {
    llvm::SmallVector<llvm::Function *> &candidates = kept[llvm::StructuralHash(*kernel, true)];
    auto equal = llvm::find_if(candidates, [&](llvm::Function *first) {
      return sameConstants(calls.lookup(first), call) &&
             llvm::FunctionComparator(first, kernel, &globals).compare() == 0;
    });
    if (equal == candidates.end()) {
      candidates.push_back(kernel);
      distinct.push_back(kernel);
      continue;
    }
    call->setCalledFunction(*equal);
    if (kernel->use_empty())
      kernel->eraseFromParent();
  }
  // The distinct kernels, grouped by code up to integer constants. A kernel
  // several entries call (merged above) is left alone.
  llvm::DenseMap<llvm::stable_hash, std::vector<std::vector<llvm::Function *>>> groups;
  for (llvm::Function *kernel : distinct) {
    if (!kernel->hasOneUse())
      continue;
    llvm::CallInst *call = calls.lookup(kernel);
    std::vector<std::vector<llvm::Function *>> &similar =
        groups[llvm::StructuralHash(*kernel, false)];
    auto group = llvm::find_if(similar, [&](const std::vector<llvm::Function *> &g) {
      return sameConstants(calls.lookup(g.front()), call) &&
             integerConstantDifferences(*g.front(), *kernel, arithmeticOperand).has_value();
    });
    if (group == similar.end())
      similar.push_back({kernel});
    else
      group->push_back(kernel);
  }
  for (auto &bucket : groups)
    for (std::vector<llvm::Function *> &group : bucket.second) {
      if (group.size() < 2)
        continue;
      // Every operand where some member differs from the first.
      std::vector<OperandSlot> slots;
      for (size_t k = 1; k < group.size(); ++k) {
        std::optional<std::vector<OperandSlot>> differences =
            integerConstantDifferences(*group.front(), *group[k], arithmeticOperand);
        for (OperandSlot slot : *differences)
          if (!llvm::is_contained(slots, slot))
            slots.push_back(slot);
      }
      std::vector<llvm::CallInst *> groupCalls;
      for (llvm::Function *kernel : group)
        groupCalls.push_back(calls.lookup(kernel));
      mergeWithConstantArguments(group, groupCalls, slots);
    }
}

namespace {

/// A kernel that several entry points call (populations of one neuron
/// model, projections of one synapse model, after mergeIdenticalKernels)
/// is compiled once, out of line: O3 would otherwise inline it into every
/// entry, and the microcircuit's 55 deliveries were 55 copies of one loop,
/// two thirds of its optimised IR and a third of nclc's CPU time. A call
/// a stage and step costs nothing measurable (the 2 % microcircuit runs
/// in the same time); the constants every entry passes alike still reach
/// the kernel (IPSCCP), and a kernel called once is inlined as before.
void compileSharedKernelsOnce(llvm::ArrayRef<llvm::Function *> entries) {
  llvm::SmallPtrSet<llvm::Function *, 16> kernels;
  for (llvm::Function *entry : entries)
    for (llvm::Instruction &instruction : entry->getEntryBlock())
      if (auto *call = llvm::dyn_cast<llvm::CallInst>(&instruction))
        if (llvm::Function *kernel = call->getCalledFunction(); kernel && !kernel->isDeclaration())
          kernels.insert(kernel);
  for (llvm::Function *kernel : kernels)
    if (kernel->getNumUses() > 1)
      kernel->addFnAttr(llvm::Attribute::NoInline);
}

} // namespace

bool ncl::emitSharedLibrary(mlir::ModuleOp module, const std::string &path, std::string &error,
                            llvm::raw_ostream *llvmOut, unsigned threads, bool timePhases,
                            GPUModule *gpu) {
  // --time-phases: one timer per phase, in nclc's group (process CPU time,
  // so the parallel compile counts every thread).
  std::unique_ptr<llvm::NamedRegionTimer> timer;
  auto phase = [&](llvm::StringRef name, llvm::StringRef description) {
    timer.reset();
    timer = std::make_unique<llvm::NamedRegionTimer>(name, description, kPhaseTimerGroup,
                                                     kPhaseTimerGroupDescription, timePhases);
  };
  // The model's description is read before translation, then removed: the
  // LLVM module holds only the kernels, to which the descriptor is added.
  auto networks = module.getOps<NetworkOp>();
  if (networks.empty() || std::next(networks.begin()) != networks.end()) {
    error = "the module must hold exactly one ncl.network";
    return false;
  }
  NetworkOp network = *networks.begin();
  if (!network.getBuffers()) {
    error = "internal error: the network has no buffer table";
    return false;
  }
  // The descriptor's strings and numbers are copied out of the network;
  // the kernels it names are found after translation.
  mlir::OwningOpRef<NetworkOp> description(network.clone());
  network.erase();
  phase("translate", "Translation to LLVM IR");
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
  // --emit=llvm prints the images in the descriptor's module: they are
  // needed now. A library gets them as its last object (below), so the
  // CPU's code is compiled while they are.
  if (gpu && llvmOut) {
    timer.reset(); // the images' phases are timed on their own
    if (!gpu->waitForImages(error))
      return false;
  }
  phase("descriptor", "Entry points, descriptor, merging kernels, verifier");
  LibraryBuilder builder(*m);
  builder.gpu = gpu;
  if (!builder.descriptor(*description, error))
    return false;
  mergeIdenticalKernels(builder.entryPoints());
  compileSharedKernelsOnce(builder.entryPoints());
  std::string verifyMessage;
  llvm::raw_string_ostream verifyStream(verifyMessage);
  if (llvm::verifyModule(*m, &verifyStream)) {
    error = "internal error: invalid LLVM IR: " + verifyMessage;
    return false;
  }
  if (llvmOut) {
    phase("optimize", "LLVM O3");
    optimize(*m, *tm);
    m->print(*llvmOut, nullptr);
    return true;
  }

  // By default one part per core the process may use (--time-passes: one,
  // as its report is not kept per thread).
  if (threads == 0)
    threads = llvm::hardware_concurrency().compute_thread_count();
  if (llvm::TimePassesIsEnabled)
    threads = 1;
  phase("codegen", "LLVM O3 and code generation (all threads)");
  std::vector<std::unique_ptr<llvm::Module>> parts =
      splitByKernel(*m, builder.entryPoints(), threads);
  std::vector<llvm::SmallVector<char, 0>> objects;
  if (parts.empty()) {
    optimize(*m, *tm);
    if (!emitObject(*m, *tm, objects.emplace_back(), error))
      return false;
  } else if (!compileParts(parts, objects, error, timePhases)) {
    return false;
  }
  // The GPU's kernels compiled for the host, for the fake driver's tests.
  if (gpu && !gpu->emulation.empty()) {
    llvm::LLVMContext emulationContext;
    llvm::Expected<std::unique_ptr<llvm::Module>> emulation = llvm::parseBitcodeFile(
        llvm::MemoryBufferRef(gpu->emulation, "ncl_gpu_emulation"), emulationContext);
    if (!emulation) {
      error = "internal error: cannot read the GPU kernels' host emulation: " +
              llvm::toString(emulation.takeError());
      return false;
    }
    (*emulation)->setTargetTriple(tm->getTargetTriple());
    (*emulation)->setDataLayout(tm->createDataLayout());
    optimize(**emulation, *tm);
    if (!emitObject(**emulation, *tm, objects.emplace_back(), error))
      return false;
  }
  if (gpu && gpu->images.size() != gpu->numImages) {
    // Unless --time-phases deferred them to now, to time each phase alone,
    // the images were compiled in the background until here.
    timer.reset();
    if (!gpu->waitForImages(error))
      return false;
    phase("gpu-images", "GPU: the images' object");
    llvm::LLVMContext imagesContext;
    llvm::Module images("ncl_gpu_images", imagesContext);
    images.setTargetTriple(tm->getTargetTriple());
    images.setDataLayout(tm->createDataLayout());
    auto *ptrType = llvm::PointerType::getUnqual(imagesContext);
    auto *i32 = llvm::Type::getInt32Ty(imagesContext);
    auto *imageType = llvm::StructType::create(
        imagesContext, {ptrType, i32, i32, ptrType, llvm::Type::getInt64Ty(imagesContext)},
        "ncl_gpu_image");
    defineGPUImages(images, imageType, gpu->images, kGPUImagesSymbol,
                    llvm::GlobalValue::ExternalLinkage);
    if (!emitObject(images, *tm, objects.emplace_back(), error))
      return false;
  }
  phase("link", "Linking (lld, in-process)");
  std::string library;
  if (!linkInMemory(objects, library, error))
    return false;
  phase("write", "Writing the library");
  return writeOutput(path, library, error);
}

void ncl::optimizeModule(llvm::Module &m, llvm::TargetMachine &tm, bool slpVectorize) {
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PipelineTuningOptions tuning;
  tuning.SLPVectorization = slpVectorize;
  llvm::PassBuilder pb(&tm, tuning);
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  pb.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3).run(m, mam);
}
