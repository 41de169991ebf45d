//===- RuntimeKernels.cpp - The GPU images' runtime-owned entries ---------===//
//
// Every GPU image carries, besides the stages' kernels, the entries the CUDA
// backend itself launches (model_abi.h; docs/gpu.md, "Spikes on the device"):
//
// NCL_GPU_SPIKE_LIST_ENTRY keeps a network's spikes on the device: after a
// step launch it turns the entries the launch wrote, in the order of the
// threads' atomic adds, into the step's spike list in the CPU's order
// (ascending), which the deliveries of later steps read where they are.
// The kernel is a rank sort: thread g places entry g at the number of
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
  b.CreateCondBr(b.CreateICmpSLT(i1, n), loop, after);
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

} // namespace

llvm::Function *ncl::buildSpikeListKernel(llvm::Module &m) {
  llvm::LLVMContext &c = m.getContext();
  llvm::Type *i64 = llvm::Type::getInt64Ty(c);
  llvm::Type *i32 = llvm::Type::getInt32Ty(c);
  llvm::Type *ptr = llvm::PointerType::getUnqual(c);
  llvm::Function *f = createEntry(m, NCL_GPU_SPIKE_LIST_ENTRY);
  llvm::Argument *args = f->getArg(0);
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

  llvm::Value *g = globalThreadIndex(b, m);
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
