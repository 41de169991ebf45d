//===- CudaBackend.cpp - A model's stages on a CUDA device ----------------===//
//
// See CudaBackend.h and docs/gpu.md. Every launch goes to the context's
// default (legacy) stream, and every header and spike list is copied with a
// synchronous cuMemcpyHtoD, which waits for the kernels before it: one device
// header and one list buffer serve every launch in turn.
//
//===----------------------------------------------------------------------===//
#include "CudaBackend.h"

#include "Model.h"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <tuple>

using namespace ncl::rt;
using namespace ncl::rt::cuda;

namespace {

constexpr unsigned kBlockSize = 256;

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
  if (stage.gpu_launch != NCL_GPU_LAUNCH_BY_KIND)
    return static_cast<ncl_gpu_launch>(stage.gpu_launch);
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

[[noreturn]] void refuse(ncl_status code, const std::string &why) {
  throw Error(code, "cannot use the CUDA backend: " + why);
}

} // namespace

bool ncl::rt::runsOnDevice(int32_t kind) {
  return kind != NCL_STAGE_INIT && kind != NCL_STAGE_CONNECT && kind != NCL_STAGE_CONNECT_CONDITION;
}

std::unique_ptr<CudaDevice> CudaDevice::open(const ncl_model &m) {
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
    if (runsOnDevice(stage.kind) &&
        (stage.gpu_launch < NCL_GPU_LAUNCH_BY_KIND || stage.gpu_launch > NCL_GPU_LAUNCH_PER_SPIKE))
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
  need(d.cuDeviceGet(&dev->device_, 0), "cuDeviceGet");
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

  // The cubin of the device's architecture, else the newest PTX not above it.
  const ncl_gpu_image *image = nullptr;
  for (int32_t i = 0; i < desc.num_gpu_images && !image; ++i)
    if (desc.gpu_images[i].format == NCL_GPU_CUBIN && archNumber(desc.gpu_images[i].arch) == arch)
      image = &desc.gpu_images[i];
  const ncl_gpu_image *cubin = image;
  for (int32_t i = 0; i < desc.num_gpu_images && !cubin; ++i) {
    const ncl_gpu_image &img = desc.gpu_images[i];
    const int n = archNumber(img.arch);
    if (img.format == NCL_GPU_PTX && n >= 0 && n <= arch && (!image || n > archNumber(image->arch)))
      image = &img;
  }
  if (!image)
    refuse(NCL_ERROR_LOAD, "'" + m.path + "' has no GPU code that the device '" + dev->name_ +
                               "' (" + dev->arch_ + ") can run: its images are for " +
                               imageList(desc) + "; recompile it with nclc --target=cuda for " +
                               dev->arch_ + " or lower");
  // A PTX image must end in its NUL (the driver reads it as a C string).
  if (!image->data || image->size <= 0 ||
      (image->format == NCL_GPU_PTX && static_cast<const char *>(image->data)[image->size] != 0))
    refuse(NCL_ERROR_LOAD, "the " + std::string(image->arch) + " GPU image of '" + m.path +
                               "' is malformed (empty, or PTX without its final NUL)");

  need(d.cuDevicePrimaryCtxRetain(&dev->context_, dev->device_), "cuDevicePrimaryCtxRetain");
  need(d.cuCtxSetCurrent(dev->context_), "cuCtxSetCurrent");
  char log[4096] = {};
  int options[] = {CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
  void *values[] = {log, reinterpret_cast<void *>(static_cast<uintptr_t>(sizeof log - 1))};
  if (CUresult r = d.cuModuleLoadDataEx(&dev->module_, image->data, 2, options, values);
      r != CUDA_SUCCESS) {
    dev->module_ = nullptr;
    refuse(NCL_ERROR_LOAD, "the " + std::string(image->arch) + " GPU module of '" + m.path +
                               "' cannot be loaded on '" + dev->name_ + "': " + describe(r, d) +
                               (log[0] ? std::string(": ") + log : std::string()));
  }
  dev->kernels_.assign(static_cast<size_t>(desc.num_stages), nullptr);
  for (int32_t i = 0; i < desc.num_stages; ++i) {
    const ncl_stage_info &stage = desc.stages[i];
    if (!runsOnDevice(stage.kind))
      continue;
    if (CUresult r = d.cuModuleGetFunction(&dev->kernels_[static_cast<size_t>(i)], dev->module_,
                                           stage.gpu_kernel);
        r != CUDA_SUCCESS)
      refuse(NCL_ERROR_LOAD, "the GPU module of '" + m.path + "' has no kernel '" +
                                 stage.gpu_kernel + "' for the stage '" + stage.name +
                                 "': " + describe(r, d) + "; recompile it with nclc --target=cuda");
  }
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
  freeMirror();
  if (module_)
    d_->cuModuleUnload(module_);
  d_->cuDevicePrimaryCtxRelease(device_);
}

void CudaDevice::makeCurrent() const { d_->cuCtxSetCurrent(context_); }

void CudaDevice::check(ncl_model *m, CUresult r, const char *what) const {
  if (r == CUDA_SUCCESS)
    return;
  const std::string msg =
      "the CUDA device '" + name_ + "' failed: " + what + ": " + describe(r, *d_);
  if (m)
    m->failure = msg; // the device's state is lost: no further run
  throw Error(NCL_ERROR_KERNEL, msg);
}

void CudaDevice::freeMirror() {
  d_->cuCtxSynchronize();
  for (Region &r : regions_)
    if (r.dev)
      d_->cuMemFree(r.dev);
  regions_.clear();
  for (CUdeviceptr p : {table_, header_, lists_})
    if (p)
      d_->cuMemFree(p);
  table_ = header_ = lists_ = 0;
  listBytes_ = 0;
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
  auto add = [&wanted](const void *p, size_t bytes, bool written) {
    if (p)
      wanted.push_back(Region{p, bytes, 0, written});
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
  add(ts.spikeStep.data(), ts.spikeStep.size() * sizeof(int64_t), false);
  add(ts.spikeIndex.data(), ts.spikeIndex.size() * sizeof(int64_t), false);
  add(ts.spikeChannel.data(), ts.spikeChannel.size() * sizeof(int32_t), false);

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
  size_t total = n * sizeof(CUdeviceptr) + sizeof(ncl_kernel_args);
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
    regions_.push_back(wanted[r]);
  }
  bufferRegion_ = std::move(region);
  bufferOffset_ = std::move(offset);
  std::vector<CUdeviceptr> table(n, 0);
  for (size_t i = 0; i < n; ++i)
    if (bufferRegion_[i] >= 0)
      table[i] = regions_[static_cast<size_t>(bufferRegion_[i])].dev + bufferOffset_[i];
  table_ = alloc(n * sizeof(CUdeviceptr), "the buffer table");
  check(&m, d_->cuMemcpyHtoD(table_, table.data(), n * sizeof(CUdeviceptr)),
        "copying the buffer table");
  header_ = alloc(sizeof(ncl_kernel_args), "a kernel header");
}

void CudaDevice::copyRegion(ncl_model &m, size_t r, bool toDevice) {
  const Region &reg = regions_[r];
  if (reg.bytes == 0)
    return;
  if (toDevice)
    check(&m, d_->cuMemcpyHtoD(reg.dev, reg.host, reg.bytes), "copying the state to the device");
  else
    check(&m, d_->cuMemcpyDtoH(const_cast<void *>(reg.host), reg.dev, reg.bytes),
          "copying the state from the device");
}

void CudaDevice::beginRun(ncl_model &m) {
  makeCurrent();
  mirror(m);
  for (size_t r = 0; r < regions_.size(); ++r)
    copyRegion(m, r, true);
}

void CudaDevice::endRun(ncl_model &m) {
  makeCurrent();
  for (size_t r = 0; r < regions_.size(); ++r)
    if (regions_[r].written)
      copyRegion(m, r, false);
}

void CudaDevice::downloadNeuronState(ncl_model &m) {
  makeCurrent();
  for (size_t i = 0; i < bufferRegion_.size(); ++i) {
    const ncl_buffer_info &b = m.desc->buffers[i];
    if (b.extent == NCL_EXTENT_NEURONS && b.population >= 0 && bufferRegion_[i] >= 0)
      refreshHost(m, i, 0, m.pops[static_cast<size_t>(b.population)].units());
  }
}

void CudaDevice::uploadNeuronState(ncl_model &m) {
  makeCurrent();
  for (size_t i = 0; i < bufferRegion_.size(); ++i) {
    const ncl_buffer_info &b = m.desc->buffers[i];
    if (b.extent != NCL_EXTENT_NEURONS || b.population < 0 || bufferRegion_[i] < 0)
      continue;
    const Region &reg = regions_[static_cast<size_t>(bufferRegion_[i])];
    const size_t bytes =
        std::min(static_cast<size_t>(m.pops[static_cast<size_t>(b.population)].units()) *
                     elementBytes(b.element),
                 reg.bytes - bufferOffset_[i]);
    check(&m,
          d_->cuMemcpyHtoD(reg.dev + bufferOffset_[i],
                           static_cast<const char *>(reg.host) + bufferOffset_[i], bytes),
          "copying the state to the device");
  }
}

void CudaDevice::refreshHost(ncl_model &m, size_t buffer, int64_t first, int64_t count) {
  if (buffer >= bufferRegion_.size() || bufferRegion_[buffer] < 0 || count <= 0)
    return;
  makeCurrent();
  const Region &reg = regions_[static_cast<size_t>(bufferRegion_[buffer])];
  const size_t elem = elementBytes(m.desc->buffers[buffer].element);
  const size_t at = bufferOffset_[buffer] + static_cast<size_t>(first) * elem;
  if (at >= reg.bytes)
    return;
  const size_t bytes = std::min(static_cast<size_t>(count) * elem, reg.bytes - at);
  check(&m,
        d_->cuMemcpyDtoH(const_cast<char *>(static_cast<const char *>(reg.host)) + at, reg.dev + at,
                         bytes),
        "copying monitored values from the device");
}

/// Copies `bytes` of `data` into the list buffer at `offset` (growing it
/// first; the synchronous copies have waited for every kernel that read it).
CUdeviceptr CudaDevice::upload(ncl_model &m, const void *data, size_t bytes, size_t &offset) {
  const size_t at = (offset + 15) / 16 * 16;
  if (at + bytes > listBytes_) {
    d_->cuCtxSynchronize();
    if (lists_)
      d_->cuMemFree(lists_);
    lists_ = 0;
    const size_t grown = std::max(at + bytes, 2 * listBytes_);
    check(&m, d_->cuMemAlloc(&lists_, std::max<size_t>(grown, 4096)), "allocating a spike list");
    listBytes_ = std::max<size_t>(grown, 4096);
    // A grown buffer holds nothing of what was uploaded before: callers
    // upload before they take another list (one list per launch).
  }
  check(&m, d_->cuMemcpyHtoD(lists_ + at, data, bytes), "copying a spike list to the device");
  offset = at + bytes;
  return lists_ + at;
}

void CudaDevice::launch(ncl_model &m, const ncl_stage_info &stage, ncl_kernel_args &a) {
  const size_t index = static_cast<size_t>(&stage - m.desc->stages);
  const bool step = stage.kind == NCL_STAGE_STEP;
  const ncl_gpu_launch shape = launchShape(m, stage);
  const bool oneThread = shape == NCL_GPU_LAUNCH_WHOLE_RANGE;
  // A thread per index of [begin, end), or per entry of the spike list.
  const int64_t range = shape == NCL_GPU_LAUNCH_PER_SPIKE ? a.num_spikes : a.end - a.begin;
  if (range <= 0 && !oneThread) {
    a.spike_count = 0;
    a.steps_done = a.num_steps;
    return;
  }
  makeCurrent();
  ncl_kernel_args h = a;
  h.buffers = reinterpret_cast<void *const *>(static_cast<uintptr_t>(table_));
  size_t listOffset = 0;
  h.spikes = nullptr;
  h.synapses = nullptr;
  if (a.spikes && a.num_spikes > 0)
    h.spikes = reinterpret_cast<const int32_t *>(static_cast<uintptr_t>(
        upload(m, a.spikes, static_cast<size_t>(a.num_spikes) * sizeof(int32_t), listOffset)));
  if (a.synapses && a.num_synapses > 0)
    h.synapses = reinterpret_cast<const int64_t *>(static_cast<uintptr_t>(
        upload(m, a.synapses, static_cast<size_t>(a.num_synapses) * sizeof(int64_t), listOffset)));
  int64_t steps = a.num_steps;
  if (step) {
    // Every neuron may emit each of its channels in every step: as many
    // steps as the spike buffer holds for the whole range (at least one:
    // the CPU backend's blocks of neurons fit it).
    const Population &pop = m.pops[static_cast<size_t>(stage.population)];
    const int64_t channels = 1 + std::max(0, pop.info->num_events);
    if (a.spike_capacity > 0)
      steps = std::clamp<int64_t>(a.spike_capacity / (range * channels), 1, a.num_steps);
    h.num_steps = steps;
    h.spike_count = 0;
    h.steps_done = 0;
  }
  check(&m, d_->cuMemcpyHtoD(header_, &h, sizeof h), "copying a kernel header");
  CUdeviceptr header = header_;
  void *params[] = {&header};
  const unsigned blocks =
      oneThread ? 1 : static_cast<unsigned>((range + kBlockSize - 1) / kBlockSize);
  const unsigned threads = oneThread ? 1 : kBlockSize;
  const std::string what = "running the stage '" + std::string(stage.name) + "'";
  check(
      &m,
      d_->cuLaunchKernel(kernels_[index], blocks, 1, 1, threads, 1, 1, 0, nullptr, params, nullptr),
      what.c_str());
  if (!step)
    return;
  check(&m, d_->cuMemcpyDtoH(&h, header_, sizeof h), what.c_str());
  a.spike_count = h.spike_count;
  a.steps_done = steps;
  const int64_t count = h.spike_count;
  if (a.spike_capacity <= 0 || count <= 0 || count > a.spike_capacity || spikeStep_ < 0 ||
      spikeIndex_ < 0)
    return; // nothing stored, or a report the caller refuses
  // The entries in slot order, then sorted by (step, neuron, channel): the
  // CPU's order (docs/gpu.md, "Spikes").
  const size_t n = static_cast<size_t>(count);
  auto *stepOut = static_cast<int64_t *>(a.buffers[spikeStep_]);
  auto *indexOut = static_cast<int64_t *>(a.buffers[spikeIndex_]);
  // A population without events leaves the channels unwritten.
  const bool events = m.pops[static_cast<size_t>(stage.population)].info->num_events > 0;
  auto *channelOut =
      spikeChannel_ >= 0 && events ? static_cast<int32_t *>(a.buffers[spikeChannel_]) : nullptr;
  auto fetch = [&](int32_t buffer, void *to, size_t elem) {
    const Region &reg = regions_[static_cast<size_t>(bufferRegion_[static_cast<size_t>(buffer)])];
    check(&m, d_->cuMemcpyDtoH(to, reg.dev + bufferOffset_[static_cast<size_t>(buffer)], n * elem),
          what.c_str());
  };
  fetch(spikeStep_, stepOut, sizeof(int64_t));
  fetch(spikeIndex_, indexOut, sizeof(int64_t));
  if (channelOut)
    fetch(spikeChannel_, channelOut, sizeof(int32_t));
  std::vector<std::tuple<int64_t, int64_t, int32_t>> entries(n);
  for (size_t j = 0; j < n; ++j)
    entries[j] = {stepOut[j], indexOut[j], channelOut ? channelOut[j] : 0};
  std::sort(entries.begin(), entries.end());
  for (size_t j = 0; j < n; ++j) {
    stepOut[j] = std::get<0>(entries[j]);
    indexOut[j] = std::get<1>(entries[j]);
    if (channelOut)
      channelOut[j] = std::get<2>(entries[j]);
  }
}
