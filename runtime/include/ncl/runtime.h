/*===- ncl/runtime.h - C API of libnclrt, the NCL runtime -----------------===*
 *
 * libnclrt loads a model library emitted by `nclc` (see model_abi.h), owns
 * its state, steps it on a fixed pool of threads and records its spikes.
 * This header is plain C so that any program (C, C++, Python through ctypes,
 * Rust, ...) can embed a compiled model. No function throws or aborts on bad
 * input: failures return an error code, -1 or NULL and set a message that
 * ncl_last_error() returns. A handle may be used by one thread at a time;
 * distinct handles are independent. See docs/runtime.md.
 *===----------------------------------------------------------------------===*/
#ifndef NCL_RUNTIME_H
#define NCL_RUNTIME_H

#include <stdint.h>

#include "ncl/model_abi.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(NCL_RT_BUILDING) && defined(__GNUC__)
#define NCL_RT_API __attribute__((visibility("default")))
#else
#define NCL_RT_API
#endif

/** A loaded model together with its state and recorded spikes (opaque). */
typedef struct ncl_model ncl_model;

/** Result of every function that does not return a value. */
typedef enum ncl_status {
  NCL_OK = 0,
  NCL_ERROR_ARGUMENT = 1,    /**< NULL pointer, size <= 0, NaN value, ... */
  NCL_ERROR_NOT_FOUND = 2,   /**< unknown population, parameter or variable */
  NCL_ERROR_UNITS = 3,       /**< a quantity with a missing or wrong unit */
  NCL_ERROR_LOAD = 4,        /**< not an NCL model, or an ABI mismatch */
  NCL_ERROR_STATE = 5,       /**< not possible now, e.g. after a failed run */
  NCL_ERROR_NUMERIC = 6,     /**< a state variable became NaN or infinite */
  NCL_ERROR_KERNEL = 7,      /**< generated code broke the kernel contract */
  NCL_ERROR_IO = 8,          /**< writing output files, or reading a model's data files
                                  (.npy), failed */
  NCL_ERROR_MEMORY = 9,      /**< not enough memory for the run */
  NCL_ERROR_INTERRUPTED = 10 /**< ncl_interrupt stopped the run */
} ncl_status;

/** Wall-clock seconds spent in each phase (simulate sums all runs). */
typedef struct ncl_timings {
  double load_s;
  double init_s;
  double simulate_s;
} ncl_timings;

/* --- Errors and version --------------------------------------------------*/

/** The message of the last failed call on this thread ("" if none). It stays
 *  valid until the next failing call on the same thread. */
NCL_RT_API const char *ncl_last_error(void);

/** Parses a quantity such as "2.5nA", "-70 mV", "0.05ms" or "3": its value
 *  in internal (SI) units and its dimension (model_abi.h's doubled
 *  exponents). NCL_ERROR_UNITS with the reason when it is not one. Either
 *  output may be NULL. For programs that take quantities from their users,
 *  as ncl-run does, without linking NCL's front end. */
NCL_RT_API ncl_status ncl_parse_quantity(const char *text, double *value, ncl_dimension dim);
/** A readable name of a dimension: a named unit where one fits ("V", "s",
 *  "V/s"), else the base form ("m^2 kg s^-3 A^-1"); "1" for none. Valid until
 *  the next call on the same thread. */
NCL_RT_API const char *ncl_dimension_name(const ncl_dimension dim);
/** The model ABI version this runtime accepts (NCL_ABI_VERSION). */
NCL_RT_API uint32_t ncl_runtime_abi_version(void);

/* --- Loading -------------------------------------------------------------*/

/** Loads a model library (dlopen RTLD_NOW|RTLD_LOCAL), checks its magic
 *  number and ABI version before reading anything else, and validates the
 *  descriptor. Parameters start at their defaults, sizes at default_size,
 *  one thread. Returns NULL on failure. A path without '/' is taken relative
 *  to the current directory, not searched for like a system library. */
NCL_RT_API ncl_model *ncl_open(const char *so_path);

/** Frees everything and unloads the library. NULL is ignored. */
NCL_RT_API void ncl_close(ncl_model *m);

/* --- What the model contains ---------------------------------------------*/

/** The raw descriptor (model_abi.h) for full introspection: names, units,
 *  dimensions and defaults of every variable and parameter. */
NCL_RT_API const ncl_model_descriptor *ncl_descriptor(const ncl_model *m);
/** Path the model was opened from. */
NCL_RT_API const char *ncl_model_path(const ncl_model *m);
/** Network name, or NULL on error. */
NCL_RT_API const char *ncl_model_name(const ncl_model *m);
/** The run's time step in seconds (the network's unless ncl_set_dt changed
 *  it); 0 on error. */
NCL_RT_API double ncl_dt(const ncl_model *m);
/** Number of populations; -1 on error. */
NCL_RT_API int32_t ncl_num_populations(const ncl_model *m);
/** Name of population `i` (0-based), or NULL if out of range. */
NCL_RT_API const char *ncl_population_name(const ncl_model *m, int32_t i);
/** Current size of a population; -1 on error. */
NCL_RT_API int64_t ncl_population_size(const ncl_model *m, const char *pop);
/** Number of per-neuron variables of a population (what ncl_get_state
 *  reads); -1 on error. */
NCL_RT_API int32_t ncl_num_vars(const ncl_model *m, const char *pop);
/** Name of variable `i` of a population, or NULL if out of range. */
NCL_RT_API const char *ncl_var_name(const ncl_model *m, const char *pop, int32_t i);
/** Number of projections; -1 on error. */
NCL_RT_API int32_t ncl_num_projections(const ncl_model *m);
/** Name of projection `i`, or NULL if out of range. */
NCL_RT_API const char *ncl_projection_name(const ncl_model *m, int32_t i);
/** Synapses of projection `i` built by ncl_init (0 before it); -1 on error. */
NCL_RT_API int64_t ncl_projection_synapses(const ncl_model *m, int32_t i);
/** Bytes the runtime stores for projection `i`: its synapses (postsynaptic
 *  index and per-synapse variables) and its row starts; -1 on error. */
NCL_RT_API int64_t ncl_projection_bytes(const ncl_model *m, int32_t i);

/* --- Configuration (before or between runs) ------------------------------*/

/** Sets a parameter in internal (SI) units, e.g. 2.5e-9 for 2.5 nA. Takes
 *  effect from the next step; no re-initialisation is needed. NaN and
 *  infinities are refused (NCL_ERROR_ARGUMENT). */
NCL_RT_API ncl_status ncl_set_param(ncl_model *m, const char *pop, const char *name, double value);
/** Sets a parameter from text: target is "POP.PARAM", value a quantity such
 *  as "2.5nA", "-70 mV" or "3" (dimensionless parameters only). A dimensional
 *  parameter given a bare number is an error asking for a unit. */
NCL_RT_API ncl_status ncl_set_param_str(ncl_model *m, const char *target, const char *value);
/** Reads a parameter in internal (SI) units. */
NCL_RT_API ncl_status ncl_get_param(const ncl_model *m, const char *pop, const char *name,
                                    double *value);
/** Changes a population's size (n >= 1). Discards the state, the recorded
 *  spikes and the step count, as if just opened: the next ncl_run
 *  re-initialises unless ncl_init is called first. */
NCL_RT_API ncl_status ncl_set_size(ncl_model *m, const char *pop, int64_t n);
/** Since ABI 8: runs `batch` independent copies of the network (batch
 *  members, docs/runtime.md "Batches"): every per-neuron array then holds
 *  batch * size values, member b's neuron i at b * size + i (ncl_get_state,
 *  ncl_set_state), while ncl_population_size stays one member's size.
 *  Refused (NCL_ERROR_ARGUMENT, with the descriptor's batch_refusal) above 1
 *  for a network whose synapses cannot be shared by the members. Like
 *  ncl_set_size, it discards the state: the next ncl_run initialises. */
NCL_RT_API ncl_status ncl_set_batch(ncl_model *m, int64_t batch);
/** The batch members of the next run (the network's `batch` unless
 *  ncl_set_batch chose another), or -1 for a NULL model. */
NCL_RT_API int64_t ncl_batch(const ncl_model *m);
/** Sets the time step (seconds, > 0) without recompiling: every
 *  dt-dependent constant of the model is computed from it in the kernels.
 *  Refused (NCL_ERROR_ARGUMENT) above a population's max_dt or below its
 *  min_dt (model_abi.h): a population integrated by an explicit scheme, or
 *  updated by difference equations that scale with dt, accepts only its
 *  network's dt or smaller; one whose discrete update never reads dt accepts
 *  only its network's dt. Like ncl_set_size, it discards the state: the next ncl_run
 *  re-initialises unless ncl_init is called first. */
NCL_RT_API ncl_status ncl_set_dt(ncl_model *m, double dt);
/** The directory that relative names of data files (a spike generator's
 *  times and indices, a timed input's samples) resolve against, instead of
 *  the directory of the .ncl file when it was compiled (NULL or "": that
 *  one again). The files are read by ncl_init, so like ncl_set_dt this
 *  discards the state. */
NCL_RT_API ncl_status ncl_set_data_dir(ncl_model *m, const char *dir);
/** Number of threads (1..1024, default 1). Results do not depend on it. */
NCL_RT_API ncl_status ncl_set_threads(ncl_model *m, int32_t n);
/** Current number of threads; -1 on error. */
NCL_RT_API int32_t ncl_threads(const ncl_model *m);
/** Where the model runs (docs/gpu.md): "cpu" (the default), "cuda" (the
 *  first CUDA device, through the driver that the runtime opens with
 *  dlopen("libcuda.so.1")), "cuda:N" (the driver's device N) or "auto" (the
 *  first device when it can be used, else the CPU). "cuda" fails, leaving the backend as it was,
 * with one message when the driver, a device or the library's GPU code is missing (NCL_ERROR_STATE
 * for the machine, NCL_ERROR_LOAD for a library without GPU code: "... recompile it with nclc
 * --target=cuda"); "auto" then chooses the CPU and keeps that message for ncl_backend_fallback. May
 * be called at any time between runs: results are the same on either. While on "cuda" the device is
 * driven by one host thread: ncl_threads is 1 and ncl_set_threads keeps its value for the CPU. */
NCL_RT_API ncl_status ncl_set_backend(ncl_model *m, const char *backend);
/** "cpu" or "cuda"; NULL on error. */
NCL_RT_API const char *ncl_backend(const ncl_model *m);
/** The CUDA device's name ("NVIDIA H200"), "" on the CPU; NULL on error. */
NCL_RT_API const char *ncl_device_name(const ncl_model *m);
/** Why the last ncl_set_backend(m, "auto") chose the CPU, or "". */
NCL_RT_API const char *ncl_backend_fallback(const ncl_model *m);
/** Where the model went onto a CUDA device with NCL_CUDA_PROFILE=1 set
 *  (docs/gpu.md, "Where a step's time goes"): the number of entries of its
 *  device profile, each the device time of one kind of command since then
 *  (a stage by its name, or a runtime kernel or copy by what it does), as
 *  of the last wait for the device; and, where k is below that number,
 *  entry k (0: the most device time) in *what (valid until the next run,
 *  backend change or ncl_close), *commands and *seconds, each where not
 *  NULL. 0 when the model is not being profiled; -1 on error. */
NCL_RT_API int32_t ncl_device_profile(const ncl_model *m, int32_t k, const char **what,
                                      int64_t *commands, double *seconds);
/** Steps per chunk: the interval between NaN checks and spike merges.
 *  0 (the default) picks it from the network size. */
NCL_RT_API ncl_status ncl_set_chunk_steps(ncl_model *m, int64_t steps);
/** Capacity of each thread's spike buffer, in spikes (0 = automatic). A
 *  thread whose recorded range could spike more in one step than this holds
 *  steps its range in blocks of neurons that fit; a full buffer is drained,
 *  never lost. Threads without recorded neurons get no buffer. */
NCL_RT_API ncl_status ncl_set_spike_buffer(ncl_model *m, int64_t capacity);

/* --- Simulation ----------------------------------------------------------*/

/** Allocates every buffer of the model's buffer table (zeroed), runs its
 *  init stages with `seed`, sets time to 0 and clears recorded
 *  spikes and counts. ncl_run calls it with the model's default seed if it
 *  was never called. Refuses with NCL_ERROR_MEMORY, before allocating, when
 *  ncl_memory_required exceeds the memory available (MemAvailable, or the
 *  process's cgroup limit if lower); the message gives both figures. */
NCL_RT_API ncl_status ncl_init(ncl_model *m, uint64_t seed);
/** Default seed of the model (from `simulate ... seed = S`); 0 on error. */
NCL_RT_API uint64_t ncl_default_seed(const ncl_model *m);
/** Default duration in seconds (from `simulate T`); 0 on error. */
NCL_RT_API double ncl_default_duration(const ncl_model *m);
/** Advances llround(seconds/dt) steps; repeated calls continue. When a
 *  state variable becomes NaN or infinite it stops right after the step in
 *  which that happened (NCL_ERROR_NUMERIC, naming the step), keeps the
 *  spikes recorded up to it and refuses further runs until ncl_init. */
NCL_RT_API ncl_status ncl_run(ncl_model *m, double seconds);
/** Advances exactly `steps` steps (>= 0). */
NCL_RT_API ncl_status ncl_run_steps(ncl_model *m, int64_t steps);
/** Steps simulated since ncl_init (time = steps * dt); -1 on error. */
NCL_RT_API int64_t ncl_current_step(const ncl_model *m);
/** Asks a running ncl_run / ncl_run_steps (on another thread, or from a
 *  signal handler: this function is async-signal-safe) to stop at the end
 *  of its current chunk; it then returns NCL_ERROR_INTERRUPTED with the
 *  spikes up to there recorded and the model ready to continue. A request
 *  that finds no chunk left to stop (made between runs, or during a run's
 *  last chunk) stops the next run before its first step.
 *  Returns NCL_ERROR_ARGUMENT for NULL without setting a message. */
NCL_RT_API ncl_status ncl_interrupt(ncl_model *m);
/** Bytes ncl_init would allocate for the current sizes and threads: state
 *  arrays, their copy at each chunk start (to locate a NaN's step) and the
 *  per-thread spike buffers. Spike records come on top and grow with the
 *  spikes (16 bytes each), and so do the monitors' samples, which grow with
 *  the steps run (ncl_monitor_memory). -1 on error. */
NCL_RT_API int64_t ncl_memory_required(const ncl_model *m);

/* --- Results -------------------------------------------------------------*/

/** Spikes emitted by a population since ncl_init, recorded or not; -1 on
 *  error. */
NCL_RT_API int64_t ncl_spike_count(const ncl_model *m, const char *pop);
/** Copies up to `capacity` recorded spikes, sorted by time then index:
 *  times in seconds (step * dt), neuron indices. Either array may be NULL.
 *  Returns the total number recorded (call with capacity 0 to size the
 *  arrays), or -1 on error, e.g. when the population records no spikes. */
NCL_RT_API int64_t ncl_get_spikes(const ncl_model *m, const char *pop, double *times,
                                  int64_t *indices, int64_t capacity);
/** Custom events of a population (besides spikes): how many, and the k-th
 *  name. A recorded population records its events too. */
NCL_RT_API int32_t ncl_num_events(const ncl_model *m, const char *pop);
NCL_RT_API const char *ncl_event_name(const ncl_model *m, const char *pop, int32_t k);
/** Like ncl_get_spikes, for the custom event `event` of population `pop`. */
NCL_RT_API int64_t ncl_get_events(const ncl_model *m, const char *pop, const char *event,
                                  double *times, int64_t *indices, int64_t capacity);
/** Copies up to `capacity` values of a state variable, converted to double
 *  (internal units). Returns the population size, or -1 on error. */
NCL_RT_API int64_t ncl_get_state(const ncl_model *m, const char *pop, const char *var, double *out,
                                 int64_t capacity);
/** Overwrites a state variable from `count` (= size) doubles in internal
 *  units, e.g. to set a custom initial condition after ncl_init. */
NCL_RT_API ncl_status ncl_set_state(ncl_model *m, const char *pop, const char *var,
                                    const double *values, int64_t count);
/** Overwrites a state variable of an initialised model from the .npy file
 *  `path` (`ncl-run --init POP.VAR=FILE`): shape (size,), the same values
 *  for every batch member, or (batch, size), one row per member; floats or
 *  integers, internal units, every value finite. On failure
 *  (NCL_ERROR_IO for the file, NCL_ERROR_ARGUMENT for its shape or values;
 *  the message names the file) the state is unchanged. */
NCL_RT_API ncl_status ncl_load_state(ncl_model *m, const char *pop, const char *var,
                                     const char *path);
/** Copies up to `capacity` values of per-synapse variable `var` of
 *  projection `proj` (by name), converted to double (internal units), in
 *  the projection's synapse order: by presynaptic neuron, then ascending
 *  postsynaptic index (ncl_get_synapses gives each one's neurons). Returns
 *  the number of synapses (call with capacity 0 to size the array), or -1
 *  on error. Since ABI 5. */
NCL_RT_API int64_t ncl_get_synapse_state(const ncl_model *m, const char *proj, const char *var,
                                         double *out, int64_t capacity);
/** Overwrites per-synapse variable `var` of projection `proj` from `count`
 *  doubles in internal units, in the order of ncl_get_synapse_state (the
 *  mirror of it: set learned weights, or continue from saved ones). `count`
 *  must be the number of synapses built by ncl_init, and every value finite
 *  (NCL_ERROR_ARGUMENT otherwise, nothing written); a float32 model rounds
 *  each to the nearest float. Hidden variables (names starting with `_`)
 *  are written like any other. Takes effect from the next step. Since ABI 6. */
NCL_RT_API ncl_status ncl_set_synapse_state(ncl_model *m, const char *proj, const char *var,
                                            const double *values, int64_t count);
/** The presynaptic and postsynaptic neuron (indices in their populations)
 *  of each of up to `capacity` synapses of projection `proj`, in the order
 *  of ncl_get_synapse_state. Either array may be NULL. Returns the number
 *  of synapses, or -1 on error. Since ABI 5. */
NCL_RT_API int64_t ncl_get_synapses(const ncl_model *m, const char *proj, int64_t *pre,
                                    int64_t *post, int64_t capacity);
/* --- Monitors (readable between runs) ------------------------------------*/

/** Number of state and rate monitors (`record v(P)`, `record rate(P)`);
 *  -1 on error. */
NCL_RT_API int32_t ncl_num_monitors(const ncl_model *m);
/** Name of monitor `i`: the stem of its output files ("E_v", "P_rate"), by
 *  which the calls below find it; NULL if out of range. */
NCL_RT_API const char *ncl_monitor_name(const ncl_model *m, int32_t i);
/** Samples a monitor holds so far: a state monitor one for every step
 *  n < ncl_current_step with n % every == 0, a rate monitor one per step;
 *  -1 on error. */
NCL_RT_API int64_t ncl_monitor_samples(const ncl_model *m, const char *name);
/** Values per sample at the current sizes: the recorded neurons of a state
 *  monitor, 1 for a rate monitor, each times the batch members (a sample
 *  holds member 0's values, then member 1's, ...; a synapse monitor's are
 *  not per member); -1 on error. */
NCL_RT_API int64_t ncl_monitor_width(const ncl_model *m, const char *name);
/** Copies up to `capacity` samples: times[r] in seconds and values[r *
 *  width + j], converted to double (internal units; a rate monitor's in Hz,
 *  the spikes of step n over size * dt, at time (n + 1) * dt like the spikes
 *  themselves). Either array may be NULL. Returns the number of samples
 *  recorded (call with capacity 0 to size the arrays), or -1 on error. */
NCL_RT_API int64_t ncl_get_monitor(const ncl_model *m, const char *name, double *times,
                                   double *values, int64_t capacity);
/** Copies up to `capacity` neuron indices a state monitor records, in
 *  column order. Returns the width, or -1 on error (a rate monitor has
 *  none). */
NCL_RT_API int64_t ncl_monitor_indices(const ncl_model *m, const char *name, int64_t *indices,
                                       int64_t capacity);
/** Bytes all monitors hold after `steps` steps since ncl_init at the
 *  current sizes. ncl_run grows them to that before its first step and
 *  refuses (NCL_ERROR_MEMORY, with both figures) when it does not fit;
 *  -1 on error. */
NCL_RT_API int64_t ncl_monitor_memory(const ncl_model *m, int64_t steps);

/** Wall-clock time of loading, initialising and simulating. */
NCL_RT_API ncl_status ncl_get_timings(const ncl_model *m, ncl_timings *out);
/** Writes P_spike_t.npy / P_spike_i.npy for every recorded population, the
 *  files of every monitor (STEM.npy, STEM_t.npy, and STEM_i.npy for a state
 *  monitor) and run.json into `dir` (created if missing). The old run.json goes first and
 *  the new one is written last, with the run's status ("complete", "failed",
 *  "interrupted"); each file is written to a fresh temporary name (never
 *  following a symlink) and renamed, so a failure never leaves a torn file
 *  nor a directory that mixes two runs. See docs/runtime.md. */
NCL_RT_API ncl_status ncl_write_output(const ncl_model *m, const char *dir);

/** Writes the state of every synapse into `dir` (created if missing), as
 *  `ncl-run --save-weights` does: for each projection P, P_<var>.npy for
 *  every per-synapse variable (hidden ones, whose names start with `_`,
 *  included; 1-D, the model's precision, internal units, the order of
 *  ncl_get_synapse_state) and P_pre.npy, P_post.npy (int32: each synapse's
 *  neurons, as ncl_get_synapses gives them). Each file is written to a
 *  temporary name and renamed. Needs the model initialised. */
NCL_RT_API ncl_status ncl_save_weights(const ncl_model *m, const char *dir);
/** Reads what ncl_save_weights wrote into the per-synapse variables of an
 *  initialised model: every file must exist, hold one value per synapse in
 *  the model's precision (indices: integers) and list the same synapses.
 *  Every file is checked before anything is written, so on failure
 *  (NCL_ERROR_IO, the message names the file) the model is unchanged. The
 *  neurons and the time are not touched (docs/runtime.md "Saved weights"). */
NCL_RT_API ncl_status ncl_load_weights(ncl_model *m, const char *dir);

#ifdef __cplusplus
}
#endif

#endif /* NCL_RUNTIME_H */
