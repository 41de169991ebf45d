/*===- embed_compile.c - Compile a model from a string and run it ---------===*
 *
 * usage: ncl-embed-compile-example [WORK_DIR]
 *
 * A host program that needs no nclc: it compiles a model held in a string
 * through the compiler's C API (ncl/compiler.h, libnclcompiler) into a
 * library in WORK_DIR (default: the current directory), runs it in the
 * same process through libnclrt (ncl/runtime.h) and checks the result
 * against mathematics: a membrane relaxing from 10 mV with tau = 10 ms is
 * at 10 mV e^-5 after 50 ms. Then it compiles a deliberately broken model
 * and prints the structured diagnostic it gets back. Exit status 0 when
 * both behave as they should.
 *===----------------------------------------------------------------------===*/
#include "ncl/compiler.h"
#include "ncl/runtime.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *kDecayModel = "neuron Leak {\n"
                                 "  parameters { tau = 10 ms }\n"
                                 "  state { v : mV = 10 mV }\n"
                                 "  dynamics { v' = -v / tau }\n"
                                 "}\n"
                                 "network Decay {\n"
                                 "  population P = Leak[1]\n"
                                 "  simulate 50 ms, dt = 0.1 ms, seed = 1\n"
                                 "}\n";

/* Line 4 adds a voltage to a time. */
static const char *kBrokenModel = "neuron Leak {\n"
                                  "  parameters { tau = 10 ms }\n"
                                  "  state { v : mV = 10 mV }\n"
                                  "  dynamics { v' = (-v + tau) / tau }\n"
                                  "}\n"
                                  "network Broken {\n"
                                  "  population P = Leak[1]\n"
                                  "}\n";

static const char *severityName(ncl_diagnostic_severity s) {
  switch (s) {
  case NCL_DIAGNOSTIC_ERROR:
    return "error";
  case NCL_DIAGNOSTIC_WARNING:
    return "warning";
  case NCL_DIAGNOSTIC_NOTE:
    return "note";
  case NCL_DIAGNOSTIC_REMARK:
    return "remark";
  }
  return "?";
}

static void printDiagnostics(const ncl_compile_result *r) {
  for (size_t i = 0; i < ncl_compile_result_num_diagnostics(r); ++i) {
    const ncl_diagnostic *d = ncl_compile_result_diagnostic(r, i);
    printf("diagnostic: severity=%s file=%s line=%u column=%u message=%s\n",
           severityName(d->severity), d->file, (unsigned)d->line, (unsigned)d->column, d->message);
  }
}

/* Compiles kDecayModel, runs it 50 ms and compares v with the analytic value. */
static int runDecay(ncl_compiler_options *options, const char *library) {
  ncl_compile_result *r = ncl_compile_string(options, kDecayModel, "decay.ncl", library);
  if (!ncl_compile_result_ok(r)) {
    printDiagnostics(r);
    ncl_compile_result_destroy(r);
    return 1;
  }
  ncl_compile_result_destroy(r);

  ncl_model *m = ncl_open(library);
  if (!m || ncl_init(m, ncl_default_seed(m)) != NCL_OK || ncl_run(m, 0.050) != NCL_OK) {
    fprintf(stderr, "ncl-embed-compile-example: %s\n", ncl_last_error());
    ncl_close(m);
    return 1;
  }
  double v = 0;
  int64_t n = ncl_get_state(m, "P", "v", &v, 1);
  ncl_close(m);
  double expected = 10e-3 * exp(-5.0); /* volts: NCL's internal units are SI */
  double relative = fabs(v - expected) / expected;
  printf("v(50 ms) = %.12e V, analytic 10 mV e^-5 = %.12e V, relative error %.1e\n", v, expected,
         relative);
  if (n != 1 || !(relative < 1e-9)) {
    printf("FAIL: the compiled model does not decay as e^(-t/tau)\n");
    return 1;
  }
  return 0;
}

/* Compiles kBrokenModel: the compile must fail with an error at line 4. */
static int showDiagnostic(ncl_compiler_options *options, const char *library) {
  ncl_compile_result *r = ncl_compile_string(options, kBrokenModel, "broken.ncl", library);
  int ok = ncl_compile_result_ok(r);
  printDiagnostics(r);
  const ncl_diagnostic *first = ncl_compile_result_diagnostic(r, 0);
  int expected = !ok && first && first->severity == NCL_DIAGNOSTIC_ERROR &&
                 strcmp(first->file, "broken.ncl") == 0 && first->line == 4;
  printf("as nclc prints it:\n%s", ncl_compile_result_diagnostics_text(r));
  ncl_compile_result_destroy(r);
  if (!expected) {
    printf("FAIL: expected an error record at broken.ncl:4\n");
    return 1;
  }
  return 0;
}

int main(int argc, char **argv) {
  const char *dir = argc > 1 ? argv[1] : ".";
  char library[4096], broken[4096];
  snprintf(library, sizeof library, "%s/decay.so", dir);
  snprintf(broken, sizeof broken, "%s/broken.so", dir);
  printf("NCL %s (LLVM %s), model library ABI %u\n", ncl_compiler_version(),
         ncl_compiler_llvm_version(), (unsigned)ncl_compiler_abi_version());

  ncl_compiler_options *options = ncl_compiler_options_create();
  int status = runDecay(options, library) || showDiagnostic(options, broken);
  ncl_compiler_options_destroy(options);
  if (status == 0)
    printf("PASS\n");
  return status;
}
