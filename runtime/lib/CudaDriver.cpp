//===- CudaDriver.cpp - dlopen of libcuda.so.1 and its entry points -------===//
#include "CudaDriver.h"

#include "Model.h"

#include <dlfcn.h>

#include <cstdlib>
#include <mutex>

using namespace ncl::rt;
using namespace ncl::rt::cuda;

namespace {

struct OpenedDriver {
  Driver table{};
  std::string failure; // why the driver cannot be used ("" when it can)
};

/// Looks up `name` (or, where the driver exports only the old name,
/// `fallback`) into `slot`; false when neither exists.
template <typename F> bool bind(void *lib, F &slot, const char *name, const char *fallback) {
  void *sym = dlsym(lib, name);
  if (!sym && fallback)
    sym = dlsym(lib, fallback);
  slot = reinterpret_cast<F>(sym);
  return sym != nullptr;
}

OpenedDriver open() {
  OpenedDriver d;
  const char *env = std::getenv("NCL_CUDA_DRIVER");
  const std::string name = env && *env ? env : "libcuda.so.1";
  void *lib = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char *why = dlerror();
    d.failure = "the NVIDIA driver library " + name + " cannot be loaded (" +
                (why ? why : "unknown reason") + "); is the NVIDIA driver installed?";
    return d;
  }
  Driver &t = d.table;
  const char *missing = nullptr;
  auto need = [&](auto &slot, const char *n, const char *fallback = nullptr) {
    if (!bind(lib, slot, n, fallback) && !missing)
      missing = n;
  };
  need(t.cuInit, "cuInit");
  need(t.cuDeviceGetCount, "cuDeviceGetCount");
  need(t.cuDeviceGet, "cuDeviceGet");
  need(t.cuDeviceGetAttribute, "cuDeviceGetAttribute");
  need(t.cuDeviceGetName, "cuDeviceGetName");
  need(t.cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain");
  need(t.cuDevicePrimaryCtxRelease, "cuDevicePrimaryCtxRelease_v2", "cuDevicePrimaryCtxRelease");
  need(t.cuCtxSetCurrent, "cuCtxSetCurrent");
  need(t.cuCtxSynchronize, "cuCtxSynchronize");
  need(t.cuModuleLoadDataEx, "cuModuleLoadDataEx");
  need(t.cuModuleGetFunction, "cuModuleGetFunction");
  need(t.cuModuleUnload, "cuModuleUnload");
  need(t.cuMemAlloc, "cuMemAlloc_v2");
  need(t.cuMemFree, "cuMemFree_v2");
  need(t.cuMemcpyHtoD, "cuMemcpyHtoD_v2");
  need(t.cuMemcpyDtoH, "cuMemcpyDtoH_v2");
  need(t.cuMemsetD8, "cuMemsetD8_v2");
  need(t.cuMemcpyHtoDAsync, "cuMemcpyHtoDAsync_v2");
  need(t.cuMemcpyDtoHAsync, "cuMemcpyDtoHAsync_v2");
  need(t.cuMemcpyDtoDAsync, "cuMemcpyDtoDAsync_v2");
  need(t.cuMemcpy2DAsync, "cuMemcpy2DAsync_v2");
  need(t.cuMemHostAlloc, "cuMemHostAlloc");
  need(t.cuMemFreeHost, "cuMemFreeHost");
  need(t.cuStreamCreate, "cuStreamCreate");
  need(t.cuStreamDestroy, "cuStreamDestroy_v2");
  need(t.cuStreamSynchronize, "cuStreamSynchronize");
  need(t.cuLaunchKernel, "cuLaunchKernel");
  need(t.cuGetErrorName, "cuGetErrorName");
  need(t.cuGetErrorString, "cuGetErrorString");
  bind(lib, t.cuStreamBeginCapture, "cuStreamBeginCapture_v2", nullptr);
  bind(lib, t.cuStreamEndCapture, "cuStreamEndCapture", nullptr);
  bind(lib, t.cuGraphInstantiateWithFlags, "cuGraphInstantiateWithFlags", nullptr);
  bind(lib, t.cuGraphLaunch, "cuGraphLaunch", nullptr);
  bind(lib, t.cuGraphExecDestroy, "cuGraphExecDestroy", nullptr);
  bind(lib, t.cuGraphDestroy, "cuGraphDestroy", nullptr);
  bind(lib, t.cuMemGetInfo, "cuMemGetInfo_v2", nullptr);
  bind(lib, t.cuEventCreate, "cuEventCreate", nullptr);
  bind(lib, t.cuEventRecord, "cuEventRecord", nullptr);
  bind(lib, t.cuEventElapsedTime, "cuEventElapsedTime", nullptr);
  bind(lib, t.cuEventDestroy, "cuEventDestroy_v2", nullptr);
  bind(lib, t.cuFuncGetAttribute, "cuFuncGetAttribute", nullptr);
  bind(lib, t.cuOccupancyMaxActiveBlocksPerMultiprocessor,
       "cuOccupancyMaxActiveBlocksPerMultiprocessor", nullptr);
  if (missing) {
    d.failure = "the driver library " + name + " has no " + missing +
                " (a driver too old for CUDA 11, or not the NVIDIA driver)";
    dlclose(lib);
    return d;
  }
  // The library stays loaded for the life of the process: contexts and
  // modules of every model live in it.
  if (CUresult r = t.cuInit(0); r != CUDA_SUCCESS) {
    // cuGetErrorName works before a successful cuInit.
    d.failure = "cuInit failed: " + describe(r, t);
    return d;
  }
  return d;
}

const OpenedDriver &opened() {
  static std::once_flag once;
  static OpenedDriver *d = nullptr;
  std::call_once(once, [] { d = new OpenedDriver(open()); }); // never freed: see above
  return *d;
}

} // namespace

std::string ncl::rt::cuda::describe(CUresult r, const Driver &t) {
  const char *name = nullptr, *text = nullptr;
  if (t.cuGetErrorName)
    t.cuGetErrorName(r, &name);
  if (t.cuGetErrorString)
    t.cuGetErrorString(r, &text);
  std::string s = name ? name : "CUDA error " + std::to_string(r);
  if (text)
    s += std::string(" (") + text + ")";
  return s;
}

std::string ncl::rt::cuda::describe(CUresult r) { return describe(r, opened().table); }

const Driver &ncl::rt::cuda::driver() {
  const OpenedDriver &d = opened();
  if (!d.failure.empty())
    throw Error(NCL_ERROR_STATE, d.failure);
  return d.table;
}
