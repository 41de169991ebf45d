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

/// Emits `for (i = 0; i < n; ++i) acc += body(i) ? 1 : 0` at the builder's
/// place and returns acc after the loop (i64).
template <typename Body>
llvm::Value *countWhere(llvm::IRBuilder<> &b, llvm::Value *n, llvm::StringRef name, Body body) {
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
  llvm::Value *next = b.CreateAdd(acc, b.CreateZExt(body(i), i64));
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

/// The thread's place in the grid, blockIdx.x * blockDim.x + threadIdx.x
/// (i64), emitted at the builder's place.
llvm::Value *globalThreadIndex(llvm::IRBuilder<> &b, llvm::Module &m) {
  auto sreg = [&](llvm::Intrinsic::ID id) {
    return b.CreateZExt(b.CreateCall(llvm::Intrinsic::getOrInsertDeclaration(&m, id, {})),
                        b.getInt64Ty());
  };
  return b.CreateAdd(b.CreateMul(sreg(llvm::Intrinsic::nvvm_read_ptx_sreg_ctaid_x),
                                 sreg(llvm::Intrinsic::nvvm_read_ptx_sreg_ntid_x)),
                     sreg(llvm::Intrinsic::nvvm_read_ptx_sreg_tid_x), "g");
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
