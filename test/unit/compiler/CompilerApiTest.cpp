//===- CompilerApiTest.cpp - The compiler's C API (ncl/compiler.h) --------===//
//
// Models compiled through libnclcompiler, from a string and from a file,
// then run through libnclrt and checked against their analytic solutions;
// every kind of failure comes back as a record at the user's line and
// column, with nothing printed. All in one process: compiling again after
// a success or a failure must work as the first compile did.
//
//===----------------------------------------------------------------------===//
#include "ncl/compiler.h"
#include "ncl/model_abi.h"
#include "ncl/runtime.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

namespace {

namespace fs = std::filesystem;

/// One membrane relaxing to 0 with tau = 10 ms from 10 mV: v(t) = 10 mV e^(-t/tau).
const char *kDecay = R"(neuron Leak {
  parameters { tau = 10 ms }
  state { v : mV = 10 mV }
  dynamics { v' = -v / tau }
}
network Decay {
  population P = Leak[1]
  simulate 50 ms, dt = 0.1 ms, seed = 1
}
)";

/// The standard library's LIF at 2 nA: its first spike from rest comes at
/// tau_m ln(R I / (R I - (Vt - El))) = 20 ms ln 4 (dsl/stdlib/lif.ncl).
const char *kStdlibLif = R"(import "lif.ncl"
network Lif {
  population P = LIF[1] { I = 2 nA }
  record spikes(P)
  simulate 40 ms, dt = 0.1 ms, seed = 1
}
)";

std::string tmpPath(const std::string &name) {
  fs::create_directories(NCL_TEST_TMP_DIR);
  return std::string(NCL_TEST_TMP_DIR) + "/" + name;
}

/// Owns an options object and a result.
struct Compile {
  ncl_compiler_options *options = ncl_compiler_options_create();
  ncl_compile_result *result = nullptr;
  ~Compile() {
    ncl_compile_result_destroy(result);
    ncl_compiler_options_destroy(options);
  }
  ncl_compile_result *string(const char *source, const char *name, const std::string &output) {
    ncl_compile_result_destroy(result);
    result = ncl_compile_string(options, source, name, output.c_str());
    return result;
  }
  ncl_compile_result *file(const std::string &path, const std::string &output) {
    ncl_compile_result_destroy(result);
    result = ncl_compile_file(options, path.c_str(), output.c_str());
    return result;
  }
  /// The first error record (the test fails if there is none).
  const ncl_diagnostic *firstError() const {
    for (size_t i = 0; i < ncl_compile_result_num_diagnostics(result); ++i) {
      const ncl_diagnostic *d = ncl_compile_result_diagnostic(result, i);
      if (d->severity == NCL_DIAGNOSTIC_ERROR)
        return d;
    }
    ADD_FAILURE() << "no error record; text: " << ncl_compile_result_diagnostics_text(result);
    static const ncl_diagnostic none{NCL_DIAGNOSTIC_NOTE, "", 0, 0, ""};
    return &none;
  }
};

/// v of the decay model after `seconds`, through libnclrt.
double decayedVoltage(const std::string &library, double seconds) {
  ncl_model *m = ncl_open(library.c_str());
  EXPECT_NE(m, nullptr) << ncl_last_error();
  if (!m)
    return NAN;
  EXPECT_EQ(ncl_init(m, 1), NCL_OK) << ncl_last_error();
  EXPECT_EQ(ncl_run(m, seconds), NCL_OK) << ncl_last_error();
  double v = NAN;
  EXPECT_EQ(ncl_get_state(m, "P", "v", &v, 1), 1) << ncl_last_error();
  ncl_close(m);
  return v;
}

TEST(CompilerApi, VersionsMatchTheRuntime) {
  EXPECT_EQ(ncl_compiler_abi_version(), NCL_ABI_VERSION);
  EXPECT_EQ(ncl_compiler_abi_version(), ncl_runtime_abi_version());
  EXPECT_STRNE(ncl_compiler_version(), "");
  EXPECT_EQ(std::string(ncl_compiler_llvm_version()).substr(0, 3), "22.");
}

TEST(CompilerApi, StringCompilesToALibraryThatDecaysAsTheAnalyticSolution) {
  Compile c;
  std::string output = tmpPath("decay.so");
  fs::remove(output);
  testing::internal::CaptureStderr();
  ncl_compile_result *r = c.string(kDecay, "decay.ncl", output);
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
  ASSERT_TRUE(ncl_compile_result_ok(r)) << ncl_compile_result_diagnostics_text(r);
  EXPECT_EQ(ncl_compile_result_num_diagnostics(r), 0u);
  EXPECT_STREQ(ncl_compile_result_output(r), output.c_str());
  ASSERT_TRUE(fs::exists(output));
  // The ODE is linear: integrated exactly, so only rounding separates the
  // library's v from 10 mV e^(-t/tau) (internal units: volts).
  for (double t : {0.01, 0.05}) {
    double expected = 10e-3 * std::exp(-t / 10e-3);
    EXPECT_NEAR(decayedVoltage(output, t), expected, 1e-12 + 1e-9 * expected) << "t = " << t;
  }
}

/// Whether `path` holds `text` (the PTX of a library's GPU images is text).
bool fileContains(const std::string &path, const std::string &text) {
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return bytes.find(text) != std::string::npos;
}

TEST(CompilerApi, TargetCudaAddsGPUImagesAndKeepsTheCPUCode) {
  Compile c;
  EXPECT_EQ(ncl_compiler_options_set_target(c.options, "tpu"), -1);
  EXPECT_EQ(ncl_compiler_options_set_target(nullptr, "cuda"), -1);
  ASSERT_EQ(ncl_compiler_options_set_target(c.options, "cuda"), 0);
  ASSERT_EQ(ncl_compiler_options_set_gpu_archs(c.options, "sm_90"), 0);
  std::string output = tmpPath("decay-cuda.so");
  fs::remove(output);
  ncl_compile_result *r = c.string(kDecay, "decay.ncl", output);
  ASSERT_TRUE(ncl_compile_result_ok(r)) << ncl_compile_result_diagnostics_text(r);
  // PTX for the one architecture asked for (docs/gpu.md), none for another.
  EXPECT_TRUE(fileContains(output, ".target sm_90"));
  EXPECT_FALSE(fileContains(output, ".target sm_80"));
  // The CPU code is kept: the library runs on the CPU as the analytic solution.
  double expected = 10e-3 * std::exp(-0.05 / 10e-3);
  EXPECT_NEAR(decayedVoltage(output, 0.05), expected, 1e-12 + 1e-9 * expected);
  // A name NVPTX does not know is an error record, and nothing is written.
  ASSERT_EQ(ncl_compiler_options_set_gpu_archs(c.options, "sm_1"), 0);
  std::string bad = tmpPath("decay-bad-arch.so");
  fs::remove(bad);
  r = c.string(kDecay, "decay.ncl", bad);
  EXPECT_FALSE(ncl_compile_result_ok(r));
  EXPECT_NE(std::string(c.firstError()->message).find("sm_1"), std::string::npos)
      << c.firstError()->message;
  EXPECT_FALSE(fs::exists(bad));
}

TEST(CompilerApi, SyntaxErrorIsARecordAtItsLineAndColumn) {
  Compile c;
  const char *broken = "neuron N {\n"
                       "  parameters {\n"
                       "    tau = 10 ms )\n"
                       "  }\n"
                       "}\n";
  std::string output = tmpPath("syntax.so");
  fs::remove(output);
  testing::internal::CaptureStderr();
  ncl_compile_result *r = c.string(broken, "models/broken.ncl", output);
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "") << "nothing is printed unless asked";
  EXPECT_FALSE(ncl_compile_result_ok(r));
  EXPECT_EQ(ncl_compile_result_output(r), nullptr);
  EXPECT_FALSE(fs::exists(output));
  const ncl_diagnostic *d = c.firstError();
  EXPECT_STREQ(d->file, "models/broken.ncl");
  EXPECT_EQ(d->line, 3u);
  EXPECT_EQ(d->column, 17u);
  EXPECT_NE(std::string(d->message).find("syntax error: extraneous input ')'"), std::string::npos)
      << d->message;
  // The text is nclc's: place, message, the line and a caret under the ')'.
  std::string text = ncl_compile_result_diagnostics_text(r);
  EXPECT_EQ(text.rfind("models/broken.ncl:3:17: error: syntax error:", 0), 0u) << text;
  EXPECT_NE(text.find("\n    tau = 10 ms )\n                ^\n"), std::string::npos) << text;
}

TEST(CompilerApi, UnitErrorIsARecordAtTheExpression) {
  Compile c;
  const char *wrongUnits = "neuron N {\n"
                           "  parameters { tau = 10 ms; El = -70 mV }\n"
                           "  state { v : mV = El }\n"
                           "  dynamics {\n"
                           "    v' = (El - v) * tau\n"
                           "  }\n"
                           "}\n"
                           "network Net {\n"
                           "  population P = N[1]\n"
                           "}\n";
  ncl_compile_result *r = c.string(wrongUnits, "units.ncl", tmpPath("units.so"));
  EXPECT_FALSE(ncl_compile_result_ok(r));
  const ncl_diagnostic *d = c.firstError();
  EXPECT_STREQ(d->file, "units.ncl");
  EXPECT_EQ(d->line, 5u);
  EXPECT_EQ(d->column, 10u);
  EXPECT_NE(std::string(d->message).find("expected V/s (units of v per time)"), std::string::npos)
      << d->message;
}

TEST(CompilerApi, PipelineErrorPointsAtTheUsersLineNotGeneratedCode) {
  // ncl-integrate (an MLIR pass, after MLIRGen) refuses 'exact' for a
  // nonlinear equation: the record still names the equation in the file.
  Compile c;
  const char *nonlinear = "neuron Quad {\n"
                          "  parameters { tau = 10 ms }\n"
                          "  state { v = 0.1 }\n"
                          "  dynamics { v' = v * v / tau }\n"
                          "}\n"
                          "network Net {\n"
                          "  population P = Quad[1] { method exact }\n"
                          "  simulate 1 ms, dt = 0.1 ms\n"
                          "}\n";
  testing::internal::CaptureStderr();
  ncl_compile_result *r = c.string(nonlinear, "quad.ncl", tmpPath("quad.so"));
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
  EXPECT_FALSE(ncl_compile_result_ok(r));
  const ncl_diagnostic *d = c.firstError();
  EXPECT_STREQ(d->file, "quad.ncl");
  EXPECT_EQ(d->line, 4u);
  EXPECT_EQ(d->column, 14u);
  EXPECT_NE(std::string(d->message).find("method 'exact' needs"), std::string::npos) << d->message;
  EXPECT_NE(std::string(ncl_compile_result_diagnostics_text(r)).find("quad.ncl:4:14: error:"),
            std::string::npos);
}

TEST(CompilerApi, MissingFileIsAnErrorWithoutAPlace) {
  Compile c;
  std::string missing = tmpPath("does-not-exist.ncl");
  ncl_compile_result *r = c.file(missing, tmpPath("missing.so"));
  EXPECT_FALSE(ncl_compile_result_ok(r));
  const ncl_diagnostic *d = c.firstError();
  EXPECT_STREQ(d->file, "");
  EXPECT_EQ(d->line, 0u);
  EXPECT_EQ(d->column, 0u);
  EXPECT_EQ(std::string(d->message), "cannot open input file '" + missing + "'");
}

TEST(CompilerApi, UnwritableOutputIsAnErrorWithoutAPlace) {
  Compile c;
  std::string output = tmpPath("no-such-directory/decay.so");
  ncl_compile_result *r = c.string(kDecay, "decay.ncl", output);
  EXPECT_FALSE(ncl_compile_result_ok(r));
  const ncl_diagnostic *d = c.firstError();
  EXPECT_STREQ(d->file, "");
  EXPECT_EQ(d->line, 0u);
  EXPECT_NE(std::string(d->message).find("no such file or directory (writing '" + output + "')"),
            std::string::npos)
      << d->message;
}

TEST(CompilerApi, MissingArgumentsAreErrorsNotCrashes) {
  ncl_compile_result *r = ncl_compile_string(nullptr, nullptr, "m.ncl", "m.so");
  ASSERT_NE(r, nullptr);
  EXPECT_FALSE(ncl_compile_result_ok(r));
  ASSERT_EQ(ncl_compile_result_num_diagnostics(r), 1u);
  EXPECT_STREQ(ncl_compile_result_diagnostic(r, 0)->message, "no source text given");
  EXPECT_EQ(ncl_compile_result_diagnostic(r, 1), nullptr);
  ncl_compile_result_destroy(r);
  r = ncl_compile_file(nullptr, "m.ncl", nullptr);
  EXPECT_FALSE(ncl_compile_result_ok(r));
  EXPECT_STREQ(ncl_compile_result_diagnostic(r, 0)->message, "no output library given");
  ncl_compile_result_destroy(r);
  EXPECT_FALSE(ncl_compile_result_ok(nullptr));
  EXPECT_EQ(ncl_compile_result_num_diagnostics(nullptr), 0u);

  ncl_compiler_options *o = ncl_compiler_options_create();
  EXPECT_EQ(ncl_compiler_options_set_precision(o, "f16"), -1);
  EXPECT_EQ(ncl_compiler_options_set_precision(o, "f32"), 0);
  EXPECT_EQ(ncl_compiler_options_add_include_dir(o, ""), -1);
  EXPECT_EQ(ncl_compiler_options_set_precision(nullptr, "f32"), -1);
  ncl_compiler_options_destroy(o);
}

TEST(CompilerApi, CompilesAgainInTheSameProcessAfterSuccessAndFailure) {
  Compile c;
  std::string f64 = tmpPath("twice-f64.so"), f32 = tmpPath("twice-f32.so");
  ASSERT_TRUE(ncl_compile_result_ok(c.string(kDecay, "decay.ncl", f64)));
  EXPECT_FALSE(ncl_compile_result_ok(c.string("neuron {", "bad.ncl", tmpPath("bad.so"))));
  ASSERT_EQ(ncl_compiler_options_set_precision(c.options, "f32"), 0);
  ncl_compiler_options_set_threads(c.options, 1);
  ncl_compiler_options_set_fuse(c.options, 0);
  ASSERT_TRUE(ncl_compile_result_ok(c.string(kDecay, "decay.ncl", f32)))
      << ncl_compile_result_diagnostics_text(c.result);
  double expected = 10e-3 * std::exp(-5.0);
  EXPECT_NEAR(decayedVoltage(f64, 0.05), expected, 1e-9 * expected);
  // float: about 7 digits, and 500 steps of rounding.
  EXPECT_NEAR(decayedVoltage(f32, 0.05), expected, 1e-4 * expected);
  // Both loaded at once: distinct libraries, distinct models.
  ncl_model *a = ncl_open(f64.c_str()), *b = ncl_open(f32.c_str());
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(ncl_descriptor(a)->real_bits, 64);
  EXPECT_EQ(ncl_descriptor(b)->real_bits, 32);
  ncl_close(a);
  ncl_close(b);
}

TEST(CompilerApi, CompilesFromTwoThreadsAtOnce) {
  // The library serialises compiles: two threads asking at once both get
  // their library, each decaying as it should.
  std::string outputs[2] = {tmpPath("thread0.so"), tmpPath("thread1.so")};
  bool ok[2] = {false, false};
  std::thread threads[2];
  for (int i = 0; i < 2; ++i)
    threads[i] = std::thread([&, i] {
      ncl_compile_result *r = ncl_compile_string(nullptr, kDecay, "decay.ncl", outputs[i].c_str());
      ok[i] = ncl_compile_result_ok(r);
      ncl_compile_result_destroy(r);
    });
  for (std::thread &t : threads)
    t.join();
  double expected = 10e-3 * std::exp(-5.0);
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(ok[i]) << "thread " << i;
    EXPECT_NEAR(decayedVoltage(outputs[i], 0.05), expected, 1e-9 * expected);
  }
}

TEST(CompilerApi, StringImportsTheStandardLibrary) {
  Compile c;
  std::string output = tmpPath("lif.so");
  ncl_compile_result *r = c.string(kStdlibLif, "lif_net.ncl", output);
  ASSERT_TRUE(ncl_compile_result_ok(r)) << ncl_compile_result_diagnostics_text(r);
  bool importedLif = false;
  for (size_t i = 0; i < ncl_compile_result_num_dependencies(r); ++i)
    importedLif |= fs::path(ncl_compile_result_dependency(r, i)).filename() == "lif.ncl";
  EXPECT_TRUE(importedLif) << "the dependencies name the standard library's lif.ncl";

  ncl_model *m = ncl_open(output.c_str());
  ASSERT_NE(m, nullptr) << ncl_last_error();
  ASSERT_EQ(ncl_init(m, 1), NCL_OK);
  ASSERT_EQ(ncl_run(m, 0.04), NCL_OK);
  double t[2];
  int64_t idx[2];
  ASSERT_GE(ncl_get_spikes(m, "P", t, idx, 2), 1);
  // First crossing at 20 ms ln 4 = 27.73 ms, seen at the end of its step.
  const double crossing = 20e-3 * std::log(4.0), dt = 1e-4;
  EXPECT_GE(t[0], crossing);
  EXPECT_LE(t[0], crossing + dt + 1e-12);
  ncl_close(m);
}

TEST(CompilerApi, FileWithAnIncludeDirAndANamedNetwork) {
  // -I and --network through the options: a neuron imported from a
  // directory given as an include dir, one of two networks chosen.
  fs::path dir = tmpPath("include-dir");
  fs::create_directories(dir);
  std::ofstream(dir / "leak.ncl") << "neuron Leak2 {\n"
                                     "  parameters { tau = 20 ms }\n"
                                     "  state { v : mV = 10 mV }\n"
                                     "  dynamics { v' = -v / tau }\n"
                                     "}\n";
  std::string model = tmpPath("two_networks.ncl");
  std::ofstream(model) << "import \"leak.ncl\"\n"
                          "network A {\n  population P = Leak2[1]\n}\n"
                          "network B {\n  population P = Leak2[2]\n}\n";
  Compile c;
  std::string output = tmpPath("two.so");
  ncl_compile_result *r = c.file(model, output);
  EXPECT_FALSE(ncl_compile_result_ok(r)) << "leak.ncl is not found without the include dir";
  ASSERT_EQ(ncl_compiler_options_add_include_dir(c.options, dir.c_str()), 0);
  ASSERT_EQ(ncl_compiler_options_set_network(c.options, "B"), 0);
  r = c.file(model, output);
  ASSERT_TRUE(ncl_compile_result_ok(r)) << ncl_compile_result_diagnostics_text(r);
  ncl_model *m = ncl_open(output.c_str());
  ASSERT_NE(m, nullptr) << ncl_last_error();
  EXPECT_STREQ(ncl_model_name(m), "B");
  EXPECT_EQ(ncl_population_size(m, "P"), 2);
  ncl_close(m);
}

} // namespace
