//===- StaticLLVM.cpp - What a statically linked nclc leaves out ---------===//
//
// nclc links LLVM, MLIR and lld statically (compiler/tools/CMakeLists.txt)
// with the host's target only. lld's driver initialises every target LLVM
// was built with (for link-time optimisation, which nclc never asks for),
// and LLVM's LTO backend registers the extensions built into its tools
// (Polly). These weak, empty definitions stand in for the targets and
// extensions that are not linked; the host target's own initialisers,
// extracted from its archives first, take precedence.
//
//===----------------------------------------------------------------------===//
#include "llvm/Plugins/PassPlugin.h"

#define NCL_ABSENT_INITIALIZER(name)                                                               \
  extern "C" __attribute__((weak)) void LLVMInitialize##name() {}

#define LLVM_TARGET(target)                                                                        \
  NCL_ABSENT_INITIALIZER(target##TargetInfo)                                                       \
  NCL_ABSENT_INITIALIZER(target##Target)                                                           \
  NCL_ABSENT_INITIALIZER(target##TargetMC)                                                         \
  NCL_ABSENT_INITIALIZER(target##TargetMCA)
#include "llvm/Config/Targets.def"
#define LLVM_ASM_PRINTER(target) NCL_ABSENT_INITIALIZER(target##AsmPrinter)
#include "llvm/Config/AsmPrinters.def"
#define LLVM_ASM_PARSER(target) NCL_ABSENT_INITIALIZER(target##AsmParser)
#include "llvm/Config/AsmParsers.def"
#define LLVM_DISASSEMBLER(target) NCL_ABSENT_INITIALIZER(target##Disassembler)
#include "llvm/Config/Disassemblers.def"

#define HANDLE_EXTENSION(extension)                                                                \
  __attribute__((weak)) llvm::PassPluginLibraryInfo get##extension##PluginInfo() {                 \
    return {LLVM_PLUGIN_API_VERSION, #extension, "absent", [](llvm::PassBuilder &) {}};            \
  }
#include "llvm/Support/Extension.def"
