//===- CudaBackend.cpp - A model's stages on a CUDA device ----------------===//
//
// See CudaBackend.h and docs/gpu.md. Every copy and launch goes to the
// model's stream, in order. Launches and copies on the device are recorded
// and issued in batches (flush), after one copy of the headers and lists
// they read, which the host wrote into the arena: each launch has its own
// header there until the next wait frees the arena. The host waits for the
// stream (synchronize) only where it reads a result: a network's spikes
// after each exchange interval or chunk, a model without projections'
// spikes at the chunk's end (launchDeferred), a full monitor block, the
// state and monitor rows after a chunk, a state the API reads. Monitor
// samples are copies on the device.
//
//===----------------------------------------------------------------------===//
#include "CudaBackend.h"

#include "Model.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <numeric>
#include <tuple>

using namespace ncl::rt;
using namespace ncl::rt::cuda;

namespace {

constexpr unsigned kBlockSize = 256;
/// The arena starts at 64 KiB (a model whose batches fit keeps it) and,
/// the first time it fills, grows to 16 MiB at once, beyond which a full
/// arena waits instead: each growth waits for the stream and ends a batch
/// of a size seen once, so doubling through the sizes between put off the
/// repeating batches that run as graphs.
constexpr size_t kArenaStart = size_t{64} << 10, kArenaGrowsTo = size_t{16} << 20;
/// Commands are issued in parts of kPartCommands at most: the device runs
/// one part while the host records the next, and the wait that ends a
/// round (a chunk, a collection, a full arena) waits for the last part
/// alone; issued only at the wait, the device stood idle while the host
/// recorded the whole round. A run's rounds repeat, and so do their
/// parts, each at the same place of the arena (which restarts at every
/// wait): each runs as a CUDA graph. A round has at most some 4096 step
/// launches (the deferred slots) and the deliveries and lists beside them,
/// a few dozen parts: kGraphsKept holds them all.
constexpr size_t kPartCommands = 512;

size_t elementBytes(int32_t element) {
  return element == NCL_ELEMENT_I16                                 ? 2
         : element == NCL_ELEMENT_F32 || element == NCL_ELEMENT_I32 ? 4
                                                                    : 8;
}

/// The number of "sm_90" (90), or -1 for a name of another form.
int archNumber(const char *arch) {
  if (!arch || std::strncmp(arch, "sm_", 3) != 0)
    return -1;
  int n = 0;
  const char *c = arch + 3;
  if (!*c)
    return -1;
  for (; *c; ++c) {
    if (*c < '0' || *c > '9')
      return -1;
    n = n * 10 + (*c - '0');
  }
  return n;
}

std::string imageList(const ncl_model_descriptor &d) {
  std::string s;
  for (int32_t i = 0; i < d.num_gpu_images; ++i) {
    const ncl_gpu_image &img = d.gpu_images[i];
    s += (i ? ", " : "") + std::string(img.arch ? img.arch : "?") +
         (img.format == NCL_GPU_CUBIN ? " (cubin)" : " (PTX)");
  }
  return s;
}

/// How the threads of a stage's GPU kernel divide its work (docs/gpu.md):
/// as the library says, or for a library that does not say (ABI 10 before
/// ncl_stage_info.gpu_launch), the kind's default: on one thread the k-WTA
/// selections, the kernels that walk a list without filtering it by
/// [begin, end), and a deliver that updates the presynaptic traces once per
/// arriving spike; the others a thread per index.
ncl_gpu_launch launchShape(const ncl_model &m, const ncl_stage_info &stage) {
  if (int32_t shape = stage.gpu_launch & NCL_GPU_LAUNCH_SHAPE_MASK; shape != NCL_GPU_LAUNCH_BY_KIND)
    return static_cast<ncl_gpu_launch>(shape);
  switch (stage.kind) {
  case NCL_STAGE_KWTA:
  case NCL_STAGE_KWTA_GATE:
  case NCL_STAGE_ON_POST:
  case NCL_STAGE_DELIVER_SYNAPSES:
    return NCL_GPU_LAUNCH_WHOLE_RANGE;
  case NCL_STAGE_DELIVER:
    return m.projs[static_cast<size_t>(stage.projection)].info->num_pre_traces > 0
               ? NCL_GPU_LAUNCH_WHOLE_RANGE
               : NCL_GPU_LAUNCH_PER_INDEX;
  default:
    return NCL_GPU_LAUNCH_PER_INDEX;
  }
}

/// A thread per postsynaptic neuron, on a list sorted by it (model_abi.h).
bool perTarget(ncl_gpu_launch shape) {
  return shape == NCL_GPU_LAUNCH_PER_TARGET || shape == NCL_GPU_LAUNCH_PER_TARGET_BUCKETS;
}

[[noreturn]] void refuse(ncl_status code, const std::string &why) {
  throw Error(code, "cannot use the CUDA backend: " + why);
}

/// The timed launches of each form of a kernel (member tiles, a lean
/// update) after a first round that warms up (a kernel's first launch may
/// load its code), before the runtime takes the fastest.
constexpr int64_t kFormRounds = 3;

/// A dense sum's member-tiled forms (model_abi.h).
constexpr ncl_gpu_member_tile_form kMemberTileForms[] = NCL_GPU_MEMBER_TILE_FORMS;

/// The members of the tiles a dense sum is launched in: NCL_CUDA_MEMBER_TILE
/// (4, 8 or 16; 0 for none, a thread per index), or -1 where it is unset
/// or "auto": the size the device runs fastest (docs/gpu.md, "Member
/// tiles").
int64_t memberTileSetting() {
  const char *text = std::getenv("NCL_CUDA_MEMBER_TILE");
  if (!text || !*text || std::strcmp(text, "auto") == 0)
    return -1;
  if (std::strcmp(text, "0") == 0)
    return 0;
  for (const ncl_gpu_member_tile_form &form : kMemberTileForms)
    if (std::to_string(form.members) == text)
      return form.members;
  std::string sizes;
  for (const ncl_gpu_member_tile_form &form : kMemberTileForms)
    sizes += std::to_string(form.members) + ", ";
  refuse(NCL_ERROR_ARGUMENT, "NCL_CUDA_MEMBER_TILE is '" + std::string(text) + "', not auto, " +
                                 sizes + "or 0 (a thread per index)");
}

/// The form of the updates' `_seq` entries: NCL_CUDA_LEAN=1 their lean form
/// where the image has it, 0 not, -1 where it is unset or "auto": the one
/// the device runs faster, where the lean form fits more blocks on a
/// multiprocessor (docs/gpu.md, "Lean updates").
int leanSetting() {
  const char *text = std::getenv("NCL_CUDA_LEAN");
  if (!text || !*text || std::strcmp(text, "auto") == 0)
    return -1;
  if (std::strcmp(text, "0") == 0 || std::strcmp(text, "1") == 0)
    return text[0] - '0';
  refuse(NCL_ERROR_ARGUMENT, "NCL_CUDA_LEAN is '" + std::string(text) + "', not auto, 1 or 0");
}

/// NCL_CUDA_WAIT_EACH=1: every command issued alone and waited for, so that
/// a kernel that faults is named by the message (docs/gpu.md, "When a
/// kernel faults"); unset, empty or 0: not.
bool waitEachSetting() {
  const char *text = std::getenv("NCL_CUDA_WAIT_EACH");
  if (!text || !*text || std::strcmp(text, "0") == 0)
    return false;
  if (std::strcmp(text, "1") == 0)
    return true;
  refuse(NCL_ERROR_ARGUMENT, "NCL_CUDA_WAIT_EACH is '" + std::string(text) + "', not 1 or 0");
}

/// Whether `r` says a kernel went wrong on the device (the driver reports it
/// to the next call that waits for the stream, not to the launch).
bool isKernelFault(CUresult r) {
  switch (r) {
  case 700: // CUDA_ERROR_ILLEGAL_ADDRESS
  case 702: // CUDA_ERROR_LAUNCH_TIMEOUT
  case 710: // CUDA_ERROR_ASSERT
  case 714: // CUDA_ERROR_HARDWARE_STACK_ERROR
  case 715: // CUDA_ERROR_ILLEGAL_INSTRUCTION
  case 716: // CUDA_ERROR_MISALIGNED_ADDRESS
  case 717: // CUDA_ERROR_INVALID_ADDRESS_SPACE
  case 718: // CUDA_ERROR_INVALID_PC
  case 719: // CUDA_ERROR_LAUNCH_FAILED
    return true;
  default:
    return false;
  }
}

} // namespace

bool ncl::rt::runsOnDevice(int32_t kind) {
  return kind != NCL_STAGE_INIT && kind != NCL_STAGE_CONNECT && kind != NCL_STAGE_CONNECT_CONDITION;
}

std::unique_ptr<CudaDevice> CudaDevice::open(const ncl_model &m, int ordinal) {
  const ncl_model_descriptor &desc = *m.desc;
  // The library first: its problems do not depend on the machine.
  if (desc.num_gpu_images <= 0 || !desc.gpu_images)
    refuse(NCL_ERROR_LOAD, "'" + m.path +
                               "' has no GPU code (it was compiled for the CPU only); "
                               "recompile it with nclc --target=cuda");
  for (int32_t i = 0; i < desc.num_stages; ++i) {
    const ncl_stage_info &stage = desc.stages[i];
    if (runsOnDevice(stage.kind) && (!stage.gpu_kernel || !*stage.gpu_kernel))
      refuse(NCL_ERROR_LOAD, "the stage '" + std::string(stage.name) + "' of '" + m.path +
                                 "' has no GPU kernel; recompile it with nclc --target=cuda");
    const int32_t shape = stage.gpu_launch & NCL_GPU_LAUNCH_SHAPE_MASK;
    if (runsOnDevice(stage.kind) &&
        ((stage.gpu_launch & ~(NCL_GPU_LAUNCH_SHAPE_MASK | NCL_GPU_LAUNCH_SHARED_ENTRY |
                               NCL_GPU_LAUNCH_SEQ_BLOCKS | NCL_GPU_LAUNCH_MEMBER_TILES_ANY)) != 0 ||
         shape > NCL_GPU_LAUNCH_PER_TARGET_BUCKETS ||
         ((stage.gpu_launch & NCL_GPU_LAUNCH_MEMBER_TILES_ANY) &&
          (stage.kind != NCL_STAGE_SUM || shape != NCL_GPU_LAUNCH_PER_INDEX ||
           (stage.gpu_launch & NCL_GPU_LAUNCH_SHARED_ENTRY) || stage.projection < 0)) ||
         (shape == NCL_GPU_LAUNCH_PER_INDEX_COMMIT && stage.kind != NCL_STAGE_DELIVER) ||
         (perTarget(static_cast<ncl_gpu_launch>(shape)) &&
          stage.kind != NCL_STAGE_DELIVER_SYNAPSES)))
      refuse(NCL_ERROR_LOAD, "the stage '" + std::string(stage.name) + "' of '" + m.path +
                                 "' divides its GPU work in a way this runtime does not know "
                                 "(gpu_launch " +
                                 std::to_string(stage.gpu_launch) +
                                 "); recompile it with this NCL's nclc --target=cuda");
  }
  std::unique_ptr<CudaDevice> dev(new CudaDevice());
  try {
    dev->d_ = &driver();
  } catch (const Error &e) {
    refuse(NCL_ERROR_STATE, e.what());
  }
  const Driver &d = *dev->d_;
  auto need = [&](CUresult r, const char *what) {
    if (r != CUDA_SUCCESS)
      refuse(NCL_ERROR_STATE, std::string(what) + " failed: " + describe(r, d));
  };
  int count = 0;
  need(d.cuDeviceGetCount(&count), "cuDeviceGetCount");
  if (count <= 0)
    refuse(NCL_ERROR_STATE, "the NVIDIA driver reports no CUDA device");
  if (ordinal >= count)
    refuse(NCL_ERROR_STATE,
           "there is no CUDA device " + std::to_string(ordinal) + ": the NVIDIA driver reports " +
               std::to_string(count) +
               (count == 1 ? " device (0)" : " devices (0 to " + std::to_string(count - 1) + ")"));
  need(d.cuDeviceGet(&dev->device_, ordinal), "cuDeviceGet");
  dev->ordinal_ = ordinal;
  int major = 0, minor = 0;
  need(d.cuDeviceGetAttribute(&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev->device_),
       "cuDeviceGetAttribute");
  need(d.cuDeviceGetAttribute(&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev->device_),
       "cuDeviceGetAttribute");
  char name[256] = {};
  need(d.cuDeviceGetName(name, sizeof name - 1, dev->device_), "cuDeviceGetName");
  dev->name_ = name;
  const int arch = major * 10 + minor;
  dev->arch_ = "sm_" + std::to_string(arch);

  // The cubin of the device's architecture, else the newest PTX not above
  // it, which the driver compiles. A cubin the driver refuses (one from a
  // newer CUDA toolkit than the driver knows) gives way to that PTX.
  const ncl_gpu_image *cubin = nullptr, *ptx = nullptr;
  for (int32_t i = 0; i < desc.num_gpu_images; ++i) {
    const ncl_gpu_image &img = desc.gpu_images[i];
    const int n = archNumber(img.arch);
    if (img.format == NCL_GPU_CUBIN && n == arch && !cubin)
      cubin = &img;
    if (img.format == NCL_GPU_PTX && n >= 0 && n <= arch && (!ptx || n > archNumber(ptx->arch)))
      ptx = &img;
  }
  if (!cubin && !ptx)
    refuse(NCL_ERROR_LOAD, "'" + m.path + "' has no GPU code that the device '" + dev->name_ +
                               "' (" + dev->arch_ + ") can run: its images are for " +
                               imageList(desc) + "; recompile it with nclc --target=cuda for " +
                               dev->arch_ + " or lower");
  // A PTX image must end in its NUL (the driver reads it as a C string).
  for (const ncl_gpu_image *image : {cubin, ptx})
    if (image && (!image->data || image->size <= 0 ||
                  (image->format == NCL_GPU_PTX &&
                   static_cast<const char *>(image->data)[image->size] != 0)))
      refuse(NCL_ERROR_LOAD, "the " + std::string(image->arch) + " GPU image of '" + m.path +
                                 "' is malformed (empty, or PTX without its final NUL)");

  need(d.cuDevicePrimaryCtxRetain(&dev->context_, dev->device_), "cuDevicePrimaryCtxRetain");
  need(d.cuCtxSetCurrent(dev->context_), "cuCtxSetCurrent");
  // Loads `image`; else says why (the driver's error and, for PTX, its log).
  auto load = [&](const ncl_gpu_image &image, std::string &why) {
    char log[4096] = {};
    int options[] = {CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
    void *values[] = {log, reinterpret_cast<void *>(static_cast<uintptr_t>(sizeof log - 1))};
    if (CUresult r = d.cuModuleLoadDataEx(&dev->module_, image.data, 2, options, values);
        r != CUDA_SUCCESS) {
      dev->module_ = nullptr;
      why = describe(r, d) + (log[0] ? std::string(": ") + log : std::string());
      return false;
    }
    dev->image_ = std::string(image.arch) + (image.format == NCL_GPU_CUBIN ? " cubin" : " PTX");
    return true;
  };
  std::string cubinRefused, ptxRefused;
  if (cubin && !load(*cubin, cubinRefused)) {
    if (!ptx)
      refuse(NCL_ERROR_LOAD, "the " + std::string(cubin->arch) + " GPU module of '" + m.path +
                                 "' cannot be loaded on '" + dev->name_ + "': " + cubinRefused);
    dev->imageNote_ = "the " + std::string(cubin->arch) + " cubin cannot be loaded (" +
                      cubinRefused + "); the driver compiled the " + ptx->arch + " PTX instead";
  }
  if (!dev->module_ && !load(*ptx, ptxRefused))
    refuse(NCL_ERROR_LOAD, "the " + std::string(ptx->arch) + " GPU module of '" + m.path +
                               "' cannot be loaded on '" + dev->name_ + "': " + ptxRefused +
                               (cubinRefused.empty() ? std::string()
                                                     : " (nor its " + std::string(cubin->arch) +
                                                           " cubin: " + cubinRefused + ")"));
  // Non-blocking: the stream does not wait for, nor hold up, the legacy
  // default stream that other models' or libraries' work in this process
  // may use; everything of this model goes to it, so it needs no implicit
  // ordering with that stream.
  need(d.cuStreamCreate(&dev->stream_, CU_STREAM_NON_BLOCKING), "cuStreamCreate");
  dev->expectedSpikes_.assign(static_cast<size_t>(desc.num_stages), 0);
  dev->kernels_.assign(static_cast<size_t>(desc.num_stages), nullptr);
  dev->commits_.assign(static_cast<size_t>(desc.num_stages), nullptr);
  dev->tiles_.assign(static_cast<size_t>(desc.num_stages), {});
  dev->tiling_.assign(static_cast<size_t>(desc.num_stages), {});
  const int64_t memberTile = memberTileSetting();
  const int lean = leanSetting();
  const bool waitEach = waitEachSetting();
  // A shared entry's row: the stage's place among those naming the entry.
  dev->rows_.assign(static_cast<size_t>(desc.num_stages), -1);
  dev->seqKernels_.assign(static_cast<size_t>(desc.num_stages), nullptr);
  dev->seqRoom_.assign(static_cast<size_t>(desc.num_stages), 0);
  dev->leanOf_.assign(static_cast<size_t>(desc.num_stages), -1);
  std::map<std::string, int32_t> rows;
  for (int32_t i = 0; i < desc.num_stages; ++i)
    if (runsOnDevice(desc.stages[i].kind) &&
        (desc.stages[i].gpu_launch & NCL_GPU_LAUNCH_SHARED_ENTRY))
      dev->rows_[static_cast<size_t>(i)] = rows[desc.stages[i].gpu_kernel]++;
  auto function = [&](cuda::CUfunction &f, const std::string &entry, const ncl_stage_info &stage) {
    if (CUresult r = d.cuModuleGetFunction(&f, dev->module_, entry.c_str()); r != CUDA_SUCCESS)
      refuse(NCL_ERROR_LOAD, "the GPU module of '" + m.path + "' has no kernel '" + entry +
                                 "' for the stage '" + stage.name + "': " + describe(r, d) +
                                 "; recompile it with nclc --target=cuda");
  };
  for (int32_t i = 0; i < desc.num_stages; ++i) {
    const ncl_stage_info &stage = desc.stages[i];
    if (!runsOnDevice(stage.kind))
      continue;
    function(dev->kernels_[static_cast<size_t>(i)], stage.gpu_kernel, stage);
    // A deliver split in two: the commit kernel is named after the stage's.
    if ((stage.gpu_launch & NCL_GPU_LAUNCH_SHAPE_MASK) == NCL_GPU_LAUNCH_PER_INDEX_COMMIT)
      function(dev->commits_[static_cast<size_t>(i)], std::string(stage.gpu_kernel) + "_commit",
               stage);
    // A dense sum's member-tiled entries, and the size it is launched in:
    // NCL_CUDA_MEMBER_TILE's (a thread per index where the image lacks it),
    // else, where events can time them, each size and none in turn in the
    // first launches, then the fastest; without events 4.
    std::map<int64_t, cuda::CUfunction> &tiles = dev->tiles_[static_cast<size_t>(i)];
    for (const ncl_gpu_member_tile_form &form : kMemberTileForms)
      if (stage.gpu_launch & form.gpu_launch)
        function(tiles[form.members], std::string(stage.gpu_kernel) + form.suffix, stage);
    if (!tiles.empty()) {
      MemberTiling &t = dev->tiling_[static_cast<size_t>(i)];
      t.candidates.push_back(0);
      for (const auto &[members, entry] : tiles)
        t.candidates.push_back(members);
      t.seconds.assign(t.candidates.size(), 0.0);
      t.launches.assign(t.candidates.size(), 0);
      if (memberTile >= 0)
        t.members = tiles.count(memberTile) ? memberTile : 0;
      else if (d.hasEvents())
        t.decided = false;
      else
        t.members = tiles.count(NCL_GPU_MEMBER_TILE) ? NCL_GPU_MEMBER_TILE : 0;
    }
  }
  // Deliveries of a shared entry a thread per postsynaptic neuron, and
  // updates of one a thread per neuron: its `_seq` entry, where the image
  // has it, runs consecutive ones at once (looked up once: a group takes
  // the launches of one handle).
  std::map<std::string, cuda::CUfunction> seqs;
  for (int32_t i = 0; i < desc.num_stages; ++i) {
    const ncl_stage_info &stage = desc.stages[i];
    const int32_t shape = launchShape(m, stage);
    const bool delivers =
        (stage.kind == NCL_STAGE_DELIVER || stage.kind == NCL_STAGE_DELIVER_SYNAPSES) &&
        (shape == NCL_GPU_LAUNCH_PER_INDEX || perTarget(static_cast<ncl_gpu_launch>(shape)));
    const bool updates = stage.kind == NCL_STAGE_STEP && shape == NCL_GPU_LAUNCH_PER_INDEX;
    if (!runsOnDevice(stage.kind) || !(stage.gpu_launch & NCL_GPU_LAUNCH_SHARED_ENTRY) ||
        !(delivers || updates))
      continue;
    const std::string seq = std::string(stage.gpu_kernel) + NCL_GPU_SEQ_SUFFIX;
    if (!seqs.count(seq) &&
        d.cuModuleGetFunction(&seqs[seq], dev->module_, seq.c_str()) != CUDA_SUCCESS)
      seqs[seq] = nullptr;
    dev->seqKernels_[static_cast<size_t>(i)] = seqs[seq];
    dev->seqRoom_[static_cast<size_t>(i)] = rows[stage.gpu_kernel];
    // An update's `_seq` may have a lean form (model_abi.h).
    cuda::CUfunction leanForm = nullptr;
    if (updates && seqs[seq] &&
        d.cuModuleGetFunction(&leanForm, dev->module_, (seq + NCL_GPU_LEAN_SUFFIX).c_str()) ==
            CUDA_SUCCESS) {
      auto found = std::find_if(dev->leans_.begin(), dev->leans_.end(),
                                [&](const LeanChoice &c) { return c.entry == seq; });
      if (found == dev->leans_.end()) {
        LeanChoice c;
        c.entry = seq;
        c.forms[0] = seqs[seq];
        c.forms[1] = leanForm;
        found = dev->leans_.insert(dev->leans_.end(), c);
      }
      dev->leanOf_[static_cast<size_t>(i)] = static_cast<int32_t>(found - dev->leans_.begin());
    }
  }
  if (d.cuModuleGetFunction(&dev->copyCounts_, dev->module_, NCL_GPU_COPY_COUNTS_ENTRY) !=
      CUDA_SUCCESS)
    dev->copyCounts_ = nullptr;
  if (d.cuModuleGetFunction(&dev->gatherSpikes_, dev->module_, NCL_GPU_GATHER_SPIKES_ENTRY) !=
      CUDA_SUCCESS)
    dev->gatherSpikes_ = nullptr;
  // A synapse monitor's samples gathered by a kernel (an older nclc's
  // images lack it: a copy of an element per row then).
  if (d.cuModuleGetFunction(&dev->gatherRecords_, dev->module_, NCL_GPU_GATHER_RECORDS_ENTRY) !=
      CUDA_SUCCESS)
    dev->gatherRecords_ = nullptr;
  // The test of a chunk's state on the device (an older nclc's images lack
  // it: the state comes back after every chunk for the host's scan).
  if (d.cuModuleGetFunction(&dev->findNonFinite_, dev->module_, NCL_GPU_FIND_NONFINITE_ENTRY) !=
      CUDA_SUCCESS)
    dev->findNonFinite_ = nullptr;
  // The arrival queues' entry: this nclc's (which reads one-byte delays
  // too), else an older one's.
  dev->arrivalsByteDelays_ =
      d.cuModuleGetFunction(&dev->arrivals_, dev->module_, NCL_GPU_BYTE_DELAY_ARRIVALS_ENTRY) ==
      CUDA_SUCCESS;
  dev->arrivalsPipelined_ = dev->arrivalsByteDelays_ ||
                            d.cuModuleGetFunction(&dev->arrivals_, dev->module_,
                                                  NCL_GPU_PIPELINED_ARRIVALS_ENTRY) == CUDA_SUCCESS;
  if (!dev->arrivalsPipelined_ &&
      d.cuModuleGetFunction(&dev->arrivals_, dev->module_, NCL_GPU_ARRIVALS_ENTRY) != CUDA_SUCCESS)
    dev->arrivals_ = nullptr;
  // CUDA graphs where the driver has them, unless NCL_CUDA_GRAPHS=0.
  const char *graphs = std::getenv("NCL_CUDA_GRAPHS");
  dev->useGraphs_ = d.hasGraphs() && !(graphs && std::strcmp(graphs, "0") == 0);
  // NCL_CUDA_WAIT_EACH=1: no graph, a wait after each command.
  dev->waitEach_ = waitEach;
  if (waitEach)
    dev->useGraphs_ = false;
  // NCL_CUDA_PROFILE=1: each command timed by events, without graphs.
  if (const char *profile = std::getenv("NCL_CUDA_PROFILE");
      profile && std::strcmp(profile, "1") == 0) {
    if (d.hasEvents()) {
      dev->profiling_ = true;
      dev->useGraphs_ = false;
    } else {
      dev->profileNote_ = "NCL_CUDA_PROFILE=1 ignored: the driver has no events";
    }
  }
  // The runtime's own kernel, in the images of this NCL's nclc: without it
  // a network's spikes go through the host (once an exchange interval).
  if (d.cuModuleGetFunction(&dev->spikeList_, dev->module_, NCL_GPU_SPIKE_LIST_ENTRY) !=
      CUDA_SUCCESS)
    dev->spikeList_ = nullptr;
  // And the one that makes several in one launch, which this nclc's images
  // have instead (an older nclc's have only the other: a launch per list).
  if (d.cuModuleGetFunction(&dev->spikeLists_, dev->module_, NCL_GPU_SPIKE_LISTS_ENTRY) !=
      CUDA_SUCCESS)
    dev->spikeLists_ = nullptr;
  // What each kernel holds, for run.json (no entry is refused for it: a
  // block of 256 threads always fits, as no thread has more than 255
  // registers).
  if (int n = 0; d.cuDeviceGetAttribute(&n, cuda::CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT,
                                        dev->device_) == CUDA_SUCCESS)
    dev->multiprocessors_ = n;
  auto note = [&](cuda::CUfunction f, const std::string &entry) {
    if (!f || std::any_of(dev->kernelResources_.begin(), dev->kernelResources_.end(),
                          [&](const KernelResources &k) { return k.entry == entry; }))
      return;
    KernelResources k;
    k.entry = entry;
    auto attribute = [&](int &value, int which) {
      if (!d.cuFuncGetAttribute || d.cuFuncGetAttribute(&value, which, f) != CUDA_SUCCESS)
        value = -1;
    };
    attribute(k.registers, cuda::CU_FUNC_ATTRIBUTE_NUM_REGS);
    attribute(k.localBytes, cuda::CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES);
    if (!d.cuOccupancyMaxActiveBlocksPerMultiprocessor ||
        d.cuOccupancyMaxActiveBlocksPerMultiprocessor(&k.blocksPerMultiprocessor, f, kBlockSize,
                                                      0) != CUDA_SUCCESS)
      k.blocksPerMultiprocessor = -1;
    dev->kernelResources_.push_back(std::move(k));
  };
  for (int32_t i = 0; i < desc.num_stages; ++i) {
    const std::string entry = desc.stages[i].gpu_kernel ? desc.stages[i].gpu_kernel : "";
    const size_t s = static_cast<size_t>(i);
    note(dev->kernels_[s], entry);
    note(dev->commits_[s], entry + "_commit");
    for (const ncl_gpu_member_tile_form &form : kMemberTileForms)
      if (auto found = dev->tiles_[s].find(form.members); found != dev->tiles_[s].end())
        note(found->second, entry + form.suffix);
    note(dev->seqKernels_[s], entry + NCL_GPU_SEQ_SUFFIX);
    if (dev->leanOf_[s] >= 0)
      note(dev->leans_[static_cast<size_t>(dev->leanOf_[s])].forms[1],
           entry + NCL_GPU_SEQ_SUFFIX NCL_GPU_LEAN_SUFFIX);
  }
  // Each lean form's blocks per multiprocessor beside its entry's: where it
  // fits no more, it cannot be faster, and only NCL_CUDA_LEAN=1 takes it.
  for (LeanChoice &c : dev->leans_) {
    for (int form = 0; form < 2; ++form)
      for (const KernelResources &k : dev->kernelResources_)
        if (k.entry == c.entry + (form ? NCL_GPU_LEAN_SUFFIX : ""))
          c.blocksPerMultiprocessor[form] = k.blocksPerMultiprocessor;
    if (lean >= 0) {
      c.form = lean;
      c.chosenBy = "NCL_CUDA_LEAN";
    } else if (!(c.blocksPerMultiprocessor[0] >= 0 &&
                 c.blocksPerMultiprocessor[1] > c.blocksPerMultiprocessor[0])) {
      c.chosenBy = "occupancy";
    } else if (!d.hasEvents()) {
      c.chosenBy = "no events";
    } else {
      c.decided = false;
    }
  }
  note(dev->spikeLists_, NCL_GPU_SPIKE_LISTS_ENTRY);
  note(dev->spikeList_, NCL_GPU_SPIKE_LIST_ENTRY);
  note(dev->copyCounts_, NCL_GPU_COPY_COUNTS_ENTRY);
  note(dev->gatherSpikes_, NCL_GPU_GATHER_SPIKES_ENTRY);
  note(dev->gatherRecords_, NCL_GPU_GATHER_RECORDS_ENTRY);
  note(dev->findNonFinite_, NCL_GPU_FIND_NONFINITE_ENTRY);
  note(dev->arrivals_, dev->arrivalsByteDelays_  ? NCL_GPU_BYTE_DELAY_ARRIVALS_ENTRY
                       : dev->arrivalsPipelined_ ? NCL_GPU_PIPELINED_ARRIVALS_ENTRY
                                                 : NCL_GPU_ARRIVALS_ENTRY);
  for (int32_t i = 0; i < desc.num_buffers; ++i) {
    const int32_t role = desc.buffers[i].role;
    int32_t &slot = role == NCL_BUFFER_SPIKE_STEP    ? dev->spikeStep_
                    : role == NCL_BUFFER_SPIKE_INDEX ? dev->spikeIndex_
                                                     : dev->spikeChannel_;
    if ((role == NCL_BUFFER_SPIKE_STEP || role == NCL_BUFFER_SPIKE_INDEX ||
         role == NCL_BUFFER_SPIKE_CHANNEL) &&
        slot < 0)
      slot = i;
  }
  return dev;
}

CudaDevice::~CudaDevice() {
  if (!d_ || !context_)
    return;
  d_->cuCtxSetCurrent(context_);
  freeMirror(); // waits for the stream first
  for (const Timed &t : timed_)
    freeEvents_.insert(freeEvents_.end(), {t.start, t.end});
  for (cuda::CUevent e : freeEvents_)
    d_->cuEventDestroy(e);
  for (Graph &g : graphs_)
    d_->cuGraphExecDestroy(g.exec);
  freeMonitorBlocks();
  freeHistories();
  freeArrivals();
  if (deferredArea_)
    d_->cuMemFree(deferredArea_);
  if (arena_)
    d_->cuMemFree(arena_);
  for (void *p : {monitorStaging_, deferredStaging_, arenaHost_})
    if (p)
      d_->cuMemFreeHost(p);
  if (stream_)
    d_->cuStreamDestroy(stream_);
  if (module_)
    d_->cuModuleUnload(module_);
  d_->cuDevicePrimaryCtxRelease(device_);
}

void CudaDevice::makeCurrent() const { d_->cuCtxSetCurrent(context_); }

void CudaDevice::check(ncl_model *m, CUresult r, const char *what) const {
  if (r == CUDA_SUCCESS)
    return;
  std::string msg = "the CUDA device '" + name_ + "' failed: " + what + ": " + describe(r, *d_);
  // A fault surfaces at a later call, which names itself, not the kernel.
  if (isKernelFault(r) && !waitEach_)
    msg += ". a kernel launched before this call faulted: NCL_CUDA_WAIT_EACH=1 names it";
  if (m)
    m->failure = msg; // the device's state is lost: no further run
  throw Error(NCL_ERROR_KERNEL, msg);
}

void CudaDevice::synchronize(ncl_model *m, const char *what) {
  flush(m);
  const auto start = std::chrono::steady_clock::now();
  const CUresult r = d_->cuStreamSynchronize(stream_);
  ++stats_.waits;
  stats_.waitSeconds +=
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  check(m, r, what);
  arenaUsed_ = arenaUploaded_ = 0; // nothing reads the arena now
  if (profiling_)
    readProfile();
  if (!timedForms_.empty())
    readTiming();
}

void CudaDevice::readTiming() {
  // After a wait: every launch timed before it has finished.
  for (const TimedForm &t : timedForms_) {
    float ms = 0;
    if (d_->cuEventElapsedTime(&ms, t.start, t.end) == CUDA_SUCCESS)
      *t.seconds += 1e-3 * static_cast<double>(ms);
    freeEvents_.push_back(t.start);
    freeEvents_.push_back(t.end);
  }
  timedForms_.clear();
  formsPending_ = 0;
}

int64_t CudaDevice::nextMemberTile(ncl_model &m, size_t index, int32_t &candidate) {
  MemberTiling &t = tiling_[index];
  candidate = -1;
  if (t.decided)
    return t.members;
  const int64_t n = static_cast<int64_t>(t.candidates.size());
  // Each size and none in turn: a first round that warms up (a kernel's
  // first launch may load it), then kFormRounds timed.
  if (t.trials < n * (1 + kFormRounds)) {
    const int64_t k = t.trials++ % n;
    if (t.trials > n) {
      candidate = static_cast<int32_t>(k);
      ++t.launches[static_cast<size_t>(k)];
      ++formsPending_;
    }
    return t.candidates[static_cast<size_t>(k)];
  }
  // Timed enough: the times, then the fastest for every later launch.
  if (formsPending_ > 0)
    synchronize(&m, "timing a dense sum's member tiles");
  size_t best = 0;
  for (size_t k = 1; k < t.candidates.size(); ++k)
    if (t.seconds[k] / static_cast<double>(std::max<int64_t>(1, t.launches[k])) <
        t.seconds[best] / static_cast<double>(std::max<int64_t>(1, t.launches[best])))
      best = k;
  t.members = t.candidates[best];
  t.decided = true;
  return t.members;
}

void CudaDevice::settleLean(ncl_model &m, size_t index) {
  if (leanOf_[index] < 0)
    return;
  LeanChoice &c = leans_[static_cast<size_t>(leanOf_[index])];
  if (c.decided || c.trials < 2 * (1 + kFormRounds))
    return;
  // Not within a group: the launch that opens the next one waits (a wait
  // here would divide this step's updates into two launches).
  if (seqOpen_ && seq_.function == seqKernels_[index] && seq_.count < seq_.room)
    return;
  if (formsPending_ > 0)
    synchronize(&m, "timing an update's lean form");
  // Its mean device time per launch against the entry's: the lean form
  // only where it is faster.
  c.form = c.seconds[1] / static_cast<double>(std::max<int64_t>(1, c.launches[1])) <
                   c.seconds[0] / static_cast<double>(std::max<int64_t>(1, c.launches[0]))
               ? 1
               : 0;
  c.decided = true;
}

cuda::CUfunction CudaDevice::nextSeqForm(size_t index, double *&timed) {
  timed = nullptr;
  if (leanOf_[index] < 0)
    return seqKernels_[index];
  LeanChoice &c = leans_[static_cast<size_t>(leanOf_[index])];
  if (c.decided || c.trials >= 2 * (1 + kFormRounds))
    return c.forms[c.form]; // (undecided: a group that could not wait for the times)
  // A grid that fits the multiprocessors at once in the entry's form (its
  // launches' largest, seen in the first round) runs no faster lean: each
  // multiprocessor gets the same blocks, and lean ones spill.
  if (c.trials == 2 && multiprocessors_ > 0 &&
      c.blocks <= static_cast<int64_t>(multiprocessors_) * c.blocksPerMultiprocessor[0]) {
    c.decided = true;
    c.chosenBy = "one wave";
    return c.forms[0];
  }
  // Each form in turn: a first round that warms up, then kFormRounds timed
  // (settleLean decides before the launch after them).
  const int64_t k = c.trials++ % 2;
  if (c.trials > 2) {
    timed = &c.seconds[k];
    ++c.launches[k];
    ++formsPending_;
  }
  return c.forms[k];
}

std::string CudaDevice::profileLabel(const Command &c) const {
  if (c.kind == Command::Copy2D)
    return "copying monitored values on the device";
  if (c.kind == Command::Copy || !c.stage) {
    std::string label = c.action;
    if (c.function == arrivals_ && c.phase) {
      // The works of the launch, as model_abi.h names them.
      static const std::pair<int64_t, const char *> works[] = {
          {NCL_ARRIVALS_SEND, "SEND"},
          {NCL_ARRIVALS_GROUPS, "GROUPS"},
          {NCL_ARRIVALS_GROUPS_NEXT, "GROUPS_NEXT"},
          {NCL_ARRIVALS_STARTS, "STARTS"},
          {NCL_ARRIVALS_SCATTER, "SCATTER"},
          {NCL_ARRIVALS_ORDER, "ORDER"}};
      std::string set;
      for (const auto &[bit, name] : works)
        if (c.phase & bit)
          set += (set.empty() ? "" : "+") + std::string(name);
      label += " (" + set + ")";
    }
    return label;
  }
  std::string label = c.stage->name ? c.stage->name : "a stage";
  // A `_seq` launch (the group it was, not the one open now): named by its
  // first stage.
  if (std::find(seqKernels_.begin(), seqKernels_.end(), c.function) != seqKernels_.end())
    return label + (c.stage->kind == NCL_STAGE_STEP ? " and the updates launched with it"
                                                    : " and the deliveries launched with it");
  for (const LeanChoice &lean : leans_)
    if (lean.forms[1] == c.function)
      return label + " and the updates launched with it (lean: at most " +
             std::to_string(NCL_GPU_LEAN_REGISTERS) + " registers)";
  if (std::find(commits_.begin(), commits_.end(), c.function) != commits_.end())
    return label + " (commit)";
  for (const std::map<int64_t, cuda::CUfunction> &forms : tiles_)
    for (const auto &[members, function] : forms)
      if (function == c.function)
        return label + " (member tiles of " + std::to_string(members) + ")";
  return label;
}

cuda::CUevent CudaDevice::takeEvent(ncl_model *m) {
  cuda::CUevent e = nullptr;
  if (!freeEvents_.empty()) {
    e = freeEvents_.back();
    freeEvents_.pop_back();
  } else {
    check(m, d_->cuEventCreate(&e, 0), "creating an event to time the device");
  }
  return e;
}

CUresult CudaDevice::issueTimed(ncl_model *m, Command &c) {
  if (c.timed) {
    // A launch in a form being timed: a dense sum's member tiles
    // (nextMemberTile), an update's lean form or not (nextSeqForm).
    TimedForm t{c.timed, takeEvent(m), takeEvent(m)};
    check(m, d_->cuEventRecord(t.start, stream_), "recording an event to time a kernel's forms");
    c.timed = nullptr;
    const CUresult r = issueTimed(m, c);
    check(m, d_->cuEventRecord(t.end, stream_), "recording an event to time a kernel's forms");
    timedForms_.push_back(t);
    return r;
  }
  if (!profiling_)
    return issue(c);
  auto event = [&] { return takeEvent(m); };
  const std::string label = profileLabel(c);
  auto found = std::find_if(profile_.begin(), profile_.end(),
                            [&](const ProfileEntry &e) { return e.what == label; });
  if (found == profile_.end())
    found = profile_.insert(profile_.end(), ProfileEntry{label});
  Timed t{static_cast<size_t>(found - profile_.begin()), event(), event()};
  check(m, d_->cuEventRecord(t.start, stream_), "recording an event for NCL_CUDA_PROFILE");
  const CUresult r = issue(c);
  check(m, d_->cuEventRecord(t.end, stream_), "recording an event for NCL_CUDA_PROFILE");
  timed_.push_back(t);
  return r;
}

void CudaDevice::readProfile() {
  // After a wait: every command issued before it has finished.
  for (const Timed &t : timed_) {
    float ms = 0;
    if (d_->cuEventElapsedTime(&ms, t.start, t.end) == CUDA_SUCCESS) {
      profile_[t.entry].commands += 1;
      profile_[t.entry].seconds += 1e-3 * static_cast<double>(ms);
    }
    freeEvents_.push_back(t.start);
    freeEvents_.push_back(t.end);
  }
  timed_.clear();
}

std::vector<const CudaDevice::ProfileEntry *> CudaDevice::profile() const {
  std::vector<const ProfileEntry *> sorted;
  for (const ProfileEntry &e : profile_)
    if (e.commands > 0)
      sorted.push_back(&e);
  std::stable_sort(sorted.begin(), sorted.end(), [](const ProfileEntry *a, const ProfileEntry *b) {
    return a->seconds > b->seconds;
  });
  return sorted;
}

CUresult CudaDevice::copyToDevice(ncl_model &m, CUdeviceptr to, const void *from, size_t bytes) {
  flush(&m);
  ++stats_.copiesToDevice;
  return d_->cuMemcpyHtoDAsync(to, from, bytes, stream_);
}

CUresult CudaDevice::copyToHost(ncl_model &m, void *to, CUdeviceptr from, size_t bytes) {
  flush(&m);
  ++stats_.copiesToHost;
  return d_->cuMemcpyDtoHAsync(to, from, bytes, stream_);
}

CUresult CudaDevice::copyOnDevice(CUdeviceptr to, CUdeviceptr from, size_t bytes) {
  ++stats_.copiesOnDevice;
  return d_->cuMemcpyDtoDAsync(to, from, bytes, stream_);
}

CUresult CudaDevice::launchKernel(CUfunction f, unsigned blocks, unsigned threads, void **params) {
  ++stats_.launches;
  return d_->cuLaunchKernel(f, blocks, 1, 1, threads, 1, 1, 0, stream_, params, nullptr);
}

void CudaDevice::flush(ncl_model *m) {
  if (commands_.empty() && arenaUploaded_ == arenaUsed_ && deferredUploads_.empty())
    return;
  makeCurrent();
  countGroup_ = -1; // uploaded now: a later copy opens another group
  seqOpen_ = false; // and a later delivery another launch
  // Taken out first: what fails is not issued again.
  std::vector<Command> commands;
  commands.swap(commands_);
  // From pinned memory, which the host rewrites only after a wait.
  auto upload = [&](CUdeviceptr to, const void *from, size_t bytes) {
    ++stats_.copiesToDevice;
    check(m, d_->cuMemcpyHtoDAsync(to, from, bytes, stream_),
          "copying kernel headers to the device");
  };
  if (arenaUsed_ > arenaUploaded_)
    upload(arena_ + arenaUploaded_, static_cast<char *>(arenaHost_) + arenaUploaded_,
           arenaUsed_ - arenaUploaded_);
  arenaUploaded_ = arenaUsed_;
  std::vector<std::pair<size_t, size_t>> uploads;
  uploads.swap(deferredUploads_);
  for (const auto &[at, bytes] : uploads)
    upload(deferredArea_ + at, static_cast<char *>(deferredStaging_) + at, bytes);
  // Commands timed for their forms (member tiles, lean updates) are issued
  // between events, which a graph's capture cannot hold.
  const bool timed = std::any_of(commands.begin(), commands.end(),
                                 [](const Command &c) { return c.timed != nullptr; });
  if (timed || !replay(m, commands))
    for (Command &c : commands) {
      auto label = [&] {
        return c.action + (c.stage ? " '" + std::string(c.stage->name) + "'" : std::string());
      };
      if (CUresult r = issueTimed(m, c); r != CUDA_SUCCESS)
        check(m, r, label().c_str());
      if (waitEach_) {
        // Named as the profile names it where that says more (the
        // deliveries launched with a stage, member tiles, an arrival
        // launch's works).
        std::string what = label();
        if (const std::string detail = profileLabel(c);
            detail != c.action && (!c.stage || detail != c.stage->name))
          what += " (" + detail + ")";
        ++stats_.waits;
        check(m, d_->cuStreamSynchronize(stream_),
              (what + ", waited for alone (NCL_CUDA_WAIT_EACH=1)").c_str());
      }
    }
  commands.clear();
  if (commands_.empty())
    commands_.swap(commands);
}

CUresult CudaDevice::issue(Command &c) {
  switch (c.kind) {
  case Command::Launch: {
    // A shared entry's second parameter: the stage's row (docs/gpu.md).
    void *params[] = {&c.param, &c.row};
    return launchKernel(c.function, c.blocks, c.threads, params);
  }
  case Command::Copy:
    return copyOnDevice(c.to, c.from, c.bytes);
  case Command::Copy2D:
    ++stats_.copiesOnDevice;
    return d_->cuMemcpy2DAsync(&c.copy, stream_);
  }
  return CUDA_SUCCESS;
}

bool CudaDevice::Command::operator==(const Command &o) const {
  return kind == o.kind && function == o.function && blocks == o.blocks && threads == o.threads &&
         param == o.param && row == o.row && to == o.to && from == o.from && bytes == o.bytes &&
         copy.srcDevice == o.copy.srcDevice && copy.srcPitch == o.copy.srcPitch &&
         copy.dstDevice == o.copy.dstDevice && copy.dstPitch == o.copy.dstPitch &&
         copy.WidthInBytes == o.copy.WidthInBytes && copy.Height == o.copy.Height;
}

namespace {
/// Batches shorter than this are issued as they are: a graph saves a
/// driver call per command, and costs its instantiation.
constexpr size_t kGraphCommands = 32;
constexpr size_t kGraphsKept = 64;
} // namespace

uint64_t CudaDevice::hashOf(const std::vector<Command> &commands) {
  uint64_t h = 1469598103934665603ull; // FNV-1a over what operator== compares
  auto mix = [&h](uint64_t v) {
    for (int k = 0; k < 8; ++k, v >>= 8)
      h = (h ^ (v & 0xff)) * 1099511628211ull;
  };
  for (const Command &c : commands) {
    mix(c.kind);
    mix(reinterpret_cast<uintptr_t>(c.function));
    mix((uint64_t{c.blocks} << 32) | c.threads);
    mix(c.param);
    mix(static_cast<uint32_t>(c.row));
    mix(c.to);
    mix(c.from);
    mix(c.bytes);
    mix(c.copy.srcDevice);
    mix(c.copy.dstDevice);
    mix(c.copy.srcPitch ^ (c.copy.Height << 20));
  }
  return h;
}

bool CudaDevice::replay(ncl_model *m, std::vector<Command> &commands) {
  if (!useGraphs_ || commands.size() < kGraphCommands)
    return false;
  const uint64_t hash = hashOf(commands);
  auto found = std::find_if(graphs_.begin(), graphs_.end(), [&](const Graph &g) {
    return g.hash == hash && g.commands == commands;
  });
  if (found == graphs_.end()) {
    // A batch seen before becomes a graph (a run's chunks repeat the same
    // commands on headers of other contents; a few patterns alternate
    // where chunks and collections do not align).
    if (std::find(seen_.begin(), seen_.end(), hash) == seen_.end()) {
      seen_.push_back(hash);
      if (seen_.size() > 2 * kGraphsKept)
        seen_.erase(seen_.begin());
      return false;
    }
    // Captured, not run: on any failure the capture is ended and dropped,
    // graphs are not used again, and the caller issues the commands.
    if (d_->cuStreamBeginCapture(stream_, CU_STREAM_CAPTURE_MODE_THREAD_LOCAL) != CUDA_SUCCESS) {
      useGraphs_ = false;
      return false;
    }
    CUresult r = CUDA_SUCCESS;
    for (Command &c : commands)
      if (r == CUDA_SUCCESS)
        r = issue(c);
    CUgraph graph = nullptr;
    const CUresult ended = d_->cuStreamEndCapture(stream_, &graph);
    CUgraphExec exec = nullptr;
    if (r == CUDA_SUCCESS && ended == CUDA_SUCCESS && graph)
      r = d_->cuGraphInstantiateWithFlags(&exec, graph, 0);
    if (graph)
      d_->cuGraphDestroy(graph);
    if (r != CUDA_SUCCESS || ended != CUDA_SUCCESS || !exec) {
      useGraphs_ = false;
      return false;
    }
    if (graphs_.size() == kGraphsKept) { // the least recently used goes
      d_->cuGraphExecDestroy(graphs_.back().exec);
      graphs_.pop_back();
    }
    graphs_.insert(graphs_.begin(), Graph{hash, commands, exec});
    found = graphs_.begin();
  }
  std::rotate(graphs_.begin(), found, found + 1); // most recently used first
  ++stats_.graphLaunches;
  check(m, d_->cuGraphLaunch(graphs_.front().exec, stream_),
        "running a CUDA graph of recorded launches");
  return true;
}

void CudaDevice::uploadDeferred(size_t at, const void *data, size_t bytes) {
  std::memcpy(static_cast<char *>(deferredStaging_) + at, data, bytes);
  // One range for the headers and one for the tables, each spanning what
  // was written since the last flush. The staging holds every slot's table
  // as the device does (a table is written there first, and nothing else
  // writes there), so a range may cover the tables of slots kept between.
  const bool table = at >= deferredTablesAt();
  for (auto &[from, size] : deferredUploads_)
    if ((from >= deferredTablesAt()) == table) {
      const size_t end = std::max(from + size, at + bytes);
      from = std::min(from, at);
      size = end - from;
      return;
    }
  deferredUploads_.emplace_back(at, bytes);
}

void CudaDevice::reserveArena(ncl_model &m, size_t bytes) {
  if (commands_.size() >= kPartCommands)
    flush(&m);
  if ((arenaUsed_ + 15) / 16 * 16 + bytes <= arenaBytes_)
    return;
  // Full: the stream must be done with it before it is rewritten.
  if (arena_)
    synchronize(&m, "waiting for the device");
  if (bytes <= arenaBytes_ && arenaBytes_ >= kArenaGrowsTo)
    return;
  if (arena_)
    d_->cuMemFree(arena_);
  arena_ = 0;
  const size_t grown = std::max(bytes + bytes / 2, arenaBytes_ ? kArenaGrowsTo : kArenaStart);
  arenaBytes_ = 0;
  if (CUresult r = d_->cuMemAlloc(&arena_, grown); r != CUDA_SUCCESS) {
    arena_ = 0;
    throw Error(NCL_ERROR_MEMORY, "not enough memory on the CUDA device '" + name_ +
                                      "': the kernels' headers and lists need " +
                                      formatBytes(grown) + " (" + describe(r, *d_) + ")");
  }
  size_t pinned = 0;
  if (arenaHost_)
    d_->cuMemFreeHost(arenaHost_);
  arenaHost_ = nullptr;
  reservePinned(m, arenaHost_, pinned, grown);
  arenaBytes_ = grown;
}

CUdeviceptr CudaDevice::putInArena(const void *data, size_t bytes) {
  const size_t at = (arenaUsed_ + 15) / 16 * 16;
  if (at + bytes > arenaBytes_)
    throw Error(NCL_ERROR_STATE, "internal error: the CUDA backend's arena has no room reserved");
  std::memcpy(static_cast<char *>(arenaHost_) + at, data, bytes);
  arenaUsed_ = at + bytes;
  return arena_ + at;
}

/// Frees the device copies (the stream has finished with them first).
void CudaDevice::freeMirror() {
  // What is still recorded would read the old copies (a run that failed
  // left it): dropped.
  commands_.clear();
  countGroup_ = -1;
  deferredUploads_.clear();
  if (stream_) {
    d_->cuStreamSynchronize(stream_); // failing, the device has nothing left to free
    ++stats_.waits;
  }
  arenaUsed_ = arenaUploaded_ = 0;
  for (Region &r : regions_)
    if (r.dev)
      d_->cuMemFree(r.dev);
  regions_.clear();
  if (table_)
    d_->cuMemFree(table_);
  table_ = 0;
  if (startArea_)
    d_->cuMemFree(startArea_);
  startArea_ = 0;
  startOffset_.clear();
}

void CudaDevice::reservePinned(ncl_model &m, void *&p, size_t &capacity, size_t bytes) {
  if (bytes <= capacity)
    return;
  if (p)
    d_->cuMemFreeHost(p);
  p = nullptr;
  capacity = 0;
  const size_t grown = std::max<size_t>(bytes + bytes / 2, 4096);
  check(&m, d_->cuMemHostAlloc(&p, grown, 0), "allocating pinned host memory");
  capacity = grown;
}

/// Finds, for every entry of thread 0's buffer table, the host allocation
/// it points into, and gives each allocation a device copy of the same
/// size: the buffers the CPU backend allocated (with their extents, batch
/// members and synapse records), the parameters, the connectivity, the
/// spike buffers and the presynaptic traces. An entry points at the same
/// offset of the device copy.
void CudaDevice::mirror(ncl_model &m) {
  const ThreadState &ts = m.threadStates.front();
  std::vector<Region> wanted;
  auto add = [&wanted](const void *p, size_t bytes, bool written, bool scratch = false) {
    if (p)
      wanted.push_back(Region{p, bytes, 0, written, scratch});
  };
  for (const AlignedArray &a : m.buffers)
    add(a.data(), a.bytes(), true);
  for (const Population &pop : m.pops)
    add(pop.params.data(), pop.params.size() * sizeof(double), false);
  for (const Projection &q : m.projs) {
    add(q.params.data(), q.params.size() * sizeof(double), false);
    add(q.rowStart.data(), q.rowStart.size() * sizeof(int64_t), false);
    add(q.post.data(), q.post.size() * sizeof(int32_t), false);
    add(q.columnStart.data(), q.columnStart.size() * sizeof(int64_t), false);
    add(q.columnSynapse.data(), q.columnSynapse.size() * sizeof(int32_t), false);
    add(q.columnPre.data(), q.columnPre.size() * sizeof(int32_t), false);
  }
  for (const std::vector<uint64_t> &t : ts.preTraces)
    add(t.data(), t.size() * sizeof(uint64_t), true);
  // The step kernels' output, read back entry by entry after each launch.
  add(ts.spikeStep.data(), ts.spikeStep.size() * sizeof(int64_t), false, true);
  add(ts.spikeIndex.data(), ts.spikeIndex.size() * sizeof(int64_t), false, true);
  add(ts.spikeChannel.data(), ts.spikeChannel.size() * sizeof(int32_t), false, true);

  const size_t n = static_cast<size_t>(m.desc->num_buffers);
  std::vector<int32_t> region(n, -1);
  std::vector<size_t> offset(n, 0);
  for (size_t i = 0; i < n; ++i) {
    const ncl_buffer_info &b = m.desc->buffers[i];
    const char *p = static_cast<const char *>(ts.buffers[i]);
    if (!p || b.role == NCL_BUFFER_CONNECT_MASK) // the mask is the host's, at init only
      continue;
    // Inside an allocation; else within the first 64 bytes of an empty one
    // (variable v of a projection without synapses points at element v of
    // its empty records, inside the 64 bytes AlignedArray allocates).
    for (size_t slack : {size_t{0}, size_t{64}})
      for (size_t r = 0; r < wanted.size() && region[i] < 0; ++r) {
        const char *host = static_cast<const char *>(wanted[r].host);
        if (p >= host && (p < host + std::max(wanted[r].bytes, slack) || p == host)) {
          region[i] = static_cast<int32_t>(r);
          offset[i] = static_cast<size_t>(p - host);
        }
      }
    if (region[i] < 0)
      throw Error(NCL_ERROR_KERNEL, "the CUDA backend found no host allocation for buffer '" +
                                        std::string(b.name) +
                                        "' (a runtime bug; please report it)");
  }
  // The same allocations as last time: keep their device copies.
  const bool same =
      table_ && regions_.size() == wanted.size() && region == bufferRegion_ &&
      offset == bufferOffset_ &&
      std::equal(wanted.begin(), wanted.end(), regions_.begin(),
                 [](const Region &a, const Region &b) {
                   return a.host == b.host && a.bytes == b.bytes && a.written == b.written;
                 });
  if (same)
    return;
  freeMirror();
  size_t total = n * sizeof(CUdeviceptr);
  for (const Region &r : wanted)
    total += r.bytes;
  auto alloc = [&](size_t bytes, const std::string &what) {
    CUdeviceptr p = 0;
    if (CUresult r = d_->cuMemAlloc(&p, std::max<size_t>(bytes, 256)); r != CUDA_SUCCESS) {
      freeMirror();
      throw Error(NCL_ERROR_MEMORY, "not enough memory on the CUDA device '" + name_ + "': " +
                                        what + " needs " + formatBytes(bytes) + ", the run " +
                                        formatBytes(total) + " in all (" + describe(r, *d_) + ")");
    }
    return p;
  };
  for (size_t r = 0; r < wanted.size(); ++r) {
    // Named by the first entry of the table that points into it.
    const auto first = std::find(region.begin(), region.end(), static_cast<int32_t>(r));
    const std::string what =
        first == region.end()
            ? std::string("a spike buffer")
            : "the buffer '" + std::string(m.desc->buffers[first - region.begin()].name) + "'";
    wanted[r].dev = alloc(wanted[r].bytes, what);
    wanted[r].syncedAt = launches_; // a new copy holds nothing the host lacks
    regions_.push_back(wanted[r]);  // and everything but scratch is uploaded (hostAhead)
  }
  bufferRegion_ = std::move(region);
  bufferOffset_ = std::move(offset);
  std::vector<CUdeviceptr> table(n, 0);
  for (size_t i = 0; i < n; ++i)
    if (bufferRegion_[i] >= 0)
      table[i] = regions_[static_cast<size_t>(bufferRegion_[i])].dev + bufferOffset_[i];
  // The GPU's code loads each element with its type's alignment (NVPTX's
  // data layout, docs/gpu.md): a 64-bit load from an address that is not
  // a multiple of 8 faults on the device.
  for (size_t i = 0; i < n; ++i)
    if (table[i] % elementBytes(m.desc->buffers[i].element) != 0) {
      const std::string name = m.desc->buffers[i].name;
      freeMirror();
      throw Error(NCL_ERROR_KERNEL, "the CUDA backend would place buffer '" + name +
                                        "' at a device address that is not a multiple of its "
                                        "element's size (a runtime bug; please report it)");
    }
  table_ = alloc(n * sizeof(CUdeviceptr), "the buffer table");
  // From pageable memory: the driver stages it before the call returns.
  check(&m, copyToDevice(m, table_, table.data(), n * sizeof(CUdeviceptr)),
        "copying the buffer table");
  tableHost_ = std::move(table);
  slotTableOffset_.clear(); // the deferred slots' tables point at the old copies
}

void CudaDevice::download(ncl_model &m, Region &r) {
  if (r.bytes > 0)
    ++stats_.copiesToHost;
  check(&m, d_->cuMemcpyDtoH(const_cast<void *>(r.host), r.dev, r.bytes),
        "copying the state from the device");
  r.syncedAt = launches_;
}

void CudaDevice::syncHost(ncl_model &m, const void *at) {
  if (!at)
    arrivalsToHost(m, false);
  const char *p = static_cast<const char *>(at);
  bool waited = false;
  for (Region &r : regions_) {
    const char *host = static_cast<const char *>(r.host);
    if (!deviceAhead(r) || (p && (p < host || p >= host + std::max<size_t>(r.bytes, 1))))
      continue;
    if (!waited) {
      makeCurrent();
      synchronize(&m, "waiting for the device");
      waited = true;
    }
    download(m, r);
  }
}

void CudaDevice::markHostChanged(const void *at) {
  const char *p = static_cast<const char *>(at);
  for (Region &r : regions_) {
    const char *host = static_cast<const char *>(r.host);
    if (p >= host && p < host + std::max<size_t>(r.bytes, 1) && !r.scratch)
      r.hostAhead = true;
  }
}

void CudaDevice::markHostReplaced() {
  hostReplaced_ = true;
  historyCurrent_ = false;
  arrivalsOnDevice_ = false;
  arrivalsOnHost_ = true;
  for (Region &r : regions_)
    r.syncedAt = launches_; // the kernels' values are dropped
}

void CudaDevice::beginRun(ncl_model &m, int64_t target) {
  makeCurrent();
  // An older image's arrival kernel reads two-byte delays only.
  if (arrivals_ && !arrivalsByteDelays_)
    widenSynapseDelays(m);
  mirror(m);
  prepareMonitorBlocks(m, target);
  deferred_.clear(); // what a failed run left is dropped
  pendingLists_.clear();
  deferredUsed_ = 0;
  for (Region &r : regions_) {
    if (hostReplaced_ && !r.scratch)
      r.hostAhead = true;
    if (!r.hostAhead || r.scratch)
      continue;
    // From pageable memory: the driver stages it before the call returns.
    if (r.bytes > 0)
      check(&m, copyToDevice(m, r.dev, r.host, r.bytes), "copying the state to the device");
    r.hostAhead = false;
  }
  hostReplaced_ = false;
}

void CudaDevice::endRun(ncl_model &m, bool failed) {
  if (!failed)
    return; // the state stays on the device until the host reads it
  makeCurrent();
  try {
    flushMonitors(m); // the samples taken before the failure
    syncHost(m);
  } catch (const Error &) { // m.failure says so: no further run
    for (Region &r : regions_)
      r.syncedAt = launches_; // the host keeps what it has
  }
}

void CudaDevice::downloadNeuronState(ncl_model &m, bool replayable) {
  makeCurrent();
  queueMonitorRows(m);
  synchronize(&m, "waiting for the device");
  storeMonitorRows(m);
  for (size_t i = 0; i < bufferRegion_.size(); ++i) {
    const ncl_buffer_info &b = m.desc->buffers[i];
    if (b.extent != NCL_EXTENT_NEURONS || b.population < 0 || bufferRegion_[i] < 0)
      continue;
    const std::vector<int32_t> &vars = m.pops[static_cast<size_t>(b.population)].stateBuffer;
    if (!replayable && std::find(vars.begin(), vars.end(), static_cast<int32_t>(i)) == vars.end())
      continue; // only the NaN scan reads it
    Region &r = regions_[static_cast<size_t>(bufferRegion_[i])];
    if (deviceAhead(r))
      download(m, r);
  }
}

void CudaDevice::saveChunkStart(ncl_model &m) {
  makeCurrent();
  // The per-neuron buffers' places in the area, laid out once a mirror.
  if (startOffset_.empty()) {
    size_t bytes = 0;
    startOffset_.assign(bufferRegion_.size(), SIZE_MAX);
    for (size_t i = 0; i < bufferRegion_.size(); ++i) {
      const ncl_buffer_info &b = m.desc->buffers[i];
      if (b.extent != NCL_EXTENT_NEURONS || b.population < 0 || bufferRegion_[i] < 0 ||
          m.buffers[i].bytes() == 0)
        continue;
      startOffset_[i] = bytes;
      bytes += (m.buffers[i].bytes() + 255) / 256 * 256;
    }
    if (bytes > 0) {
      if (CUresult r = d_->cuMemAlloc(&startArea_, bytes); r != CUDA_SUCCESS) {
        startArea_ = 0;
        startOffset_.clear();
        throw Error(NCL_ERROR_MEMORY, "not enough memory on the CUDA device '" + name_ +
                                          "': the copy of a chunk's start needs " +
                                          formatBytes(bytes) + " (" + describe(r, *d_) + ")");
      }
    }
  }
  for (size_t i = 0; i < startOffset_.size(); ++i)
    if (startOffset_[i] != SIZE_MAX) {
      Command copy;
      copy.kind = Command::Copy;
      copy.to = startArea_ + startOffset_[i];
      copy.from = regions_[static_cast<size_t>(bufferRegion_[i])].dev + bufferOffset_[i];
      copy.bytes = m.buffers[i].bytes();
      copy.action = "keeping the chunk's start on the device";
      record(copy);
    }
}

bool CudaDevice::testNeuronState(ncl_model &m, bool replayable) {
  makeCurrent();
  queueMonitorRows(m);
  // The regions: every state variable of every population.
  const size_t element = static_cast<size_t>(m.desc->real_bits / 8);
  std::vector<ncl_nonfinite_region> regions;
  for (const Population &pop : m.pops)
    for (int32_t v : pop.stateBuffer)
      if (bufferRegion_[static_cast<size_t>(v)] >= 0 && pop.units() > 0) {
        ncl_nonfinite_region r{};
        r.values = reinterpret_cast<const void *>(static_cast<uintptr_t>(
            regions_[static_cast<size_t>(bufferRegion_[static_cast<size_t>(v)])].dev +
            bufferOffset_[static_cast<size_t>(v)]));
        r.count = pop.units();
        r.element = static_cast<int64_t>(element);
        regions.push_back(r);
      }
  CUdeviceptr found = 0;
  if (!regions.empty()) {
    int64_t largest = 0;
    for (const ncl_nonfinite_region &r : regions)
      largest = std::max(largest, r.count);
    const size_t regionBytes = regions.size() * sizeof(ncl_nonfinite_region);
    reserveArena(m, sizeof(ncl_find_nonfinite_args) + regionBytes + sizeof(int64_t) + 64);
    const int64_t zero = 0;
    found = putInArena(&zero, sizeof zero);
    ncl_find_nonfinite_args args{};
    args.count = static_cast<int64_t>(regions.size());
    args.regions = reinterpret_cast<const ncl_nonfinite_region *>(
        static_cast<uintptr_t>(putInArena(regions.data(), regionBytes)));
    args.found = reinterpret_cast<int64_t *>(static_cast<uintptr_t>(found));
    Command c;
    c.kind = Command::Launch;
    c.function = findNonFinite_;
    // A thread per 4 values of the largest region, at most 1024 blocks.
    c.blocks = static_cast<unsigned>(
        std::clamp<int64_t>((largest + 4 * kBlockSize - 1) / (4 * kBlockSize), 1, 1024));
    c.threads = kBlockSize;
    c.param = putInArena(&args, sizeof args);
    c.action = "testing the state for NaN on the device";
    record(c);
  }
  synchronize(&m, "waiting for the device");
  storeMonitorRows(m);
  int64_t flag = 0;
  if (found) {
    ++stats_.copiesToHost;
    check(&m, d_->cuMemcpyDtoH(&flag, found, sizeof flag),
          "copying the state's test from the device");
  }
  if (flag == 0)
    return false;
  // A value is not finite: the host finds it, and replays from the start.
  downloadNeuronState(m, replayable);
  if (replayable)
    fetchChunkStart(m);
  return true;
}

void CudaDevice::fetchChunkStart(ncl_model &m) {
  makeCurrent();
  synchronize(&m, "waiting for the device");
  for (size_t i = 0; i < startOffset_.size(); ++i)
    if (startOffset_[i] != SIZE_MAX) {
      ++stats_.copiesToHost;
      check(&m,
            d_->cuMemcpyDtoH(m.buffersAtChunkStart[i].data(), startArea_ + startOffset_[i],
                             m.buffersAtChunkStart[i].bytes()),
            "copying the chunk's start from the device");
    }
}

void CudaDevice::uploadNeuronState(ncl_model &m) {
  makeCurrent();
  for (size_t i = 0; i < bufferRegion_.size(); ++i) {
    const ncl_buffer_info &b = m.desc->buffers[i];
    if (b.extent != NCL_EXTENT_NEURONS || b.population < 0 || bufferRegion_[i] < 0)
      continue;
    Region &r = regions_[static_cast<size_t>(bufferRegion_[i])];
    if (r.bytes > 0)
      check(&m, copyToDevice(m, r.dev, r.host, r.bytes), "copying the state to the device");
    r.syncedAt = launches_;
  }
}

/// The bytes of a monitor's device block: NCL_CUDA_MONITOR_BLOCK_BYTES
/// where set (a test hook: blocks of a few rows), else 4 MiB, and always
/// at least a row.
static size_t monitorBlockBudget() {
  const char *v = std::getenv("NCL_CUDA_MONITOR_BLOCK_BYTES");
  if (v && *v) {
    char *end = nullptr;
    const unsigned long long n = std::strtoull(v, &end, 10);
    if (end && !*end)
      return static_cast<size_t>(n);
  }
  return size_t{4} << 20;
}

void CudaDevice::prepareMonitorBlocks(ncl_model &m, int64_t target) {
  const size_t budget = monitorBlockBudget();
  const size_t elem = static_cast<size_t>(m.desc->real_bits / 8);
  blocks_.resize(m.monitors.size());
  size_t staged = 0;
  bool waited = false;
  for (size_t k = 0; k < m.monitors.size(); ++k) {
    const Monitor &mon = m.monitors[k];
    MonitorBlock &b = blocks_[k];
    b.rows = 0;
    const size_t rowBytes = mon.isRate() ? 0 : static_cast<size_t>(mon.width()) * elem;
    // The rows this run samples (steps m.step to target), within the budget.
    const int64_t rows = mon.isRate() ? 0 : mon.rows(target) - mon.rows(m.step);
    const int64_t wanted = rowBytes == 0
                               ? 0
                               : std::clamp<int64_t>(static_cast<int64_t>(budget / rowBytes), 1,
                                                     std::max<int64_t>(rows, 1));
    if (b.rowBytes != rowBytes || b.capacity < wanted) {
      if (b.dev) {
        if (!waited) // for what the run queued so far (a new mirror's table)
          synchronize(&m, "waiting for the device");
        waited = true;
        d_->cuMemFree(b.dev);
      }
      b = MonitorBlock{};
      if (wanted > 0 && rows > 0) {
        const size_t bytes = static_cast<size_t>(wanted) * rowBytes;
        if (CUresult r = d_->cuMemAlloc(&b.dev, bytes); r != CUDA_SUCCESS) {
          b.dev = 0;
          throw Error(NCL_ERROR_MEMORY, "not enough memory on the CUDA device '" + name_ +
                                            "': the samples of the monitor '" +
                                            std::string(mon.info->name) + "' need " +
                                            formatBytes(bytes) + " (" + describe(r, *d_) + ")");
        }
        b.rowBytes = rowBytes;
        b.capacity = wanted;
      }
    }
    b.staged = staged;
    staged += (static_cast<size_t>(b.capacity) * b.rowBytes + 15) / 16 * 16;
  }
  reservePinned(m, monitorStaging_, monitorStagingBytes_, staged);
}

void CudaDevice::freeMonitorBlocks() {
  for (MonitorBlock &b : blocks_)
    if (b.dev)
      d_->cuMemFree(b.dev);
  blocks_.clear();
}

void CudaDevice::sampleMonitor(ncl_model &m, size_t monitor, int64_t row, size_t at, size_t buffer,
                               int64_t first, int64_t count, int64_t stride) {
  if (monitor >= blocks_.size() || !blocks_[monitor].dev || buffer >= bufferRegion_.size() ||
      bufferRegion_[buffer] < 0 || count <= 0)
    return;
  MonitorBlock &b = blocks_[monitor];
  // Rows are taken in order: the current one again (another batch
  // member's range), or the next, which a full block first sends home.
  if (b.rows > 0 && row != b.firstRow + b.rows - 1 &&
      (row != b.firstRow + b.rows || b.rows == b.capacity))
    flushMonitors(m);
  if (b.rows == 0) {
    b.firstRow = row;
    b.rows = 1;
  } else if (row == b.firstRow + b.rows) {
    ++b.rows;
  }
  const Region &reg = regions_[static_cast<size_t>(bufferRegion_[buffer])];
  const size_t elem = elementBytes(m.desc->buffers[buffer].element);
  const CUdeviceptr from = reg.dev + bufferOffset_[buffer] +
                           static_cast<size_t>(first) * static_cast<size_t>(stride) * elem;
  const CUdeviceptr to = b.dev + static_cast<size_t>(row - b.firstRow) * b.rowBytes + at;
  Command c;
  c.action = "copying monitored values on the device";
  if (stride == 1) {
    c.kind = Command::Copy;
    c.to = to;
    c.from = from;
    c.bytes = static_cast<size_t>(count) * elem;
    record(c);
    return;
  }
  // Every stride-th element (a variable of interleaved synapse records):
  // a thread each, where the image has the kernel; the copy engine takes
  // such a copy an element at a time.
  if (gatherRecords_) {
    reserveArena(m, sizeof(ncl_gather_records_args) + 16);
    ncl_gather_records_args a;
    a.count = count;
    a.stride = stride;
    a.element = static_cast<int64_t>(elem);
    a.from = reinterpret_cast<const void *>(static_cast<uintptr_t>(from));
    a.to = reinterpret_cast<void *>(static_cast<uintptr_t>(to));
    c.kind = Command::Launch;
    c.function = gatherRecords_;
    c.blocks = static_cast<unsigned>((count + kBlockSize - 1) / kBlockSize);
    c.threads = kBlockSize;
    c.param = putInArena(&a, sizeof a);
    record(c);
    ++launches_;
    return;
  }
  c.kind = Command::Copy2D;
  c.copy.srcMemoryType = c.copy.dstMemoryType = CU_MEMORYTYPE_DEVICE;
  c.copy.srcDevice = from;
  c.copy.srcPitch = static_cast<size_t>(stride) * elem;
  c.copy.dstDevice = to;
  c.copy.dstPitch = elem;
  c.copy.WidthInBytes = elem;
  c.copy.Height = static_cast<size_t>(count);
  record(c);
}

void CudaDevice::queueMonitorRows(ncl_model &m) {
  for (MonitorBlock &b : blocks_)
    if (b.rows > 0) {
      check(&m,
            copyToHost(m, static_cast<char *>(monitorStaging_) + b.staged, b.dev,
                       static_cast<size_t>(b.rows) * b.rowBytes),
            "copying monitored values from the device");
      monitorRowsQueued_ = true;
    }
}

void CudaDevice::storeMonitorRows(ncl_model &m) {
  if (!monitorRowsQueued_)
    return;
  monitorRowsQueued_ = false;
  for (size_t k = 0; k < blocks_.size(); ++k) {
    MonitorBlock &b = blocks_[k];
    if (b.rows == 0)
      continue;
    std::vector<unsigned char> &samples = m.monitors[k].samples;
    const size_t at = static_cast<size_t>(b.firstRow) * b.rowBytes;
    const size_t bytes = static_cast<size_t>(b.rows) * b.rowBytes;
    if (at + bytes <= samples.size())
      std::memcpy(samples.data() + at, static_cast<const char *>(monitorStaging_) + b.staged,
                  bytes);
    b.rows = 0;
  }
}

void CudaDevice::flushMonitors(ncl_model &m) {
  makeCurrent();
  queueMonitorRows(m);
  if (!monitorRowsQueued_)
    return;
  synchronize(&m, "copying monitored values from the device");
  storeMonitorRows(m);
}

void CudaDevice::recordLaunch(const ncl_model &m, const ncl_stage_info &stage, CUdeviceptr header,
                              int64_t range, int64_t begin, bool oneThread, CUdeviceptr countFrom,
                              size_t countField) {
  if (countFrom && copyCounts_) {
    // A list made on the device: its length, which the host does not know,
    // copied by the step's count kernel before the first of its deliveries
    // (every list they read was made in an earlier step).
    if (countGroup_ < 0 || countsInGroup_ == countGroupRoom_)
      openCountGroup(m);
    ncl_count_copy pair;
    pair.from = reinterpret_cast<const int64_t *>(static_cast<uintptr_t>(countFrom));
    pair.to = reinterpret_cast<int64_t *>(static_cast<uintptr_t>(header + countField));
    auto *args = static_cast<ncl_copy_counts_args *>(hostInArena(countArgs_));
    std::memcpy(static_cast<char *>(hostInArena(countArgs_ + sizeof *args)) +
                    static_cast<size_t>(countsInGroup_) * sizeof pair,
                &pair, sizeof pair);
    args->count = ++countsInGroup_;
    commands_[static_cast<size_t>(countGroup_)].blocks =
        static_cast<unsigned>((countsInGroup_ + kBlockSize - 1) / kBlockSize);
  } else if (countFrom) {
    // Without the count kernel (a library of an older nclc): a copy each.
    Command copy;
    copy.kind = Command::Copy;
    copy.to = header + countField;
    copy.from = countFrom;
    copy.bytes = sizeof(int64_t);
    copy.action = "copying the spike list's length for the stage";
    copy.stage = &stage;
    record(copy);
  }
  const size_t index = static_cast<size_t>(&stage - m.desc->stages);
  if (seqKernels_[index] && !oneThread) {
    addToSeqGroup(m, index, header, range, begin);
    ++launches_;
    return;
  }
  Command c;
  c.kind = Command::Launch;
  c.function = kernels_[index];
  c.row = rows_[index];
  c.blocks = oneThread ? 1 : static_cast<unsigned>((range + kBlockSize - 1) / kBlockSize);
  c.threads = oneThread ? 1 : kBlockSize;
  c.param = header;
  c.action = "running the stage";
  c.stage = &stage;
  record(c);
  ++launches_;
}

size_t CudaDevice::countGroupBytes(const ncl_model &m) const {
  // Room for every stage of a step: a group rarely spans more.
  return sizeof(ncl_copy_counts_args) +
         static_cast<size_t>(std::max(m.desc->num_stages, 1)) * sizeof(ncl_count_copy);
}

size_t CudaDevice::seqGroupBytes(size_t stage) const {
  if (!seqKernels_[stage])
    return 0;
  const size_t room = static_cast<size_t>(std::max<int64_t>(seqRoom_[stage], 1));
  return sizeof(ncl_seq_launch_args) + room * (sizeof(CUdeviceptr) + 2 * sizeof(int32_t)) + 32;
}

void CudaDevice::addToSeqGroup(const ncl_model &m, size_t stage, CUdeviceptr header, int64_t range,
                               int64_t begin) {
  const ncl_stage_info &info = m.desc->stages[stage];
  // The population whose neurons the threads own: a delivery's
  // postsynaptic one, an update's own.
  const int32_t post =
      info.projection >= 0 ? m.desc->projections[info.projection].post : info.population;
  // A launch onto a population the group reaches from another `begin`
  // would give one neuron two threads: it starts another group.
  const bool fits =
      seqOpen_ && seq_.function == seqKernels_[stage] && seq_.count < seq_.room &&
      std::none_of(
          seq_.targets.begin(), seq_.targets.end(),
          [&](const SeqGroup::Target &t) { return t.population == post && t.begin != begin; });
  const CUdeviceptr headersAt = [&] {
    if (fits)
      return seq_.args + sizeof(ncl_seq_launch_args);
    const size_t room = static_cast<size_t>(std::max<int64_t>(seqRoom_[stage], 1));
    std::vector<char> empty(seqGroupBytes(stage) - 32, 0);
    seq_ = SeqGroup();
    seq_.function = seqKernels_[stage];
    seq_.room = static_cast<int64_t>(room);
    seq_.args = putInArena(empty.data(), empty.size());
    const CUdeviceptr headers = seq_.args + sizeof(ncl_seq_launch_args);
    auto *args = static_cast<ncl_seq_launch_args *>(hostInArena(seq_.args));
    args->headers =
        reinterpret_cast<const ncl_kernel_args *const *>(static_cast<uintptr_t>(headers));
    args->rows =
        reinterpret_cast<const int32_t *>(static_cast<uintptr_t>(headers + room * sizeof(header)));
    // Each population its own blocks where the entry reads them: a thread
    // then walks the launches onto its population only (docs/gpu.md).
    if (info.gpu_launch & NCL_GPU_LAUNCH_SEQ_BLOCKS)
      args->first_blocks = reinterpret_cast<const int32_t *>(
          static_cast<uintptr_t>(headers + room * (sizeof(header) + sizeof(int32_t))));
    Command c;
    c.kind = Command::Launch;
    c.function = nextSeqForm(stage, c.timed);
    c.threads = kBlockSize;
    c.param = seq_.args;
    c.action = "running the stage";
    c.stage = &info;
    record(c);
    seq_.command = commands_.size() - 1;
    seqOpen_ = true;
    return headers;
  }();
  char *headers = static_cast<char *>(hostInArena(headersAt));
  const int32_t row = rows_[stage];
  std::memcpy(headers + static_cast<size_t>(seq_.count) * sizeof header, &header, sizeof header);
  std::memcpy(headers + static_cast<size_t>(seq_.room) * sizeof header +
                  static_cast<size_t>(seq_.count) * sizeof row,
              &row, sizeof row);
  // The launch's first block: its population's, or the group's next.
  int32_t first = 0;
  if (info.gpu_launch & NCL_GPU_LAUNCH_SEQ_BLOCKS) {
    const auto same = std::find_if(seq_.targets.begin(), seq_.targets.end(),
                                   [&](const SeqGroup::Target &t) { return t.population == post; });
    first = same != seq_.targets.end() ? same->firstBlock : static_cast<int32_t>(seq_.blocks);
    std::memcpy(headers + static_cast<size_t>(seq_.room) * (sizeof header + sizeof row) +
                    static_cast<size_t>(seq_.count) * sizeof first,
                &first, sizeof first);
  }
  static_cast<ncl_seq_launch_args *>(hostInArena(seq_.args))->count = ++seq_.count;
  seq_.targets.push_back({post, begin, first});
  seq_.blocks = std::max(seq_.blocks, first + (range + kBlockSize - 1) / kBlockSize);
  commands_[seq_.command].blocks = static_cast<unsigned>(seq_.blocks);
  if (leanOf_[stage] >= 0) {
    LeanChoice &c = leans_[static_cast<size_t>(leanOf_[stage])];
    c.blocks = std::max(c.blocks, seq_.blocks);
  }
}

void CudaDevice::openCountGroup(const ncl_model &m) {
  const size_t bytes = countGroupBytes(m);
  std::vector<char> empty(bytes, 0);
  countArgs_ = putInArena(empty.data(), bytes);
  auto *args = static_cast<ncl_copy_counts_args *>(hostInArena(countArgs_));
  args->count = 0;
  args->copies = reinterpret_cast<const ncl_count_copy *>(
      static_cast<uintptr_t>(countArgs_ + sizeof(ncl_copy_counts_args)));
  countGroupRoom_ = static_cast<int64_t>((bytes - sizeof *args) / sizeof(ncl_count_copy));
  countsInGroup_ = 0;
  Command c;
  c.kind = Command::Launch;
  c.function = copyCounts_;
  c.blocks = 1;
  c.threads = kBlockSize;
  c.param = countArgs_;
  c.action = "copying the lengths of spike lists on the device";
  countGroup_ = static_cast<int64_t>(commands_.size());
  record(c);
  ++launches_;
}

void *CudaDevice::hostInArena(CUdeviceptr at) {
  return static_cast<char *>(arenaHost_) + (at - arena_);
}

void CudaDevice::launch(ncl_model &m, const ncl_stage_info &stage, ncl_kernel_args &a) {
  launchWith(m, stage, a, nullptr);
}

void CudaDevice::launchListed(ncl_model &m, const ncl_stage_info &stage, ncl_kernel_args &a,
                              size_t p, int64_t slot) {
  const DeviceHistory &h = histories_.at(p);
  if (slot < 0 || slot >= h.depth)
    throw Error(NCL_ERROR_STATE, "internal error: the stage '" + std::string(stage.name) +
                                     "' reads a spike history slot the device does not have");
  DeviceList list;
  list.spikes = h.lists + static_cast<size_t>(slot * h.units) * sizeof(int32_t);
  list.count = h.counts + static_cast<size_t>(slot) * sizeof(int64_t);
  list.capacity = h.units;
  a.spikes = nullptr;
  a.num_spikes = 0;
  launchWith(m, stage, a, &list);
}

void CudaDevice::launchWith(ncl_model &m, const ncl_stage_info &stage, ncl_kernel_args &a,
                            const DeviceList *list) {
  const size_t index = static_cast<size_t>(&stage - m.desc->stages);
  if (stage.kind == NCL_STAGE_STEP)
    throw Error(NCL_ERROR_STATE, "internal error: the step stage '" + std::string(stage.name) +
                                     "' was launched without a region for its spikes");
  const ncl_gpu_launch shape = launchShape(m, stage);
  const bool oneThread = shape == NCL_GPU_LAUNCH_WHOLE_RANGE;
  // A thread per index of [begin, end), or per entry of the spike list
  // (per place it may fill, for a list made on the device).
  const int64_t spikes = list && !list->synapses ? list->capacity : a.num_spikes;
  const int64_t range = shape == NCL_GPU_LAUNCH_PER_SPIKE ? spikes : a.end - a.begin;
  // The CPU backend calls a deliver only over a non-empty range, which the
  // commit below follows.
  // Nor need a thread per target on the host's list launch for no entry
  // (the list would be only its bucket starts).
  if ((range <= 0 && !oneThread) || (perTarget(shape) && !list && a.num_synapses <= 0)) {
    a.spike_count = 0;
    a.steps_done = a.num_steps;
    return;
  }
  ncl_kernel_args h = a;
  h.buffers = reinterpret_cast<void *const *>(static_cast<uintptr_t>(table_));
  h.spikes = nullptr;
  h.synapses = nullptr;
  // The lists and the header in the arena, with room for all three first.
  const size_t spikeBytes = !list && a.spikes && a.num_spikes > 0
                                ? static_cast<size_t>(a.num_spikes) * sizeof(int32_t)
                                : 0;
  // A list the bucket starts of a thread per target begin (model_abi.h,
  // NCL_GPU_LAUNCH_PER_TARGET_BUCKETS): B + 1 of them.
  const int64_t startBuckets =
      shape == NCL_GPU_LAUNCH_PER_TARGET_BUCKETS && a.synapses && a.num_synapses > 0
          ? (a.end - a.begin + NCL_GPU_TARGET_BUCKET - 1) / NCL_GPU_TARGET_BUCKET + 1
          : 0;
  const size_t synapseBytes =
      a.synapses && a.num_synapses > 0
          ? static_cast<size_t>(startBuckets + a.num_synapses) * sizeof(int64_t)
          : 0;
  // A delivery on a list made on the device may open a group of copies.
  const size_t group = list && copyCounts_ ? countGroupBytes(m) + 16 : 0;
  // A dense sum with member tiles: the size of this launch (the first
  // launch after its sizes were timed waits for the device once, for the
  // times, before anything of this launch is recorded, as a full arena does).
  int32_t timing = -1;
  const int64_t members = !list && !tiles_[index].empty() ? nextMemberTile(m, index, timing) : 0;
  // And one of the shared entry's `_seq` launch; and a second header for
  // the members past a dense sum's last whole tile (below).
  reserveArena(m, spikeBytes + synapseBytes + 2 * sizeof h + group + seqGroupBytes(index) + 64);
  if (list && list->synapses) // made by the arrival queues, by target already
    h.synapses = reinterpret_cast<const int64_t *>(static_cast<uintptr_t>(list->spikes));
  else if (list)
    h.spikes = reinterpret_cast<const int32_t *>(static_cast<uintptr_t>(list->spikes));
  else if (spikeBytes > 0)
    h.spikes =
        reinterpret_cast<const int32_t *>(static_cast<uintptr_t>(putInArena(a.spikes, spikeBytes)));
  const int64_t *synapses = a.synapses;
  if (perTarget(shape) && a.synapses && a.num_synapses > 0) {
    // A thread per postsynaptic neuron finds its entries by a binary
    // search: the list sorted by postsynaptic neuron, each neuron's entries
    // in the list's order (what its sums add, in the CPU's order); its
    // bucket's place in the list first, where the kernel reads that.
    const std::vector<int32_t> &post = m.projs[static_cast<size_t>(stage.projection)].post;
    sortedSynapses_.assign(static_cast<size_t>(startBuckets), 0);
    sortedSynapses_.insert(sortedSynapses_.end(), a.synapses, a.synapses + a.num_synapses);
    const auto entries = sortedSynapses_.begin() + startBuckets;
    std::stable_sort(entries, sortedSynapses_.end(), [&post](int64_t x, int64_t y) {
      return post[static_cast<size_t>(x)] < post[static_cast<size_t>(y)];
    });
    for (int64_t k = 0, e = startBuckets; k < startBuckets; ++k) {
      const int64_t first = a.begin + k * NCL_GPU_TARGET_BUCKET;
      while (e < static_cast<int64_t>(sortedSynapses_.size()) &&
             post[static_cast<size_t>(sortedSynapses_[static_cast<size_t>(e)])] < first)
        ++e;
      sortedSynapses_[static_cast<size_t>(k)] = e;
    }
    synapses = sortedSynapses_.data();
  }
  if (synapseBytes > 0)
    h.synapses = reinterpret_cast<const int64_t *>(
        static_cast<uintptr_t>(putInArena(synapses, synapseBytes)));
  CUdeviceptr header = putInArena(&h, sizeof h);
  // A dense sum over batch members (model_abi.h, NCL_GPU_LAUNCH_MEMBER_TILES):
  // its whole tiles of members through the member-tiled entry of the size
  // chosen above, a thread per postsynaptic neuron and tile, and the
  // members past the last whole tile (fewer than a tile) a thread per
  // index, on a header that begins there. While the sizes are timed, the
  // launch's commands carry the size they time.
  int64_t rest = range;
  bool allTiled = false;
  const size_t firstCommand = commands_.size();
  if (members > 0) {
    const int64_t n = m.pops[static_cast<size_t>(m.desc->projections[stage.projection].post)].size;
    const int64_t tile = n * members;
    const int64_t tiled = n > 0 && h.begin % n == 0 ? range / tile * tile : 0;
    if (tiled > 0) {
      recordSecondEntry(stage, tiles_[index].at(members), -1, tiled / members, header);
      rest = range - tiled;
      allTiled = rest == 0;
      h.begin += tiled;
      if (!allTiled)
        header = putInArena(&h, sizeof h);
    }
  }
  if (!allTiled)
    recordLaunch(m, stage, header, rest, h.begin, oneThread, list ? list->count : 0,
                 list && list->synapses ? offsetof(ncl_kernel_args, num_synapses)
                                        : offsetof(ncl_kernel_args, num_spikes));
  if (timing >= 0)
    for (size_t k = firstCommand; k < commands_.size(); ++k)
      commands_[k].timed = &tiling_[index].seconds[static_cast<size_t>(timing)];
  if (allTiled)
    return;
  if (shape == NCL_GPU_LAUNCH_PER_INDEX_COMMIT && spikes > 0) {
    // The presynaptic traces, which the kernel above read as they were
    // before it: stored after it on the stream, a thread per spike.
    recordSecondEntry(stage, commits_[index], rows_[index], spikes, header);
  }
}

void CudaDevice::recordSecondEntry(const ncl_stage_info &stage, cuda::CUfunction function,
                                   int32_t row, int64_t threads, CUdeviceptr header) {
  Command c;
  c.kind = Command::Launch;
  c.function = function;
  c.row = row;
  c.blocks = static_cast<unsigned>((threads + kBlockSize - 1) / kBlockSize);
  c.threads = kBlockSize;
  c.param = header;
  c.action = "running the stage";
  c.stage = &stage;
  record(c);
  ++launches_;
}

//===----------------------------------------------------------------------===//
// Deferred step launches (models whose host reads spikes at the chunk's end)
//===----------------------------------------------------------------------===//

namespace {
constexpr int64_t kDeferredSlots = 4096;               // launches between collections
constexpr int64_t kDeferredEntries = int64_t{1} << 20; // entries of each array, at least
constexpr unsigned kGatherThreads = 128;               // per launch whose entries are packed
} // namespace

size_t CudaDevice::deferredHeaderBytes() const { return (sizeof(ncl_kernel_args) + 15) / 16 * 16; }

size_t CudaDevice::deferredTablesAt() const {
  return static_cast<size_t>(deferredSlots_) * deferredHeaderBytes();
}

size_t CudaDevice::deferredArrayAt(int which) const {
  const size_t tables =
      (static_cast<size_t>(deferredSlots_) * deferredTableEntries_ * sizeof(CUdeviceptr) + 15) /
      16 * 16;
  const size_t entries = static_cast<size_t>(deferredEntries_);
  // The packed arrays (3 to 5) follow the launches' (0 to 2).
  const size_t arrays = (entries * (2 * sizeof(int64_t) + sizeof(int32_t)) + 15) / 16 * 16;
  return deferredTablesAt() + tables + (which >= 3 ? arrays : 0) +
         (which % 3 == 0   ? 0
          : which % 3 == 1 ? entries * sizeof(int64_t)
                           : 2 * entries * sizeof(int64_t));
}

size_t CudaDevice::deferredStartsAt(bool onDevice) const {
  const size_t arrays = deferredArrayAt(onDevice && gatherSpikes_ ? 3 : 0) +
                        static_cast<size_t>(deferredEntries_) * (2 * sizeof(int64_t) + 4);
  return (arrays + 15) / 16 * 16;
}

bool CudaDevice::launchDeferred(ncl_model &m, const ncl_stage_info &stage, ncl_kernel_args &a) {
  const size_t index = static_cast<size_t>(&stage - m.desc->stages);
  const ncl_gpu_launch shape = launchShape(m, stage);
  const bool oneThread = shape == NCL_GPU_LAUNCH_WHOLE_RANGE;
  const int64_t range = a.end - a.begin;
  const Population &pop = m.pops[static_cast<size_t>(stage.population)];
  const int64_t channels = 1 + std::max(0, pop.info->num_events);
  const bool stored = a.spike_capacity > 0 && spikeStep_ >= 0 && spikeIndex_ >= 0;
  int64_t steps = a.num_steps;
  if (a.spike_capacity > 0 && range > 0)
    steps = std::clamp<int64_t>(a.spike_capacity / (range * channels), 1, a.num_steps);
  // Every neuron may emit each of its channels in every step.
  const int64_t need = stored ? std::max<int64_t>(range, 0) * channels * steps : 0;
  // The entries this chunk's launches need, within the budget (each may
  // need its whole spike capacity): a smaller buffer than that grows.
  const int64_t wanted =
      std::max(need, std::max(a.spike_capacity, std::min(kDeferredEntries, deferredPlanned_)));
  if (static_cast<int64_t>(deferred_.size()) >= deferredSlots_ ||
      deferredUsed_ + need > deferredEntries_ || deferredTableEntries_ != tableHost_.size() ||
      (deferred_.empty() && wanted > deferredEntries_)) {
    if (!deferred_.empty())
      return false; // collect first
    if (wanted > deferredEntries_ || deferredTableEntries_ != tableHost_.size()) {
      // A larger area, once the launches that use the old one are done.
      makeCurrent();
      synchronize(&m, "waiting for the device");
      if (deferredArea_)
        d_->cuMemFree(deferredArea_);
      deferredArea_ = 0;
      deferredSlots_ = kDeferredSlots;
      deferredTableEntries_ = tableHost_.size();
      deferredEntries_ = wanted;
      slotTableOffset_.clear();
      const size_t startsBytes = static_cast<size_t>(deferredSlots_ + 1) * sizeof(int64_t);
      const size_t bytes = deferredStartsAt(true) + startsBytes;
      if (CUresult r = d_->cuMemAlloc(&deferredArea_, bytes); r != CUDA_SUCCESS) {
        deferredArea_ = 0;
        deferredSlots_ = deferredEntries_ = 0;
        deferredTableEntries_ = SIZE_MAX;
        throw Error(NCL_ERROR_MEMORY, "not enough memory on the CUDA device '" + name_ +
                                          "': the spikes of the step launches need " +
                                          formatBytes(bytes) + " (" + describe(r, *d_) + ")");
      }
      reservePinned(m, deferredStaging_, deferredStagingBytes_,
                    deferredStartsAt(false) + startsBytes);
    }
  }
  const bool channelsWritten = stored && spikeChannel_ >= 0 && pop.info->num_events > 0;
  DeferredLaunch launch{index, a.begin,         deferredUsed_,
                        need,  channelsWritten, range > 0 || oneThread};
  a.spike_count = 0;
  a.steps_done = range > 0 || oneThread ? steps : a.num_steps;
  if (stored)
    a.spike_capacity = need;
  if (!launch.launched) {
    deferred_.push_back(launch);
    return true;
  }
  makeCurrent();
  // The lean form's times read, where they are complete, before anything of
  // this launch is recorded (a wait, as a full arena's).
  settleLean(m, index);
  // Room for the `_seq` group an update of a shared entry may open.
  reserveArena(m, seqGroupBytes(index) + 16);
  const size_t slot = deferred_.size();
  const CUdeviceptr header = deferredArea_ + slot * deferredHeaderBytes();
  ncl_kernel_args h = a;
  h.buffers = reinterpret_cast<void *const *>(static_cast<uintptr_t>(table_));
  h.spikes = nullptr;
  h.synapses = nullptr;
  h.num_steps = steps;
  h.spike_count = 0;
  h.steps_done = 0;
  if (stored) {
    // The launch's own table: the spike buffers point at its region.
    std::vector<CUdeviceptr> table = tableHost_;
    for (size_t i = 0; i < table.size(); ++i) {
      const ncl_buffer_info &b = m.desc->buffers[i];
      if (b.extent != NCL_EXTENT_SPIKE_CAPACITY || !table[i])
        continue;
      const int which = b.role == NCL_BUFFER_SPIKE_STEP    ? 0
                        : b.role == NCL_BUFFER_SPIKE_INDEX ? 1
                                                           : 2;
      table[i] = deferredArea_ + deferredArrayAt(which) +
                 static_cast<size_t>(launch.offset) * (which == 2 ? 4 : 8);
    }
    const size_t tableBytes = table.size() * sizeof(CUdeviceptr);
    const CUdeviceptr at = deferredArea_ + deferredTablesAt() + slot * tableBytes;
    // A network's launches take the same slots at the same offsets chunk
    // after chunk: a slot that holds this table already needs no copy.
    if (slotTableOffset_.size() <= slot)
      slotTableOffset_.resize(slot + 1, -1);
    if (slotTableOffset_[slot] != launch.offset) {
      uploadDeferred(at - deferredArea_, table.data(), tableBytes);
      slotTableOffset_[slot] = launch.offset;
    }
    h.buffers = reinterpret_cast<void *const *>(static_cast<uintptr_t>(at));
  }
  uploadDeferred(slot * deferredHeaderBytes(), &h, sizeof h);
  recordLaunch(m, stage, header, range, h.begin, oneThread);
  deferred_.push_back(launch);
  deferredUsed_ += need;
  return true;
}

void CudaDevice::queueLaunchEntries(ncl_model &m, const DeferredLaunch &l, int64_t from,
                                    int64_t to) {
  char *host = static_cast<char *>(deferredStaging_);
  for (int which = 0; which < (l.channels ? 3 : 2); ++which) {
    const size_t elem = which == 2 ? 4 : 8;
    const size_t at = deferredArrayAt(which) + static_cast<size_t>(l.offset + from) * elem;
    check(&m, copyToHost(m, host + at, deferredArea_ + at, static_cast<size_t>(to - from) * elem),
          "copying the spikes from the device");
  }
}

void CudaDevice::gatherSpikes(ncl_model &m, bool channels, int64_t expected,
                              std::vector<int64_t> &at) {
  const size_t n = deferred_.size();
  char *host = static_cast<char *>(deferredStaging_);
  const char *what = "copying the spikes from the device";
  auto ptr = [](CUdeviceptr p) { return reinterpret_cast<void *>(static_cast<uintptr_t>(p)); };
  // The kernel packs every launch's entries, launch after launch, into the
  // packed arrays, and where each starts (NCL_GPU_GATHER_SPIKES_ENTRY).
  std::vector<ncl_spike_region> regions(n);
  for (size_t i = 0; i < n; ++i) {
    const DeferredLaunch &l = deferred_[i];
    regions[i].count = static_cast<const int64_t *>(
        ptr(deferredArea_ + i * deferredHeaderBytes() + offsetof(ncl_kernel_args, spike_count)));
    regions[i].offset = l.offset;
    regions[i].capacity = l.launched ? l.capacity : 0; // an unlaunched header is never written
  }
  reserveArena(m, n * sizeof(ncl_spike_region) + 2 * sizeof(ncl_gather_spikes_args) + 64);
  ncl_gather_spikes_args g{};
  g.launches = static_cast<int64_t>(n);
  g.from = static_cast<const ncl_spike_region *>(
      ptr(putInArena(regions.data(), n * sizeof(ncl_spike_region))));
  g.step = static_cast<const int64_t *>(ptr(deferredArea_ + deferredArrayAt(0)));
  g.index = static_cast<const int64_t *>(ptr(deferredArea_ + deferredArrayAt(1)));
  g.channel =
      channels ? static_cast<const int32_t *>(ptr(deferredArea_ + deferredArrayAt(2))) : nullptr;
  g.starts = static_cast<int64_t *>(ptr(deferredArea_ + deferredStartsAt(true)));
  g.to_step = static_cast<int64_t *>(ptr(deferredArea_ + deferredArrayAt(3)));
  g.to_index = static_cast<int64_t *>(ptr(deferredArea_ + deferredArrayAt(4)));
  g.to_channel =
      channels ? static_cast<int32_t *>(ptr(deferredArea_ + deferredArrayAt(5))) : nullptr;
  g.room = deferredEntries_;
  Command c;
  c.kind = Command::Launch;
  c.function = gatherSpikes_;
  c.action = "gathering the spikes on the device";
  for (int64_t phase : {0, 1}) {
    g.phase = phase;
    // Phase 0: a thread per launch and one for the total; 1: a block per launch.
    c.blocks = phase == 0 ? static_cast<unsigned>((n + 1 + kBlockSize - 1) / kBlockSize)
                          : static_cast<unsigned>(n);
    c.threads = phase == 0 ? kBlockSize : kGatherThreads;
    c.param = putInArena(&g, sizeof g);
    record(c);
    ++launches_;
  }
  // The headers, the starts and the first entries: a copy each.
  check(&m, copyToHost(m, host, deferredArea_, n * deferredHeaderBytes()), what);
  check(&m,
        copyToHost(m, host + deferredStartsAt(false), deferredArea_ + deferredStartsAt(true),
                   (n + 1) * sizeof(int64_t)),
        what);
  auto queue = [&](int64_t from, int64_t to) {
    for (int which = 0; which < (channels ? 3 : 2); ++which) {
      const size_t elem = which == 2 ? 4 : 8;
      check(
          &m,
          copyToHost(m, host + deferredArrayAt(which) + static_cast<size_t>(from) * elem,
                     deferredArea_ + deferredArrayAt(which + 3) + static_cast<size_t>(from) * elem,
                     static_cast<size_t>(to - from) * elem),
          what);
    }
  };
  expected = std::min(expected, deferredEntries_);
  if (expected > 0)
    queue(0, expected);
  synchronize(&m, what);
  const auto *starts = reinterpret_cast<const int64_t *>(host + deferredStartsAt(false));
  const int64_t packed = std::clamp<int64_t>(starts[n], 0, deferredEntries_);
  if (packed > expected) {
    queue(expected, packed);
    synchronize(&m, what);
  }
  for (size_t i = 0; i < n; ++i)
    at[i] = std::clamp<int64_t>(starts[i], 0, deferredEntries_);
}

std::vector<CudaDevice::LaunchSpikes> CudaDevice::collectSpikes(ncl_model &m) {
  flushSpikeLists(m); // the lists of the launches collected, before the wait
  std::vector<LaunchSpikes> out(deferred_.size());
  if (deferred_.empty())
    return out;
  makeCurrent();
  const size_t n = deferred_.size();
  char *host = static_cast<char *>(deferredStaging_);
  const char *what = "copying the spikes from the device";
  // As many entries of each launch as its stage's last launches gave (with
  // headroom) are read with the headers, in one wait; more in a second.
  std::vector<int64_t> first(n, 0);
  int64_t expected = 0;
  bool channels = false;
  for (size_t i = 0; i < n; ++i) {
    const DeferredLaunch &l = deferred_[i];
    const auto known = expectedOfBlock_.find({l.stage, l.begin});
    first[i] = std::min(known != expectedOfBlock_.end() ? known->second : expectedSpikes_[l.stage],
                        l.capacity);
    if (l.launched) {
      expected += first[i];
      channels = channels || l.channels;
    }
  }
  // Where each launch's entries are in the staging's arrays.
  std::vector<int64_t> from(n, 0);
  if (gatherSpikes_) {
    gatherSpikes(m, channels, expected, from);
  } else {
    // The headers (those of launches that ran nothing are never read) and
    // each launch's first entries, a copy per array and launch.
    check(&m, copyToHost(m, host, deferredArea_, n * deferredHeaderBytes()), what);
    for (size_t i = 0; i < n; ++i) {
      from[i] = deferred_[i].offset;
      if (deferred_[i].launched && first[i] > 0)
        queueLaunchEntries(m, deferred_[i], 0, first[i]);
    }
    synchronize(&m, what);
  }
  // No spike of a step whose arrivals overflowed a queue is taken.
  checkArrivals(m);
  bool more = false;
  int64_t total = 0;
  for (size_t i = 0; i < n; ++i) {
    const DeferredLaunch &l = deferred_[i];
    if (!l.launched)
      continue;
    ncl_kernel_args h;
    std::memcpy(&h, host + i * deferredHeaderBytes(), sizeof h);
    out[i].count = h.spike_count;
    if (h.spike_count < 0 || h.spike_count > l.capacity || l.capacity == 0)
      continue; // nothing stored, or a report the caller refuses
    expectedSpikes_[l.stage] = expectedOfBlock_[{l.stage, l.begin}] =
        h.spike_count + h.spike_count / 2 + 32;
    total += h.spike_count;
    if (!gatherSpikes_ && h.spike_count > first[i]) {
      queueLaunchEntries(m, l, first[i], h.spike_count);
      more = true;
    }
  }
  if (more)
    synchronize(&m, what);
  // Each launch's entries in slot order, then sorted by (step, neuron,
  // channel): the CPU's order (docs/gpu.md, "Spikes").
  collectedStep_.resize(static_cast<size_t>(total));
  collectedIndex_.resize(static_cast<size_t>(total));
  collectedChannel_.resize(static_cast<size_t>(total));
  std::vector<std::tuple<int64_t, int64_t, int32_t>> entries;
  size_t at = 0;
  for (size_t i = 0; i < n; ++i) {
    const DeferredLaunch &l = deferred_[i];
    const int64_t count = out[i].count;
    if (!l.launched || count <= 0 || count > l.capacity)
      continue;
    const auto *stepIn = reinterpret_cast<const int64_t *>(host + deferredArrayAt(0)) + from[i];
    const auto *indexIn = reinterpret_cast<const int64_t *>(host + deferredArrayAt(1)) + from[i];
    const auto *channelIn = reinterpret_cast<const int32_t *>(host + deferredArrayAt(2)) + from[i];
    entries.resize(static_cast<size_t>(count));
    for (size_t j = 0; j < entries.size(); ++j)
      entries[j] = {stepIn[j], indexIn[j], l.channels ? channelIn[j] : 0};
    std::sort(entries.begin(), entries.end());
    out[i].step = collectedStep_.data() + at;
    out[i].index = collectedIndex_.data() + at;
    out[i].channel = collectedChannel_.data() + at;
    for (const auto &[s, k, c] : entries) {
      collectedStep_[at] = s;
      collectedIndex_[at] = k;
      collectedChannel_[at] = c;
      ++at;
    }
  }
  deferred_.clear();
  deferredUsed_ = 0;
  return out;
}

//===----------------------------------------------------------------------===//
// Spike lists on the device (a network's exchange without the host)
//===----------------------------------------------------------------------===//

void CudaDevice::freeHistories() {
  for (DeviceHistory &h : histories_) {
    if (h.lists)
      d_->cuMemFree(h.lists);
    if (h.counts)
      d_->cuMemFree(h.counts);
  }
  histories_.clear();
  historyCurrent_ = false;
}

void CudaDevice::prepareSpikeHistory(ncl_model &m) {
  makeCurrent();
  bool same = histories_.size() == m.pops.size();
  for (size_t p = 0; p < m.pops.size() && same; ++p)
    same = histories_[p].depth == m.history[p].depth && histories_[p].units == m.pops[p].units();
  if (!same) {
    synchronize(&m, "waiting for the device"); // nothing may still use the old ones
    freeHistories();
    histories_.resize(m.pops.size());
    auto alloc = [&](CUdeviceptr &p, size_t bytes) {
      if (CUresult r = d_->cuMemAlloc(&p, std::max<size_t>(bytes, 256)); r != CUDA_SUCCESS) {
        p = 0;
        freeHistories();
        throw Error(NCL_ERROR_MEMORY, "not enough memory on the CUDA device '" + name_ +
                                          "': the spike histories need " + formatBytes(bytes) +
                                          " more (" + describe(r, *d_) + ")");
      }
    };
    for (size_t p = 0; p < m.pops.size(); ++p) {
      DeviceHistory &h = histories_[p];
      h.depth = m.history[p].depth;
      h.units = m.pops[p].units();
      if (h.depth <= 0)
        continue;
      alloc(h.lists,
            static_cast<size_t>(h.depth * std::max<int64_t>(h.units, 1)) * sizeof(int32_t));
      alloc(h.counts, static_cast<size_t>(h.depth) * sizeof(int64_t));
    }
  }
  if (historyCurrent_)
    return;
  // The host's lists (each slot's threads' lists in thread order: one
  // ascending list), from pageable memory, which the driver stages before
  // the call returns.
  std::vector<int32_t> lists;
  std::vector<int64_t> counts;
  for (size_t p = 0; p < m.pops.size(); ++p) {
    const DeviceHistory &h = histories_[p];
    if (h.depth <= 0)
      continue;
    lists.assign(static_cast<size_t>(h.depth * h.units), 0);
    counts.assign(static_cast<size_t>(h.depth), 0);
    for (int64_t d = 0; d < h.depth; ++d) {
      int64_t n = 0;
      for (const std::vector<int32_t> &list : m.history[p].slots[static_cast<size_t>(d)])
        for (int32_t i : list)
          if (n < h.units)
            lists[static_cast<size_t>(d * h.units + n++)] = i;
      counts[static_cast<size_t>(d)] = n;
    }
    if (!lists.empty())
      check(&m, copyToDevice(m, h.lists, lists.data(), lists.size() * sizeof(int32_t)),
            "copying the spike history to the device");
    check(&m, copyToDevice(m, h.counts, counts.data(), counts.size() * sizeof(int64_t)),
          "copying the spike history to the device");
  }
  historyCurrent_ = true;
}

ncl_spike_list_args CudaDevice::spikeListArgs(size_t launch, size_t p, int64_t slot) const {
  const DeviceHistory &h = histories_.at(p);
  const DeferredLaunch &l = deferred_.at(launch);
  ncl_spike_list_args args;
  auto ptr = [](CUdeviceptr p) { return reinterpret_cast<void *>(static_cast<uintptr_t>(p)); };
  args.index = static_cast<const int64_t *>(
      ptr(deferredArea_ + deferredArrayAt(1) + static_cast<size_t>(l.offset) * sizeof(int64_t)));
  args.channel =
      l.channels
          ? static_cast<const int32_t *>(ptr(deferredArea_ + deferredArrayAt(2) +
                                             static_cast<size_t>(l.offset) * sizeof(int32_t)))
          : nullptr;
  args.count = static_cast<const int64_t *>(
      ptr(deferredArea_ + launch * deferredHeaderBytes() + offsetof(ncl_kernel_args, spike_count)));
  args.list = static_cast<int32_t *>(ptr(h.lists + static_cast<size_t>(slot * h.units) * 4));
  args.list_count = static_cast<int64_t *>(ptr(h.counts + static_cast<size_t>(slot) * 8));
  args.capacity = l.capacity;
  args.room = h.units;
  return args;
}

void CudaDevice::listSpikes(ncl_model &m, size_t p, int64_t slot) {
  const DeviceHistory &h = histories_.at(p);
  if (deferred_.empty() || slot < 0 || slot >= h.depth || !listsSpikes() || spikeIndex_ < 0)
    throw Error(NCL_ERROR_STATE, "internal error: a spike list on the device without its launch");
  const size_t at = deferred_.size() - 1;
  const DeferredLaunch &l = deferred_.back();
  if (!l.launched)
    return; // no unit: the slot's length stays 0
  if (spikeLists_) {
    // Made with the step's other lists, in one launch (flushSpikeLists).
    pendingLists_.push_back({at, p, slot});
    return;
  }
  ncl_spike_list_args args = spikeListArgs(at, p, slot);
  reserveArena(m, sizeof args + 16);
  countGroup_ = -1; // a list made after it: the deliveries that read it copy its length later
  Command c;
  c.kind = Command::Launch;
  c.function = spikeList_;
  c.blocks =
      static_cast<unsigned>((std::max<int64_t>(l.capacity, 1) + kBlockSize - 1) / kBlockSize);
  c.threads = kBlockSize;
  c.param = putInArena(&args, sizeof args);
  c.action = "making a spike list on the device";
  record(c);
  ++launches_;
}

void CudaDevice::flushSpikeLists(ncl_model &m) {
  if (pendingLists_.empty())
    return;
  const size_t n = pendingLists_.size();
  std::vector<char> args(sizeof(ncl_spike_lists_args) + n * sizeof(ncl_spike_list_args));
  auto *head = reinterpret_cast<ncl_spike_lists_args *>(args.data());
  int64_t widest = 1;
  for (size_t j = 0; j < n; ++j) {
    const PendingList &l = pendingLists_[j];
    const ncl_spike_list_args list = spikeListArgs(l.launch, l.population, l.slot);
    std::memcpy(args.data() + sizeof *head + j * sizeof list, &list, sizeof list);
    widest = std::max(widest, list.capacity);
  }
  pendingLists_.clear();
  reserveArena(m, args.size() + 16);
  countGroup_ = -1; // lists made after it: the deliveries that read them copy their lengths later
  const CUdeviceptr at = putInArena(args.data(), args.size());
  auto *placed = static_cast<ncl_spike_lists_args *>(hostInArena(at));
  placed->count = static_cast<int64_t>(n);
  placed->lists = reinterpret_cast<const ncl_spike_list_args *>(
      static_cast<uintptr_t>(at + sizeof(ncl_spike_lists_args)));
  Command c;
  c.kind = Command::Launch;
  c.function = spikeLists_;
  c.blocks =
      static_cast<unsigned>(static_cast<int64_t>(n) * ((widest + kBlockSize - 1) / kBlockSize));
  c.threads = kBlockSize;
  c.param = at;
  c.action = "making the spike lists on the device";
  record(c);
  ++launches_;
}

//===----------------------------------------------------------------------===//
// Arrival queues of per-synapse delays on the device
//===----------------------------------------------------------------------===//

namespace {
constexpr int64_t kArrivalBlocksPerQueue = 64; // at most, in each phase
constexpr unsigned kArrivalThreads = 64;       // per block

size_t align16(size_t bytes) { return (bytes + 15) / 16 * 16; }

/// NCL_CUDA_ARRIVAL_ROOM's synapses per queue and step, or 0 where it is
/// not set.
int64_t arrivalRoomSetting() {
  if (const char *room = std::getenv("NCL_CUDA_ARRIVAL_ROOM"); room && *room) {
    const long long n = std::atoll(room);
    if (n >= 1)
      return n;
  }
  return 0;
}

/// The most synapses one of the host's arrival slots of `proj` holds (at
/// least 1).
int64_t largestSlot(const Projection &proj) {
  int64_t largest = 1;
  for (const SynapseQueue &queue : proj.queues)
    for (const std::vector<int64_t> &slot : queue.slots)
      largest = std::max(largest, static_cast<int64_t>(slot.size()));
  return largest;
}
} // namespace

// The queues are an array the image's kernel strides over: an older nclc's
// kernel of ABI 10 reads this size, so the descriptor gains no field.
static_assert(sizeof(ncl_arrival_queue) == 144, "ncl_arrival_queue changed size within ABI 10");

bool CudaDevice::queuesArrivals(const ncl_model &m) const {
  if (!arrivals_ || m.batch != 1)
    return false;
  for (int32_t i = 0; i < m.desc->num_stages; ++i) {
    const ncl_stage_info &stage = m.desc->stages[i];
    if (stage.kind != NCL_STAGE_DELIVER_SYNAPSES)
      continue;
    const Projection &proj = m.projs[static_cast<size_t>(stage.projection)];
    // The queues hold a synapse's index as an int32.
    if (!kernels_[static_cast<size_t>(i)] || !perTarget(launchShape(m, stage)) ||
        proj.synapses > INT32_MAX ||
        m.pops[static_cast<size_t>(proj.info->pre)].info->source_kind == NCL_SOURCE_SPIKE_GENERATOR)
      return false;
  }
  return true;
}

void CudaDevice::freeArrivals() {
  if (arrivalMemory_)
    d_->cuMemFree(arrivalMemory_);
  arrivalMemory_ = 0;
  arrivalQueues_.clear();
  queueOfProjection_.clear();
  arrivalsOnDevice_ = false;
}

void CudaDevice::prepareArrivals(ncl_model &m) {
  makeCurrent();
  // Delays narrowed to a byte at init are so for every queue (Simulator.cpp).
  byteDelays_ = std::any_of(m.projs.begin(), m.projs.end(), [](const Projection &q) {
    return q.delayBuffer >= 0 && q.delayBytes == 1;
  });
  // The layout: a queue per projection with per-synapse delays, its room
  // enough for every slot the host holds now.
  std::vector<ArrivalQueue> queues;
  // Lists whose deliveries read their bucket starts: the list begins with
  // them (bucket_start is out), and the kernel writes them there.
  std::vector<bool> prefixed(m.projs.size(), false);
  for (int32_t i = 0; i < m.desc->num_stages; ++i)
    if (const ncl_stage_info &stage = m.desc->stages[i]; stage.kind == NCL_STAGE_DELIVER_SYNAPSES)
      prefixed[static_cast<size_t>(stage.projection)] =
          launchShape(m, stage) == NCL_GPU_LAUNCH_PER_TARGET_BUCKETS;
  for (size_t q = 0; q < m.projs.size(); ++q) {
    const Projection &proj = m.projs[q];
    if (proj.delayBuffer < 0 || proj.synapses == 0)
      continue;
    ArrivalQueue a;
    a.projection = q;
    a.prefixed = prefixed[q];
    a.slots = proj.maxDelaySteps + 1;
    a.room = arrivalsOnHost_ ? largestSlot(proj) : 1;
    a.buckets = (m.pops[static_cast<size_t>(proj.info->post)].size + NCL_GPU_ARRIVALS_BUCKET - 1) /
                NCL_GPU_ARRIVALS_BUCKET;
    a.preUnits = m.pops[static_cast<size_t>(proj.info->pre)].units();
    queues.push_back(a);
  }
  // The room of each queue (docs/gpu.md, "Arrival queues on the device"):
  // NCL_CUDA_ARRIVAL_ROOM's, else a budget of a quarter of the device's
  // free memory, at most 4 GiB (256 MiB where the driver does not say),
  // shared in proportion to the synapses; every synapse where it allows
  // (each receives at most one spike a step), never fewer than 2^14 or a
  // 128th of them.
  const int64_t setting = arrivalRoomSetting();
  int64_t allSynapses = 0;
  for (const ArrivalQueue &a : queues)
    allSynapses += m.projs[a.projection].synapses;
  double budget = 256.0 * (1 << 20);
  size_t freeBytes = 0, totalBytes = 0;
  if (!setting && d_->cuMemGetInfo && d_->cuMemGetInfo(&freeBytes, &totalBytes) == CUDA_SUCCESS)
    budget = std::min(freeBytes / 4.0, 4.0 * (1 << 30));
  for (ArrivalQueue &a : queues) {
    const int64_t synapses = m.projs[a.projection].synapses;
    const double share = budget * static_cast<double>(synapses) / static_cast<double>(allSynapses);
    const int64_t fits = static_cast<int64_t>(share / (static_cast<double>(a.slots) * 4));
    const int64_t room =
        setting ? setting
                : std::min(synapses, std::max({int64_t{1} << 14, (synapses + 127) / 128, fits}));
    a.room = std::max(a.room, room);
  }
  bool same = queues.size() == arrivalQueues_.size() && arrivalMemory_;
  for (size_t i = 0; i < queues.size() && same; ++i)
    same = queues[i].projection == arrivalQueues_[i].projection &&
           queues[i].slots == arrivalQueues_[i].slots && queues[i].room <= arrivalQueues_[i].room &&
           queues[i].buckets == arrivalQueues_[i].buckets &&
           queues[i].prefixed == arrivalQueues_[i].prefixed;
  if (!same) {
    arrivalsToHost(m, false); // what the old queues hold, before they go
    synchronize(&m, "waiting for the device");
    freeArrivals();
    // Room for every slot they held, which the host now has.
    for (ArrivalQueue &a : queues)
      a.room = std::max(a.room, largestSlot(m.projs[a.projection]));
    size_t bytes = align16(queues.size() * sizeof(ncl_arrival_queue));
    for (ArrivalQueue &a : queues) {
      const size_t room = static_cast<size_t>(a.room), buckets = static_cast<size_t>(a.buckets);
      a.ring = bytes;
      bytes += align16(static_cast<size_t>(a.slots) * room * sizeof(int32_t));
      a.counters = bytes; // ring_count, out_count, overflow[2], bucket_count
      // The bucket counts: a row per slot (the pipelined entry), or one.
      a.countersBytes =
          static_cast<size_t>(a.slots + 3) * sizeof(int64_t) +
          (arrivalsPipelined_ ? static_cast<size_t>(a.slots) : 1) * buckets * sizeof(int32_t);
      bytes += align16(a.countersBytes);
      a.groupSum = bytes;
      bytes += align16((buckets / NCL_GPU_ARRIVALS_GROUP + 1) * sizeof(int64_t));
      // The bucket starts, then the list; or, where they begin the list,
      // both in one.
      a.bucketStart = bytes;
      if (!a.prefixed)
        bytes += align16((buckets + 1) * sizeof(int64_t));
      a.out = bytes;
      bytes += align16(((a.prefixed ? buckets + 1 : 0) + room) * sizeof(int64_t));
    }
    if (CUresult r = d_->cuMemAlloc(&arrivalMemory_, std::max<size_t>(bytes, 256));
        r != CUDA_SUCCESS) {
      arrivalMemory_ = 0;
      throw Error(NCL_ERROR_MEMORY,
                  "not enough memory on the CUDA device '" + name_ +
                      "': the arrival queues of per-synapse delays need " + formatBytes(bytes) +
                      " more (" + describe(r, *d_) +
                      "; NCL_CUDA_ARRIVAL_ROOM sets the synapses each holds per step)");
    }
    arrivalQueues_ = std::move(queues);
    queueOfProjection_.assign(m.projs.size(), -1);
    for (size_t i = 0; i < arrivalQueues_.size(); ++i)
      queueOfProjection_[arrivalQueues_[i].projection] = static_cast<int32_t>(i);
  }
  // The descriptors: the buffers' and histories' places may have moved.
  bool combined = true;
  std::vector<ncl_arrival_queue> descs(arrivalQueues_.size());
  auto at = [&](size_t offset) { return arrivalMemory_ + offset; };
  auto buffer = [&](int32_t b) {
    return reinterpret_cast<void *>(static_cast<uintptr_t>(tableHost_.at(static_cast<size_t>(b))));
  };
  auto ptr = [](CUdeviceptr p) { return reinterpret_cast<void *>(static_cast<uintptr_t>(p)); };
  int64_t presynaptic = 1, buckets = 1;
  for (size_t i = 0; i < arrivalQueues_.size(); ++i) {
    const ArrivalQueue &a = arrivalQueues_[i];
    const Projection &proj = m.projs[a.projection];
    const DeviceHistory &h = histories_.at(static_cast<size_t>(proj.info->pre));
    ncl_arrival_queue &d = descs[i];
    d.row_start = static_cast<const int64_t *>(buffer(proj.rowStartBuffer));
    d.post = static_cast<const int32_t *>(buffer(proj.postIndexBuffer));
    d.delay = static_cast<const uint16_t *>(buffer(proj.delayBuffer));
    d.lists = static_cast<const int32_t *>(ptr(h.lists));
    d.counts = static_cast<const int64_t *>(ptr(h.counts));
    d.history_depth = h.depth;
    d.history_units = h.units;
    d.ring = static_cast<int32_t *>(ptr(at(a.ring)));
    d.ring_count = static_cast<int64_t *>(ptr(at(a.counters)));
    d.out_count = d.ring_count + a.slots;
    d.overflow = d.out_count + 1;
    d.bucket_count = reinterpret_cast<int32_t *>(d.overflow + 2);
    d.bucket_start = static_cast<int64_t *>(ptr(at(a.bucketStart)));
    d.group_sum = static_cast<int64_t *>(ptr(at(a.groupSum)));
    d.out = static_cast<int64_t *>(ptr(at(a.out)));
    d.slots = a.slots;
    d.room = a.room;
    d.buckets = a.buckets;
    combined = combined && proj.minDelaySteps >= 1;
    presynaptic = std::max(presynaptic, a.preUnits);
    buckets = std::max(buckets, a.buckets);
  }
  arrivalsCombined_ = combined;
  // Each phase's grid: P blocks of 64 threads per queue, P by the work of
  // the widest queue (docs/gpu.md, "Arrival queues on the device"): a
  // thread per 16 presynaptic neurons where the work grows with the spikes
  // a step sends (a step sends a few in a thousand), one per bucket where
  // it is the buckets'. Any grid is right: each thread strides over what
  // is left.
  const int64_t queueCount = std::max<int64_t>(static_cast<int64_t>(arrivalQueues_.size()), 1);
  auto grid = [&](int64_t items, int64_t most) {
    const int64_t per =
        std::clamp<int64_t>((items + kArrivalThreads - 1) / kArrivalThreads, 1, most);
    return static_cast<unsigned>(per * queueCount);
  };
  arrivalBlocks_.sending = grid(presynaptic / 16, kArrivalBlocksPerQueue);
  arrivalBlocks_.groups = grid(buckets / NCL_GPU_ARRIVALS_GROUP + 1, kArrivalBlocksPerQueue);
  arrivalBlocks_.buckets = grid(buckets, kArrivalBlocksPerQueue);
  if (!descs.empty())
    check(&m, copyToDevice(m, arrivalMemory_, descs.data(), descs.size() * sizeof descs[0]),
          "copying the arrival queues to the device");
  if (!arrivalsOnDevice_) {
    // The host's queues (one thread's: the device runs with one), and
    // every counter zero.
    for (const ArrivalQueue &a : arrivalQueues_) {
      const Projection &proj = m.projs[a.projection];
      std::vector<int64_t> counters(align16(a.countersBytes) / sizeof(int64_t), 0);
      // The pipelined entry's rows of bucket counts, a row per slot.
      auto *rows = reinterpret_cast<int32_t *>(counters.data() + a.slots + 3);
      std::vector<int32_t> entries;
      if (!proj.queues.empty())
        for (int64_t s = 0; s < a.slots && s < static_cast<int64_t>(proj.queues[0].slots.size());
             ++s) {
          const std::vector<int64_t> &slot = proj.queues[0].slots[static_cast<size_t>(s)];
          counters[static_cast<size_t>(s)] = static_cast<int64_t>(slot.size());
          if (arrivalsPipelined_)
            for (int64_t k : slot)
              ++rows[s * a.buckets + proj.post[static_cast<size_t>(k)] / NCL_GPU_ARRIVALS_BUCKET];
          entries.assign(slot.begin(), slot.end());
          if (!entries.empty())
            check(&m,
                  copyToDevice(m, at(a.ring + static_cast<size_t>(s * a.room) * sizeof(int32_t)),
                               entries.data(), entries.size() * sizeof(int32_t)),
                  "copying the arrival queues to the device");
        }
      check(&m, copyToDevice(m, at(a.counters), counters.data(), a.countersBytes),
            "copying the arrival queues to the device");
    }
    arrivalsOnDevice_ = true;
  }
  arrivalsOnHost_ = false; // the chunk changes the device's
}

unsigned CudaDevice::ArrivalGrids::of(int64_t phase, bool pipelined) const {
  if (!pipelined)
    return phase == 2 ? groups : phase == 3 || phase == 5 ? buckets : sending;
  unsigned most = 1;
  if (phase & (NCL_ARRIVALS_SEND | NCL_ARRIVALS_SCATTER))
    most = std::max(most, sending);
  if (phase & (NCL_ARRIVALS_GROUPS | NCL_ARRIVALS_GROUPS_NEXT))
    most = std::max(most, groups);
  if (phase & (NCL_ARRIVALS_STARTS | NCL_ARRIVALS_ORDER))
    most = std::max(most, buckets);
  return most;
}

void CudaDevice::recordArrivalPhase(ncl_model &m, int64_t phase, int64_t step) {
  if (arrivalQueues_.empty())
    return;
  ncl_arrivals_args args;
  args.phase = phase | (byteDelays_ ? NCL_ARRIVALS_BYTE_DELAYS : 0);
  args.step = step;
  args.count = static_cast<int64_t>(arrivalQueues_.size());
  args.queues = reinterpret_cast<const ncl_arrival_queue *>(static_cast<uintptr_t>(arrivalMemory_));
  reserveArena(m, sizeof args + 16);
  countGroup_ = -1; // the deliveries after it copy their lengths after it
  Command c;
  c.kind = Command::Launch;
  c.function = arrivals_;
  c.blocks = arrivalBlocks_.of(phase, arrivalsPipelined_);
  c.threads = kArrivalThreads;
  c.param = putInArena(&args, sizeof args);
  c.action = "ordering the arrivals of per-synapse delays on the device";
  c.phase = phase;
  record(c);
  ++launches_;
  ++stats_.arrivalLaunches;
}

void CudaDevice::orderArrivals(ncl_model &m, int64_t s, int64_t s0) {
  if (arrivalsPipelined_) {
    // Three launches a step where every delay is at least a step: the
    // works of each touch different slots (model_abi.h), and the groups of
    // step s were summed in step s - 1's second launch.
    if (s > s0 && arrivalsCombined_) {
      recordArrivalPhase(m, NCL_ARRIVALS_SEND | NCL_ARRIVALS_STARTS, s);
      recordArrivalPhase(m, NCL_ARRIVALS_SCATTER | NCL_ARRIVALS_GROUPS_NEXT, s);
      recordArrivalPhase(m, NCL_ARRIVALS_ORDER, s);
      return;
    }
    if (s > s0)
      recordArrivalPhase(m, NCL_ARRIVALS_SEND, s);
    recordArrivalPhase(m, NCL_ARRIVALS_GROUPS, s);
    recordArrivalPhase(m, NCL_ARRIVALS_STARTS, s);
    recordArrivalPhase(m, NCL_ARRIVALS_SCATTER | (arrivalsCombined_ ? NCL_ARRIVALS_GROUPS_NEXT : 0),
                       s);
    recordArrivalPhase(m, NCL_ARRIVALS_ORDER, s);
    return;
  }
  // An older image's entry: a phase a launch.
  if (s > s0 && arrivalsCombined_) {
    recordArrivalPhase(m, 6, s);
  } else {
    if (s > s0)
      recordArrivalPhase(m, 0, s - 1);
    recordArrivalPhase(m, 1, s);
  }
  for (int64_t phase : {2, 3, 4, 5})
    recordArrivalPhase(m, phase, s);
}

void CudaDevice::queueSent(ncl_model &m, int64_t s) {
  if (arrivalsPipelined_)
    recordArrivalPhase(m, NCL_ARRIVALS_SEND, s + 1); // the spikes of step - 1
  else
    recordArrivalPhase(m, 0, s);
}

void CudaDevice::checkArrivals(ncl_model &m) {
  // Only while the device's queues are the ones in use, after the wait of
  // a collection (the stream is idle: plain copies).
  if (arrivalQueues_.empty() || !arrivalsOnDevice_ || arrivalsOnHost_)
    return;
  for (const ArrivalQueue &a : arrivalQueues_) {
    int64_t overflow[2] = {0, 0};
    ++stats_.copiesToHost;
    check(&m,
          d_->cuMemcpyDtoH(overflow,
                           arrivalMemory_ + a.counters + static_cast<size_t>(a.slots + 1) * 8,
                           sizeof overflow),
          "copying the arrival queues from the device");
    if (overflow[0] > 0) {
      arrivalsOnDevice_ = false; // broken: what the host has is dropped with the run
      throw Error(NCL_ERROR_MEMORY,
                  "projection '" + std::string(m.projs[a.projection].info->name) +
                      "': " + std::to_string(overflow[0]) + " synapses received spikes in step " +
                      std::to_string(overflow[1]) +
                      ", more than its arrival queue on the CUDA device holds per step (" +
                      std::to_string(a.room) +
                      "); the run stopped before taking the spikes of its last chunk. Set "
                      "NCL_CUDA_ARRIVAL_ROOM to at least " +
                      std::to_string(overflow[0]) + ", or run on the CPU");
    }
  }
}

void CudaDevice::launchArrivals(ncl_model &m, const ncl_stage_info &stage, ncl_kernel_args &a) {
  const int32_t q = queueOfProjection_.empty()
                        ? -1
                        : queueOfProjection_.at(static_cast<size_t>(stage.projection));
  if (q < 0) {
    a.spike_count = 0;
    a.steps_done = a.num_steps;
    return; // no synapse: nothing arrives
  }
  const ArrivalQueue &queue = arrivalQueues_[static_cast<size_t>(q)];
  // A list with its bucket starts must have the launch's buckets: the
  // whole postsynaptic population, which one host thread delivers to.
  if (queue.prefixed &&
      (a.begin != 0 ||
       (a.end + NCL_GPU_TARGET_BUCKET - 1) / NCL_GPU_TARGET_BUCKET != queue.buckets))
    throw Error(NCL_ERROR_STATE, "internal error: the stage '" + std::string(stage.name) +
                                     "' delivers to neurons [" + std::to_string(a.begin) + ", " +
                                     std::to_string(a.end) +
                                     ") of a list whose buckets start at neuron 0");
  DeviceList list;
  list.spikes = arrivalMemory_ + queue.out;
  list.count = arrivalMemory_ + queue.counters + static_cast<size_t>(queue.slots) * 8;
  list.capacity = queue.room;
  list.synapses = true;
  a.synapses = nullptr;
  a.num_synapses = 0;
  if (queue.prefixed) {
    // Its last bucket start ends the list: no length to copy on the
    // device, and num_synapses, the list's room, covers the entries.
    list.count = 0;
    a.num_synapses = queue.room;
  }
  launchWith(m, stage, a, &list);
}

void CudaDevice::arrivalsToHost(ncl_model &m, bool hostWillChange) {
  if (!arrivalsOnHost_ && arrivalsOnDevice_ && arrivalMemory_) {
    makeCurrent();
    synchronize(&m, "waiting for the device");
    std::vector<int64_t> counts;
    for (const ArrivalQueue &a : arrivalQueues_) {
      Projection &proj = m.projs[a.projection];
      if (proj.queues.empty())
        continue;
      counts.assign(static_cast<size_t>(a.slots + 3), 0);
      ++stats_.copiesToHost;
      check(&m, d_->cuMemcpyDtoH(counts.data(), arrivalMemory_ + a.counters, counts.size() * 8),
            "copying the arrival queues from the device");
      const void *delays = m.bufferPtrs[static_cast<size_t>(proj.delayBuffer)];
      auto delay = [&](int64_t k) { return proj.delayOf(delays, k); };
      std::vector<std::vector<int64_t>> &slots = proj.queues[0].slots;
      for (int64_t s = 0; s < a.slots && s < static_cast<int64_t>(slots.size()); ++s) {
        const int64_t n = counts[static_cast<size_t>(s)];
        if (n > a.room)
          throw Error(NCL_ERROR_MEMORY, "projection '" + std::string(proj.info->name) +
                                            "': its arrival queue on the CUDA device overflowed");
        std::vector<int32_t> entries(static_cast<size_t>(std::max<int64_t>(n, 0)));
        if (n > 0) {
          ++stats_.copiesToHost;
          check(&m,
                d_->cuMemcpyDtoH(entries.data(),
                                 arrivalMemory_ + a.ring +
                                     static_cast<size_t>(s * a.room) * sizeof(int32_t),
                                 entries.size() * sizeof(int32_t)),
                "copying the arrival queues from the device");
        }
        std::vector<int64_t> &slot = slots[static_cast<size_t>(s)];
        slot.assign(entries.begin(), entries.end());
        // The CPU's order: by the step the spike was sent (a longer delay
        // first), then by synapse (presynaptic, then postsynaptic index).
        std::sort(slot.begin(), slot.end(), [&delay](int64_t x, int64_t y) {
          const int64_t dx = delay(x), dy = delay(y);
          return dx != dy ? dx > dy : x < y;
        });
      }
    }
    arrivalsOnHost_ = true;
  }
  if (hostWillChange)
    arrivalsOnDevice_ = false;
}
