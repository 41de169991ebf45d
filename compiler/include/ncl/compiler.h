/*===- ncl/compiler.h - The NCL compiler as a library (C API) -------------===*
 *
 * Compiles a model (a .ncl file, or its text held in memory) into the shared
 * library that libnclrt (ncl/runtime.h) loads, without spawning nclc: nclc
 * itself compiles through the same code. Link with libnclcompiler
 * (CMake: NCL::nclcompiler; pkg-config: nclcompiler).
 *
 *   ncl_compiler_options *o = ncl_compiler_options_create();
 *   ncl_compiler_options_set_precision(o, "f32");
 *   ncl_compile_result *r = ncl_compile_string(o, text, "model.ncl", "model.so");
 *   if (!ncl_compile_result_ok(r))
 *     for (size_t i = 0; i < ncl_compile_result_num_diagnostics(r); ++i) {
 *       const ncl_diagnostic *d = ncl_compile_result_diagnostic(r, i);
 *       printf("%s:%u:%u: %s\n", d->file, d->line, d->column, d->message);
 *     }
 *   ncl_compile_result_destroy(r);
 *   ncl_compiler_options_destroy(o);
 *
 * Errors in the model come back as records (file, line, column, severity,
 * message) that point into the user's files, never into generated code; a
 * compile that fails returns a result whose ok flag is 0. Nothing is
 * printed unless ncl_compiler_options_set_print_diagnostics asks for it.
 *
 * Threads: compiles are serialised inside the library (one at a time per
 * process; a call from a second thread waits), since the in-process linker
 * keeps global state. An options object is used by one thread at a time; a
 * result is immutable and may be read from any thread. docs/embedding.md.
 *===----------------------------------------------------------------------===*/
#ifndef NCL_COMPILER_H
#define NCL_COMPILER_H

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define NCL_COMPILER_API __attribute__((visibility("default")))
#else
#define NCL_COMPILER_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Versions                                                                  */
/* ------------------------------------------------------------------------ */

/** NCL's version, e.g. "0.1.0". */
NCL_COMPILER_API const char *ncl_compiler_version(void);
/** The LLVM version the compiler was built with, e.g. "22.1.8". */
NCL_COMPILER_API const char *ncl_compiler_llvm_version(void);
/** The model library ABI the compiler emits (NCL_ABI_VERSION of
 * ncl/model_abi.h); libnclrt loads libraries of its own ABI only. */
NCL_COMPILER_API uint32_t ncl_compiler_abi_version(void);

/* ------------------------------------------------------------------------ */
/* Options                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct ncl_compiler_options ncl_compiler_options;

/** Defaults: f64, the only network of the file, the installed standard
 * library, fusion on, one codegen thread per core, no remarks, nothing
 * printed. NULL only if memory runs out. */
NCL_COMPILER_API ncl_compiler_options *ncl_compiler_options_create(void);
NCL_COMPILER_API void ncl_compiler_options_destroy(ncl_compiler_options *options);

/** "f32" or "f64": the precision of state and arithmetic. Returns 0, or -1
 * (options unchanged) for anything else. */
NCL_COMPILER_API int ncl_compiler_options_set_precision(ncl_compiler_options *options,
                                                        const char *precision);
/** What the library runs on, as nclc --target: "cpu" (the default), or
 * "cuda" / "all": GPU images (PTX, and cubins where the CUDA toolkit's ptxas
 * exists) beside the CPU code, for the runtime's CUDA backend
 * (docs/gpu.md). Returns 0, or -1 (options unchanged) for anything else. */
NCL_COMPILER_API int ncl_compiler_options_set_target(ncl_compiler_options *options,
                                                     const char *target);
/** The GPU architectures, comma-separated, as nclc --gpu-arch (default
 * "sm_80,sm_90"; "" restores it). A name NVPTX does not know fails the
 * compile with an error record. Returns 0, or -1 for NULL. */
NCL_COMPILER_API int ncl_compiler_options_set_gpu_archs(ncl_compiler_options *options,
                                                        const char *archs);
/** The network to compile when the file holds several; NULL or "": the
 * only one. Returns 0, or -1 if options is NULL. */
NCL_COMPILER_API int ncl_compiler_options_set_network(ncl_compiler_options *options,
                                                      const char *network);
/** Appends a directory to the import search path (searched after the
 * importing file's directory, before the standard library), like nclc -I.
 * Returns 0, or -1 for NULL or "". */
NCL_COMPILER_API int ncl_compiler_options_add_include_dir(ncl_compiler_options *options,
                                                          const char *dir);
/** Replaces the standard library's directory (default: share/ncl/stdlib of
 * the installation libnclcompiler belongs to). Returns 0, or -1 for NULL. */
NCL_COMPILER_API int ncl_compiler_options_set_stdlib_dir(ncl_compiler_options *options,
                                                         const char *dir);
/** Whether ncl-fuse runs (default 1); fused and unfused libraries give the
 * same results. */
NCL_COMPILER_API void ncl_compiler_options_set_fuse(ncl_compiler_options *options, int fuse);
/** Threads to compile the kernels with (default 0: one per core); the
 * machine code is the same for any number. */
NCL_COMPILER_API void ncl_compiler_options_set_threads(ncl_compiler_options *options,
                                                       unsigned threads);
/** Whether remarks (how each neuron and synapse is integrated, and why)
 * are reported, as records of severity NCL_DIAGNOSTIC_REMARK (default 0). */
NCL_COMPILER_API void ncl_compiler_options_set_remarks(ncl_compiler_options *options, int remarks);
/** Whether diagnostics are also printed to stderr as nclc prints them
 * (default 0: they are only recorded, and kept as text in the result). */
NCL_COMPILER_API void ncl_compiler_options_set_print_diagnostics(ncl_compiler_options *options,
                                                                 int print);

/* ------------------------------------------------------------------------ */
/* Compiling                                                                 */
/* ------------------------------------------------------------------------ */

typedef enum ncl_diagnostic_severity {
  NCL_DIAGNOSTIC_ERROR = 0,
  NCL_DIAGNOSTIC_WARNING = 1,
  NCL_DIAGNOSTIC_NOTE = 2,
  NCL_DIAGNOSTIC_REMARK = 3
} ncl_diagnostic_severity;

/** One message. file is "" and line and column are 0 for a message that
 * has no place in a file (a missing file, an output that cannot be
 * written); line and column count from 1. Strings live as long as the
 * result. */
typedef struct ncl_diagnostic {
  ncl_diagnostic_severity severity;
  const char *file;
  uint32_t line;
  uint32_t column;
  const char *message;
} ncl_diagnostic;

typedef struct ncl_compile_result ncl_compile_result;

/** Compiles the .ncl file at `path` (and what it imports) into the shared
 * library `output_path`. options may be NULL (the defaults). Returns a
 * result to inspect and destroy; NULL only if memory runs out. A failed
 * compile leaves no library behind and any earlier file at output_path as
 * it was. */
NCL_COMPILER_API ncl_compile_result *ncl_compile_file(const ncl_compiler_options *options,
                                                      const char *path, const char *output_path);
/** Compiles `source` (the text of a .ncl file) as if it were the file
 * `file_name`: diagnostics name that file, and imports are looked for in
 * its directory first (the current directory for a bare name). Nothing is
 * read from file_name itself. */
NCL_COMPILER_API ncl_compile_result *ncl_compile_string(const ncl_compiler_options *options,
                                                        const char *source, const char *file_name,
                                                        const char *output_path);

/** 1 if the library was written, 0 if the compile failed (then at least one
 * diagnostic is an error). 0 for NULL. */
NCL_COMPILER_API int ncl_compile_result_ok(const ncl_compile_result *result);
NCL_COMPILER_API size_t ncl_compile_result_num_diagnostics(const ncl_compile_result *result);
/** The index-th diagnostic, in the order reported; NULL if out of range. */
NCL_COMPILER_API const ncl_diagnostic *
ncl_compile_result_diagnostic(const ncl_compile_result *result, size_t index);
/** Every diagnostic as nclc prints it (file:line:col: error: message, the
 * source line and a caret); "" if there were none. */
NCL_COMPILER_API const char *ncl_compile_result_diagnostics_text(const ncl_compile_result *result);
/** The library written (output_path), or NULL if the compile failed. */
NCL_COMPILER_API const char *ncl_compile_result_output(const ncl_compile_result *result);
/** The files the compile read: the model and every file it imports (what a
 * build system must watch). */
NCL_COMPILER_API size_t ncl_compile_result_num_dependencies(const ncl_compile_result *result);
NCL_COMPILER_API const char *ncl_compile_result_dependency(const ncl_compile_result *result,
                                                           size_t index);
NCL_COMPILER_API void ncl_compile_result_destroy(ncl_compile_result *result);

#ifdef __cplusplus
}
#endif

#endif /* NCL_COMPILER_H */
