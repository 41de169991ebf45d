//===- Loader.cpp - dlopen a model library and validate its descriptor ----===//
//
// A model library may be a foreign .so, a model built by an older or newer
// nclc, or a file truncated by a full disk or an interrupted copy. Before
// dlopen, which maps segments wherever the program headers say and crashes
// on a truncated file, the loader checks the ELF header (a shared object for
// this machine's class, byte order and architecture) and that every segment
// and the section header table lie within the file. After dlopen it reads
// the descriptor in the order the ABI promises is safe (symbol kind and
// size, then magic, then abi_version, only then the rest). Every problem
// becomes a message that says what to do, never a crash. A library's
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

std::string quoted(const std::string &path) { return "'" + path + "'"; }

Error notAModel(const std::string &path, const std::string &why) {
  return Error(NCL_ERROR_LOAD, quoted(path) + " is not an NCL model (" + why +
                                   ")");
}

Error malformed(const std::string &path, const std::string &why) {
  return Error(NCL_ERROR_LOAD, quoted(path) +
                                   " has a malformed NCL model descriptor: " +
                                   why + "; recompile it with this nclc");
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
bool withinFile(uint64_t offset, uint64_t count, uint64_t entry, uint64_t fileSize,
                uint64_t &end) {
  uint64_t bytes;
  if (__builtin_mul_overflow(count, entry, &bytes) ||
      __builtin_add_overflow(offset, bytes, &end))
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
    return notALibrary(path, "truncated: the file has " + std::to_string(size) +
                                 " bytes, but " + what + " ends at byte " +
                                 std::to_string(end));
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
      throw notALibrary(path, "segment " + std::to_string(i) + " is larger in the file than in memory");
  }
  if (!dynamic)
    throw notALibrary(path, "no dynamic section");
}

//===----------------------------------------------------------------------===//
// The descriptor after dlopen
//===----------------------------------------------------------------------===//

void validate(const std::string &path, const ncl_model_descriptor &d) {
  if (d.real_bits != 32 && d.real_bits != 64)
    throw malformed(path, "real_bits is " + std::to_string(d.real_bits) +
                              ", expected 32 or 64");
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
    if (!pi.update)
      throw malformed(path, where + " has no update kernel");
  }
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
  std::string openPath =
      path.find('/') == std::string::npos ? "./" + path : path;

  checkSharedObject(path, openPath);
  dlerror();
  HandleGuard guard{dlopen(openPath.c_str(), RTLD_NOW | RTLD_LOCAL)};
  if (!guard.handle) {
    const char *err = dlerror();
    throw Error(NCL_ERROR_LOAD, "cannot open " + quoted(path) + ": " +
                                    (err ? err : "unknown dlopen error"));
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
  bool haveSym = dladdr1(sym, &info, &symEntry, RTLD_DL_SYMENT) != 0 &&
                 symEntry != nullptr;
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
                    std::to_string(desc->abi_version) +
                    ", this runtime supports version " +
                    std::to_string(NCL_ABI_VERSION) +
                    "; recompile it with this nclc");
  if (haveSym && elfSym->st_size != 0 &&
      elfSym->st_size < sizeof(ncl_model_descriptor))
    throw malformed(path, "the descriptor is " +
                              std::to_string(elfSym->st_size) +
                              " bytes, expected " +
                              std::to_string(sizeof(ncl_model_descriptor)));
  validate(path, *desc);

  auto m = std::make_unique<ncl_model>();
  m->path = path;
  m->desc = desc;
  m->seed = desc->default_seed;
  m->dt = desc->dt;
  m->pops.resize(static_cast<size_t>(desc->num_populations));
  for (int32_t p = 0; p < desc->num_populations; ++p) {
    Population &pop = m->pops[static_cast<size_t>(p)];
    pop.info = &desc->populations[p];
    pop.size = pop.info->default_size;
    for (int32_t q = 0; q < pop.info->num_params; ++q)
      pop.params.push_back(pop.info->params[q].default_value);
    pop.events.resize(static_cast<size_t>(pop.info->num_events));
  }
  m->handle = guard.handle;
  guard.handle = nullptr;
  m->loadSeconds = now() - t0;
  return m;
}
