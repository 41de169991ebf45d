//===- CudaDriver.h - The CUDA driver API, opened at run time -------------===//
//
// The runtime never links against CUDA: the CUDA backend opens the driver
// library with dlopen("libcuda.so.1") the first time a model asks for it and
// takes the few entry points it needs with dlsym. The types are declared here
// with the driver API's layout (cuda.h is not needed to build NCL). The
// environment variable NCL_CUDA_DRIVER names another library to open instead,
// a hook for tests (a missing file, a fake driver) and diagnostics.
//
//===----------------------------------------------------------------------===//
#ifndef NCL_RUNTIME_LIB_CUDADRIVER_H
#define NCL_RUNTIME_LIB_CUDADRIVER_H

#include <cstddef>
#include <cstdint>
#include <string>

namespace ncl::rt::cuda {

using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
using CUcontext = struct CUctx_st *;
using CUmodule = struct CUmod_st *;
using CUfunction = struct CUfunc_st *;
using CUstream = struct CUstream_st *;
using CUgraph = struct CUgraph_st *;
using CUgraphExec = struct CUgraphExec_st *;
using CUevent = struct CUevent_st *;

constexpr CUresult CUDA_SUCCESS = 0;
constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
constexpr int CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16;
constexpr int CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES = 3;
constexpr int CU_FUNC_ATTRIBUTE_NUM_REGS = 4;
constexpr int CU_JIT_ERROR_LOG_BUFFER = 5;
constexpr int CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES = 6;
constexpr unsigned CU_STREAM_NON_BLOCKING = 1;
constexpr int CU_MEMORYTYPE_DEVICE = 2;
constexpr int CU_STREAM_CAPTURE_MODE_THREAD_LOCAL = 1;

/// cuMemcpy2DAsync's description of a copy (cuda.h's CUDA_MEMCPY2D): rows
/// of WidthInBytes, Height of them, srcPitch and dstPitch bytes apart.
struct Memcpy2D {
  size_t srcXInBytes, srcY;
  int srcMemoryType;
  const void *srcHost;
  CUdeviceptr srcDevice;
  void *srcArray;
  size_t srcPitch;
  size_t dstXInBytes, dstY;
  int dstMemoryType;
  void *dstHost;
  CUdeviceptr dstDevice;
  void *dstArray;
  size_t dstPitch;
  size_t WidthInBytes, Height;
};

/// The driver's entry points the backend uses (the _v2 names the driver
/// exports for the 64-bit API).
struct Driver {
  CUresult (*cuInit)(unsigned);
  CUresult (*cuDeviceGetCount)(int *);
  CUresult (*cuDeviceGet)(CUdevice *, int);
  CUresult (*cuDeviceGetAttribute)(int *, int, CUdevice);
  CUresult (*cuDeviceGetName)(char *, int, CUdevice);
  CUresult (*cuDevicePrimaryCtxRetain)(CUcontext *, CUdevice);
  CUresult (*cuDevicePrimaryCtxRelease)(CUdevice);
  CUresult (*cuCtxSetCurrent)(CUcontext);
  CUresult (*cuCtxSynchronize)();
  CUresult (*cuModuleLoadDataEx)(CUmodule *, const void *, unsigned, int *, void **);
  CUresult (*cuModuleGetFunction)(CUfunction *, CUmodule, const char *);
  CUresult (*cuModuleUnload)(CUmodule);
  CUresult (*cuMemAlloc)(CUdeviceptr *, size_t);
  CUresult (*cuMemFree)(CUdeviceptr);
  CUresult (*cuMemcpyHtoD)(CUdeviceptr, const void *, size_t);
  CUresult (*cuMemcpyDtoH)(void *, CUdeviceptr, size_t);
  CUresult (*cuMemsetD8)(CUdeviceptr, unsigned char, size_t);
  CUresult (*cuMemcpyHtoDAsync)(CUdeviceptr, const void *, size_t, CUstream);
  CUresult (*cuMemcpyDtoHAsync)(void *, CUdeviceptr, size_t, CUstream);
  CUresult (*cuMemcpyDtoDAsync)(CUdeviceptr, CUdeviceptr, size_t, CUstream);
  CUresult (*cuMemcpy2DAsync)(const Memcpy2D *, CUstream);
  CUresult (*cuMemHostAlloc)(void **, size_t, unsigned);
  CUresult (*cuMemFreeHost)(void *);
  CUresult (*cuStreamCreate)(CUstream *, unsigned);
  CUresult (*cuStreamDestroy)(CUstream);
  CUresult (*cuStreamSynchronize)(CUstream);
  CUresult (*cuLaunchKernel)(CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned,
                             unsigned, CUstream, void **, void **);
  CUresult (*cuGetErrorName)(CUresult, const char **);
  CUresult (*cuGetErrorString)(CUresult, const char **);
  // Optional (CUDA 11.4 and later): CUDA graphs, made by capturing the
  // stream; null where the driver lacks one, and then none is used.
  CUresult (*cuStreamBeginCapture)(CUstream, int);
  CUresult (*cuStreamEndCapture)(CUstream, CUgraph *);
  CUresult (*cuGraphInstantiateWithFlags)(CUgraphExec *, CUgraph, unsigned long long);
  CUresult (*cuGraphLaunch)(CUgraphExec, CUstream);
  CUresult (*cuGraphExecDestroy)(CUgraphExec);
  CUresult (*cuGraphDestroy)(CUgraph);
  // Optional: the device's free and total memory, which sizes the arrival
  // queues of per-synapse delays (a fixed budget where it is missing).
  CUresult (*cuMemGetInfo)(size_t *, size_t *);
  // Optional: events, which time each command where NCL_CUDA_PROFILE=1.
  CUresult (*cuEventCreate)(CUevent *, unsigned);
  CUresult (*cuEventRecord)(CUevent, CUstream);
  CUresult (*cuEventElapsedTime)(float *, CUevent, CUevent);
  CUresult (*cuEventDestroy)(CUevent);
  // Optional: a kernel's registers and local memory, and how many of its
  // blocks a multiprocessor holds at once (run.json's "device_kernels").
  CUresult (*cuFuncGetAttribute)(int *, int, CUfunction);
  CUresult (*cuOccupancyMaxActiveBlocksPerMultiprocessor)(int *, CUfunction, int, size_t);
  bool hasEvents() const {
    return cuEventCreate && cuEventRecord && cuEventElapsedTime && cuEventDestroy;
  }
  bool hasGraphs() const {
    return cuStreamBeginCapture && cuStreamEndCapture && cuGraphInstantiateWithFlags &&
           cuGraphLaunch && cuGraphExecDestroy && cuGraphDestroy;
  }
};

/// The driver, opened and initialised (cuInit) once per process; throws
/// ncl::rt::Error with the reason ("libcuda.so.1 cannot be loaded: ...",
/// "cuInit failed: CUDA_ERROR_NO_DEVICE (...)") when that is not possible,
/// the same reason on every call.
const Driver &driver();

/// "CUDA_ERROR_OUT_OF_MEMORY (out of memory)" for a result code, through
/// the opened driver (`t`, or the process's).
std::string describe(CUresult r, const Driver &t);
std::string describe(CUresult r);

} // namespace ncl::rt::cuda

#endif // NCL_RUNTIME_LIB_CUDADRIVER_H
