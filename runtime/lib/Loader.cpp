//===- Loader.cpp - dlopen a model library and validate its descriptor ----===//
//
// A model library is untrusted input: it may be a foreign .so, a model built
// by an older or newer nclc, or a corrupted file. The loader therefore reads
// the descriptor in the order the ABI promises is safe (symbol kind and size,
// then magic, then abi_version, only then the rest) and turns every problem
// into a message that says what to do, never a crash.
//
//===----------------------------------------------------------------------===//
#include "Model.h"

#include <dlfcn.h>
#include <elf.h>
#include <link.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <set>

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
