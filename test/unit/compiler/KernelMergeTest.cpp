//===- KernelMergeTest.cpp - ncl::mergeIdenticalKernels -------------------===//
//
// Kernels of one model differ only in name, or also in the random streams
// of their draws (an integer constant an arithmetic instruction takes):
// mergeIdenticalKernels keeps one kernel per set, the second kind taking
// the constants as arguments that each entry passes. Anything else that
// differs keeps the kernels apart. Checked on LLVM IR written here: each
// entry's call must pass its own kernel's constant.
//
//===----------------------------------------------------------------------===//
#include "ncl/Compiler/CPUTarget.h"

#include "llvm/AsmParser/Parser.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/Instructions.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/Verifier.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

namespace {

/// Two entries, each calling its kernel once; the kernels' bodies are
/// `bodyA` and `bodyB` (using %p, a pointer, and %x, an i32).
std::unique_ptr<llvm::Module> twoKernels(llvm::LLVMContext &ctx, const std::string &bodyA,
                                         const std::string &bodyB) {
  std::string ir = "define internal void @kernel_a(ptr %p, i32 %x) {\n" + bodyA +
                   "  ret void\n}\n"
                   "define internal void @kernel_b(ptr %p, i32 %x) {\n" +
                   bodyB +
                   "  ret void\n}\n"
                   "define void @entry_a(ptr %p) {\n"
                   "  call void @kernel_a(ptr %p, i32 7)\n  ret void\n}\n"
                   "define void @entry_b(ptr %p) {\n"
                   "  call void @kernel_b(ptr %p, i32 7)\n  ret void\n}\n"
                   "declare i32 @other(i32)\n";
  llvm::SMDiagnostic error;
  std::unique_ptr<llvm::Module> m = llvm::parseAssemblyString(ir, error, ctx);
  if (!m) {
    std::string message;
    llvm::raw_string_ostream os(message);
    error.print("KernelMergeTest", os);
    ADD_FAILURE() << message;
  }
  return m;
}

/// The kernels the entries call after merging (the function each entry's
/// one call names), and the calls.
std::vector<llvm::CallInst *> callsOf(llvm::Module &m) {
  std::vector<llvm::CallInst *> calls;
  for (const char *name : {"entry_a", "entry_b"})
    for (llvm::Instruction &i : m.getFunction(name)->getEntryBlock())
      if (auto *call = llvm::dyn_cast<llvm::CallInst>(&i))
        calls.push_back(call);
  return calls;
}

void merge(llvm::Module &m) {
  ncl::mergeIdenticalKernels({m.getFunction("entry_a"), m.getFunction("entry_b")});
  std::string message;
  llvm::raw_string_ostream os(message);
  EXPECT_FALSE(llvm::verifyModule(m, &os)) << message;
}

const char *kStreamA = "  %s = xor i32 %x, -131072\n  store i32 %s, ptr %p\n";
const char *kStreamB = "  %s = xor i32 %x, -131071\n  store i32 %s, ptr %p\n";

TEST(KernelMerge, IdenticalKernelsBecomeOne) {
  llvm::LLVMContext ctx;
  auto m = twoKernels(ctx, kStreamA, kStreamA);
  ASSERT_TRUE(m);
  merge(*m);
  std::vector<llvm::CallInst *> calls = callsOf(*m);
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0]->getCalledFunction(), calls[1]->getCalledFunction());
  EXPECT_EQ(calls[0]->arg_size(), 2u); // no argument added
}

TEST(KernelMerge, StreamsBecomeArguments) {
  llvm::LLVMContext ctx;
  auto m = twoKernels(ctx, kStreamA, kStreamB);
  ASSERT_TRUE(m);
  merge(*m);
  std::vector<llvm::CallInst *> calls = callsOf(*m);
  ASSERT_EQ(calls.size(), 2u);
  llvm::Function *kernel = calls[0]->getCalledFunction();
  ASSERT_TRUE(kernel);
  EXPECT_EQ(kernel, calls[1]->getCalledFunction());
  EXPECT_EQ(m->getFunction("kernel_a"), nullptr);
  EXPECT_EQ(m->getFunction("kernel_b"), nullptr);
  // One extra argument, the stream, which the xor now takes: each entry
  // passes its own kernel's constant, and the other arguments as before.
  ASSERT_EQ(kernel->arg_size(), 3u);
  ASSERT_EQ(calls[0]->arg_size(), 3u);
  auto constantOf = [](llvm::CallInst *call, unsigned i) {
    auto *c = llvm::dyn_cast<llvm::ConstantInt>(call->getArgOperand(i));
    return c ? c->getSExtValue() : 0;
  };
  EXPECT_EQ(constantOf(calls[0], 1), 7);
  EXPECT_EQ(constantOf(calls[1], 1), 7);
  EXPECT_EQ(constantOf(calls[0], 2), -131072);
  EXPECT_EQ(constantOf(calls[1], 2), -131071);
  auto *xorOp = llvm::cast<llvm::BinaryOperator>(&kernel->getEntryBlock().front());
  EXPECT_EQ(xorOp->getOperand(1), kernel->getArg(2));
}

TEST(KernelMerge, OtherDifferencesKeepKernelsApart) {
  const std::pair<const char *, const char *> different[] = {
      // another operation
      {kStreamA, "  %s = or i32 %x, -131071\n  store i32 %s, ptr %p\n"},
      // a constant that is not arithmetic's: an address offset
      {"  %q = getelementptr i8, ptr %p, i64 4\n  store i32 %x, ptr %q\n",
       "  %q = getelementptr i8, ptr %p, i64 8\n  store i32 %x, ptr %q\n"},
      // a constant stored, not computed with
      {"  store i32 1, ptr %p\n", "  store i32 2, ptr %p\n"},
      // another function called
      {"  %s = call i32 @other(i32 %x)\n  store i32 %s, ptr %p\n",
       "  %s = call i32 @other(i32 1)\n  store i32 %s, ptr %p\n"},
      // operands the other way round
      {"  %s = sub i32 %x, 3\n  store i32 %s, ptr %p\n",
       "  %s = sub i32 3, %x\n  store i32 %s, ptr %p\n"},
  };
  for (auto [a, b] : different) {
    llvm::LLVMContext ctx;
    auto m = twoKernels(ctx, a, b);
    ASSERT_TRUE(m);
    merge(*m);
    std::vector<llvm::CallInst *> calls = callsOf(*m);
    ASSERT_EQ(calls.size(), 2u);
    EXPECT_NE(calls[0]->getCalledFunction(), calls[1]->getCalledFunction()) << a << "\nvs\n" << b;
    EXPECT_EQ(calls[0]->arg_size(), 2u);
  }
}

} // namespace
