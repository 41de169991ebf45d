//===- Loader.cpp - dlopen a model library and validate its descriptor ----===//
//
// A model library may be a foreign .so, a model built by an older or newer
// nclc, or a file truncated by a full disk or an interrupted copy. Before
// dlopen, which maps segments wherever the program headers say and crashes
// on a truncated file, the loader checks the ELF header (a shared object for
// this machine's class, byte order and architecture) and that every segment
// and the section header table lie within the file. After dlopen it reads
// the descriptor in the order the ABI promises is safe (symbol kind and
// size, then magic, then abi_version, only then the rest, down to every
// entry of the buffer table and the stage list, which the simulator then
// trusts). Every problem becomes a message that names the bad entry and
// says what to do, never a crash. A library's
// constructors run inside dlopen, so none of this makes an untrusted model
// safe to load: it guards against accidents, not against malice.
//
//===----------------------------------------------------------------------===//
#include "Model.h"

#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <set>
#include <vector>

using namespace ncl::rt;

namespace {

/// Slots of the per-role tables: every role number (ncl_buffer_role) is below.
constexpr size_t kRoleSlots = 32;

std::string quoted(const std::string &path) { return "'" + path + "'"; }

Error notAModel(const std::string &path, const std::string &why) {
  return Error(NCL_ERROR_LOAD, quoted(path) + " is not an NCL model (" + why + ")");
}

Error malformed(const std::string &path, const std::string &why) {
  return Error(NCL_ERROR_LOAD, quoted(path) + " has a malformed NCL model descriptor: " + why +
                                   "; recompile it with this nclc");
}

/// Closes the library unless ownership was handed to the model.
struct HandleGuard {
  void *handle;
  ~HandleGuard() {
    if (handle)
      dlclose(handle);
  }
};

//===----------------------------------------------------------------------===//
// The ELF file before dlopen
//===----------------------------------------------------------------------===//

#if defined(__x86_64__)
constexpr unsigned kHostMachine = EM_X86_64;
#elif defined(__aarch64__)
constexpr unsigned kHostMachine = EM_AARCH64;
#elif defined(__riscv)
constexpr unsigned kHostMachine = EM_RISCV;
#elif defined(__powerpc64__)
constexpr unsigned kHostMachine = EM_PPC64;
#else
#error "add this machine's ELF e_machine value"
#endif
constexpr unsigned char kHostClass = sizeof(void *) == 8 ? ELFCLASS64 : ELFCLASS32;
constexpr unsigned char kHostData =
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? ELFDATA2LSB : ELFDATA2MSB;

std::string machineName(unsigned machine) {
  switch (machine) {
  case EM_X86_64:
    return "x86-64";
  case EM_386:
    return "32-bit x86";
  case EM_AARCH64:
    return "AArch64";
  case EM_ARM:
    return "32-bit ARM";
  case EM_RISCV:
    return "RISC-V";
  case EM_PPC64:
    return "64-bit PowerPC";
  default:
    return "ELF machine " + std::to_string(machine);
  }
}

Error notALibrary(const std::string &path, const std::string &why) {
  return Error(NCL_ERROR_LOAD, quoted(path) + " is not a usable shared library (" + why +
                                   "); rebuild it with nclc");
}

/// Closes a file descriptor on scope exit.
struct FdGuard {
  int fd;
  ~FdGuard() {
    if (fd >= 0)
      ::close(fd);
  }
};

/// Reads exactly `size` bytes at `offset`; false on a short read.
bool readAt(int fd, void *out, size_t size, uint64_t offset) {
  char *p = static_cast<char *>(out);
  while (size > 0) {
    ssize_t n = ::pread(fd, p, size, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    p += n;
    size -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  return true;
}

/// "ends at byte N, but the file has only M": the extent [offset, offset +
/// count * entry) must lie within `fileSize`, without overflow.
bool withinFile(uint64_t offset, uint64_t count, uint64_t entry, uint64_t fileSize, uint64_t &end) {
  uint64_t bytes;
  if (__builtin_mul_overflow(count, entry, &bytes) || __builtin_add_overflow(offset, bytes, &end))
    return false;
  return end <= fileSize;
}

/// Checks that `openPath` is a regular file holding an ELF shared object for
/// this machine whose segments and section headers all lie within the file,
/// so that dlopen maps nothing past its end.
void checkSharedObject(const std::string &path, const std::string &openPath) {
  // O_NONBLOCK: opening a FIFO must not hang; it is refused below.
  FdGuard file{::open(openPath.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK)};
  if (file.fd < 0)
    throw Error(NCL_ERROR_LOAD, "cannot open " + quoted(path) + ": " + std::strerror(errno));
  struct stat st;
  if (::fstat(file.fd, &st) != 0)
    throw Error(NCL_ERROR_LOAD, "cannot open " + quoted(path) + ": " + std::strerror(errno));
  if (S_ISDIR(st.st_mode))
    throw notALibrary(path, "it is a directory");
  if (!S_ISREG(st.st_mode))
    throw notALibrary(path, "it is not a regular file");
  const uint64_t size = static_cast<uint64_t>(st.st_size);

  ElfW(Ehdr) eh;
  if (size < SELFMAG)
    throw notALibrary(path, "the file has " + std::to_string(size) + " bytes, not an ELF file");
  if (!readAt(file.fd, &eh, std::min<uint64_t>(size, sizeof eh), 0))
    throw Error(NCL_ERROR_LOAD, "cannot read " + quoted(path) + ": " + std::strerror(errno));
  if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0)
    throw notALibrary(path, "not an ELF file");
  if (size < sizeof eh)
    throw notALibrary(path, "truncated: the file has " + std::to_string(size) +
                                " bytes, but the ELF header ends at byte " +
                                std::to_string(sizeof eh));
  if (eh.e_ident[EI_CLASS] != kHostClass)
    throw notALibrary(path, std::string("built for ") +
                                (eh.e_ident[EI_CLASS] == ELFCLASS32 ? "32" : "64") +
                                "-bit code, this runtime is " +
                                (kHostClass == ELFCLASS32 ? "32" : "64") + "-bit");
  if (eh.e_ident[EI_DATA] != kHostData)
    throw notALibrary(path, "built for the other byte order");
  if (eh.e_type != ET_DYN)
    throw notALibrary(path, eh.e_type == ET_EXEC  ? "an executable, not a shared library"
                            : eh.e_type == ET_REL ? "an object file, not a shared library"
                                                  : "not a shared library");
  if (eh.e_machine != kHostMachine)
    throw notALibrary(path, "built for " + machineName(eh.e_machine) + ", this machine is " +
                                machineName(kHostMachine));
  if (eh.e_phentsize != sizeof(ElfW(Phdr)) || eh.e_phnum == 0 || eh.e_phnum == PN_XNUM)
    throw notALibrary(path, "bad program header table");

  auto truncated = [&](const std::string &what, uint64_t end) {
    return notALibrary(path, "truncated: the file has " + std::to_string(size) + " bytes, but " +
                                 what + " ends at byte " + std::to_string(end));
  };
  uint64_t end = 0;
  if (!withinFile(eh.e_phoff, eh.e_phnum, sizeof(ElfW(Phdr)), size, end))
    throw truncated("the program header table", end);
  if (eh.e_shoff != 0 && !withinFile(eh.e_shoff, eh.e_shnum, eh.e_shentsize, size, end))
    throw truncated("the section header table", end);

  std::vector<ElfW(Phdr)> phdrs(eh.e_phnum);
  if (!readAt(file.fd, phdrs.data(), phdrs.size() * sizeof(ElfW(Phdr)), eh.e_phoff))
    throw Error(NCL_ERROR_LOAD, "cannot read " + quoted(path) + ": " + std::strerror(errno));
  bool dynamic = false;
  for (size_t i = 0; i < phdrs.size(); ++i) {
    const ElfW(Phdr) &ph = phdrs[i];
    dynamic |= ph.p_type == PT_DYNAMIC;
    if (!withinFile(ph.p_offset, 1, ph.p_filesz, size, end))
      throw truncated("segment " + std::to_string(i), end);
    if (ph.p_type == PT_LOAD && ph.p_memsz < ph.p_filesz)
      throw notALibrary(path,
                        "segment " + std::to_string(i) + " is larger in the file than in memory");
  }
  if (!dynamic)
    throw notALibrary(path, "no dynamic section");
}

//===----------------------------------------------------------------------===//
// The descriptor after dlopen
//===----------------------------------------------------------------------===//

const char *elementName(int32_t element) {
  switch (element) {
  case NCL_ELEMENT_F32:
    return "f32";
  case NCL_ELEMENT_F64:
    return "f64";
  case NCL_ELEMENT_I32:
    return "i32";
  case NCL_ELEMENT_I64:
    return "i64";
  case NCL_ELEMENT_I16:
    return "i16";
  }
  return "?";
}

/// A population's files: a spike generator's two, each timed input's one.
void validateSources(const std::string &path, const ncl_population_info &pi,
                     const std::string &where) {
  if (pi.source_kind != NCL_SOURCE_NEURONS && pi.source_kind != NCL_SOURCE_SPIKE_GENERATOR)
    throw malformed(path, where + " has an unknown source kind " + std::to_string(pi.source_kind));
  if (pi.source_kind == NCL_SOURCE_SPIKE_GENERATOR &&
      (!pi.spike_times_file || !pi.spike_indices_file || pi.num_vars != 0))
    throw malformed(path, where + " is a spike generator without its two files, or with state");
  if (pi.num_timed_inputs < 0 || (pi.num_timed_inputs > 0 && !pi.timed_inputs))
    throw malformed(path, where + " has a bad timed-input table");
  for (int32_t k = 0; k < pi.num_timed_inputs; ++k) {
    const ncl_timed_input_info &t = pi.timed_inputs[k];
    if (!t.input || !t.file || !(t.interval > 0 && std::isfinite(t.interval)) ||
        !std::isfinite(t.scale))
      throw malformed(path, where + " has a bad timed input " + std::to_string(k));
  }
}

/// The element type and extent a buffer of `role` must have, and what the
/// role is called in messages.
struct RoleShape {
  const char *name;
  int32_t element; // 0: the model's real type
  int32_t extent;
};

RoleShape roleShape(int32_t role) {
  switch (role) {
  case NCL_BUFFER_PARAMS:
    return {"parameter", NCL_ELEMENT_F64, NCL_EXTENT_FIXED};
  case NCL_BUFFER_STATE:
    return {"state", 0, NCL_EXTENT_NEURONS};
  case NCL_BUFFER_REFRACTORY:
    return {"refractory", NCL_ELEMENT_I32, NCL_EXTENT_NEURONS};
  case NCL_BUFFER_SPIKE_STEP:
    return {"spike-step", NCL_ELEMENT_I64, NCL_EXTENT_SPIKE_CAPACITY};
  case NCL_BUFFER_SPIKE_INDEX:
    return {"spike-index", NCL_ELEMENT_I64, NCL_EXTENT_SPIKE_CAPACITY};
  case NCL_BUFFER_SPIKE_CHANNEL:
    return {"spike-channel", NCL_ELEMENT_I32, NCL_EXTENT_SPIKE_CAPACITY};
  case NCL_BUFFER_SYNAPTIC_INPUT:
    return {"synaptic-input", 0, NCL_EXTENT_NEURONS};
  case NCL_BUFFER_ROW_START:
    return {"row-start", NCL_ELEMENT_I64, NCL_EXTENT_ROWS};
  case NCL_BUFFER_POST_INDEX:
    return {"postsynaptic-index", NCL_ELEMENT_I32, NCL_EXTENT_SYNAPSES};
  case NCL_BUFFER_LAST_SPIKE:
    return {"last-spike", NCL_ELEMENT_I32, NCL_EXTENT_NEURONS};
  case NCL_BUFFER_SYNAPSE_DELAY:
    return {"synapse-delay", NCL_ELEMENT_I16, NCL_EXTENT_SYNAPSES};
  case NCL_BUFFER_CONNECT_MASK:
    return {"connect-mask", NCL_ELEMENT_I32, NCL_EXTENT_FIXED};
  case NCL_BUFFER_SERIES:
    return {"series", 0, NCL_EXTENT_FIXED};
  case NCL_BUFFER_SERIES_SHAPE:
    return {"series-shape", NCL_ELEMENT_I64, NCL_EXTENT_FIXED};
  case NCL_BUFFER_COLUMN_START:
    return {"column-start", NCL_ELEMENT_I64, NCL_EXTENT_COLUMNS};
  case NCL_BUFFER_COLUMN_SYNAPSE:
    return {"column-synapse", NCL_ELEMENT_I32, NCL_EXTENT_SYNAPSES};
  case NCL_BUFFER_COLUMN_PRE:
    return {"column-presynaptic", NCL_ELEMENT_I32, NCL_EXTENT_SYNAPSES};
  case NCL_BUFFER_PRE_TRACE:
    return {"presynaptic-trace", 0, NCL_EXTENT_NEURONS};
  case NCL_BUFFER_POST_TRACE:
    return {"postsynaptic-trace", 0, NCL_EXTENT_NEURONS};
  case NCL_BUFFER_PRE_TRACE_NOW:
    return {"presynaptic-trace-now", 0, NCL_EXTENT_NEURONS};
  case NCL_BUFFER_POST_TRACE_NOW:
    return {"postsynaptic-trace-now", 0, NCL_EXTENT_NEURONS};
  case NCL_BUFFER_KWTA_ORDER:
    return {"kwta-order", NCL_ELEMENT_I32, NCL_EXTENT_NEURONS};
  case NCL_BUFFER_KWTA_DUTY:
    return {"kwta-duty", 0, NCL_EXTENT_NEURONS};
  case NCL_BUFFER_KWTA_KEY:
    return {"kwta-key", 0, NCL_EXTENT_NEURONS};
  default:
    return {"synapse-state", 0, NCL_EXTENT_SYNAPSES};
  }
}

const char *extentName(int32_t extent) {
  return extent == NCL_EXTENT_FIXED            ? "a fixed number of elements"
         : extent == NCL_EXTENT_NEURONS        ? "one element per neuron"
         : extent == NCL_EXTENT_SPIKE_CAPACITY ? "one element per spike-buffer entry"
         : extent == NCL_EXTENT_SYNAPSES       ? "one element per synapse"
         : extent == NCL_EXTENT_ROWS           ? "one element per presynaptic neuron, plus one"
                                               : "one element per postsynaptic neuron, plus one";
}

/// A projection's buffer: its parameters, row starts, postsynaptic indices
/// or a per-synapse variable, each once.
void validateProjectionBuffer(const std::string &path, const ncl_model_descriptor &d,
                              const ncl_buffer_info &b, const std::string &where,
                              std::vector<std::vector<int32_t>> &byRole,
                              std::vector<std::vector<int32_t>> &byVar, int32_t i) {
  if (b.projection < 0 || b.projection >= d.num_projections || b.population != -1)
    throw malformed(path, where + " belongs to projection " + std::to_string(b.projection) +
                              ", but the model has " + std::to_string(d.num_projections) +
                              " projections");
  const ncl_projection_info &qi = d.projections[b.projection];
  const std::string projection = "projection '" + std::string(qi.name) + "'";
  const RoleShape shape = roleShape(b.role);
  const int32_t element =
      shape.element ? shape.element : (d.real_bits == 32 ? NCL_ELEMENT_F32 : NCL_ELEMENT_F64);
  if (b.element != element || b.extent != shape.extent)
    throw malformed(path, where + " is not shaped like a " + shape.name + " buffer (" +
                              elementName(element) + ", " + extentName(shape.extent) + ")");
  if (b.role == NCL_BUFFER_PARAMS && b.count != qi.num_params)
    throw malformed(path, where + " has " + std::to_string(b.count) + " elements, but " +
                              projection + " has " + std::to_string(qi.num_params) + " parameters");
  if (b.role == NCL_BUFFER_CONNECT_MASK &&
      (qi.rule != NCL_CONNECT_CONDITION || b.count != qi.post_end - qi.post_begin))
    throw malformed(path, where + " is a connect mask, but " + projection +
                              " has no condition over " + std::to_string(b.count) +
                              " postsynaptic neurons");
  if (b.role == NCL_BUFFER_SYNAPSE_STATE && (b.index < 0 || b.index >= qi.num_vars))
    throw malformed(path, where + " is per-synapse variable " + std::to_string(b.index) + ", but " +
                              projection + " has " + std::to_string(qi.num_vars));
  if (isTraceRole(b.role)) {
    const bool pre = b.role == NCL_BUFFER_PRE_TRACE || b.role == NCL_BUFFER_PRE_TRACE_NOW;
    const int32_t traces = pre ? qi.num_pre_traces : qi.num_post_traces;
    if (b.index < 0 || b.index >= traces)
      throw malformed(path, where + " is " + (pre ? "presynaptic" : "postsynaptic") + " trace " +
                                std::to_string(b.index) + ", but " + projection + " has " +
                                std::to_string(traces));
    return; // one per trace; the trace tables are checked with the projection
  }
  int32_t &seen = b.role == NCL_BUFFER_SYNAPSE_STATE
                      ? byVar[static_cast<size_t>(b.projection)][static_cast<size_t>(b.index)]
                      : byRole[static_cast<size_t>(b.projection)][static_cast<size_t>(b.role)];
  if (seen >= 0)
    throw malformed(path, where + " is a second " + shape.name + " buffer of " + projection);
  seen = i;
}

/// The projection table: endpoints, ranges and rules the runtime can build.
void validateProjections(const std::string &path, const ncl_model_descriptor &d) {
  if (d.num_projections < 0 || (d.num_projections > 0 && !d.projections))
    throw malformed(path, "bad projection table");
  for (int32_t q = 0; q < d.num_projections; ++q) {
    const ncl_projection_info &qi = d.projections[q];
    std::string where = "projection " + std::to_string(q);
    if (!qi.name || !*qi.name || !qi.synapse)
      throw malformed(path, where + " has no name");
    where += " ('" + std::string(qi.name) + "')";
    if (qi.pre < 0 || qi.pre >= d.num_populations || qi.post < 0 || qi.post >= d.num_populations)
      throw malformed(path, where + " connects a population the model does not have");
    if (qi.rule < NCL_CONNECT_ALL_TO_ALL || qi.rule > NCL_CONNECT_CONDITION)
      throw malformed(path, where + " has an unknown connection rule " + std::to_string(qi.rule));
    const bool explicitLists = qi.rule == NCL_CONNECT_EXPLICIT;
    if (explicitLists != (qi.pre_file && qi.post_file) || (!explicitLists && qi.pre_file) ||
        (!explicitLists && qi.delay_file))
      throw malformed(path, where + " names connectivity files, but only explicit connectivity "
                                    "reads both of them");
    if (qi.mask_file && qi.rule != NCL_CONNECT_ALL_TO_ALL &&
        qi.rule != NCL_CONNECT_FIXED_PROBABILITY && qi.rule != NCL_CONNECT_CONDITION)
      throw malformed(path, where + " has a mask file, but a rule that takes no mask");
    if (qi.weight_var < -1 || qi.weight_var >= qi.num_vars || qi.num_signed_ranges < 0 ||
        (qi.num_signed_ranges > 0 && (!qi.signed_ranges || qi.weight_var < 0)))
      throw malformed(path, where + " has a bad weight or signed range table");
    for (int32_t k = 0; k < qi.num_signed_ranges; ++k) {
      const ncl_signed_range &r = qi.signed_ranges[k];
      if (r.begin < 0 || (r.end != -1 && r.end <= r.begin) || (r.sign != 1 && r.sign != -1))
        throw malformed(path, where + " has a bad signed range " + std::to_string(k));
    }
    if (qi.rule == NCL_CONNECT_CONDITION) {
      int32_t conditions = 0;
      for (int32_t s = 0; s < d.num_stages; ++s)
        conditions += d.stages && d.stages[s].kind == NCL_STAGE_CONNECT_CONDITION &&
                      d.stages[s].projection == q;
      if (conditions != 1)
        throw malformed(path, where + " connects by a condition, but has " +
                                  std::to_string(conditions) + " condition stages");
    }
    if (!(qi.p >= 0 && qi.p <= 1) || qi.n < 0 || !(std::isfinite(qi.delay) && qi.delay >= 0) ||
        !(std::isfinite(qi.post_delay) && qi.post_delay >= 0) || !(qi.max_dt > 0))
      throw malformed(path, where + " has an invalid probability, count, delay or max_dt");
    if (!(qi.pre_begin >= 0 && qi.pre_begin < qi.pre_end && qi.post_begin >= 0 &&
          qi.post_begin < qi.post_end))
      throw malformed(path, where + " has an empty or invalid neuron range");
    if ((qi.num_params > 0 && !qi.params) || (qi.num_vars > 0 && !qi.vars) || qi.num_params < 0 ||
        qi.num_vars < 0)
      throw malformed(path, where + " has a bad parameter or variable table");
    for (auto [count, traces] : {std::pair(qi.num_pre_traces, qi.pre_traces),
                                 std::pair(qi.num_post_traces, qi.post_traces)}) {
      if (count < 0 || (count > 0 && !traces) || count == 1)
        throw malformed(path, where + " has a bad trace table");
      for (int32_t k = 0; k < count; ++k)
        if (!traces[k].name || (k + 1 == count) != isEventTime(traces[k].name))
          throw malformed(path, where + " has a trace table that does not end with _lastupdate");
    }
  }
}

/// The monitor table: known kinds over existing populations and variables,
/// neuron ranges within the default size, unique names.
void validateMonitors(const std::string &path, const ncl_model_descriptor &d) {
  // 0 (a zero-filled descriptor) is one member.
  if (d.default_batch < 0 || d.default_batch > kMaxBatch)
    throw malformed(path, "default batch " + std::to_string(d.default_batch) + " is not 0.." +
                              std::to_string(kMaxBatch));
  if (d.default_batch > 1 && d.batch_refusal)
    throw malformed(path, "a default batch of " + std::to_string(d.default_batch) +
                              " for a network that refuses batches");
  if (d.num_monitors < 0 || (d.num_monitors > 0 && !d.monitors))
    throw malformed(path, "bad monitor table");
  for (int32_t k = 0; k < d.num_monitors; ++k) {
    const ncl_monitor_info &mi = d.monitors[k];
    std::string where = "monitor " + std::to_string(k);
    if (!mi.name || !*mi.name)
      throw malformed(path, where + " has no name");
    where += " ('" + std::string(mi.name) + "')";
    for (int32_t j = 0; j < k; ++j)
      if (std::strcmp(d.monitors[j].name, mi.name) == 0)
        throw malformed(path, where + " has the name of monitor " + std::to_string(j));
    if (mi.kind != NCL_MONITOR_STATE && mi.kind != NCL_MONITOR_RATE &&
        mi.kind != NCL_MONITOR_SYNAPSE)
      throw malformed(path, where + " has an unknown kind " + std::to_string(mi.kind));
    if (mi.kind == NCL_MONITOR_SYNAPSE) {
      if (mi.projection < 0 || mi.projection >= d.num_projections)
        throw malformed(path, where + " records a projection the model does not have");
      const ncl_projection_info &proj = d.projections[mi.projection];
      if (mi.var < 0 || mi.var >= proj.num_vars)
        throw malformed(path, where + " records variable " + std::to_string(mi.var) +
                                  " of a projection with " + std::to_string(proj.num_vars));
      if (!(mi.end == -1 ? mi.begin == 0 : mi.begin >= 0 && mi.begin < mi.end) || mi.every < 1)
        throw malformed(path, where + " has an invalid synapse range or sampling interval");
      continue;
    }
    if (mi.population < 0 || mi.population >= d.num_populations)
      throw malformed(path, where + " records a population the model does not have");
    const ncl_population_info &pop = d.populations[mi.population];
    if (mi.kind == NCL_MONITOR_STATE && (mi.var < 0 || mi.var >= pop.num_vars))
      throw malformed(path, where + " records variable " + std::to_string(mi.var) +
                                " of a population with " + std::to_string(pop.num_vars));
    if (mi.kind == NCL_MONITOR_RATE && !pop.record_spikes && !pop.emits_spikes)
      throw malformed(path, where + " counts the spikes of a population that does not store them");
    if (!(mi.begin >= 0 && mi.begin < mi.end && mi.end <= pop.default_size) || mi.every < 1)
      throw malformed(path, where + " has an invalid neuron range or sampling interval");
  }
}

/// The buffer table: every entry well-formed, and every population with
/// the buffers the runtime itself reads (parameters, one state buffer per
/// variable, the spike buffers of a recorded population), each once.
void validateBuffers(const std::string &path, const ncl_model_descriptor &d) {
  if (d.num_buffers < 0 || (d.num_buffers > 0 && !d.buffers))
    throw malformed(path, "bad buffer table");
  const size_t np = static_cast<size_t>(d.num_populations);
  // Per population: the buffer of each role (and of each variable) seen so far.
  std::vector<std::vector<int32_t>> byRole(np, std::vector<int32_t>(kRoleSlots, -1));
  const size_t nq = static_cast<size_t>(d.num_projections);
  std::vector<std::vector<int32_t>> projectionByRole(nq, std::vector<int32_t>(kRoleSlots, -1));
  std::vector<std::vector<int32_t>> projectionByVar(nq);
  for (size_t q = 0; q < nq; ++q)
    projectionByVar[q].assign(static_cast<size_t>(d.projections[q].num_vars), -1);
  std::vector<std::vector<int32_t>> byVar(np);
  for (size_t p = 0; p < np; ++p)
    byVar[p].assign(static_cast<size_t>(d.populations[p].num_vars), -1);
  const int32_t realElement = d.real_bits == 32 ? NCL_ELEMENT_F32 : NCL_ELEMENT_F64;

  for (int32_t i = 0; i < d.num_buffers; ++i) {
    const ncl_buffer_info &b = d.buffers[i];
    std::string where = "buffer " + std::to_string(i);
    if (!b.name || !*b.name)
      throw malformed(path, where + " has no name");
    where += " ('" + std::string(b.name) + "')";
    const bool series = b.role == NCL_BUFFER_SERIES || b.role == NCL_BUFFER_SERIES_SHAPE;
    if (b.role < NCL_BUFFER_PARAMS ||
        (b.role > NCL_BUFFER_SYNAPSE_DELAY && b.role != NCL_BUFFER_CONNECT_MASK && !series &&
         b.role != NCL_BUFFER_COLUMN_START && b.role != NCL_BUFFER_COLUMN_SYNAPSE &&
         b.role != NCL_BUFFER_COLUMN_PRE && b.role != NCL_BUFFER_PRE_TRACE &&
         b.role != NCL_BUFFER_POST_TRACE && b.role != NCL_BUFFER_KWTA_ORDER &&
         b.role != NCL_BUFFER_KWTA_DUTY && b.role != NCL_BUFFER_KWTA_KEY &&
         b.role != NCL_BUFFER_PRE_TRACE_NOW && b.role != NCL_BUFFER_POST_TRACE_NOW))
      throw malformed(path, where + " has an unknown role " + std::to_string(b.role));
    if (b.element < NCL_ELEMENT_F32 || b.element > NCL_ELEMENT_I16)
      throw malformed(path, where + " has an unknown element type " + std::to_string(b.element));
    if (b.extent < NCL_EXTENT_FIXED || b.extent > NCL_EXTENT_COLUMNS)
      throw malformed(path, where + " has an unknown extent " + std::to_string(b.extent));
    const bool synaptic = b.role == NCL_BUFFER_ROW_START || b.role == NCL_BUFFER_POST_INDEX ||
                          b.role == NCL_BUFFER_SYNAPSE_STATE ||
                          b.role == NCL_BUFFER_SYNAPSE_DELAY || b.role == NCL_BUFFER_CONNECT_MASK ||
                          b.role == NCL_BUFFER_COLUMN_START ||
                          b.role == NCL_BUFFER_COLUMN_SYNAPSE || b.role == NCL_BUFFER_COLUMN_PRE ||
                          isTraceRole(b.role) || (b.role == NCL_BUFFER_PARAMS && b.population < 0);
    if (synaptic) {
      validateProjectionBuffer(path, d, b, where, projectionByRole, projectionByVar, i);
      continue;
    }
    if (b.population < 0 || b.population >= d.num_populations)
      throw malformed(path, where + " belongs to population " + std::to_string(b.population) +
                                ", but the model has " + std::to_string(d.num_populations) +
                                " populations");
    const ncl_population_info &pi = d.populations[b.population];
    const std::string pop = "population '" + std::string(pi.name) + "'";
    const RoleShape shape = roleShape(b.role);
    const int32_t element = shape.element ? shape.element : realElement;
    const std::string kind = std::string(shape.name) + " buffer";
    if (b.role == NCL_BUFFER_STATE && (b.index < 0 || b.index >= pi.num_vars))
      throw malformed(path, where + " is the state of variable " + std::to_string(b.index) +
                                ", but " + pop + " has " + std::to_string(pi.num_vars) +
                                " variables");
    if (b.element != element)
      throw malformed(path, where + " holds " + elementName(b.element) + " elements, but a " +
                                kind +
                                (b.role == NCL_BUFFER_STATE
                                     ? " of this " + std::to_string(d.real_bits) + "-bit model"
                                     : "") +
                                " holds " + elementName(element));
    if (b.extent != shape.extent)
      throw malformed(path, where + " has " + extentName(b.extent) + ", but a " + kind + " has " +
                                extentName(shape.extent));
    if (b.extent == NCL_EXTENT_FIXED && (b.count < 0 || b.count > kMaxPopulationSize))
      throw malformed(path, where + " has an invalid element count " + std::to_string(b.count));
    if (b.role == NCL_BUFFER_PARAMS && b.count != pi.num_params)
      throw malformed(path, where + " has " + std::to_string(b.count) + " elements, but " + pop +
                                " has " + std::to_string(pi.num_params) + " parameters");
    if (b.extent == NCL_EXTENT_SPIKE_CAPACITY && !pi.record_spikes && !pi.emits_spikes)
      throw malformed(path, where + " is a " + kind + ", but " + pop +
                                " neither records nor sends its spikes");
    if (b.role == NCL_BUFFER_SYNAPTIC_INPUT)
      continue; // any number, one per variable projections add to
    if (series) {
      if (b.index < 0 || b.index >= pi.num_timed_inputs ||
          b.count != (b.role == NCL_BUFFER_SERIES ? 0 : 3))
        throw malformed(path, where + " is not a " + kind + " of a timed input of " + pop);
      continue; // one of each per timed input
    }
    int32_t &seen = b.role == NCL_BUFFER_STATE
                        ? byVar[static_cast<size_t>(b.population)][static_cast<size_t>(b.index)]
                        : byRole[static_cast<size_t>(b.population)][static_cast<size_t>(b.role)];
    if (seen >= 0)
      throw malformed(path, where + " is a second " + kind + " of " + pop +
                                (b.role == NCL_BUFFER_STATE
                                     ? " for variable '" + std::string(pi.vars[b.index].name) + "'"
                                     : "") +
                                " (the first is buffer " + std::to_string(seen) + ")");
    seen = i;
  }

  for (size_t p = 0; p < np; ++p) {
    const ncl_population_info &pi = d.populations[p];
    const std::string pop = "population '" + std::string(pi.name) + "'";
    if (byRole[p][NCL_BUFFER_PARAMS] < 0)
      throw malformed(path, pop + " has no parameter buffer");
    for (size_t v = 0; v < byVar[p].size(); ++v)
      if (byVar[p][v] < 0)
        throw malformed(path, "variable '" + std::string(pi.vars[v].name) + "' of " + pop +
                                  " has no state buffer");
    if (!pi.record_spikes && !pi.emits_spikes)
      continue;
    for (int32_t role : {NCL_BUFFER_SPIKE_STEP, NCL_BUFFER_SPIKE_INDEX, NCL_BUFFER_SPIKE_CHANNEL})
      if (byRole[p][static_cast<size_t>(role)] < 0 &&
          (role != NCL_BUFFER_SPIKE_CHANNEL || pi.num_events > 0))
        throw malformed(path, pop + (pi.record_spikes ? " records" : " sends") + " its spikes" +
                                  (role == NCL_BUFFER_SPIKE_CHANNEL ? " and events" : "") +
                                  " but has no " + roleShape(role).name + " buffer");
  }
}

/// Whether projection q has a buffer of `role`.
bool hasProjectionBuffer(const ncl_model_descriptor &d, int32_t q, int32_t role) {
  for (int32_t i = 0; i < d.num_buffers; ++i)
    if (d.buffers[i].role == role && d.buffers[i].population < 0 && d.buffers[i].projection == q)
      return true;
  return false;
}

/// The stage list: each stage a known kind over a known population, with a
/// function. Any number of stages per population, run in order.
void validateStages(const std::string &path, const ncl_model_descriptor &d) {
  if (d.num_stages < 0 || (d.num_stages > 0 && !d.stages))
    throw malformed(path, "bad stage table");
  for (int32_t s = 0; s < d.num_stages; ++s) {
    const ncl_stage_info &st = d.stages[s];
    std::string where = "stage " + std::to_string(s);
    if (!st.name || !*st.name)
      throw malformed(path, where + " has no name");
    where += " ('" + std::string(st.name) + "')";
    const bool projectionStage =
        st.kind == NCL_STAGE_CONNECT || st.kind == NCL_STAGE_DELIVER ||
        st.kind == NCL_STAGE_DELIVER_SYNAPSES || st.kind == NCL_STAGE_SUM ||
        st.kind == NCL_STAGE_CONNECT_CONDITION || st.kind == NCL_STAGE_ON_POST ||
        st.kind == NCL_STAGE_SYNAPSE_STEP || st.kind == NCL_STAGE_ADVANCE_PRE_TRACES ||
        st.kind == NCL_STAGE_ADVANCE_POST_TRACES;
    const bool kwtaStage = st.kind == NCL_STAGE_KWTA || st.kind == NCL_STAGE_KWTA_KEYS ||
                           st.kind == NCL_STAGE_KWTA_GATE;
    if (!projectionStage && !kwtaStage && (st.kind < NCL_STAGE_INIT || st.kind > NCL_STAGE_STEP))
      throw malformed(path, where + " has an unknown kind " + std::to_string(st.kind));
    if (projectionStage) {
      if (st.projection < 0 || st.projection >= d.num_projections)
        throw malformed(path, where + " runs over projection " + std::to_string(st.projection) +
                                  ", but the model has " + std::to_string(d.num_projections) +
                                  " projections");
      if (!st.fn)
        throw malformed(path, where + " has no function");
      // A projection's synapses arrive after their own delays only with
      // a delay per synapse to read, and that delay only means something
      // to a stage that delivers by synapse.
      const bool perSynapse = hasProjectionBuffer(d, st.projection, NCL_BUFFER_SYNAPSE_DELAY);
      const bool delivers = st.kind == NCL_STAGE_DELIVER || st.kind == NCL_STAGE_DELIVER_SYNAPSES;
      if (delivers && (st.kind == NCL_STAGE_DELIVER_SYNAPSES) != perSynapse)
        throw malformed(path, where + (perSynapse ? " delivers by spike, but its projection has "
                                                    "per-synapse delays"
                                                  : " delivers by synapse, but its projection "
                                                    "has no per-synapse delay buffer"));
      // on_post walks the synapses of each postsynaptic neuron: the
      // column index the runtime builds into these two buffers.
      if (st.kind == NCL_STAGE_ON_POST &&
          (!hasProjectionBuffer(d, st.projection, NCL_BUFFER_COLUMN_START) ||
           !hasProjectionBuffer(d, st.projection, NCL_BUFFER_COLUMN_SYNAPSE)))
        throw malformed(path, where + " runs on_post, but its projection has no column-start "
                                      "and column-synapse buffers");
      if (st.kind == NCL_STAGE_ON_POST &&
          !d.populations[d.projections[st.projection].post].emits_spikes)
        throw malformed(path, where + " runs on_post, but the postsynaptic population does not "
                                      "send its spikes");
      continue;
    }
    if (st.population < 0 || st.population >= d.num_populations)
      throw malformed(path, where + " runs over population " + std::to_string(st.population) +
                                ", but the model has " + std::to_string(d.num_populations) +
                                " populations");
    if (!st.fn)
      throw malformed(path, where + " has no function");
    if (st.kind == NCL_STAGE_KWTA || st.kind == NCL_STAGE_KWTA_GATE) {
      const bool fraction = st.kwta_fraction > 0 && st.kwta_fraction <= 1;
      if ((st.kwta_keep > 0) == fraction || st.kwta_keep < 0)
        throw malformed(path, where + " keeps neither a positive count nor a fraction in (0, 1]");
    }
    if (kwtaStage) {
      bool order = false, key = false;
      for (int32_t i = 0; i < d.num_buffers; ++i) {
        order = order || (d.buffers[i].role == NCL_BUFFER_KWTA_ORDER &&
                          d.buffers[i].population == st.population);
        key = key || (d.buffers[i].role == NCL_BUFFER_KWTA_KEY &&
                      d.buffers[i].population == st.population);
      }
      // A spike gate's keys, then its gate, live in the key buffer.
      if (st.kind != NCL_STAGE_KWTA && !key)
        throw malformed(path, where + " gates spikes, but its population has no kwta-key buffer");
      if (!order)
        throw malformed(path, where + " selects winners, but its population has no kwta-order "
                                      "buffer");
    }
  }
}

void validate(const std::string &path, const ncl_model_descriptor &d) {
  if (d.real_bits != 32 && d.real_bits != 64)
    throw malformed(path, "real_bits is " + std::to_string(d.real_bits) + ", expected 32 or 64");
  if (!(std::isfinite(d.dt) && d.dt > 0))
    throw malformed(path, "dt must be a positive number of seconds");
  if (d.num_populations < 0 || (d.num_populations > 0 && !d.populations))
    throw malformed(path, "bad population table");
  std::set<std::string> names;
  for (int32_t p = 0; p < d.num_populations; ++p) {
    const ncl_population_info &pi = d.populations[p];
    std::string where = "population " + std::to_string(p);
    if (!pi.name || !*pi.name)
      throw malformed(path, where + " has no name");
    where = "population '" + std::string(pi.name) + "'";
    if (!names.insert(pi.name).second)
      throw malformed(path, where + " appears twice");
    if (pi.default_size < 0 || pi.default_size > kMaxPopulationSize)
      throw malformed(path, where + " has an invalid size");
    if (pi.num_vars < 0 || (pi.num_vars > 0 && !pi.vars))
      throw malformed(path, where + " has a bad variable table");
    if (pi.num_params < 0 || (pi.num_params > 0 && !pi.params))
      throw malformed(path, where + " has a bad parameter table");
    for (int32_t v = 0; v < pi.num_vars; ++v)
      if (!pi.vars[v].name)
        throw malformed(path, where + " has an unnamed variable");
    for (int32_t q = 0; q < pi.num_params; ++q)
      if (!pi.params[q].name)
        throw malformed(path, where + " has an unnamed parameter");
    if (pi.num_events < 0 || (pi.num_events > 0 && !pi.event_names))
      throw malformed(path, where + " has a bad event table");
    for (int32_t e = 0; e < pi.num_events; ++e)
      if (!pi.event_names[e])
        throw malformed(path, where + " has an unnamed event");
    if (!(pi.max_dt > 0)) // +inf where any dt will do
      throw malformed(path, where + " has an invalid largest dt");
    if (!(pi.min_dt >= 0 && pi.min_dt <= pi.max_dt))
      throw malformed(path, where + " has an invalid smallest dt");
    if (pi.num_derived < 0 || (pi.num_derived > 0 && !pi.derived))
      throw malformed(path, where + " has a bad derived-parameter table");
    for (int32_t q = 0; q < pi.num_derived; ++q) {
      const ncl_derived_info &d = pi.derived[q];
      if (!d.name || d.num_sources < 0 || (d.num_sources > 0 && !d.sources))
        throw malformed(path, where + " has a bad derived parameter");
      for (int32_t k = 0; k < d.num_sources; ++k)
        if (!d.sources[k])
          throw malformed(path, where + " has a derived parameter with an unnamed source");
    }
    validateSources(path, pi, where);
  }
  validateProjections(path, d);
  validateMonitors(path, d);
  validateBuffers(path, d);
  validateStages(path, d);
}

} // namespace

double ncl::rt::now() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

std::unique_ptr<ncl_model> ncl::rt::openModel(const char *cpath) {
  if (!cpath || !*cpath)
    throw Error(NCL_ERROR_ARGUMENT, "no model path given");
  double t0 = now();
  std::string path = cpath;
  // dlopen searches the library path for a name without '/', which would
  // make `ncl-run model.so` ignore ./model.so; always name a file.
  std::string openPath = path.find('/') == std::string::npos ? "./" + path : path;

  checkSharedObject(path, openPath);
  dlerror();
  HandleGuard guard{dlopen(openPath.c_str(), RTLD_NOW | RTLD_LOCAL)};
  if (!guard.handle) {
    const char *err = dlerror();
    throw Error(NCL_ERROR_LOAD,
                "cannot open " + quoted(path) + ": " + (err ? err : "unknown dlopen error"));
  }

  dlerror();
  void *sym = dlsym(guard.handle, NCL_MODEL_SYMBOL);
  if (!sym || dlerror())
    throw notAModel(path, "no " NCL_MODEL_SYMBOL " symbol");

  // The ELF symbol tells whether `ncl_model` is data and how many bytes it
  // has, so a foreign library that happens to define a small object or a
  // function of that name is rejected before we read past its end.
  Dl_info info;
  void *symEntry = nullptr;
  bool haveSym = dladdr1(sym, &info, &symEntry, RTLD_DL_SYMENT) != 0 && symEntry != nullptr;
  const auto *elfSym = static_cast<const ElfW(Sym) *>(symEntry);
  if (haveSym) {
    unsigned type = ELF64_ST_TYPE(elfSym->st_info);
    if (type == STT_FUNC || type == STT_GNU_IFUNC)
      throw notAModel(path, NCL_MODEL_SYMBOL " is a function, not data");
    if (elfSym->st_size != 0 && elfSym->st_size < 2 * sizeof(uint32_t))
      throw notAModel(path, NCL_MODEL_SYMBOL " is too small");
  }

  const auto *desc = static_cast<const ncl_model_descriptor *>(sym);
  if (desc->magic != NCL_MODEL_MAGIC) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "bad magic number 0x%08x", desc->magic);
    throw notAModel(path, buf);
  }
  if (desc->abi_version != NCL_ABI_VERSION)
    throw Error(NCL_ERROR_LOAD,
                quoted(path) + " was built for NCL ABI version " +
                    std::to_string(desc->abi_version) + ", this runtime supports version " +
                    std::to_string(NCL_ABI_VERSION) + "; recompile it with this nclc");
  if (haveSym && elfSym->st_size != 0 && elfSym->st_size < sizeof(ncl_model_descriptor))
    throw malformed(path, "the descriptor is " + std::to_string(elfSym->st_size) +
                              " bytes, expected " + std::to_string(sizeof(ncl_model_descriptor)));
  validate(path, *desc);

  auto m = std::make_unique<ncl_model>();
  m->path = path;
  m->desc = desc;
  m->seed = desc->default_seed;
  m->batch = std::max<int64_t>(desc->default_batch, 1);
  m->dt = desc->dt;
  m->pops.resize(static_cast<size_t>(desc->num_populations));
  for (int32_t p = 0; p < desc->num_populations; ++p) {
    Population &pop = m->pops[static_cast<size_t>(p)];
    pop.info = &desc->populations[p];
    pop.size = pop.info->default_size;
    for (int32_t q = 0; q < pop.info->num_params; ++q)
      pop.params.push_back(pop.info->params[q].default_value);
    pop.events.resize(static_cast<size_t>(pop.info->num_events));
    pop.stateBuffer.assign(static_cast<size_t>(pop.info->num_vars), -1);
  }
  // The kernels' view of the table: the parameter buffers point at the
  // values ncl_set_param changes; the rest is allocated by ncl_init.
  m->buffers.resize(static_cast<size_t>(desc->num_buffers));
  m->buffersAtChunkStart.resize(static_cast<size_t>(desc->num_buffers));
  m->bufferPtrs.assign(static_cast<size_t>(desc->num_buffers), nullptr);
  m->projs.resize(static_cast<size_t>(desc->num_projections));
  for (int32_t q = 0; q < desc->num_projections; ++q) {
    Projection &proj = m->projs[static_cast<size_t>(q)];
    proj.info = &desc->projections[q];
    for (int32_t k = 0; k < proj.info->num_params; ++k)
      proj.params.push_back(proj.info->params[k].default_value);
    proj.varBuffer.assign(static_cast<size_t>(proj.info->num_vars), -1);
    proj.preTraceBuffer.assign(static_cast<size_t>(proj.info->num_pre_traces), -1);
    proj.postTraceBuffer.assign(static_cast<size_t>(proj.info->num_post_traces), -1);
  }
  for (int32_t k = 0; k < desc->num_monitors; ++k)
    m->monitors.push_back(Monitor{&desc->monitors[k]});
  for (int32_t s = 0; s < desc->num_stages; ++s)
    if (desc->stages[s].kind == NCL_STAGE_CONNECT_CONDITION)
      m->projs[static_cast<size_t>(desc->stages[s].projection)].conditionStage = s;
    else if (desc->stages[s].kind == NCL_STAGE_ADVANCE_PRE_TRACES)
      m->projs[static_cast<size_t>(desc->stages[s].projection)].advancePreStage = s;
    else if (desc->stages[s].kind == NCL_STAGE_ADVANCE_POST_TRACES)
      m->projs[static_cast<size_t>(desc->stages[s].projection)].advancePostStage = s;
  for (int32_t i = 0; i < desc->num_buffers; ++i) {
    const ncl_buffer_info &b = desc->buffers[i];
    if (b.population < 0) {
      Projection &proj = m->projs[static_cast<size_t>(b.projection)];
      if (b.role == NCL_BUFFER_PARAMS)
        m->bufferPtrs[static_cast<size_t>(i)] = proj.params.data();
      else if (b.role == NCL_BUFFER_ROW_START)
        proj.rowStartBuffer = i;
      else if (b.role == NCL_BUFFER_POST_INDEX)
        proj.postIndexBuffer = i;
      else if (b.role == NCL_BUFFER_SYNAPSE_DELAY)
        proj.delayBuffer = i;
      else if (b.role == NCL_BUFFER_CONNECT_MASK)
        proj.maskBuffer = i;
      else if (b.role == NCL_BUFFER_COLUMN_START)
        proj.columnStartBuffer = i;
      else if (b.role == NCL_BUFFER_COLUMN_SYNAPSE)
        proj.columnSynapseBuffer = i;
      else if (b.role == NCL_BUFFER_COLUMN_PRE)
        proj.columnPreBuffer = i;
      else if (b.role == NCL_BUFFER_PRE_TRACE)
        proj.preTraceBuffer[static_cast<size_t>(b.index)] = i;
      else if (b.role == NCL_BUFFER_POST_TRACE)
        proj.postTraceBuffer[static_cast<size_t>(b.index)] = i;
      else if (b.role == NCL_BUFFER_SYNAPSE_STATE)
        proj.varBuffer[static_cast<size_t>(b.index)] = i;
      continue;
    }
    Population &pop = m->pops[static_cast<size_t>(b.population)];
    if (b.role == NCL_BUFFER_PARAMS)
      m->bufferPtrs[static_cast<size_t>(i)] = pop.params.data();
    else if (b.role == NCL_BUFFER_STATE)
      pop.stateBuffer[static_cast<size_t>(b.index)] = i;
  }
  m->handle = guard.handle;
  guard.handle = nullptr;
  m->loadSeconds = now() - t0;
  return m;
}
