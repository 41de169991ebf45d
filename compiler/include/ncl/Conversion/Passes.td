//===- Passes.td - Conversions out of the ncl dialect ------*- tablegen -*-===//
#ifndef NCL_CONVERSION_PASSES_TD
#define NCL_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertNclToLoops : Pass<"ncl-to-loops", "ModuleOp"> {
  let summary = "Lower populations to target-independent loops, one pattern per op";
  let description = [{
    Each `ncl.population @P` of a network becomes two functions of the
    module, `ncl_P_init` (initial state of neurons [begin, end)) and
    `ncl_P_update` (up to `num_steps` steps of [begin, end)), whose
    arguments are the population's buffers (from the network's buffer table,
    see `ncl-allocate-buffers`) and fields of the kernel header
    (compiler/include/ncl/Target/KernelABI.h); each `ncl.stage` gets its
    kernel's name and `args`, and the population keeps only its description.
    The form is target-independent: a loop over steps around an
    `scf.parallel` over neurons into which the population's program is
    moved. Each ncl op in it is rewritten by its own conversion pattern
    (`populateNclToLoopsPatterns`); the ncl dialect is illegal in kernels, so
    an op left without a pattern is an error at its line. A spike (and, in a
    recorded population, an event) adds one to the kernel's result cell with
    `memref.atomic_rmw` and is stored at the slot that returns; a recorded
    population stops at a step boundary rather than overflow its buffer.
    `ncl.exp_euler` is expanded in its increment form with `math.expm1`. Run
    after `ncl-integrate` and `ncl-allocate-buffers`; on a CPU,
    `ncl-cpu-schedule` follows. A projection's `deliver` finds each spike's
    part of its row by searches in the row's sorted postsynaptic indices,
    the starts of `search-lanes` spikes at once (one `scf.while` probing
    every open lane each step, docs/pipeline.md), the end galloped from the
    start.

    Before:

    ```mlir
    ncl.population @P {...} init {...} step {
      %v = ncl.state_read "v" : f64
      %tau = ncl.param "tau" : f64
      ...
      ncl.state_write "v", %v2 : f64
    }
    ```

    After (abridged):

    ```mlir
    func.func @ncl_P_update(%params: memref<?xf64>, %v: memref<?xf64>,
        %refractory_until: memref<?xi32>, %begin: index, ...) attributes {ncl.kernel = "update"} {
      %tau = memref.load %params[%c0] : memref<?xf64>
      scf.for %s = %c0 to %num_steps step %c1 {        // {ncl.loop = "steps"}
        scf.parallel (%i) = (%begin) to (%end) step (%c1) {  // {ncl.loop = "neurons"}
          %x = memref.load %v[%i] : memref<?xf64>
          ...
          memref.store %x2, %v[%i] : memref<?xf64>
        }
      }
    }
    ```
  }];
  let options = [Option<"searchLanes", "search-lanes", "unsigned", /*default=*/"8",
                        "Spikes whose rows a deliver kernel searches at once for the "
                        "start of its postsynaptic range: a thread then waits for that "
                        "many independent loads together (docs/gpu.md, \"A thread "
                        "per postsynaptic neuron for deliver\"). 1: one spike's row at a "
                        "time.">];
  let dependentDialects = ["mlir::arith::ArithDialect", "mlir::func::FuncDialect",
                           "mlir::math::MathDialect", "mlir::memref::MemRefDialect",
                           "mlir::scf::SCFDialect", "mlir::LLVM::LLVMDialect"];
}

def NclCPUSchedule : Pass<"ncl-cpu-schedule", "ModuleOp"> {
  let summary = "Schedule the target-independent kernels for a CPU core";
  let description = [{
    The CPU's choices, apart from what each op means: every neuron loop runs
    sequentially, counting its spikes in a loop-carried value instead of
    atomics, branch-free (a recorded population keeps only the branch that
    appends to its spike buffer). An unrecorded population's update runs
    blocks of 8192 neurons through all the call's steps while their state
    (up to ~100 KB) stays in L2: per neuron the same operations in the same
    order as step by step, hence the same results, with one sweep of memory
    per call instead of one per step; its spikes are counted in i32 lanes,
    the width of the refractory counters, so that f32 state vectorises at
    full width, and widened once per block. A recorded population steps all
    its neurons each step, so spikes come out in (step, index) order.

    Before (an unrecorded population):

    ```mlir
    scf.for %s = %c0 to %n step %c1 {
      scf.parallel (%i) = (%begin) to (%end) step (%c1) {
        ...
        scf.if %fired {
          %slot = memref.atomic_rmw addi %c1_i64, %results[%c0] : (i64, memref<2xi64>) -> i64
        }
      }
    } {ncl.loop = "steps"}
    ```

    After:

    ```mlir
    %total = scf.for %lo = %begin to %end step %c8192 iter_args(%t = %c0) -> (index) {
      %hi = arith.minsi ...
      %sum = scf.for %s = %c0 to %n step %c1 iter_args(%acc = %t) -> (index) {
        %part = scf.for %i = %lo to %hi step %c1 iter_args(%c = %c0_i32) -> (i32) {
          ...
          %one = arith.extui %fired : i1 to i32
          %c2 = arith.addi %c, %one : i32
          scf.yield %c2 : i32
        }
        ...
      }
    }
    memref.store %count, %results[%c0] : memref<2xi64>
    ```

    A dense sum (a rows loop that ncl-to-loops marks `ncl.dense_row_width`:
    every row adds its terms at the places j of one row width) has four
    rows jammed into one pass over a block of 2 KB of places, for every
    member: each input is loaded once, receives the four rows' terms in
    ascending row order (one addition each, as before, so the results do
    not change) and is stored once; each row's presynaptic value is loaded
    once per member outside the places loop. Before:

    ```mlir
    scf.for %i = %c0 to %n step %c1 {
      %lo = ... row_start[%i] ...
      scf.for %m = %m0 to %m1 step %c1 {
        scf.for %j = %first to %last step %c1 {
          %w = memref.load %weights[%lo + %j] ...
          %r = memref.load %rate[%i + %m * %n] ...
          %in = memref.load %input[%j + %m * %n_post] ...
          %sum = arith.addf %in, (%w * %r) ...
          memref.store %sum, %input[%j + %m * %n_post] ...
        } {ncl.loop = "synapses"}
      } {ncl.loop = "members"}
    } {ncl.dense_row_width = 256 : i64, ncl.loop = "rows"}
    ```

    After (abridged):

    ```mlir
    scf.for %i0 = %c0 to %whole step %c4 {      // then %whole to %n as before
      scf.for %block = %c0 to %c256 step %c256 {
        scf.for %m = %m0 to %m1 step %c1 {
          %r0 = memref.load %rate[%i0 + %m * %n] ... // %r1, %r2, %r3 likewise
          scf.for %j = max(%first, %block) to min(%last, %block + 256) step %c1 {
            %in = memref.load %input[%j + %m * %n_post] ...
            %s0 = arith.addf %in, (%w0 * %r0) ...   // %w0 = weights[%lo0 + %j]
            %s1 = arith.addf %s0, (%w1 * %r1) ...
            %s2 = arith.addf %s1, (%w2 * %r2) ...
            %s3 = arith.addf %s2, (%w3 * %r3) ...
            memref.store %s3, %input[%j + %m * %n_post] ...
          } {ncl.loop = "synapses"}
        } {ncl.loop = "members"}
      } {ncl.loop = "place-blocks"}
    } {ncl.loop = "jammed-rows"}
    ```

    An all-to-all projection without autapses gives each row of a neuron
    of the postsynaptic range two place loops, [first, min(last, h)) and
    [max(first, h + 1), last) around its own neuron's place h. Then the
    places below every jammed row's h take the four rows' head bodies as
    above, those above every h their tail bodies, and the few between
    (the four holes) each row's term under an `scf.if` on its own pieces,
    one place at a time, still in ascending row order.
  }];
  let dependentDialects = ["mlir::arith::ArithDialect", "mlir::memref::MemRefDialect",
                           "mlir::scf::SCFDialect"];
}

def NclExpandExp : Pass<"ncl-expand-exp"> {
  let summary = "Expand math.exp, math.expm1 and math.tanh into branch-free arithmetic";
  let description = [{
    Replaces every `math.exp`, `math.expm1` and `math.tanh` of f32 or f64 by arith ops
    and `llvm.intr.fma` (a `math.fma` would become a call of libm's `fma`
    in math-to-libm, which keeps a loop scalar), so that a neuron loop that
    calls them has no call left and vectorises (COBAHH's exponential Euler
    and Traub-Miles rates call them ten times per neuron and step).

    The method: clamp x to the range where the result is neither saturated
    nor special (a NaN passes through); k = round(x / ln2) by adding
    1.5 * 2^52 (2^23 in f32); x - k ln2 = r + rLow with ln2 split in two
    (Cody-Waite), |r| <= ln2/2; tail = e^r - 1 - r by a Taylor polynomial
    of degree 13 (8 in f32) in Horner form with fma, plus rLow (1 + r); 2^k
    built from its exponent bits. Then e^x = (1 + r + tail) 2^k1 2^k2 with
    k1 = round(k/2), k2 = k - k1, so that a subnormal result rounds once,
    and e^x - 1 = (2^k - 1) + 2^k r + 2^k tail, the first two added exactly
    (Fast2Sum), so that the result rounds about once. tanh x = sign(x) e /
    (e + 2) with e = expm1(2|x|), |x| clamped at 20 (10 in f32), beyond which
    tanh x rounds to ±1 (the rate units' activation: a libm call per unit and
    step was 40 % of a 256-unit CTRNN's time).

    ```mlir
    %y = math.tanh %x : f32
    // becomes, abridged:
    %a = llvm.intr.fabs(%x) : (f32) -> f32
    ... %e = e^(2a) - 1 as for math.expm1 ...
    %d = arith.addf %e, %c2 : f32
    %t = arith.divf %e, %d : f32
    %y = llvm.intr.copysign(%t, %x) : (f32, f32) -> f32
    ```

    Every lane runs the same operations, so a result does not depend on
    which neurons share a vector (thread counts), and any target that
    rounds +, * and fma as IEEE gives the same bits. The maximum errors,
    measured against exact values, are in docs/semantics.md ("Precision").
    Other types (vectors, f16) are left to the math-to-libm and math-to-LLVM
    lowerings. Runs after loop-invariant code motion, so exponentials of
    parameters alone are still computed once per call.

    tanh's |x| and copysign are `llvm.intr.fabs` and `llvm.intr.copysign`
    (math-to-libm refuses `math.copysign`); with `math-ops=true` (the GPU
    pipeline, `ncl-to-nvvm`) they are `math.absf` and `math.copysign`
    instead, since convert-gpu-to-nvvm refuses those two intrinsics. Both
    are exact, so the results are the same.

    Without `math-ops`, every f32/f64 `math.sqrt` becomes `llvm.intr.sqrt`
    too: math-to-libm would call libm's `sqrt`, which may set errno, so a
    loop that calls it (the connect kernels' normal draws) stays scalar.
    Both are the correctly rounded square root: the same bits.

    Before:

    ```mlir
    %e = math.expm1 %x : f64
    ```

    After (abridged):

    ```mlir
    %t = llvm.intr.fma(%xc, %log2e, %magic) : (f64, f64, f64) -> f64
    %k = arith.subf %t, %magic : f64
    %high = llvm.intr.fma(%minus_k, %ln2_hi, %xc) : (f64, f64, f64) -> f64
    %low = arith.mulf %k, %ln2_lo : f64
    %r = arith.subf %high, %low : f64
    ...                                    // rLow; Horner: 12 fma
    %bits = arith.bitcast %kmagic : f64 to i64
    %exponent = arith.shli %biased, %c52 : i64
    %scale = arith.bitcast %exponent : i64 to f64
    %sum = arith.addf %scale_minus_one, %scale_r : f64
    ...                                    // Fast2Sum, then the tail
    %e = arith.addf %sum, %small : f64
    ```
  }];
  let options = [Option<"mathOps", "math-ops", "bool", /*default=*/"false",
                        "Write tanh's |x| and copysign as math ops, not LLVM intrinsics">];
  let dependentDialects = ["mlir::arith::ArithDialect", "mlir::LLVM::LLVMDialect",
                           "mlir::math::MathDialect"];
}

def NclGPUMap : Pass<"ncl-gpu-map", "ModuleOp"> {
  let summary = "Map the target-independent kernels to GPU threads (docs/gpu.md)";
  let description = [{
    The GPU's counterpart of `ncl-cpu-schedule`, on the output of
    `ncl-to-loops`: every kernel that a stage of the schedule names becomes
    code for one GPU thread, and every function of the module moves into
    `gpu.module @ncl_kernels`, which `ncl-to-nvvm` lowers to NVVM.

    The stages the CUDA backend runs once on the host, with the CPU's
    kernels (`init`, `connect`, `connect_condition`), get no GPU code: their
    kernels are erased, with any private function only they called, so
    that nothing after this pass lowers them (a network's connect kernels
    are most of its IR). The stages keep their kernel names, the CPU's.

    A per-index stage (every other kind but `kwta` and `kwta_gate`) does, on the
    thread with global index g = block_id.x * block_dim.x + thread_id.x,
    the work of the CPU kernel called with the range [begin + g,
    begin + g + 1): the kernel's `begin` becomes begin + g and its `end`
    begin + g + 1, and its body runs only where begin + g < end. A
    whole-range stage runs the CPU kernel over [begin, end) on thread 0
    only. Nothing else changes: the spike count stays the atomic of the
    target-independent form, so the threads of a step stage share one
    spike buffer, and the step loop runs in each thread for its one
    neuron.

    A stage of a per-index kind whose kernel cannot be divided that way
    also runs on thread 0 over its whole range, as the CPU kernel on one
    thread, and its kernel says why in `ncl.gpu_serial`: a kernel whose work
    comes from the runtime's per-thread list of spikes or synapses
    (`on_post`, `deliver_synapses`: `begin` and `end` unused), or one that
    writes a presynaptic trace (`pre_trace`, one copy per calling CPU
    thread) from a postsynaptic range, which every thread would update, and
    cannot be split as below. A `deliver` that updates presynaptic traces,
    in a network with a `batch_refusal` (so that no neuron arrives twice in
    one list), is split in two instead (`ncl.gpu_launch =
    "per_index_commit"`, `ncl.gpu_commit = @<kernel>_commit`): the kernel,
    a thread per index, keeps the traces in registers (its trace stores go,
    and a later load of a stored place takes the stored value), and the new
    function `<kernel>_commit`, a copy without the synapse loops, stores
    them a thread per spike (`"per_spike"`).

    A dense projection's `sum` (its rows loop marked `ncl.dense_row_width`)
    then gets its GPU form, marked `ncl.gpu_dense_sum`: the thread's one
    neuron belongs to one batch member and one place j of the row, so the
    members loop becomes its one iteration and each places loop an `scf.if`
    running at j (where the first places loop starts); what depends only on
    the thread moves out of the rows loop; and each input the summed
    program adds to at that one place is loaded before the rows, carried
    through them in `iter_args`, and stored after them. The additions are
    the same, in the same order:

    ```mlir
    %i0 = memref.load %I[%at] : memref<?xf64>
    %sum = scf.for %r = %c0 to %rows step %c1 iter_args(%i = %i0) -> (f64) {
      %start = memref.load %row_start[%r] : memref<?xi64>
      ...
      %next = scf.if %taken -> (f64) {
        ...
        %add = arith.addf %i, %term : f64
        scf.yield %add : f64
      } else {
        scf.yield %i : f64
      }
      scf.yield %next : f64
    } {ncl.dense_row_width = 64 : i64, ncl.loop = "rows"}
    memref.store %sum, %I[%at] : memref<?xf64>
    ```

    Beside it go `<kernel>_tiles`, `<kernel>_tiles8` and `<kernel>_tiles16`
    (`ncl.gpu_tiles = [@k_tiles, @k_tiles8, @k_tiles16]` on the kernel names
    them; each has `ncl.gpu_launch = "member_tiles"` and
    `ncl.gpu_member_tile = 4`, 8 or 16), built on copies of the
    target-independent kernel, for a thread per postsynaptic neuron j and
    tile of that many batch members (model_abi.h,
    NCL_GPU_LAUNCH_MEMBER_TILES and NCL_GPU_MEMBER_TILE_FORMS): the members
    loop becomes a copy of its body per member, in which `begin` and `end`
    less the member's offset are j and j + 1; the places loops become
    `scf.if`; the rows carry the members' inputs; and the members' branches,
    which test the same places, merge into one, where they share each weight
    they load. The runtime launches one size. Where that form cannot be
    built the copies are dropped, all three.

    A stage without a kernel, or a kernel that is not one block without
    results, is an error naming the stage. On a second run, a module that
    has `gpu.module @ncl_kernels` is left as it is.

    Before:

    ```mlir
    func.func @ncl_P_update(%v: memref<?xf64>, %begin: index, %end: index, ...) {
      ...
      scf.parallel (%i) = (%begin) to (%end) step (%c1) {...} {ncl.loop = "neurons"}
      return
    }
    ```

    After:

    ```mlir
    gpu.module @ncl_kernels {
      func.func @ncl_P_update(%v: memref<?xf64>, %begin: index, %end: index, ...)
          attributes {ncl.gpu_launch = "per_index", ...} {
        %tid = gpu.thread_id x
        %bid = gpu.block_id x
        %bdim = gpu.block_dim x
        %0 = arith.muli %bid, %bdim : index
        %g = arith.addi %0, %tid : index
        %first = arith.addi %begin, %g : index
        %in = arith.cmpi slt, %first, %end : index
        %next = arith.addi %first, %c1 : index
        scf.if %in {
          ...
          scf.parallel (%i) = (%first) to (%next) step (%c1) {...} {ncl.loop = "neurons"}
        }
        return
      }
    }
    ```
  }];
  let dependentDialects = ["mlir::arith::ArithDialect", "mlir::gpu::GPUDialect",
                           "mlir::scf::SCFDialect"];
}

#endif // NCL_CONVERSION_PASSES_TD

def NclMergeKernels : Pass<"ncl-merge-kernels", "ModuleOp"> {
  let summary = "One kernel for the stages whose kernels differ only in integer constants";
  let description = [{
    Populations of one neuron model, and projections of one synapse model,
    get kernels that are the same code but for the buffers their stages
    pass (arguments already) and the random streams of their draws (integer
    constants). This pass, run right after `ncl-to-loops` (before the
    targets' mappings, which decide from a kernel's code and its stage's
    buffers, the same for each member of a set, and before the clean-up),
    first drops from each kernel the buffers it never reads or writes (and
    them from its stages' `args`: a synapse's deliver is passed every
    variable of its postsynaptic population and adds to one, so CUBA's `Ce`
    and `Ci`, which add to `ge` and `gi`, become the same code), then
    compares the kernels the stages name (`func.func`, in the module or in
    its `gpu.module`), op by op, and keeps one of each set that differs only in
    the values of `arith.constant` integers used only by arithmetic (ops of
    the arith dialect; of `arith.select`, the values): those
    constants become trailing arguments of the kept kernel, every stage of
    the set names it, and each stage's `constants` holds the values its own
    kernel had, which its entry passes. Each draw therefore uses the stream
    it used before, and the kernel computes what each did; the rest of the
    pipeline, LLVM's O3 and code generation then see one kernel where they
    saw one per population or projection (the microcircuit's 126 kernels
    become 5: init, connect of each synapse model, deliver, update). The
    constants are compared before the clean-up, so a stream of 0 (`x | 0`)
    is not yet folded away; the network is marked `ncl.kernels_merged`, and
    a later run (on IR printed after this one and cleaned up since) leaves
    it as it is, so IR read back at any stage gives the same library.

    Before (abridged):

    ```mlir
    func.func @ncl_A_update(%v: memref<?xf64>, ...) attributes {ncl.kernel = "update"} {
      %c0_i32 = arith.constant 0 : i32
      %s = arith.ori %hi, %c0_i32 : i32
      ...
    }
    func.func @ncl_B_update(%v: memref<?xf64>, ...) attributes {ncl.kernel = "update"} {
      %c67108864_i32 = arith.constant 67108864 : i32
      %s = arith.ori %hi, %c67108864_i32 : i32
      ...
    }
    ncl.stage step @A kernel @ncl_A_update {args = [0, 1, "begin", "end"]}
    ncl.stage step @B kernel @ncl_B_update {args = [7, 8, "begin", "end"]}
    ```

    After:

    ```mlir
    func.func @ncl_A_update(%v: memref<?xf64>, ..., %stream: i32) attributes {ncl.kernel = "update"} {
      %s = arith.ori %hi, %stream : i32
      ...
    }
    ncl.stage step @A kernel @ncl_A_update {args = [0, 1, "begin", "end"], constants = [0 : i32]}
    ncl.stage step @B kernel @ncl_A_update {args = [7, 8, "begin", "end"],
                                            constants = [67108864 : i32]}
    ```
  }];
  let dependentDialects = ["mlir::arith::ArithDialect", "mlir::func::FuncDialect"];
}
