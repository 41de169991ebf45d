/*===- ncl/model_abi.h - Contract between nclc libraries and libnclrt -----===*
 *
 * Every shared library that `nclc` emits exports one data symbol,
 * `ncl_model` (NCL_MODEL_SYMBOL), of type ncl_model_descriptor. The runtime
 * reads `magic` and `abi_version` first and refuses anything else, so these
 * two fields keep their offsets in every future ABI version.
 *
 * Values are in NCL's internal unit system: SI base units (s, V, A, ohm, ...),
 * stored as double for parameters; state arrays use the model's precision
 * (real_bits = 32 or 64). See docs/runtime.md and docs/semantics.md.
 *===----------------------------------------------------------------------===*/
#ifndef NCL_MODEL_ABI_H
#define NCL_MODEL_ABI_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NCL_ABI_VERSION 10u
#define NCL_MODEL_MAGIC 0x4d4c434eu /* "NCLM" little-endian */
#define NCL_MODEL_SYMBOL "ncl_model"

/* Physical dimension as TWICE the exponents of the SI base units
 * (m, kg, s, A, K, mol, cd), so that half-integer exponents (1/sqrt(s) of
 * white noise) are exact: volt is {4, 2, -6, -2, 0, 0, 0}. The eighth entry
 * is padding. nclc and libnclrt convert with ncl::units::toABI/fromABI
 * (support/include/ncl/Support/DimensionABI.h). */
typedef int8_t ncl_dimension[8];

/* A shared parameter of a population, settable at load time. */
typedef struct ncl_param_info {
  const char *name;  /* as written in the .ncl file */
  const char *unit;  /* display unit as written, e.g. "ms"; "" if none */
  double unit_scale; /* value in `unit` * unit_scale = internal value */
  ncl_dimension dim;
  double default_value; /* internal (SI) units */
  /* Since ABI 2: the values the model accepts, in internal units (e.g. a
   * refractory period is >= 0). Meaningful only when `flags` has
   * NCL_PARAM_HAS_RANGE, so a zero-filled entry accepts every number. */
  uint32_t flags;
  double min_value;
  double max_value;
} ncl_param_info;

#define NCL_PARAM_HAS_RANGE 1u

/* A per-neuron state variable: one array of `size` reals. */
typedef struct ncl_var_info {
  const char *name;
  const char *unit;
  double unit_scale;
  ncl_dimension dim;
} ncl_var_info;

/* A derived parameter (`Vt = El + 15 mV`): the kernels compute it from the
 * current values of settable parameters, so it is not settable itself; the
 * runtime names its sources when asked to set it. */
typedef struct ncl_derived_info {
  const char *name;
  int32_t num_sources;
  const char *const *sources; /* the settable parameters and inputs it follows */
} ncl_derived_info;

/*===----------------------------------------------------------------------===*
 * Buffers: everything a model stores, as one table
 *
 * The descriptor lists every buffer the kernels read or write (its name,
 * role, element type and extent); the runtime allocates each from that
 * entry without knowing what the model computes, and hands the kernels an
 * array of pointers in the same order (ncl_kernel_args.buffers). Later
 * extents (per synapse, per delay slot, per batch row) are added values.
 *===----------------------------------------------------------------------===*/

/* What a buffer holds. */
typedef enum ncl_buffer_role {
  NCL_BUFFER_PARAMS = 1,        /* a population's shared parameters (f64, SI) */
  NCL_BUFFER_STATE = 2,         /* a per-neuron variable: `index` into vars */
  NCL_BUFFER_REFRACTORY = 3,    /* i32 per neuron: first step at which it is free */
  NCL_BUFFER_SPIKE_STEP = 4,    /* i64 per recorded entry: step index n+1 */
  NCL_BUFFER_SPIKE_INDEX = 5,   /* i64 per recorded entry: neuron index */
  NCL_BUFFER_SPIKE_CHANNEL = 6, /* i32 per recorded entry: 0 spike, k event k */
  /* Since ABI 4 (networks): */
  NCL_BUFFER_SYNAPTIC_INPUT = 7, /* real per neuron: effects of arriving spikes on one of the
                                    population's variables or inputs, summed until its update
                                    reads and clears them */
  NCL_BUFFER_ROW_START = 8,      /* i64, presynaptic size + 1: where each presynaptic neuron's
                                    synapses start in the projection's per-synapse buffers */
  NCL_BUFFER_POST_INDEX = 9,     /* i32 per synapse: its postsynaptic neuron */
  NCL_BUFFER_SYNAPSE_STATE = 10, /* real per synapse: `index` into the projection's vars */
  NCL_BUFFER_LAST_SPIKE = 11,    /* i32 per neuron: step index n+1 of its latest spike, 0 if
                                    none (a population whose spikes are stored) */
  /* Since ABI 5: */
  NCL_BUFFER_SYNAPSE_DELAY = 12,  /* i16 per synapse, read as unsigned: its delay in steps of the
                                     run's dt, written by the connect stage; 65535
                                     (NCL_DELAY_INVALID) marks a drawn delay that is negative, not
                                     finite or longer than NCL_MAX_DELAY_STEPS */
  NCL_BUFFER_SERIES = 13,         /* real: timed input `index` of the population, its samples
                                     times its scale, row-major (samples x columns); extent FIXED
                                     with count 0: the runtime sizes it from the file */
  NCL_BUFFER_SERIES_SHAPE = 14,   /* i64[3] for timed input `index`: steps per sample, samples,
                                     columns (1: one value for all neurons, else one per neuron),
                                     filled by the runtime for the run's dt */
  NCL_BUFFER_COLUMN_START = 15,   /* i64, postsynaptic size + 1 (NCL_EXTENT_COLUMNS): where each
                                     postsynaptic neuron's synapses start in COLUMN_SYNAPSE; built
                                     by the runtime for a projection with an ON_POST stage */
  NCL_BUFFER_COLUMN_SYNAPSE = 16, /* i32 per synapse: the synapses onto each postsynaptic neuron,
                                     by column, each column ascending (so by presynaptic index,
                                     then place in the row) */
  /* Since ABI 7 (synaptic traces kept per neuron, docs/runtime.md): */
  NCL_BUFFER_PRE_TRACE = 17,    /* real per neuron of the projection's presynaptic population
                                   (NCL_EXTENT_NEURONS, `population` -1): trace `index` of its
                                   pre_traces; one copy per calling thread, which applies every
                                   arriving spike to its own, so all copies are equal */
  NCL_BUFFER_POST_TRACE = 18,   /* real per neuron of the postsynaptic population: trace `index`
                                   of the projection's post_traces (one copy) */
  NCL_BUFFER_COLUMN_PRE = 22,   /* i32 per synapse: the presynaptic neuron of each COLUMN_SYNAPSE
                                   entry, built by the runtime with the column index */
  NCL_BUFFER_CONNECT_MASK = 19, /* i32, NCL_EXTENT_FIXED with `count` = the projection's
                                   postsynaptic range: the runtime's scratch (never model-owned,
                                   one per calling thread) into which a CONNECT_CONDITION
                                   stage writes, for its one presynaptic row, 1 where the
                                   condition holds for post_begin + k and 0 where not */
  /* Since ABI 7 (k-WTA): */
  NCL_BUFFER_KWTA_ORDER = 20, /* i32 per neuron: a population's k-WTA scratch, the neuron order
                                 its KWTA stage permutes while it selects; no meaning between
                                 steps */
  NCL_BUFFER_KWTA_DUTY = 21,  /* real per neuron: with boosting, each neuron's duty cycle (a
                                 moving average of having won), kept from step to step; starts
                                 at 0 */
  /* Since ABI 9 (ncl-fuse): */
  NCL_BUFFER_KWTA_KEY = 23, /* real per neuron: with a fused, boosted k-WTA, the key each
                               neuron's UPDATE stage computes for the KWTA stage of the same
                               step; scratch */
  /* Since ABI 8 (traces advanced once per neuron and step, docs/runtime.md): */
  NCL_BUFFER_PRE_TRACE_NOW = 27, /* like NCL_BUFFER_PRE_TRACE (one copy per calling thread): the
                                    value of trace `index` at the time of the step whose
                                    ADVANCE_PRE_TRACES stage last ran on the thread; scratch */
  NCL_BUFFER_POST_TRACE_NOW = 28 /* like NCL_BUFFER_POST_TRACE: trace `index` at the time of the
                                    step whose ADVANCE_POST_TRACES stage last ran; scratch */
} ncl_buffer_role;

/* Since ABI 5: the longest per-synapse delay in steps, and the value a
 * connect stage stores for a delay it cannot represent. */
#define NCL_MAX_DELAY_STEPS 65534
#define NCL_DELAY_INVALID 65535

/* The type of one element. */
typedef enum ncl_element_type {
  NCL_ELEMENT_F32 = 1,
  NCL_ELEMENT_F64 = 2,
  NCL_ELEMENT_I32 = 3,
  NCL_ELEMENT_I64 = 4,
  NCL_ELEMENT_I16 = 5 /* since ABI 5 */
} ncl_element_type;

/* How many elements a buffer has. */
typedef enum ncl_buffer_extent {
  NCL_EXTENT_FIXED = 1,          /* `count` elements */
  NCL_EXTENT_NEURONS = 2,        /* one per neuron of `population` (its run size) */
  NCL_EXTENT_SPIKE_CAPACITY = 3, /* per thread: ncl_kernel_args.spike_capacity
                                    entries, the calling thread's own buffer */
  /* Since ABI 4: */
  NCL_EXTENT_SYNAPSES = 4, /* one per synapse of `projection` (known once it is connected) */
  NCL_EXTENT_ROWS = 5,     /* the projection's presynaptic population size + 1 */
  /* Since ABI 5: */
  NCL_EXTENT_COLUMNS = 6 /* the projection's postsynaptic population size + 1 */
} ncl_buffer_extent;

typedef struct ncl_buffer_info {
  const char *name;   /* "P.v", "P.params", "P.refractory_until", ... */
  int32_t role;       /* ncl_buffer_role */
  int32_t element;    /* ncl_element_type */
  int32_t extent;     /* ncl_buffer_extent */
  int32_t population; /* index of the owning population; -1 for a projection's */
  int32_t index;      /* NCL_BUFFER_STATE, NCL_BUFFER_SYNAPSE_STATE: index into the
                         population's or projection's vars; else -1 */
  int64_t count;      /* NCL_EXTENT_FIXED: the number of elements; else 0 */
  int32_t projection; /* since ABI 4: index of the owning projection, or -1 */
  int32_t reserved;
} ncl_buffer_info;

/* The scalar header of every kernel call; the runtime owns all memory. */
typedef struct ncl_kernel_args {
  void *const *buffers; /* num_buffers pointers, in the descriptor's order;
                           per-thread buffers are the calling thread's, and
                           those a stage does not use may be null */
  int64_t begin, end;   /* neuron range [begin, end) of the stage's population */
  int64_t size;         /* that population's size in this run (N) */
  int64_t first_step;   /* global index n of the first step (t = n*dt) */
  int64_t num_steps;    /* steps to run at most */
  uint64_t seed;
  double dt; /* the run's time step in seconds (ncl_set_dt) */
  /* Entries the spike buffers (NCL_EXTENT_SPIKE_CAPACITY) hold. A spike
   * found in step n (from t_n to t_{n+1}) is stored as step index n+1. A
   * kernel stops at a step boundary rather than overflow them. */
  int64_t spike_capacity;
  int64_t spike_count; /* out: entries emitted (recorded or not) */
  int64_t steps_done;  /* out: steps completed */
  /* Since ABI 4, for NCL_STAGE_DELIVER: the presynaptic neurons (indices in
   * their population, ascending) whose spikes arrive now; begin and end are
   * then the range of postsynaptic neurons the call may touch. */
  const int32_t *spikes;
  int64_t num_spikes;
  /* Since ABI 5, for NCL_STAGE_DELIVER_SYNAPSES: the synapses (indices in
   * the projection's per-synapse buffers) whose spikes arrive now, in the
   * order their effects apply; all of them end in [begin, end). In this
   * stage `size` is the presynaptic population's (the rows of row_start). */
  const int64_t *synapses;
  int64_t num_synapses;
  /* Since ABI 8 (batches, docs/runtime.md "Batches"): the batch members B
   * of the run. Every per-neuron buffer holds B copies of its population,
   * member b's neuron i at b * size + i, and begin/end index that whole
   * range (B * size); `size` stays one member's N. For a projection's
   * stages, pre_size and post_size are one member's presynaptic and
   * postsynaptic population sizes (0 for a population's stages). */
  int64_t batch;
  int64_t pre_size;
  int64_t post_size;
} ncl_kernel_args;

typedef void (*ncl_kernel_fn)(ncl_kernel_args *);

/* One piece of work: the runtime runs the init stages once, in order, and
 * the step stages in order for each interval of steps, over each thread's
 * range of `population`'s neurons; it does not know what they compute. */
typedef enum ncl_stage_kind {
  NCL_STAGE_INIT = 1, /* sets the initial state of [begin, end) */
  NCL_STAGE_STEP = 2, /* advances [begin, end) by up to num_steps steps */
  /* Since ABI 4 (projections): */
  NCL_STAGE_CONNECT = 3, /* initialises the synapses of presynaptic rows [begin, end),
                            once the runtime has built the connectivity */
  NCL_STAGE_DELIVER = 4, /* applies the spikes in `spikes` to postsynaptic [begin, end)
                            in step first_step (one step) */
  /* Since ABI 5: */
  NCL_STAGE_SUM = 5,     /* adds the projection's summed variables of step first_step (every
                            synapse, start-of-step values) to postsynaptic [begin, end); `size`
                            is the presynaptic population's (the rows it walks); it reads
                            presynaptic neurons of every thread, so the threads meet after it */
  NCL_STAGE_ON_POST = 6, /* runs the projection's on_post for the postsynaptic neurons in
                            `spikes` (ascending, all in [begin, end)) that spiked at t_n,
                            n = first_step: every synapse of each one's column, in column order;
                            `size` is the presynaptic population's */
  NCL_STAGE_DELIVER_SYNAPSES = 8,  /* applies the synapses in `synapses`, in list order, in step
                                      first_step: a projection with per-synapse delays */
  NCL_STAGE_CONNECT_CONDITION = 9, /* evaluates a NCL_CONNECT_CONDITION projection's condition
                                      for presynaptic row `begin` (end = begin + 1) and every
                                      postsynaptic neuron of its range into the
                                      NCL_BUFFER_CONNECT_MASK buffer; the runtime calls it
                                      while it builds the connectivity, after the init stages */
  NCL_STAGE_SYNAPSE_STEP = 10,     /* advances every synapse of the projection onto postsynaptic
                                      [begin, end) from t_n to t_{n+1}, n = first_step (its
                                      dynamics; start-of-step values of the neurons); `size` is
                                      the presynaptic population's (the rows it walks) */
  /* Since ABI 7: */
  NCL_STAGE_KWTA = 11, /* k-winners-take-all over the whole population (begin = 0, end = size)
                         after its update of step first_step: called on one thread while the
                         others wait, after every STEP stage of the step */
  /* Since ABI 8: */
  NCL_STAGE_ADVANCE_PRE_TRACES = 13,  /* the projection's presynaptic traces of neurons
                                         [begin, end) (the whole presynaptic population) at the
                                         time of step first_step, into the calling thread's
                                         PRE_TRACE_NOW copies: before its first ON_POST call of
                                         a step that has postsynaptic spikes to apply */
  NCL_STAGE_ADVANCE_POST_TRACES = 14, /* the postsynaptic traces of neurons [begin, end) (the
                                         thread's postsynaptic range) at the time of step
                                         first_step into POST_TRACE_NOW: before its first
                                         DELIVER or DELIVER_SYNAPSES call of a step that has
                                         something to deliver (the CUDA backend may also
                                         call both in steps that have none: the values are
                                         scratch) */
  /* Since ABI 9, the k-WTA of a spiking population (docs/runtime.md, "k-WTA
     stages"): */
  NCL_STAGE_KWTA_KEYS = 15, /* each thread, over its neurons [begin, end), in step first_step
                               after the deliveries and sums and before any STEP stage: the
                               keys of the population's k-WTA into its KWTA_KEY buffer and the
                               neuron indices into KWTA_ORDER; changes no state */
  NCL_STAGE_KWTA_GATE = 16  /* thread 0, over the whole population (begin = 0, end = size),
                               after every thread's KWTA_KEYS stages and before any STEP stage
                               of step first_step: the selection over the keys, leaving 1 in
                               KWTA_KEY for a neuron that may spike in this step and 0 for
                               the others; carries kwta_keep / kwta_fraction like KWTA */
} ncl_stage_kind;

typedef struct ncl_stage_info {
  const char *name;   /* "P.init", "P.update", "Ce.connect", "Ce.deliver" */
  int32_t kind;       /* ncl_stage_kind */
  int32_t population; /* whose neurons partition the work (a projection's: -1) */
  ncl_kernel_fn fn;
  int32_t projection; /* since ABI 4: the projection of a CONNECT or DELIVER stage, else -1 */
  int32_t gpu_launch; /* ncl_gpu_launch: how the threads of `gpu_kernel` share the work
                         (docs/gpu.md); 0, which libraries of ABI 10 before it wrote, is the
                         stage kind's default */
  /* Since ABI 7, for NCL_STAGE_KWTA (since ABI 9, NCL_STAGE_KWTA_GATE too):
   * the winners per step, `kwta_keep` (a
   * count), or where it is 0 floor(kwta_fraction * size + 0.5) of the run's
   * size; the runtime refuses a size for which that is 0 or more than the
   * size. 0 for other stages. */
  int64_t kwta_keep;
  double kwta_fraction;
  /* Since ABI 10: the name of the stage's kernel in the library's GPU images
   * (every image has the same entries), or null where the stage has none
   * (a library compiled for the CPU only; docs/gpu.md). */
  const char *gpu_kernel;
} ncl_stage_info;

/* Since ABI 10: how a stage's GPU kernel divides its work between threads
 * (docs/gpu.md, "The kernel contract"), as nclc mapped it. */
typedef enum ncl_gpu_launch {
  NCL_GPU_LAUNCH_BY_KIND = 0,          /* the kind's default: the k-WTA selections, on_post and
                                          deliver_synapses WHOLE_RANGE, a deliver with presynaptic
                                          traces WHOLE_RANGE, the rest PER_INDEX */
  NCL_GPU_LAUNCH_PER_INDEX = 1,        /* a thread per index of [begin, end) */
  NCL_GPU_LAUNCH_WHOLE_RANGE = 2,      /* thread 0 over [begin, end), the others nothing */
  NCL_GPU_LAUNCH_PER_SPIKE = 3,        /* a thread per entry of `spikes` [0, num_spikes) */
  NCL_GPU_LAUNCH_PER_TARGET = 4,       /* a thread per postsynaptic neuron of [begin, end), which
                                          applies the entries of `synapses` ending at it; the
                                          runtime sorts the list by postsynaptic neuron, stably */
  NCL_GPU_LAUNCH_PER_INDEX_COMMIT = 5, /* a DELIVER with presynaptic traces: `gpu_kernel` a
                                          thread per index of [begin, end), which stores no
                                          presynaptic trace, then, after it, the entry
                                          `<gpu_kernel>_commit` a thread per entry of `spikes`,
                                          which stores them; no presynaptic neuron is twice in
                                          one list */
  /* Added within ABI 10 (a runtime that does not know it refuses the
   * stage, naming it): as PER_TARGET, but `synapses` begins with the starts of
   * the list's buckets of NCL_GPU_TARGET_BUCKET postsynaptic neurons, so a
   * thread searches its bucket's entries only. With n = end - begin and
   * B = ceil(n / NCL_GPU_TARGET_BUCKET) buckets (bucket k: the neurons
   * begin + k * NCL_GPU_TARGET_BUCKET onwards), synapses[0 .. B] are places
   * in `synapses`: synapses[k] the first entry whose neuron is in bucket k or
   * later, synapses[B] one past the last; the entries are
   * synapses[B + 1 .. synapses[B]), sorted as for PER_TARGET, and
   * num_synapses is their count or more (a list made on the device gives
   * its room: its length is only on the device). */
  NCL_GPU_LAUNCH_PER_TARGET_BUCKETS = 6
} ncl_gpu_launch;

/* The postsynaptic neurons of a bucket of NCL_GPU_LAUNCH_PER_TARGET_BUCKETS:
 * a warp's threads. */
#define NCL_GPU_TARGET_BUCKET 32

/* A flag of ncl_stage_info.gpu_launch, beside the shape (the low byte):
 * the stage's `gpu_kernel` is an entry several stages share, which differ
 * only in the buffers they read and in constants (populations of one neuron
 * model, projections of one synapse model). Such an entry takes a second
 * parameter after the header's device pointer: the stage's row, an int32,
 * its place among the stages of the descriptor that name the same entry
 * with this flag, counted from 0 in the descriptor's order; the entry reads
 * the row's buffer indices and constants from a table in the image
 * (docs/gpu.md, "Shared entries"). */
#define NCL_GPU_LAUNCH_SHAPE_MASK 0xff
#define NCL_GPU_LAUNCH_SHARED_ENTRY 0x100
/* Added within ABI 10 (a runtime that does not know it refuses the stage):
 * the stage's shared entry has a `_seq` entry that reads
 * ncl_seq_launch_args.first_blocks (below). */
#define NCL_GPU_LAUNCH_SEQ_BLOCKS 0x200
/* Added within ABI 10 (a runtime that does not know it refuses the stage):
 * a SUM stage launched a thread per index (shape 1) whose projection is
 * dense also has the entry `<gpu_kernel>_tiles` (NCL_GPU_TILES_SUFFIX), for
 * the whole tiles of NCL_GPU_MEMBER_TILE batch members of a [begin, end)
 * that begins a member: with N the postsynaptic population's size
 * (`post_size`), M = begin / N and T = NCL_GPU_MEMBER_TILE, thread g (of
 * floor((end - begin) / (N * T)) * N) does what the per-index threads of
 * indices (M + t * T + k) * N + j do, for j = g mod N, t = g / N and
 * k = 0 .. T - 1: one postsynaptic neuron in a tile of members, which share
 * each weight it reads (docs/gpu.md, "Dense sums"). The members past the
 * last whole tile are not its: the runtime launches `gpu_kernel` a thread
 * per index on them. Not a shared entry's: the stage's `gpu_kernel` has no
 * SHARED_ENTRY flag. */
#define NCL_GPU_LAUNCH_MEMBER_TILES 0x400
#define NCL_GPU_MEMBER_TILE 4
#define NCL_GPU_TILES_SUFFIX "_tiles"
/* Added within ABI 10 (a runtime that does not know them refuses the
 * stage): the same contract for tiles of T = 8 and T = 16 members, the
 * entries `<gpu_kernel>_tiles8` and `<gpu_kernel>_tiles16`. A stage has
 * every size or none. Each input takes the rows' additions in the same
 * order in every form, so the runtime may launch any one of them, or none
 * (the per-index entry alone), and change its choice from one launch to
 * the next, and the sums are the same, bit for bit (docs/gpu.md, "Member
 * tiles"). */
#define NCL_GPU_LAUNCH_MEMBER_TILES_8 0x800
#define NCL_GPU_LAUNCH_MEMBER_TILES_16 0x1000
/* The member-tiled forms: `static const ncl_gpu_member_tile_form
 * forms[NCL_GPU_MEMBER_TILE_SIZES] = NCL_GPU_MEMBER_TILE_FORMS;`. */
typedef struct ncl_gpu_member_tile_form {
  int64_t members;    /* of a tile */
  int32_t gpu_launch; /* its flag */
  const char *suffix; /* of its entry's name */
} ncl_gpu_member_tile_form;
#define NCL_GPU_MEMBER_TILE_SIZES 3
#define NCL_GPU_MEMBER_TILE_FORMS                                                                  \
  {{NCL_GPU_MEMBER_TILE, NCL_GPU_LAUNCH_MEMBER_TILES, NCL_GPU_TILES_SUFFIX},                       \
   {8, NCL_GPU_LAUNCH_MEMBER_TILES_8, NCL_GPU_TILES_SUFFIX "8"},                                   \
   {16, NCL_GPU_LAUNCH_MEMBER_TILES_16, NCL_GPU_TILES_SUFFIX "16"}}
#define NCL_GPU_LAUNCH_MEMBER_TILES_ANY                                                            \
  (NCL_GPU_LAUNCH_MEMBER_TILES | NCL_GPU_LAUNCH_MEMBER_TILES_8 | NCL_GPU_LAUNCH_MEMBER_TILES_16)

/* A shared entry of DELIVER or DELIVER_SYNAPSES stages launched a thread per
 * index or per target (shapes 1, 4 and 6), or of STEP stages a thread per
 * index (shape 1), may have a second entry,
 * `<gpu_kernel>_seq`, which runs several of its stages' launches in one:
 * its one parameter is a device pointer to an ncl_seq_launch_args, and
 * thread g does, for k = 0 .. count-1 in order, what thread g of the shared
 * entry launched on headers[k] with row rows[k] does (nothing where g is
 * past that header's range; with first_blocks, below, the same from the
 * launch's first block). The grid covers every launch's range. Launches
 * onto one population (a delivery's postsynaptic one, an update's own) have
 * the same `begin`, so a thread owns the same neuron (begin + g) in each of
 * them: every neuron receives the launches in the order of the list, as
 * from separate launches, and no two threads touch one neuron; updates of
 * different populations touch different neurons (docs/gpu.md, "Deliveries
 * in one launch").
 * Optional: the runtime launches each stage on its own where an image
 * lacks it. */
#define NCL_GPU_SEQ_SUFFIX "_seq"
/* The `_seq` entry of STEP stages may have a third, `<gpu_kernel>_seq_lean`:
 * the same parameter and work, compiled in at most NCL_GPU_LEAN_REGISTERS
 * registers a thread (what does not fit spills to local memory), so that
 * more blocks of 256 threads fit on a multiprocessor (on sm_80 and sm_90,
 * 3 instead of 2 for an entry that needs more than 80). Its results are the
 * same; the runtime times both and takes the faster (docs/gpu.md, "Lean
 * updates"). Optional, added within ABI 10. */
#define NCL_GPU_LEAN_SUFFIX "_lean"
#define NCL_GPU_LEAN_REGISTERS 80
typedef struct ncl_seq_launch_args {
  int64_t count;                         /* launches */
  const ncl_kernel_args *const *headers; /* count headers, in device memory */
  const int32_t *rows;                   /* count rows of the shared entry */
  /* Added within ABI 10, read where the stages have NCL_GPU_LAUNCH_SEQ_BLOCKS
   * (an older `_seq` reads only the fields above): the first block of each
   * launch, or null for 0. Thread t of block b then does what thread t of
   * block b - first_blocks[k] of the shared entry launched on headers[k]
   * does, where that block is not negative: launches onto different
   * populations may take different blocks, launches onto one population
   * take the same. */
  const int32_t *first_blocks;
} ncl_seq_launch_args;

/* How a projection's synapses are drawn (docs/semantics.md, "Connectivity"). */
typedef enum ncl_connect_rule {
  NCL_CONNECT_ALL_TO_ALL = 1,
  NCL_CONNECT_ONE_TO_ONE = 2,
  NCL_CONNECT_FIXED_PROBABILITY = 3,
  NCL_CONNECT_FIXED_INDEGREE = 4,
  NCL_CONNECT_FIXED_OUTDEGREE = 5,
  NCL_CONNECT_FIXED_TOTAL = 6,
  /* Since ABI 5: */
  NCL_CONNECT_EXPLICIT = 7, /* lists read from .npy files at load time (pre_file, post_file) */
  NCL_CONNECT_CONDITION = 8 /* every pair of the ranges for which the projection's
                               CONNECT_CONDITION stage says 1, each kept with probability p */
} ncl_connect_rule;

/* Since ABI 8: presynaptic neurons [begin, end) of a projection's source
 * population whose outgoing weights keep one sign (Dale's law); end = -1
 * means to the end of the population (a whole population declared
 * `excitatory` or `inhibitory`, whatever its size in the run). */
typedef struct ncl_signed_range {
  int64_t begin, end;
  int32_t sign; /* +1 excitatory (weights >= 0), -1 inhibitory (weights <= 0) */
  int32_t reserved;
} ncl_signed_range;

/* A projection: synapses from a range of one population onto a range of
 * another, built by the runtime at initialisation from the seed. */
typedef struct ncl_projection_info {
  const char *name;                                 /* the projection's name in the network */
  const char *synapse;                              /* synapse model name */
  int32_t pre, post;                                /* population indices */
  int64_t pre_begin, pre_end, post_begin, post_end; /* default ranges [begin, end) */
  int32_t rule;                                     /* ncl_connect_rule */
  int32_t autapses, multapses;                      /* 0 or 1 */
  int32_t reserved;
  double p;     /* NCL_CONNECT_FIXED_PROBABILITY */
  int64_t n;    /* in-degree, out-degree or total */
  double delay; /* seconds, shared by every synapse; rounded to steps of the run's dt. 0
                   where the projection has an NCL_BUFFER_SYNAPSE_DELAY buffer instead */
  int32_t num_params;
  int32_t num_vars;
  const ncl_param_info
      *params;              /* shared synapse parameters (a fixed buffer, like a population's) */
  const ncl_var_info *vars; /* per-synapse variables */
  /* Since ABI 5: 1 when its deliver or sum kernel reads state variables of
   * presynaptic neurons, which other threads update: the runtime then has
   * the threads meet in every step between those kernels and the updates. */
  int32_t reads_presynaptic_state;
  int32_t reserved5;
  /* Since ABI 5 (connectivity): NCL_CONNECT_EXPLICIT's files, absolute paths
   * the runtime reads at initialisation (never embedded in the library):
   * 1-D integer arrays of presynaptic and postsynaptic indices (in the
   * populations, within the ranges), of equal length. */
  const char *pre_file;
  const char *post_file;
  /* Since ABI 5: num_vars entries, or null: per variable a 1-D float file
   * with one value per synapse (in the variable's `unit`) replacing its
   * initial value, or null for none. Only with NCL_CONNECT_EXPLICIT. */
  const char *const *var_files;
  /* Since ABI 5: a 1-D float file of per-synapse delays in milliseconds, or
   * null. Only with NCL_CONNECT_EXPLICIT. */
  const char *delay_file;
  /* Since ABI 6 (plasticity): the dendritic delay in seconds, shared by every
   * synapse and rounded to steps of the run's dt: a postsynaptic spike at
   * t_s runs the ON_POST stage in step s + round(post_delay / dt) (0: in
   * step s). */
  double post_delay;
  /* Since ABI 6: the largest dt the synapse dynamics accept: the network's
   * dt where they are integrated every step by an explicit scheme (chosen
   * stable at that dt), +infinity otherwise. ncl_set_dt refuses more. */
  double max_dt;
  /* Since ABI 7: variables of the synapse model that every synapse of a
   * presynaptic (postsynaptic) neuron shares, kept once per neuron
   * (NCL_BUFFER_PRE_TRACE, NCL_BUFFER_POST_TRACE), each list ending with the
   * hidden `_lastupdate` (the time of the neuron's last event, seconds);
   * their values are as of that time (docs/semantics.md). */
  int32_t num_pre_traces, num_post_traces;
  const ncl_var_info *pre_traces, *post_traces;
  /* Since ABI 8 (dense matrices, masks): a 2-D file of shape (pre_end -
   * pre_begin, post_end - post_begin) whose entry [i - pre_begin, j -
   * post_begin] is 0 (no synapse i -> j) or 1 (a candidate pair), or null.
   * Only with NCL_CONNECT_ALL_TO_ALL, NCL_CONNECT_FIXED_PROBABILITY and
   * NCL_CONNECT_CONDITION (then both the mask and the condition must accept
   * a pair). With every rule but NCL_CONNECT_EXPLICIT, a var_files entry is
   * such a 2-D float matrix too: synapse i -> j takes entry [i - pre_begin,
   * j - post_begin]. */
  const char *mask_file;
  /* Since ABI 8 (Dale's law): the per-synapse variable (index into vars)
   * whose sign the presynaptic neuron fixes, or -1; and the presynaptic
   * neurons that fix it, as ranges of the source population with their sign
   * (docs/semantics.md, "Dale's law"). The runtime refuses values from files
   * (var_files, saved weights) of the wrong sign. */
  int32_t weight_var;
  int32_t num_signed_ranges;
  const ncl_signed_range *signed_ranges;
} ncl_projection_info;

/* Since ABI 5: what a population is (ncl_population_info.source_kind). */
typedef enum ncl_source_kind {
  NCL_SOURCE_NEURONS = 0,        /* neurons whose update stages compute their spikes */
  NCL_SOURCE_SPIKE_GENERATOR = 1 /* spikes read from two .npy files (times, indices) by the
                                    runtime; the population has no stages */
} ncl_source_kind;

/* Since ABI 5: an input of a population that follows a series read from a
 * .npy file when the model is initialised (`timed_array`,
 * docs/semantics.md "Sources"). Its buffers are the population's
 * NCL_BUFFER_SERIES and NCL_BUFFER_SERIES_SHAPE entries with the same
 * `index` as this entry's position in timed_inputs. */
typedef struct ncl_timed_input_info {
  const char *input; /* the input's name */
  const char *file;  /* as written; relative paths resolve against data_dir */
  double interval;   /* seconds between samples */
  double scale;      /* internal value = file value * scale */
} ncl_timed_input_info;

typedef struct ncl_population_info {
  const char *name;   /* population name in the network */
  const char *neuron; /* neuron model name */
  int64_t default_size;
  int32_t num_vars;
  int32_t num_params;
  const ncl_var_info *vars;
  const ncl_param_info *params;
  int32_t record_spikes;          /* 1 when the network records its spikes (and events) */
  int32_t num_events;             /* custom events besides spikes */
  const char *const *event_names; /* num_events names */
  /* The largest dt (seconds) the runtime may run this population with:
   * the network's dt where an explicit scheme (Euler, Runge-Kutta, Heun,
   * Euler-Maruyama) integrates it, whose stability was judged at that dt;
   * +inf where any dt is safe (exact and exponential-Euler updates). */
  double max_dt;
  /* The smallest dt (seconds) the runtime may run this population with: 0
   * where any smaller step is right; the network's dt (then equal to max_dt)
   * where a discrete-time `update` block does not scale with dt, so that
   * its difference equations hold only at the step they were written for. */
  double min_dt;
  /* The population's derived parameters (not in `params`). */
  int32_t num_derived;
  const ncl_derived_info *derived;
  /* Since ABI 4: 1 when projections read its spikes, so its update stores
   * them (in the spike buffers) even when they are not recorded. */
  int32_t emits_spikes;
  int32_t reserved;
  /* Since ABI 5 (sources helper): spike generators and timed inputs. */
  int32_t source_kind; /* ncl_source_kind */
  int32_t num_timed_inputs;
  const char *data_dir;           /* the directory of the .ncl file when it was compiled
                                     (absolute): relative file names resolve against it
                                     unless ncl_set_data_dir chose another */
  const char *spike_times_file;   /* NCL_SOURCE_SPIKE_GENERATOR: float seconds, as written */
  const char *spike_indices_file; /* NCL_SOURCE_SPIKE_GENERATOR: integer neuron indices */
  const ncl_timed_input_info *timed_inputs; /* num_timed_inputs entries */
} ncl_population_info;

/* Since ABI 5: what a monitor records (docs/runtime.md, "Monitors"). */
typedef enum ncl_monitor_kind {
  NCL_MONITOR_STATE = 1,  /* a variable of neurons [begin, end), every `every` steps */
  NCL_MONITOR_RATE = 2,   /* the population's spikes per step (the whole population) */
  NCL_MONITOR_SYNAPSE = 3 /* a per-synapse variable of synapses [begin, end) of `projection`,
                             every `every` steps, sampled like a state monitor */
} ncl_monitor_kind;

/* A monitor, sampled by the runtime from the buffers it owns: no kernel
 * reads or writes it. A state monitor takes a sample at the start of every
 * step n with n % every == 0, before anything of that step runs; a rate
 * monitor counts the spikes stored with each step index. */
typedef struct ncl_monitor_info {
  const char *name;   /* the stem of its output files: "E_v", "P_rate" */
  int32_t kind;       /* ncl_monitor_kind */
  int32_t population; /* index of the monitored population */
  int32_t var;        /* NCL_MONITOR_STATE: index into the population's vars; else -1 */
  int32_t reserved;
  int64_t begin, end; /* neurons [begin, end); [0, default_size) follows the run's size */
  int64_t every;      /* steps between samples, >= 1 (1 for a rate monitor) */
  /* Since ABI 6 (synapse monitors): for NCL_MONITOR_SYNAPSE the projection
   * (`population` is then -1, `var` indexes the projection's vars, and
   * [begin, end) are synapse indices in its synapse order, end = -1 for
   * every synapse the run builds); -1 for the other kinds. */
  int32_t projection;
  int32_t reserved_projection;
} ncl_monitor_info;

/* Since ABI 10: a GPU module in the library (nclc --target=cuda|all;
 * docs/gpu.md). The runtime's CUDA backend loads the image for its device's
 * architecture: the cubin of that architecture where there is one, else the
 * PTX of the newest architecture not above it, which the driver compiles. */
typedef enum ncl_gpu_format {
  NCL_GPU_PTX = 1,  /* PTX text, NUL-terminated (size excludes the NUL) */
  NCL_GPU_CUBIN = 2 /* a cubin (ELF) for exactly `arch` */
} ncl_gpu_format;

typedef struct ncl_gpu_image {
  const char *arch; /* "sm_80", "sm_90" */
  int32_t format;   /* ncl_gpu_format */
  int32_t reserved;
  const void *data;
  int64_t size; /* bytes of data */
} ncl_gpu_image;

/* Since ABI 10 (optional: a library whose images lack it exchanges a
 * network's spikes through the host; docs/gpu.md, "Spikes on the device"):
 * every image may have the entry NCL_GPU_SPIKE_LIST_ENTRY, whose one
 * parameter is a device pointer to an ncl_spike_list_args. It turns the
 * entries one STEP launch of one step wrote (in no order) into that step's
 * spike list: the indices of the channel-0 entries, ascending, into `list`
 * and their number into *list_count. Thread g (g = blockIdx.x * blockDim.x +
 * threadIdx.x) places entry g, for g < *count; thread 0 also writes the
 * number, so a launch has at least one thread. The indices of one launch
 * are distinct (a neuron spikes once per step); a launch that broke its
 * contract (more entries than its arrays hold, a neuron twice) makes a list
 * the runtime then refuses, but reads and writes nothing beyond `capacity`
 * entries and `room` places. */
#define NCL_GPU_SPIKE_LIST_ENTRY "ncl_spike_list_gpu"
typedef struct ncl_spike_list_args {
  const int64_t *index;   /* the launch's NCL_BUFFER_SPIKE_INDEX entries */
  const int32_t *channel; /* its NCL_BUFFER_SPIKE_CHANNEL entries, or null: all channel 0 */
  const int64_t *count;   /* its entries: the spike_count of its header */
  int32_t *list;          /* out */
  int64_t *list_count;    /* out */
  int64_t capacity;       /* entries the launch's arrays hold: at most these are read */
  int64_t room;           /* places in `list`: at most these are written */
} ncl_spike_list_args;

/* Since ABI 10, optional like NCL_GPU_SPIKE_LIST_ENTRY (a library whose
 * images lack it launches that entry once per list): every image may have
 * the entry NCL_GPU_SPIKE_LISTS_ENTRY, which makes several spike lists in
 * one launch. Its one parameter is a device pointer to an
 * ncl_spike_lists_args, read when the kernel runs. The grid's blocks are
 * shared evenly between the lists, P = gridDim.x / count each (the grid
 * has at least `count` blocks; blocks past count * P do nothing), and
 * thread t of list j's blocks (t = (blockIdx.x mod P) * blockDim.x +
 * threadIdx.x) does what thread t of NCL_GPU_SPIKE_LIST_ENTRY launched on
 * lists[j] does: P * blockDim.x covers every list's entries. */
#define NCL_GPU_SPIKE_LISTS_ENTRY "ncl_spike_lists_gpu"
typedef struct ncl_spike_lists_args {
  int64_t count;                    /* lists */
  const ncl_spike_list_args *lists; /* count of them, in device memory */
} ncl_spike_lists_args;

/* Since ABI 10, optional like NCL_GPU_SPIKE_LIST_ENTRY (a library whose
 * images lack it makes the runtime copy each count on its own,
 * cuMemcpyDtoDAsync; docs/gpu.md, "Spikes on the device"): every image may
 * have the entry NCL_GPU_COPY_COUNTS_ENTRY, whose one parameter is a device
 * pointer to an ncl_copy_counts_args, which the kernel reads when it runs
 * (so a replayed launch uses the arguments' values at that time). Thread g
 * (g = blockIdx.x * blockDim.x + threadIdx.x) with g < count sets
 * *copies[g].to = *copies[g].from; the other threads (a grid may be wider
 * than `count`), and all of a launch with count <= 0, read only `count` and
 * write nothing. The grid covers `count`: at least count threads. The
 * destinations are distinct and none is a source, so the result does not
 * depend on the threads' order; sources may repeat (one spike list's length
 * into several headers). */
#define NCL_GPU_COPY_COUNTS_ENTRY "ncl_copy_counts_gpu"
typedef struct ncl_count_copy {
  const int64_t *from;
  int64_t *to;
} ncl_count_copy;
typedef struct ncl_copy_counts_args {
  int64_t count;                /* copies: threads 0 .. count-1 make one each */
  const ncl_count_copy *copies; /* count of them, in device memory */
} ncl_copy_counts_args;

/* Added within ABI 10, optional (a library whose images lack it makes the
 * runtime copy with cuMemcpy2DAsync, an element per row): every image of
 * this NCL's nclc has the entry NCL_GPU_GATHER_RECORDS_ENTRY, whose one
 * parameter is a device pointer to an ncl_gather_records_args, read when
 * the kernel runs. Thread g < count (g = blockIdx.x * blockDim.x +
 * threadIdx.x) copies the `element` bytes (2, 4 or 8) at from + g * stride *
 * element to to + g * element: one variable of interleaved synapse records,
 * a synapse monitor's sample (docs/gpu.md, "Monitors"). The grid covers
 * `count`; the destination does not overlap the source. */
#define NCL_GPU_GATHER_RECORDS_ENTRY "ncl_gather_records_gpu"
typedef struct ncl_gather_records_args {
  int64_t count;    /* elements: threads 0 .. count-1 copy one each */
  int64_t stride;   /* elements from one record's value to the next's */
  int64_t element;  /* bytes of an element: 2, 4 or 8 */
  const void *from; /* the first record's value, in device memory */
  void *to;         /* count contiguous elements, in device memory */
} ncl_gather_records_args;

/* Added within ABI 10, optional (a library whose images lack it makes the
 * runtime copy the state back after every chunk and scan it there): every
 * image of this NCL's nclc has the entry NCL_GPU_FIND_NONFINITE_ENTRY, whose
 * one parameter is a device pointer to an ncl_find_nonfinite_args, read
 * when the kernel runs. Thread g (g = blockIdx.x * blockDim.x + threadIdx.x,
 * G the grid's threads) looks at values g, g + G, ... of each region (4-byte
 * floats or 8-byte doubles) and, where one is NaN or infinite, stores 1 to
 * *found; it stores nothing else (the host sets *found to 0 before). The
 * CUDA backend's test of a chunk's state for the NaN check (docs/gpu.md,
 * "After each chunk"). */
#define NCL_GPU_FIND_NONFINITE_ENTRY "ncl_find_nonfinite_gpu"
typedef struct ncl_nonfinite_region {
  const void *values; /* in device memory */
  int64_t count;      /* values */
  int64_t element;    /* bytes of a value: 4 (float) or 8 (double) */
} ncl_nonfinite_region;
typedef struct ncl_find_nonfinite_args {
  int64_t count;                       /* regions */
  const ncl_nonfinite_region *regions; /* count of them, in device memory */
  int64_t *found;                      /* in device memory */
} ncl_find_nonfinite_args;

/* Since ABI 10, optional like NCL_GPU_SPIKE_LIST_ENTRY (a library whose
 * images lack it makes the runtime read each launch's region back on its
 * own; docs/gpu.md, "Spikes on the device"): every image may have the entry
 * NCL_GPU_GATHER_SPIKES_ENTRY, whose one parameter is a device pointer to an
 * ncl_gather_spikes_args, which the kernel reads when it runs. It packs the
 * entries that several STEP launches wrote into their own regions of the
 * deferred spike arrays into one run, in the order of `from`, so the host
 * reads them back with a few copies. Region j holds
 * n_j = min(max(*from[j].count, 0), from[j].capacity) entries: a count below
 * zero or beyond the region (a broken launch, which the host refuses) reads
 * nothing or only the region. It runs as two launches on the same arguments,
 * in this order (no barrier, no atomic; the result does not depend on the
 * threads' order):
 *   phase 0, a grid of at least launches + 1 threads: thread g < launches
 *   (g = blockIdx.x * blockDim.x + threadIdx.x) sets
 *   starts[g] = n_0 + ... + n_{g-1}, thread g == launches sets
 *   starts[launches] to the total; the other threads write nothing;
 *   phase 1, a grid of at least `launches` blocks of any size: thread t of
 *   block j (j < launches) copies the entries e = t, t + blockDim.x, ... < n_j
 *   from place from[j].offset + e of step, index and channel to place
 *   starts[j] + e of to_step, to_index and to_channel, skipping places
 *   >= room; blocks j >= launches write nothing.
 * Another phase writes nothing. Phase 0 costs O(launches) per thread (meant
 * for launches <= 4096). The to_ arrays overlap none of the regions. */
#define NCL_GPU_GATHER_SPIKES_ENTRY "ncl_gather_spikes_gpu"
typedef struct ncl_spike_region { /* what one STEP launch wrote */
  const int64_t *count; /* its header's spike_count: entries written, may exceed capacity or be
                           negative (a broken launch) */
  int64_t offset;       /* its first entry in the arrays */
  int64_t capacity;     /* entries its region holds */
} ncl_spike_region;
typedef struct ncl_gather_spikes_args {
  int64_t phase;    /* 0: the starts; 1: the entries (two launches on the same arguments, in this
                       order) */
  int64_t launches; /* regions */
  const ncl_spike_region *from;
  const int64_t *step, *index; /* the NCL_BUFFER_SPIKE_STEP / _INDEX arrays the launches wrote */
  const int32_t *channel;      /* NCL_BUFFER_SPIKE_CHANNEL, or null: none written (then to_channel
                                  is ignored) */
  int64_t *starts;             /* out, launches + 1 entries */
  int64_t *to_step, *to_index;
  int32_t *to_channel;
  int64_t room; /* entries each to_ array holds */
} ncl_gather_spikes_args;

/* Since ABI 10, optional (a library whose images lack it keeps the arrival
 * queues of per-synapse delays on the host and exchanges its spikes through
 * it; docs/gpu.md, "Arrival queues on the device"): an image of a network
 * with per-synapse delays may have the entry NCL_GPU_ARRIVALS_ENTRY, whose
 * one parameter is a device pointer to an ncl_arrivals_args, read when the
 * kernel runs. It keeps, for every queue of `queues` (a projection with
 * per-synapse delays), the synapses each of the next steps receives, and
 * makes a step's list in the order a DELIVER_SYNAPSES stage launched a
 * thread per target (NCL_GPU_LAUNCH_PER_TARGET, or _BUCKETS) reads: by postsynaptic
 * neuron, each neuron's synapses by the step their spike was sent (a longer
 * delay first), then by synapse, which is the CPU's order. Each phase is
 * one launch over all the queues: the grid's blocks are shared evenly
 * between them, P = gridDim.x / count blocks each (the grid has at least
 * `count` blocks; blocks past count * P do nothing), and thread t of queue
 * q's blocks (t = (blockIdx.x mod P) * blockDim.x + threadIdx.x) does its
 * work items t, t + P * blockDim.x, ..., so any P is right and no thread
 * waits for another (no barrier; atomic adds where places vary, which the
 * later phases put in order). The postsynaptic neurons are taken in
 * buckets of NCL_GPU_ARRIVALS_BUCKET, the buckets in groups of
 * NCL_GPU_ARRIVALS_GROUP. Slot `slot` is (step mod slots) for the arrival
 * step `step` of the arguments, and its n = min(ring_count[slot], room)
 * synapses are the first n of its ring:
 *   0 (queue): the spikes of step `step` (history slot step mod
 *     history_depth) are sent: each synapse k of each listed row takes a
 *     place atomically in slot (step + 1 + delay[k]) mod slots (kept below
 *     room, else only counted);
 *   1 (count): an atomic add of 1 to bucket_count of each of the slot's
 *     synapses' buckets (post[k] / NCL_GPU_ARRIVALS_BUCKET);
 *   2 (groups): group_sum[j] = the counts of buckets of group j;
 *   3 (starts): bucket_start[b] = o + the counts of the buckets before b,
 *     and (work item 0) bucket_start[buckets] = o + n and *out_count = n,
 *     with o = buckets + 1 where bucket_start is out (the entries follow the
 *     starts), else 0; where more
 *     arrived than the slot holds, overflow[0] and overflow[1] become the
 *     arrivals and the step (if overflow[0] is still 0);
 *   4 (scatter): each synapse to a place of its bucket's run of `out` (an
 *     atomic add of -1 to the bucket's count, which returns to 0);
 *   5 (order): each bucket's run sorted by (postsynaptic neuron, delay
 *     descending, synapse); work item 0 empties the slot (ring_count 0);
 *   6: phase 0 for step - 1, then phase 1, in one launch: for queues whose
 *     every delay is at least one step, which then touch different slots.
 * Another phase writes nothing. */
#define NCL_GPU_ARRIVALS_ENTRY "ncl_arrivals_gpu"
#define NCL_GPU_ARRIVALS_BUCKET NCL_GPU_TARGET_BUCKET /* postsynaptic neurons per bucket */
#define NCL_GPU_ARRIVALS_GROUP 64                     /* buckets per group_sum */
typedef struct ncl_arrival_queue {
  const int64_t *row_start; /* the projection's row starts (pre_size + 1) */
  const int32_t *post;      /* the postsynaptic neuron of each synapse */
  const uint16_t *delay;    /* the delay of each synapse, in steps (one byte each with
                               NCL_ARRIVALS_BYTE_DELAYS, below) */
  const int32_t *lists;     /* the presynaptic history: history_depth lists of history_units */
  const int64_t *counts;    /* and their lengths */
  int64_t history_depth, history_units;
  int32_t *ring;         /* slots * room synapses (their index in the projection) */
  int64_t *ring_count;   /* per slot: the synapses queued (may exceed room) */
  int32_t *bucket_count; /* per bucket, 0 between steps */
  int64_t *bucket_start; /* buckets + 1; or `out` itself (below) */
  int64_t *group_sum;    /* per group of buckets */
  int64_t *out;          /* room synapses: a step's list, by target; where bucket_start
                            is out (added within ABI 10: an older kernel is never given
                            that), the list a stage launched NCL_GPU_LAUNCH_PER_TARGET_BUCKETS
                            reads, its bucket starts then its entries (buckets + 1 + room) */
  int64_t *out_count;    /* its length */
  int64_t *overflow;     /* 2: the arrivals and the step of the first slot that overflowed */
  int64_t slots, room;
  int64_t buckets; /* ceil(postsynaptic neurons / NCL_GPU_ARRIVALS_BUCKET) */
} ncl_arrival_queue;
/* Added within ABI 10, in place of NCL_GPU_ARRIVALS_ENTRY in the images of
 * this nclc (a runtime that knows neither keeps the arrival queues on the
 * host): the same queues, lists and order in fewer launches. Its one
 * parameter is a device pointer to an ncl_arrivals_args whose `phase` is a
 * set of the works below (bits), done in one launch, in the order of their
 * bits, each work's items shared by all of the queue's threads as above;
 * the runtime combines only works that touch different memory. A queue's
 * bucket_count holds a row of `buckets` counts per slot (slots * buckets,
 * the row of slot s at s * buckets), each the synapses of the slot's ring
 * in that bucket, kept as synapses come and go, so no work counts a slot
 * (phase 1). With s = step mod slots:
 *   NCL_ARRIVALS_SEND: phase 0 for the spikes of step - 1, each synapse that
 *     takes a place below room adding 1 to its bucket in its slot's row;
 *   NCL_ARRIVALS_GROUPS: phase 2 for slot s, on its row;
 *   NCL_ARRIVALS_GROUPS_NEXT: the same for slot (step + 1) mod slots;
 *   NCL_ARRIVALS_STARTS, _SCATTER, _ORDER: phases 3, 4 and 5 for slot s, on
 *     its row (which SCATTER returns to 0).
 * Where every delay of every queue is at least one step, SEND writes only
 * slots from step + 1 on (and their rows), which STARTS, SCATTER and ORDER
 * of step do not touch, and slot step + 1 receives nothing after it (a later
 * SEND writes from step + 2 on): the runtime runs a step's works in three
 * launches, SEND | STARTS, SCATTER | GROUPS_NEXT and ORDER. */
#define NCL_GPU_PIPELINED_ARRIVALS_ENTRY "ncl_arrivals_pipelined_gpu"
#define NCL_ARRIVALS_SEND 1
#define NCL_ARRIVALS_GROUPS 2
#define NCL_ARRIVALS_GROUPS_NEXT 4
#define NCL_ARRIVALS_STARTS 8
#define NCL_ARRIVALS_SCATTER 16
#define NCL_ARRIVALS_ORDER 32
/* Added within ABI 10, in place of NCL_GPU_PIPELINED_ARRIVALS_ENTRY in the
 * images of this nclc: the same works, and where `phase` also has
 * NCL_ARRIVALS_BYTE_DELAYS, every queue's `delay` points at one byte per
 * synapse (uint8_t, the runtime's form of delays that all fit in a byte)
 * instead of two. A runtime given an image without it keeps two bytes. */
#define NCL_GPU_BYTE_DELAY_ARRIVALS_ENTRY "ncl_arrivals_byte_delays_gpu"
#define NCL_ARRIVALS_BYTE_DELAYS 64
typedef struct ncl_arrivals_args {
  int64_t phase; /* 0 to 6 (NCL_GPU_ARRIVALS_ENTRY), or a set of NCL_ARRIVALS_ works */
  int64_t step;  /* phase 0: the step whose spikes are queued; the others: the arrival step */
  int64_t count; /* queues */
  const ncl_arrival_queue *queues;
} ncl_arrivals_args;

typedef struct ncl_model_descriptor {
  uint32_t magic;         /* NCL_MODEL_MAGIC; never moves */
  uint32_t abi_version;   /* NCL_ABI_VERSION; never moves */
  const char *model_name; /* network name */
  const char *source_file;
  const char *compiler_version;
  int32_t real_bits; /* 32 or 64: precision of state arrays */
  int32_t num_populations;
  double dt;               /* the network's dt, seconds (the default) */
  double default_duration; /* seconds */
  uint64_t default_seed;
  const ncl_population_info *populations;
  /* Since ABI 3: the buffer table and the schedule of one step. */
  int32_t num_buffers;
  int32_t num_stages;
  const ncl_buffer_info *buffers;
  const ncl_stage_info *stages;
  /* Since ABI 4. */
  int32_t num_projections;
  int32_t reserved;
  const ncl_projection_info *projections;
  /* Since ABI 5: state and rate monitors. */
  int32_t num_monitors;
  int32_t reserved_monitors;
  const ncl_monitor_info *monitors;
  /* Since ABI 8 (batches): the batch members a run has unless the user
   * chooses (`simulate ..., batch = B`; ncl_set_batch), >= 1 (0 reads as 1,
   * so that a zero-filled descriptor runs one); and why the
   * network cannot run more than one member (a projection whose synapses
   * would need one copy per member, named in the message), or null. */
  int64_t default_batch;
  const char *batch_refusal;
  /* Since ABI 10: the GPU images (none for a CPU-only library). */
  int32_t num_gpu_images;
  int32_t reserved_gpu;
  const ncl_gpu_image *gpu_images;
} ncl_model_descriptor;

#ifdef __cplusplus
}
#endif

#endif /* NCL_MODEL_ABI_H */
