//===- RuntimeKernels.cpp - The GPU images' runtime-owned entries ---------===//
//
// Every GPU image carries, besides the stages' kernels, the entries the CUDA
// backend itself launches (model_abi.h; docs/gpu.md, "Spikes on the device"):
//
// NCL_GPU_SPIKE_LISTS_ENTRY keeps a network's spikes on the device: after a
// step's updates it turns the entries each update launch wrote, in the
// order of the threads' atomic adds, into the step's spike list of its
// population in the CPU's order (ascending), which the deliveries of later
// steps read where they are; the lists' blocks share one launch. (Older
// images had NCL_GPU_SPIKE_LIST_ENTRY, the same for one list a launch,
// which the runtime still launches where it finds only that.) Each list is
// a rank sort: thread g places entry g at the number of
// spike entries with a smaller index, so no thread waits for another (no
// barrier, no atomic), the list is the same however the threads run, and
// the fake device runs it a thread at a time. Each thread reads every
// entry: O(L) per thread for L entries, L² in all, which the threads of a
// GPU share (the entries of a step of a network are few: tens to
// thousands).
//
// NCL_GPU_COPY_COUNTS_ENTRY copies a step's spike-list lengths into its
// deliveries' headers in one launch: thread g makes copy g, an i64 load and
// store (no barrier, no atomic; the contract's destinations are distinct and
// no source).
//
// NCL_GPU_GATHER_SPIKES_ENTRY packs the entries several step launches wrote,
// each into its own region of the deferred spike arrays, into one run the
// host reads back with a few copies. Phase 0: thread g sums the entries of
// the regions before g, its region's start in the run (O(launches) per
// thread; the launches of one collection are few). Phase 1, a second launch
// after the first: block j copies region j, its threads striding over the
// entries. Neither phase waits for another thread (no barrier, no atomic):
// each place of the run has one writer.
//
// NCL_GPU_BYTE_DELAY_ARRIVALS_ENTRY keeps the arrival queues of per-synapse
// delays on the device, for a network that has them: after a step, each
// synapse its spikes reach is queued, with an atomic add, in the slot of the
// step it arrives in (its place varies, the slot's set does not), and
// counted in its bucket of 32 targets of that slot; before a step's
// deliveries, the slot is grouped by buckets in works (group sums, starts,
// scatter) and each bucket's run sorted by (target, step sent, synapse), the
// CPU's order, so the list does not depend on the threads' order either.
// A launch does a set of works over every queue, its blocks shared between
// them; works of consecutive steps that touch different slots share a
// launch (docs/gpu.md, "Arrival queues on the device"). Older images had
// NCL_GPU_ARRIVALS_ENTRY, which counted a slot's buckets in a phase of its
// own and ran each phase in a launch, then NCL_GPU_PIPELINED_ARRIVALS_ENTRY,
// the same works with two-byte delays only; the runtime still launches both.
// This one reads one-byte delays where the launch says so
// (NCL_ARRIVALS_BYTE_DELAYS: the runtime narrows delays that all fit).
//
//===----------------------------------------------------------------------===//
#include "ncl/Compiler/CUDATarget.h"
#include "ncl/model_abi.h"

#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/Intrinsics.h"
#include "llvm/IR/IntrinsicsNVPTX.h"
#include "llvm/IR/Module.h"

#include <cstddef>

using namespace ncl;

namespace {

/// Emits `for (i = 0; i < n; ++i) acc += body(i)` (body an i64) at the
/// builder's place and returns acc after the loop (i64).
template <typename Body>
llvm::Value *sumOver(llvm::IRBuilder<> &b, llvm::Value *n, llvm::StringRef name, Body body) {
  llvm::Function *f = b.GetInsertBlock()->getParent();
  llvm::LLVMContext &c = f->getContext();
  llvm::Type *i64 = b.getInt64Ty();
  llvm::BasicBlock *before = b.GetInsertBlock();
  llvm::BasicBlock *loop = llvm::BasicBlock::Create(c, name + ".loop", f);
  llvm::BasicBlock *after = llvm::BasicBlock::Create(c, name + ".done", f);
  b.CreateCondBr(b.CreateICmpSGT(n, b.getInt64(0)), loop, after);
  b.SetInsertPoint(loop);
  llvm::PHINode *i = b.CreatePHI(i64, 2, name + ".i");
  llvm::PHINode *acc = b.CreatePHI(i64, 2, name + ".acc");
  i->addIncoming(b.getInt64(0), before);
  acc->addIncoming(b.getInt64(0), before);
  llvm::Value *next = b.CreateAdd(acc, body(i));
  llvm::Value *i1 = b.CreateAdd(i, b.getInt64(1));
  // The body may have added blocks: the back edge leaves from the last.
  llvm::BasicBlock *latch = b.GetInsertBlock();
  i->addIncoming(i1, latch);
  acc->addIncoming(next, latch);
  markNotUnrolled(b.CreateCondBr(b.CreateICmpSLT(i1, n), loop, after));
  b.SetInsertPoint(after);
  llvm::PHINode *result = b.CreatePHI(i64, 2, name);
  result->addIncoming(b.getInt64(0), before);
  result->addIncoming(next, latch);
  return result;
}

/// Emits `for (i = 0; i < n; ++i) acc += body(i) ? 1 : 0` (body an i1) at
/// the builder's place and returns acc after the loop (i64).
template <typename Body>
llvm::Value *countWhere(llvm::IRBuilder<> &b, llvm::Value *n, llvm::StringRef name, Body body) {
  return sumOver(b, n, name, [&](llvm::Value *i) { return b.CreateZExt(body(i), b.getInt64Ty()); });
}

/// A runtime entry of `m` named `name`: a PTX kernel of one pointer
/// parameter, `args`.
llvm::Function *createEntry(llvm::Module &m, llvm::StringRef name) {
  llvm::LLVMContext &c = m.getContext();
  auto *type =
      llvm::FunctionType::get(llvm::Type::getVoidTy(c), {llvm::PointerType::getUnqual(c)}, false);
  auto *f = llvm::Function::Create(type, llvm::GlobalValue::ExternalLinkage, name, m);
  f->setCallingConv(llvm::CallingConv::PTX_Kernel);
  f->getArg(0)->setName("args");
  return f;
}

/// The special register `id` (threadIdx.x, blockIdx.x, blockDim.x) as an
/// i64, emitted at the builder's place.
llvm::Value *specialRegister(llvm::IRBuilder<> &b, llvm::Module &m, llvm::Intrinsic::ID id,
                             llvm::StringRef name) {
  return b.CreateZExt(b.CreateCall(llvm::Intrinsic::getOrInsertDeclaration(&m, id, {})),
                      b.getInt64Ty(), name);
}

/// The thread's place in the grid, blockIdx.x * blockDim.x + threadIdx.x
/// (i64), emitted at the builder's place.
llvm::Value *globalThreadIndex(llvm::IRBuilder<> &b, llvm::Module &m) {
  return b.CreateAdd(
      b.CreateMul(specialRegister(b, m, llvm::Intrinsic::nvvm_read_ptx_sreg_ctaid_x, "block"),
                  specialRegister(b, m, llvm::Intrinsic::nvvm_read_ptx_sreg_ntid_x, "block.dim")),
      specialRegister(b, m, llvm::Intrinsic::nvvm_read_ptx_sreg_tid_x, "thread"), "g");
}

/// Where a thread of a launch whose blocks are shared between `count`
/// items (lists, queues) works: P = gridDim.x / count blocks each, thread
/// `thread` of item `item`'s P * blockDim.x (`threads`).
struct SharedBlocks {
  llvm::Value *item, *thread, *threads;
};

/// Emits SharedBlocks at the builder's place in `f`: a thread of no item
/// (count <= 0, or a block past count * P) branches to `done`. Divisions in
/// 32 bits: the grid's dimensions are, and a 64-bit division is a long
/// routine in PTX.
SharedBlocks shareBlocks(llvm::IRBuilder<> &b, llvm::Module &m, llvm::Function *f,
                         llvm::Value *count, llvm::BasicBlock *done) {
  llvm::LLVMContext &c = m.getContext();
  llvm::Type *i32 = b.getInt32Ty(), *i64 = b.getInt64Ty();
  llvm::Value *block = specialRegister(b, m, llvm::Intrinsic::nvvm_read_ptx_sreg_ctaid_x, "block");
  llvm::Value *dim = specialRegister(b, m, llvm::Intrinsic::nvvm_read_ptx_sreg_ntid_x, "dim");
  llvm::Value *grid =
      specialRegister(b, m, llvm::Intrinsic::nvvm_read_ptx_sreg_nctaid_x, "grid.blocks");
  llvm::BasicBlock *some = llvm::BasicBlock::Create(c, "some", f);
  llvm::BasicBlock *mine = llvm::BasicBlock::Create(c, "mine", f);
  b.CreateCondBr(b.CreateICmpSGT(count, b.getInt64(0)), some, done);
  b.SetInsertPoint(some);
  llvm::Value *count32 = b.CreateTrunc(
      b.CreateSelect(b.CreateICmpSLT(count, b.getInt64(INT32_MAX)), count, b.getInt64(INT32_MAX)),
      i32);
  llvm::Value *per32 = b.CreateUDiv(b.CreateTrunc(grid, i32), count32, "per.item");
  llvm::Value *per = b.CreateZExt(per32, i64);
  b.CreateCondBr(b.CreateAnd(b.CreateICmpUGT(per, b.getInt64(0)),
                             b.CreateICmpULT(block, b.CreateMul(per, count))),
                 mine, done);
  b.SetInsertPoint(mine);
  llvm::Value *block32 = b.CreateTrunc(block, i32);
  SharedBlocks shared;
  shared.item = b.CreateZExt(b.CreateUDiv(block32, per32), i64, "item");
  shared.thread =
      b.CreateAdd(b.CreateMul(b.CreateZExt(b.CreateURem(block32, per32), i64), dim),
                  specialRegister(b, m, llvm::Intrinsic::nvvm_read_ptx_sreg_tid_x, "thread"), "t");
  shared.threads = b.CreateMul(per, dim, "stride");
  return shared;
}

} // namespace

namespace {

/// What thread `g` of NCL_GPU_SPIKE_LIST_ENTRY (model_abi.h) does on
/// `args`, as an internal function (args, g), which the entry that makes
/// several lists calls for each.
llvm::Function *buildSpikeListBody(llvm::Module &m) {
  llvm::LLVMContext &c = m.getContext();
  llvm::Type *i64 = llvm::Type::getInt64Ty(c);
  llvm::Type *i32 = llvm::Type::getInt32Ty(c);
  llvm::Type *ptr = llvm::PointerType::getUnqual(c);
  auto *type = llvm::FunctionType::get(llvm::Type::getVoidTy(c), {ptr, i64}, false);
  llvm::Function *f =
      llvm::Function::Create(type, llvm::GlobalValue::InternalLinkage, "ncl_spike_list_body", m);
  f->addFnAttr(llvm::Attribute::AlwaysInline);
  llvm::Argument *args = f->getArg(0);
  llvm::Value *g = f->getArg(1);
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(c, "entry", f));

  auto field = [&](size_t offset, llvm::StringRef name) {
    return b.CreateLoad(ptr, b.CreateConstInBoundsGEP1_64(b.getInt8Ty(), args, offset), name);
  };
  llvm::Value *index = field(offsetof(ncl_spike_list_args, index), "index");
  llvm::Value *channel = field(offsetof(ncl_spike_list_args, channel), "channel");
  llvm::Value *countAt = field(offsetof(ncl_spike_list_args, count), "count.at");
  llvm::Value *list = field(offsetof(ncl_spike_list_args, list), "list");
  llvm::Value *listCount = field(offsetof(ncl_spike_list_args, list_count), "list.count");
  llvm::Value *capacity = b.CreateLoad(
      i64,
      b.CreateConstInBoundsGEP1_64(b.getInt8Ty(), args, offsetof(ncl_spike_list_args, capacity)),
      "capacity");
  llvm::Value *room = b.CreateLoad(
      i64, b.CreateConstInBoundsGEP1_64(b.getInt8Ty(), args, offsetof(ncl_spike_list_args, room)),
      "room");
  // A count beyond the arrays (a broken launch, which the host refuses)
  // reads only what they hold.
  llvm::Value *reported = b.CreateLoad(i64, countAt, "reported");
  llvm::Value *n = b.CreateSelect(b.CreateICmpSGT(reported, capacity), capacity, reported, "n");

  // Entry e is a spike: no channel array, or channel 0.
  llvm::Value *allSpikes = b.CreateIsNull(channel, "all.spikes");
  auto isSpike = [&](llvm::Value *e) {
    llvm::Value *ch = b.CreateLoad(i32, b.CreateInBoundsGEP(i32, channel, e));
    return b.CreateOr(allSpikes, b.CreateICmpEQ(ch, b.getInt32(0)));
  };
  // The channel array is read only where there is one.
  auto isSpikeGuarded = [&](llvm::Value *e) {
    llvm::BasicBlock *from = b.GetInsertBlock();
    llvm::BasicBlock *read = llvm::BasicBlock::Create(c, "read.channel", f);
    llvm::BasicBlock *join = llvm::BasicBlock::Create(c, "spike", f);
    b.CreateCondBr(allSpikes, join, read);
    b.SetInsertPoint(read);
    llvm::Value *spike = isSpike(e);
    b.CreateBr(join);
    b.SetInsertPoint(join);
    llvm::PHINode *phi = b.CreatePHI(b.getInt1Ty(), 2);
    phi->addIncoming(b.getTrue(), from);
    phi->addIncoming(spike, read);
    return static_cast<llvm::Value *>(phi);
  };

  // Thread 0: the list's length.
  llvm::BasicBlock *first = llvm::BasicBlock::Create(c, "thread0", f);
  llvm::BasicBlock *place = llvm::BasicBlock::Create(c, "place", f);
  b.CreateCondBr(b.CreateICmpEQ(g, b.getInt64(0)), first, place);
  b.SetInsertPoint(first);
  llvm::Value *length = countWhere(b, n, "length", isSpikeGuarded);
  b.CreateStore(b.CreateSelect(b.CreateICmpSGT(length, room), room, length), listCount);
  b.CreateBr(place);

  // Thread g < n with a spike: its place among the spikes.
  b.SetInsertPoint(place);
  llvm::BasicBlock *mine = llvm::BasicBlock::Create(c, "mine", f);
  llvm::BasicBlock *rank = llvm::BasicBlock::Create(c, "rank", f);
  llvm::BasicBlock *done = llvm::BasicBlock::Create(c, "done", f);
  b.CreateCondBr(b.CreateICmpSLT(g, n), mine, done);
  b.SetInsertPoint(mine);
  b.CreateCondBr(isSpikeGuarded(g), rank, done);
  b.SetInsertPoint(rank);
  llvm::Value *key = b.CreateLoad(i64, b.CreateInBoundsGEP(i64, index, g), "key");
  llvm::Value *before = countWhere(b, n, "before", [&](llvm::Value *e) {
    llvm::Value *other = b.CreateLoad(i64, b.CreateInBoundsGEP(i64, index, e));
    llvm::Value *smaller = b.CreateICmpSLT(other, key);
    return b.CreateAnd(smaller, isSpikeGuarded(e));
  });
  llvm::BasicBlock *store = llvm::BasicBlock::Create(c, "store", f);
  b.CreateCondBr(b.CreateICmpSLT(before, room), store, done);
  b.SetInsertPoint(store);
  b.CreateStore(b.CreateTrunc(key, i32), b.CreateInBoundsGEP(i32, list, before));
  b.CreateBr(done);
  b.SetInsertPoint(done);
  b.CreateRetVoid();
  return f;
}

/// The spike-list body of `m`, made once.
llvm::Function *spikeListBody(llvm::Module &m) {
  if (llvm::Function *body = m.getFunction("ncl_spike_list_body"))
    return body;
  return buildSpikeListBody(m);
}

} // namespace

void ncl::markNotUnrolled(llvm::Instruction *latch) {
  llvm::LLVMContext &c = latch->getContext();
  llvm::MDNode *disable =
      llvm::MDNode::get(c, {llvm::MDString::get(c, "llvm.loop.unroll.disable")});
  llvm::MDNode *loop = llvm::MDNode::getDistinct(c, {nullptr, disable});
  loop->replaceOperandWith(0, loop);
  latch->setMetadata(llvm::LLVMContext::MD_loop, loop);
}

llvm::Function *ncl::buildSpikeListsKernel(llvm::Module &m) {
  llvm::LLVMContext &c = m.getContext();
  llvm::Type *i64 = llvm::Type::getInt64Ty(c);
  llvm::Type *ptr = llvm::PointerType::getUnqual(c);
  llvm::Function *f = createEntry(m, NCL_GPU_SPIKE_LISTS_ENTRY);
  llvm::Argument *args = f->getArg(0);
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(c, "entry", f));
  auto at = [&](size_t offset) {
    return b.CreateConstInBoundsGEP1_64(b.getInt8Ty(), args, offset);
  };
  llvm::Value *count = b.CreateLoad(i64, at(offsetof(ncl_spike_lists_args, count)), "count");
  llvm::Value *lists = b.CreateLoad(ptr, at(offsetof(ncl_spike_lists_args, lists)), "lists");
  // List j has P = gridDim.x / count blocks; thread t of them is thread t
  // of a spike-list launch on it.
  llvm::BasicBlock *done = llvm::BasicBlock::Create(c, "done", f);
  const SharedBlocks shared = shareBlocks(b, m, f, count, done);
  llvm::Value *t = shared.thread;
  llvm::Value *list = b.CreateInBoundsGEP(
      b.getInt8Ty(), lists, b.CreateMul(shared.item, b.getInt64(sizeof(ncl_spike_list_args))),
      "list");
  b.CreateCall(spikeListBody(m), {list, t});
  b.CreateBr(done);
  b.SetInsertPoint(done);
  b.CreateRetVoid();
  return f;
}

llvm::Function *ncl::buildCopyCountsKernel(llvm::Module &m) {
  llvm::LLVMContext &c = m.getContext();
  llvm::Type *i64 = llvm::Type::getInt64Ty(c);
  llvm::Type *ptr = llvm::PointerType::getUnqual(c);
  llvm::Function *f = createEntry(m, NCL_GPU_COPY_COUNTS_ENTRY);
  llvm::Argument *args = f->getArg(0);
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(c, "entry", f));
  auto at = [&](llvm::Value *base, size_t offset) {
    return b.CreateConstInBoundsGEP1_64(b.getInt8Ty(), base, offset);
  };
  llvm::Value *count = b.CreateLoad(i64, at(args, offsetof(ncl_copy_counts_args, count)), "count");
  llvm::Value *g = globalThreadIndex(b, m);
  // Thread g < count makes copy g (a signed comparison: none for count <= 0).
  llvm::BasicBlock *copy = llvm::BasicBlock::Create(c, "copy", f);
  llvm::BasicBlock *done = llvm::BasicBlock::Create(c, "done", f);
  b.CreateCondBr(b.CreateICmpSLT(g, count), copy, done);
  b.SetInsertPoint(copy);
  llvm::Value *copies =
      b.CreateLoad(ptr, at(args, offsetof(ncl_copy_counts_args, copies)), "copies");
  llvm::Value *mine = b.CreateInBoundsGEP(
      b.getInt8Ty(), copies, b.CreateMul(g, b.getInt64(sizeof(ncl_count_copy))), "mine");
  llvm::Value *from = b.CreateLoad(ptr, at(mine, offsetof(ncl_count_copy, from)), "from");
  llvm::Value *to = b.CreateLoad(ptr, at(mine, offsetof(ncl_count_copy, to)), "to");
  b.CreateStore(b.CreateLoad(i64, from, "value"), to);
  b.CreateBr(done);
  b.SetInsertPoint(done);
  b.CreateRetVoid();
  return f;
}

llvm::Function *ncl::buildFindNonFiniteKernel(llvm::Module &m) {
  llvm::LLVMContext &c = m.getContext();
  llvm::Type *i64 = llvm::Type::getInt64Ty(c);
  llvm::Type *ptr = llvm::PointerType::getUnqual(c);
  llvm::Function *f = createEntry(m, NCL_GPU_FIND_NONFINITE_ENTRY);
  llvm::Argument *args = f->getArg(0);
  auto *entry = llvm::BasicBlock::Create(c, "entry", f);
  auto *regionLoop = llvm::BasicBlock::Create(c, "region", f);
  auto *regionBody = llvm::BasicBlock::Create(c, "region.body", f);
  auto *valueLoop = llvm::BasicBlock::Create(c, "value", f);
  auto *valueBody = llvm::BasicBlock::Create(c, "value.body", f);
  auto *single = llvm::BasicBlock::Create(c, "value.f32", f);
  auto *dbl = llvm::BasicBlock::Create(c, "value.f64", f);
  auto *test = llvm::BasicBlock::Create(c, "test", f);
  auto *store = llvm::BasicBlock::Create(c, "found", f);
  auto *valueNext = llvm::BasicBlock::Create(c, "value.next", f);
  auto *regionNext = llvm::BasicBlock::Create(c, "region.next", f);
  auto *done = llvm::BasicBlock::Create(c, "done", f);
  llvm::IRBuilder<> b(entry);
  auto field = [&](llvm::Value *base, llvm::Type *type, size_t offset, llvm::StringRef name) {
    return b.CreateLoad(type, b.CreateConstInBoundsGEP1_64(b.getInt8Ty(), base, offset), name);
  };
  llvm::Value *count = field(args, i64, offsetof(ncl_find_nonfinite_args, count), "count");
  llvm::Value *regions = field(args, ptr, offsetof(ncl_find_nonfinite_args, regions), "regions");
  llvm::Value *found = field(args, ptr, offsetof(ncl_find_nonfinite_args, found), "found");
  llvm::Value *g = globalThreadIndex(b, m);
  llvm::Value *grid = b.CreateMul(
      specialRegister(b, m, llvm::Intrinsic::nvvm_read_ptx_sreg_nctaid_x, "grid.dim"),
      specialRegister(b, m, llvm::Intrinsic::nvvm_read_ptx_sreg_ntid_x, "block.dim"), "threads");
  b.CreateBr(regionLoop);
  // For each region r < count, values g, g + G, ... of it.
  b.SetInsertPoint(regionLoop);
  llvm::PHINode *r = b.CreatePHI(i64, 2, "r");
  r->addIncoming(b.getInt64(0), entry);
  b.CreateCondBr(b.CreateICmpSLT(r, count), regionBody, done);
  b.SetInsertPoint(regionBody);
  llvm::Value *region = b.CreateInBoundsGEP(
      b.getInt8Ty(), regions, b.CreateMul(r, b.getInt64(sizeof(ncl_nonfinite_region))), "mine");
  llvm::Value *values = field(region, ptr, offsetof(ncl_nonfinite_region, values), "values");
  llvm::Value *n = field(region, i64, offsetof(ncl_nonfinite_region, count), "n");
  llvm::Value *element = field(region, i64, offsetof(ncl_nonfinite_region, element), "element");
  b.CreateBr(valueLoop);
  b.SetInsertPoint(valueLoop);
  llvm::PHINode *i = b.CreatePHI(i64, 2, "i");
  i->addIncoming(g, regionBody);
  b.CreateCondBr(b.CreateICmpSLT(i, n), valueBody, regionNext);
  b.SetInsertPoint(valueBody);
  b.CreateCondBr(b.CreateICmpEQ(element, b.getInt64(4)), single, dbl);
  // x - x is NaN exactly where x is NaN or infinite (0 elsewhere).
  auto nonFinite = [&](llvm::BasicBlock *block, llvm::Type *type) {
    b.SetInsertPoint(block);
    llvm::Value *x = b.CreateLoad(type, b.CreateInBoundsGEP(type, values, i), "x");
    llvm::Value *d = b.CreateFSub(x, x, "d");
    llvm::Value *bad = b.CreateFCmpUNO(d, d, "bad");
    b.CreateBr(test);
    return bad;
  };
  llvm::Value *badSingle = nonFinite(single, b.getFloatTy());
  llvm::Value *badDouble = nonFinite(dbl, b.getDoubleTy());
  b.SetInsertPoint(test);
  llvm::PHINode *bad = b.CreatePHI(b.getInt1Ty(), 2, "bad");
  bad->addIncoming(badSingle, single);
  bad->addIncoming(badDouble, dbl);
  b.CreateCondBr(bad, store, valueNext);
  b.SetInsertPoint(store);
  b.CreateStore(b.getInt64(1), found);
  b.CreateBr(valueNext);
  b.SetInsertPoint(valueNext);
  i->addIncoming(b.CreateAdd(i, grid), valueNext);
  b.CreateBr(valueLoop);
  b.SetInsertPoint(regionNext);
  r->addIncoming(b.CreateAdd(r, b.getInt64(1)), regionNext);
  b.CreateBr(regionLoop);
  b.SetInsertPoint(done);
  b.CreateRetVoid();
  return f;
}

llvm::Function *ncl::buildGatherRecordsKernel(llvm::Module &m) {
  llvm::LLVMContext &c = m.getContext();
  llvm::Type *i64 = llvm::Type::getInt64Ty(c);
  llvm::Type *ptr = llvm::PointerType::getUnqual(c);
  llvm::Function *f = createEntry(m, NCL_GPU_GATHER_RECORDS_ENTRY);
  llvm::Argument *args = f->getArg(0);
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(c, "entry", f));
  auto field = [&](llvm::Type *type, size_t offset, llvm::StringRef name) {
    return b.CreateLoad(type, b.CreateConstInBoundsGEP1_64(b.getInt8Ty(), args, offset), name);
  };
  llvm::Value *count = field(i64, offsetof(ncl_gather_records_args, count), "count");
  llvm::Value *g = globalThreadIndex(b, m);
  // Thread g < count copies element g (a signed comparison: none for
  // count <= 0), by its size: 8, 4 or 2 bytes.
  llvm::BasicBlock *copy = llvm::BasicBlock::Create(c, "copy", f);
  llvm::BasicBlock *done = llvm::BasicBlock::Create(c, "done", f);
  b.CreateCondBr(b.CreateICmpSLT(g, count), copy, done);
  b.SetInsertPoint(copy);
  llvm::Value *stride = field(i64, offsetof(ncl_gather_records_args, stride), "stride");
  llvm::Value *element = field(i64, offsetof(ncl_gather_records_args, element), "element");
  llvm::Value *from = field(ptr, offsetof(ncl_gather_records_args, from), "from");
  llvm::Value *to = field(ptr, offsetof(ncl_gather_records_args, to), "to");
  llvm::Value *source = b.CreateInBoundsGEP(b.getInt8Ty(), from,
                                            b.CreateMul(b.CreateMul(g, stride), element), "source");
  llvm::Value *target = b.CreateInBoundsGEP(b.getInt8Ty(), to, b.CreateMul(g, element), "target");
  llvm::SwitchInst *bySize = b.CreateSwitch(element, done, 3);
  for (unsigned bytes : {8u, 4u, 2u}) {
    llvm::BasicBlock *sized =
        llvm::BasicBlock::Create(c, "copy" + std::to_string(8 * bytes), f, done);
    bySize->addCase(b.getInt64(bytes), sized);
    llvm::IRBuilder<> at(sized);
    llvm::Type *type = llvm::IntegerType::get(c, 8 * bytes);
    at.CreateStore(at.CreateLoad(type, source, "value"), target);
    at.CreateBr(done);
  }
  b.SetInsertPoint(done);
  b.CreateRetVoid();
  return f;
}

llvm::Function *ncl::buildGatherSpikesKernel(llvm::Module &m) {
  llvm::LLVMContext &c = m.getContext();
  llvm::Type *i64 = llvm::Type::getInt64Ty(c);
  llvm::Type *i32 = llvm::Type::getInt32Ty(c);
  llvm::Type *ptr = llvm::PointerType::getUnqual(c);
  llvm::Function *f = createEntry(m, NCL_GPU_GATHER_SPIKES_ENTRY);
  llvm::Argument *args = f->getArg(0);
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(c, "entry", f));
  auto at = [&](llvm::Value *base, size_t offset) {
    return b.CreateConstInBoundsGEP1_64(b.getInt8Ty(), base, offset);
  };
  auto field = [&](llvm::Type *type, size_t offset, llvm::StringRef name) {
    return b.CreateLoad(type, at(args, offset), name);
  };
  llvm::Value *phase = field(i64, offsetof(ncl_gather_spikes_args, phase), "phase");
  llvm::Value *launches = field(i64, offsetof(ncl_gather_spikes_args, launches), "launches");
  llvm::Value *from = field(ptr, offsetof(ncl_gather_spikes_args, from), "from");
  llvm::Value *starts = field(ptr, offsetof(ncl_gather_spikes_args, starts), "starts");
  // Region j: its place in `from`, and its entries n_j =
  // min(max(*count, 0), capacity) (a broken launch's count reads nothing,
  // or only its region).
  auto region = [&](llvm::Value *j) {
    return b.CreateInBoundsGEP(b.getInt8Ty(), from,
                               b.CreateMul(j, b.getInt64(sizeof(ncl_spike_region))), "region");
  };
  auto entries = [&](llvm::Value *j) {
    llvm::Value *r = region(j);
    llvm::Value *countAt = b.CreateLoad(ptr, at(r, offsetof(ncl_spike_region, count)), "count.at");
    llvm::Value *count = b.CreateLoad(i64, countAt, "count");
    llvm::Value *capacity =
        b.CreateLoad(i64, at(r, offsetof(ncl_spike_region, capacity)), "capacity");
    llvm::Value *written =
        b.CreateSelect(b.CreateICmpSLT(count, b.getInt64(0)), b.getInt64(0), count, "written");
    return b.CreateSelect(b.CreateICmpSGT(written, capacity), capacity, written, "n");
  };

  llvm::BasicBlock *startsBlock = llvm::BasicBlock::Create(c, "phase0", f);
  llvm::BasicBlock *notStarts = llvm::BasicBlock::Create(c, "not.phase0", f);
  llvm::BasicBlock *entriesBlock = llvm::BasicBlock::Create(c, "phase1", f);
  llvm::BasicBlock *done = llvm::BasicBlock::Create(c, "done", f);
  b.CreateCondBr(b.CreateICmpEQ(phase, b.getInt64(0)), startsBlock, notStarts);
  b.SetInsertPoint(notStarts);
  b.CreateCondBr(b.CreateICmpEQ(phase, b.getInt64(1)), entriesBlock, done);

  // Phase 0: thread g <= launches (signed: none for launches < 0) sets
  // starts[g] to the entries of the regions before g.
  b.SetInsertPoint(startsBlock);
  llvm::Value *g = globalThreadIndex(b, m);
  llvm::BasicBlock *sum = llvm::BasicBlock::Create(c, "start", f);
  b.CreateCondBr(b.CreateICmpSLE(g, launches), sum, done);
  b.SetInsertPoint(sum);
  llvm::Value *start = sumOver(b, g, "before", entries);
  b.CreateStore(start, b.CreateInBoundsGEP(i64, starts, g));
  b.CreateBr(done);

  // Phase 1: block j < launches copies region j, thread t the entries
  // t, t + blockDim.x, ... below n_j and below room - starts[j].
  b.SetInsertPoint(entriesBlock);
  llvm::Value *j = specialRegister(b, m, llvm::Intrinsic::nvvm_read_ptx_sreg_ctaid_x, "j");
  llvm::BasicBlock *copyRegion = llvm::BasicBlock::Create(c, "region", f);
  b.CreateCondBr(b.CreateICmpSLT(j, launches), copyRegion, done);
  b.SetInsertPoint(copyRegion);
  llvm::Value *n = entries(j);
  llvm::Value *offset =
      b.CreateLoad(i64, at(region(j), offsetof(ncl_spike_region, offset)), "offset");
  llvm::Value *first = b.CreateLoad(i64, b.CreateInBoundsGEP(i64, starts, j), "first");
  llvm::Value *room = field(i64, offsetof(ncl_gather_spikes_args, room), "room");
  llvm::Value *left = b.CreateSub(room, first, "left");
  llvm::Value *limit = b.CreateSelect(b.CreateICmpSLT(left, n), left, n, "limit");
  llvm::Value *step = field(ptr, offsetof(ncl_gather_spikes_args, step), "step");
  llvm::Value *index = field(ptr, offsetof(ncl_gather_spikes_args, index), "index");
  llvm::Value *channel = field(ptr, offsetof(ncl_gather_spikes_args, channel), "channel");
  llvm::Value *toStep = field(ptr, offsetof(ncl_gather_spikes_args, to_step), "to.step");
  llvm::Value *toIndex = field(ptr, offsetof(ncl_gather_spikes_args, to_index), "to.index");
  llvm::Value *toChannel = field(ptr, offsetof(ncl_gather_spikes_args, to_channel), "to.channel");
  llvm::Value *hasChannel = b.CreateIsNotNull(channel, "has.channel");
  llvm::Value *t = specialRegister(b, m, llvm::Intrinsic::nvvm_read_ptx_sreg_tid_x, "t");
  llvm::Value *stride = specialRegister(b, m, llvm::Intrinsic::nvvm_read_ptx_sreg_ntid_x, "stride");
  llvm::BasicBlock *before = b.GetInsertBlock();
  llvm::BasicBlock *copy = llvm::BasicBlock::Create(c, "copy", f);
  llvm::BasicBlock *copyChannel = llvm::BasicBlock::Create(c, "copy.channel", f);
  llvm::BasicBlock *next = llvm::BasicBlock::Create(c, "next", f);
  b.CreateCondBr(b.CreateICmpSLT(t, limit), copy, done);
  b.SetInsertPoint(copy);
  llvm::PHINode *e = b.CreatePHI(i64, 2, "e");
  e->addIncoming(t, before);
  llvm::Value *source = b.CreateAdd(offset, e, "source");
  llvm::Value *place = b.CreateAdd(first, e, "place");
  b.CreateStore(b.CreateLoad(i64, b.CreateInBoundsGEP(i64, step, source)),
                b.CreateInBoundsGEP(i64, toStep, place));
  b.CreateStore(b.CreateLoad(i64, b.CreateInBoundsGEP(i64, index, source)),
                b.CreateInBoundsGEP(i64, toIndex, place));
  b.CreateCondBr(hasChannel, copyChannel, next);
  b.SetInsertPoint(copyChannel);
  b.CreateStore(b.CreateLoad(i32, b.CreateInBoundsGEP(i32, channel, source)),
                b.CreateInBoundsGEP(i32, toChannel, place));
  b.CreateBr(next);
  b.SetInsertPoint(next);
  llvm::Value *following = b.CreateAdd(e, stride, "e.next");
  e->addIncoming(following, next);
  b.CreateCondBr(b.CreateICmpSLT(following, limit), copy, done);

  b.SetInsertPoint(done);
  b.CreateRetVoid();
  return f;
}

namespace {

/// Emits `for (i = from; i < to; i += step) body(i)` (i64, signed) at the
/// builder's place, which is after the loop on return.
template <typename Body>
void forEach(llvm::IRBuilder<> &b, llvm::Value *from, llvm::Value *to, llvm::Value *step,
             llvm::StringRef name, Body body) {
  llvm::Function *f = b.GetInsertBlock()->getParent();
  llvm::LLVMContext &c = f->getContext();
  llvm::BasicBlock *before = b.GetInsertBlock();
  llvm::BasicBlock *loop = llvm::BasicBlock::Create(c, name + ".loop", f);
  llvm::BasicBlock *after = llvm::BasicBlock::Create(c, name + ".done", f);
  b.CreateCondBr(b.CreateICmpSLT(from, to), loop, after);
  b.SetInsertPoint(loop);
  llvm::PHINode *i = b.CreatePHI(b.getInt64Ty(), 2, name + ".i");
  i->addIncoming(from, before);
  body(static_cast<llvm::Value *>(i));
  llvm::Value *next = b.CreateAdd(i, step);
  i->addIncoming(next, b.GetInsertBlock());
  markNotUnrolled(b.CreateCondBr(b.CreateICmpSLT(next, to), loop, after));
  b.SetInsertPoint(after);
}

/// Emits `if (cond) then()` at the builder's place, which is after it on
/// return.
template <typename Then>
void ifThen(llvm::IRBuilder<> &b, llvm::Value *cond, llvm::StringRef name, Then then) {
  llvm::Function *f = b.GetInsertBlock()->getParent();
  llvm::LLVMContext &c = f->getContext();
  llvm::BasicBlock *yes = llvm::BasicBlock::Create(c, name, f);
  llvm::BasicBlock *after = llvm::BasicBlock::Create(c, name + ".done", f);
  b.CreateCondBr(cond, yes, after);
  b.SetInsertPoint(yes);
  then();
  b.CreateBr(after);
  b.SetInsertPoint(after);
}

llvm::Value *smin(llvm::IRBuilder<> &b, llvm::Value *x, llvm::Value *y) {
  return b.CreateSelect(b.CreateICmpSLT(x, y), x, y);
}

} // namespace

llvm::Function *ncl::buildArrivalsKernel(llvm::Module &m) {
  llvm::LLVMContext &c = m.getContext();
  llvm::Type *i64 = llvm::Type::getInt64Ty(c);
  llvm::Type *i32 = llvm::Type::getInt32Ty(c);
  llvm::Type *i16 = llvm::Type::getInt16Ty(c);
  llvm::Type *ptr = llvm::PointerType::getUnqual(c);
  llvm::Type *i8 = llvm::Type::getInt8Ty(c);
  llvm::Function *f = createEntry(m, NCL_GPU_BYTE_DELAY_ARRIVALS_ENTRY);
  llvm::Argument *args = f->getArg(0);
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(c, "entry", f));
  auto at = [&](llvm::Value *base, size_t offset) {
    return b.CreateConstInBoundsGEP1_64(b.getInt8Ty(), base, offset);
  };
  auto load = [&](llvm::Type *type, llvm::Value *base, llvm::Value *index) {
    return b.CreateLoad(type, b.CreateInBoundsGEP(type, base, index));
  };
  llvm::Value *zero = b.getInt64(0), *one = b.getInt64(1);
  llvm::Value *works = b.CreateLoad(i64, at(args, offsetof(ncl_arrivals_args, phase)), "works");
  llvm::Value *step = b.CreateLoad(i64, at(args, offsetof(ncl_arrivals_args, step)), "step");
  llvm::Value *count = b.CreateLoad(i64, at(args, offsetof(ncl_arrivals_args, count)), "count");
  llvm::Value *queues = b.CreateLoad(ptr, at(args, offsetof(ncl_arrivals_args, queues)), "queues");
  // The queue of this block, P = gridDim.x / count blocks each, and this
  // thread's first work item and stride in it.
  llvm::BasicBlock *done = llvm::BasicBlock::Create(c, "done", f);
  const SharedBlocks shared = shareBlocks(b, m, f, count, done);
  llvm::Value *q = shared.item, *g = shared.thread, *grid = shared.threads;
  llvm::Value *qp = b.CreateInBoundsGEP(b.getInt8Ty(), queues,
                                        b.CreateMul(q, b.getInt64(sizeof(ncl_arrival_queue))));
  auto field = [&](llvm::Type *type, size_t offset, llvm::StringRef name) {
    return b.CreateLoad(type, at(qp, offset), name);
  };
  llvm::Value *rowStart = field(ptr, offsetof(ncl_arrival_queue, row_start), "row.start");
  llvm::Value *post = field(ptr, offsetof(ncl_arrival_queue, post), "post");
  llvm::Value *delay = field(ptr, offsetof(ncl_arrival_queue, delay), "delay");
  llvm::Value *ring = field(ptr, offsetof(ncl_arrival_queue, ring), "ring");
  llvm::Value *ringCount = field(ptr, offsetof(ncl_arrival_queue, ring_count), "ring.count");
  llvm::Value *bucketCount = field(ptr, offsetof(ncl_arrival_queue, bucket_count), "bucket.count");
  llvm::Value *bucketStart = field(ptr, offsetof(ncl_arrival_queue, bucket_start), "bucket.start");
  llvm::Value *groupSum = field(ptr, offsetof(ncl_arrival_queue, group_sum), "group.sum");
  llvm::Value *out = field(ptr, offsetof(ncl_arrival_queue, out), "out");
  llvm::Value *slots = field(i64, offsetof(ncl_arrival_queue, slots), "slots");
  llvm::Value *room = field(i64, offsetof(ncl_arrival_queue, room), "room");
  llvm::Value *buckets = field(i64, offsetof(ncl_arrival_queue, buckets), "buckets");
  llvm::Value *bucketSize = b.getInt64(NCL_GPU_ARRIVALS_BUCKET);
  llvm::Value *groupSize = b.getInt64(NCL_GPU_ARRIVALS_GROUP);
  // A synapse's delay: one byte or two (NCL_ARRIVALS_BYTE_DELAYS). Both
  // loads stay inside the array whichever it holds: the one of the other
  // width reads element 0, and the select takes the right one.
  llvm::Value *byteDelays =
      b.CreateICmpNE(b.CreateAnd(works, b.getInt64(NCL_ARRIVALS_BYTE_DELAYS)), zero, "byte.delays");
  auto delayAt = [&](llvm::Value *k) {
    llvm::Value *narrow = b.CreateZExt(load(i8, delay, b.CreateSelect(byteDelays, k, zero)), i64);
    llvm::Value *wide = b.CreateZExt(load(i16, delay, b.CreateSelect(byteDelays, zero, k)), i64);
    return b.CreateSelect(byteDelays, narrow, wide);
  };
  auto postAt = [&](llvm::Value *k) { return b.CreateSExt(load(i32, post, k), i64); };
  auto bucketOf = [&](llvm::Value *k) { return b.CreateSDiv(postAt(k), bucketSize, "bucket"); };
  // A slot of the ring: its index, its ring's first place and its row of
  // bucket counts.
  struct Slot {
    llvm::Value *index, *base, *counts;
  };
  auto slotAt = [&](llvm::Value *index) {
    return Slot{index, b.CreateMul(index, room, "slot.base"),
                b.CreateInBoundsGEP(i32, bucketCount, b.CreateMul(index, buckets), "slot.counts")};
  };
  auto slotOf = [&](llvm::Value *arrival) { return slotAt(b.CreateSRem(arrival, slots, "slot")); };
  // The slot's synapses that have a place.
  auto queued = [&](const Slot &slot) {
    llvm::Value *n = load(i64, ringCount, slot.index);
    return smin(b, b.CreateSelect(b.CreateICmpSLT(n, zero), zero, n), room);
  };
  auto work = [&](int64_t bit, llvm::StringRef name, auto emit) {
    ifThen(b, b.CreateICmpNE(b.CreateAnd(works, b.getInt64(bit)), zero), name, emit);
  };

  // SEND: the spikes of step `sent` into the slots of their arrivals, each
  // synapse with a place counted in its bucket of its slot's row. A
  // synapse's slot is (sent + 1 + delay) mod slots with delay < slots:
  // (sent mod slots) + 1 + delay, less slots where that reaches it (no
  // division per synapse).
  work(NCL_ARRIVALS_SEND, "send", [&] {
    llvm::Value *sent = b.CreateSub(step, one, "sent");
    ifThen(b, b.CreateICmpSGE(sent, zero), "push", [&] {
      llvm::Value *sentSlot = b.CreateSRem(sent, slots, "sent.slot");
      llvm::Value *depth = field(i64, offsetof(ncl_arrival_queue, history_depth), "depth");
      llvm::Value *units = field(i64, offsetof(ncl_arrival_queue, history_units), "units");
      llvm::Value *lists = field(ptr, offsetof(ncl_arrival_queue, lists), "lists");
      llvm::Value *counts = field(ptr, offsetof(ncl_arrival_queue, counts), "counts");
      llvm::Value *h = b.CreateSRem(sent, depth, "history.slot");
      llvm::Value *n = load(i64, counts, h);
      n = smin(b, b.CreateSelect(b.CreateICmpSLT(n, zero), zero, n), units);
      llvm::Value *list = b.CreateInBoundsGEP(i32, lists, b.CreateMul(h, units), "list");
      // 32 work items per spike, each every 32nd synapse of its row.
      forEach(b, g, b.CreateShl(n, 5), grid, "item", [&](llvm::Value *e) {
        llvm::Value *i = b.CreateSExt(load(i32, list, b.CreateLShr(e, 5)), i64, "pre");
        llvm::Value *first = b.CreateAdd(load(i64, rowStart, i), b.CreateAnd(e, 31));
        llvm::Value *last = load(i64, rowStart, b.CreateAdd(i, one));
        forEach(b, first, last, b.getInt64(32), "synapse", [&](llvm::Value *k) {
          llvm::Value *later = b.CreateAdd(b.CreateAdd(sentSlot, one), delayAt(k));
          llvm::Value *to =
              b.CreateSelect(b.CreateICmpSGE(later, slots), b.CreateSub(later, slots), later, "to");
          llvm::Value *place =
              b.CreateAtomicRMW(llvm::AtomicRMWInst::Add, b.CreateInBoundsGEP(i64, ringCount, to),
                                one, llvm::MaybeAlign(8), llvm::AtomicOrdering::Monotonic);
          ifThen(b, b.CreateICmpSLT(place, room), "place", [&] {
            const Slot slot = slotAt(to);
            b.CreateStore(b.CreateTrunc(k, i32),
                          b.CreateInBoundsGEP(i32, ring, b.CreateAdd(slot.base, place)));
            b.CreateAtomicRMW(llvm::AtomicRMWInst::Add,
                              b.CreateInBoundsGEP(i32, slot.counts, bucketOf(k)), b.getInt32(1),
                              llvm::MaybeAlign(4), llvm::AtomicOrdering::Monotonic);
          });
        });
      });
    });
  });
  // GROUPS, GROUPS_NEXT: the counts of each group of buckets of a slot.
  auto sumGroups = [&](const Slot &slot) {
    llvm::Value *groups = b.CreateSDiv(b.CreateAdd(buckets, b.getInt64(NCL_GPU_ARRIVALS_GROUP - 1)),
                                       groupSize, "groups");
    forEach(b, g, groups, grid, "group", [&](llvm::Value *j) {
      llvm::Value *first = b.CreateMul(j, groupSize);
      llvm::Value *n = b.CreateSub(smin(b, b.CreateAdd(first, groupSize), buckets), first);
      llvm::Value *sum = sumOver(b, n, "group.count", [&](llvm::Value *i) {
        return b.CreateSExt(load(i32, slot.counts, b.CreateAdd(first, i)), i64);
      });
      b.CreateStore(sum, b.CreateInBoundsGEP(i64, groupSum, j));
    });
  };
  work(NCL_ARRIVALS_GROUPS, "groups", [&] { sumGroups(slotOf(step)); });
  work(NCL_ARRIVALS_GROUPS_NEXT, "groups.next", [&] { sumGroups(slotOf(b.CreateAdd(step, one))); });
  // STARTS: each bucket's start in the list, past the starts themselves
  // where they begin it (bucket_start is out, model_abi.h).
  work(NCL_ARRIVALS_STARTS, "starts", [&] {
    const Slot slot = slotOf(step);
    llvm::Value *offset = b.CreateSelect(b.CreateICmpEQ(bucketStart, out),
                                         b.CreateAdd(buckets, one), zero, "start.offset");
    forEach(b, g, buckets, grid, "bucket", [&](llvm::Value *k) {
      llvm::Value *j = b.CreateSDiv(k, groupSize, "its.group");
      llvm::Value *first = b.CreateMul(j, groupSize);
      llvm::Value *groupsBefore =
          sumOver(b, j, "groups.before", [&](llvm::Value *i) { return load(i64, groupSum, i); });
      llvm::Value *inGroup =
          sumOver(b, b.CreateSub(k, first), "buckets.before", [&](llvm::Value *i) {
            return b.CreateSExt(load(i32, slot.counts, b.CreateAdd(first, i)), i64);
          });
      b.CreateStore(b.CreateAdd(offset, b.CreateAdd(groupsBefore, inGroup)),
                    b.CreateInBoundsGEP(i64, bucketStart, k));
    });
    ifThen(b, b.CreateICmpEQ(g, zero), "length", [&] {
      llvm::Value *arrived = load(i64, ringCount, slot.index);
      llvm::Value *n = queued(slot);
      b.CreateStore(b.CreateAdd(offset, n), b.CreateInBoundsGEP(i64, bucketStart, buckets));
      b.CreateStore(n, field(ptr, offsetof(ncl_arrival_queue, out_count), "out.count"));
      llvm::Value *overflow = field(ptr, offsetof(ncl_arrival_queue, overflow), "overflow");
      llvm::Value *firstTime = b.CreateICmpEQ(b.CreateLoad(i64, overflow), zero);
      ifThen(b, b.CreateAnd(b.CreateICmpSGT(arrived, room), firstTime), "overflowed", [&] {
        b.CreateStore(arrived, overflow);
        b.CreateStore(step, b.CreateInBoundsGEP(i64, overflow, one));
      });
    });
  });
  // SCATTER: each synapse to a place of its bucket's run, its count back to
  // 0 when all are placed.
  work(NCL_ARRIVALS_SCATTER, "scatter", [&] {
    const Slot slot = slotOf(step);
    forEach(b, g, queued(slot), grid, "scatter", [&](llvm::Value *e) {
      llvm::Value *k = b.CreateSExt(load(i32, ring, b.CreateAdd(slot.base, e)), i64);
      llvm::Value *bucket = bucketOf(k);
      llvm::Value *left =
          b.CreateAtomicRMW(llvm::AtomicRMWInst::Add, b.CreateInBoundsGEP(i32, slot.counts, bucket),
                            b.getInt32(-1), llvm::MaybeAlign(4), llvm::AtomicOrdering::Monotonic);
      llvm::Value *place =
          b.CreateSub(b.CreateAdd(load(i64, bucketStart, bucket), b.CreateSExt(left, i64)), one);
      b.CreateStore(k, b.CreateInBoundsGEP(i64, out, place));
    });
  });
  // ORDER: each bucket's run in the CPU's order (an insertion sort: runs
  // are short), and the slot emptied.
  work(NCL_ARRIVALS_ORDER, "order", [&] {
    const Slot slot = slotOf(step);
    forEach(b, g, buckets, grid, "order", [&](llvm::Value *t) {
      llvm::Value *lo = load(i64, bucketStart, t);
      llvm::Value *hi = load(i64, bucketStart, b.CreateAdd(t, one));
      forEach(b, b.CreateAdd(lo, one), hi, one, "insert", [&](llvm::Value *x) {
        llvm::Value *v = load(i64, out, x);
        llvm::Value *pv = postAt(v);
        llvm::Value *dv = delayAt(v);
        llvm::BasicBlock *from = b.GetInsertBlock();
        llvm::BasicBlock *check = llvm::BasicBlock::Create(c, "insert.check", f);
        llvm::BasicBlock *compare = llvm::BasicBlock::Create(c, "insert.compare", f);
        llvm::BasicBlock *shift = llvm::BasicBlock::Create(c, "insert.shift", f);
        llvm::BasicBlock *place = llvm::BasicBlock::Create(c, "insert.place", f);
        b.CreateBr(check);
        b.SetInsertPoint(check);
        llvm::PHINode *y = b.CreatePHI(i64, 2, "y");
        y->addIncoming(x, from);
        b.CreateCondBr(b.CreateICmpSGT(y, lo), compare, place);
        b.SetInsertPoint(compare);
        llvm::Value *u = load(i64, out, b.CreateSub(y, one));
        llvm::Value *pu = postAt(u);
        llvm::Value *du = delayAt(u);
        // v goes before u: a smaller target; or the same target and sent
        // earlier (a longer delay); or the same step and a smaller synapse.
        llvm::Value *sameTarget = b.CreateICmpEQ(pv, pu);
        llvm::Value *earlier = b.CreateOr(
            b.CreateICmpUGT(dv, du), b.CreateAnd(b.CreateICmpEQ(dv, du), b.CreateICmpSLT(v, u)));
        llvm::Value *before = b.CreateOr(b.CreateICmpSLT(pv, pu), b.CreateAnd(sameTarget, earlier));
        b.CreateCondBr(before, shift, place);
        b.SetInsertPoint(shift);
        b.CreateStore(u, b.CreateInBoundsGEP(i64, out, y));
        y->addIncoming(b.CreateSub(y, one), shift);
        b.CreateBr(check);
        b.SetInsertPoint(place);
        b.CreateStore(v, b.CreateInBoundsGEP(i64, out, y));
      });
    });
    ifThen(b, b.CreateICmpEQ(g, zero), "empty",
           [&] { b.CreateStore(zero, b.CreateInBoundsGEP(i64, ringCount, slot.index)); });
  });
  b.CreateBr(done);
  b.SetInsertPoint(done);
  b.CreateRetVoid();
  return f;
}
