//===- CApi.cpp - The C entry points of libnclrt --------------------------===//
//
// Every exported function is a thin shell: check pointers and names, call
// into the C++ implementation, and convert any exception into a status code
// plus a thread-local message. Nothing escapes across the C boundary, so a
// C program embedding a model cannot be terminated by a C++ exception.
//
//===----------------------------------------------------------------------===//
#include "CudaBackend.h"
#include "Model.h"
#include "NpyReader.h"
#include "ThreadPool.h"

#include "ncl/Support/DimensionABI.h"
#include "ncl/Support/Units.h"

#include <algorithm>
#include <cfloat>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <new>
#include <optional>
#include <sstream>

using namespace ncl::rt;

static_assert(sizeof(ncl_dimension) == ncl::units::kABIDimensionSize,
              "ncl_dimension and ncl/Support/DimensionABI.h disagree");

namespace {

thread_local std::string lastError;

void setError(const char *msg) {
  try {
    lastError = msg;
  } catch (...) {
    // Out of memory while reporting: keep the previous message.
  }
}

/// Runs `body`, turning exceptions into a status and ncl_last_error().
template <typename F> ncl_status guarded(F &&body) {
  try {
    body();
    return NCL_OK;
  } catch (const Error &e) {
    setError(e.what());
    return e.code;
  } catch (const std::bad_alloc &) {
    setError("out of memory");
    return NCL_ERROR_MEMORY;
  } catch (const std::exception &e) {
    setError(e.what());
    return NCL_ERROR_ARGUMENT;
  } catch (...) {
    setError("unknown internal error");
    return NCL_ERROR_ARGUMENT;
  }
}

/// Like guarded, for functions that return a value or `fail` on error.
template <typename T, typename F> T guardedValue(T fail, F &&body) {
  T result = fail;
  if (guarded([&] { result = body(); }) != NCL_OK)
    return fail;
  return result;
}

const ncl_model &need(const ncl_model *m) {
  if (!m)
    throw Error(NCL_ERROR_ARGUMENT, "NULL model handle");
  return *m;
}

ncl_model &need(ncl_model *m) {
  if (!m)
    throw Error(NCL_ERROR_ARGUMENT, "NULL model handle");
  return *m;
}

const char *needName(const char *s, const char *what) {
  if (!s)
    throw Error(NCL_ERROR_ARGUMENT, std::string("NULL ") + what + " name");
  return s;
}

std::string join(const std::vector<std::string> &names, const std::string &separator = ", ") {
  std::string out;
  for (const std::string &n : names)
    out += (out.empty() ? "" : separator) + n;
  return out;
}

int paramIndex(const Population &pop, const char *name) {
  needName(name, "parameter");
  int q = pop.findParam(name);
  if (q < 0) {
    // A per-neuron value (state, per-neuron parameter, output) is an array,
    // not a load-time parameter: say how to change it instead.
    std::string hint = pop.findVar(name) >= 0
                           ? "; '" + std::string(name) +
                                 "' has one value per neuron: change it with ncl_set_state "
                                 "after ncl_init"
                           : "";
    // A derived parameter is computed from others: name what to set.
    for (int32_t k = 0; k < pop.info->num_derived; ++k) {
      const ncl_derived_info &d = pop.info->derived[k];
      if (std::strcmp(d.name, name) != 0)
        continue;
      std::vector<std::string> sources(d.sources, d.sources + d.num_sources);
      throw Error(
          NCL_ERROR_NOT_FOUND,
          "'" + std::string(name) + "' of population '" + pop.info->name +
              "' is a derived parameter, computed from " +
              (sources.empty() ? std::string("constants") : "'" + join(sources, "', '") + "'") +
              ", so it cannot be set itself" +
              (sources.empty() ? "; set it in the population's block in the .ncl file"
                               : "; set '" + join(sources, "' or '") + "'" +
                                     " instead, or give the population its own '" + name +
                                     "' in the .ncl file"));
    }
    throw Error(NCL_ERROR_NOT_FOUND,
                "population '" + std::string(pop.info->name) + "' has no parameter '" + name + "'" +
                    hint +
                    (pop.info->num_params ? "; its parameters are: " + pop.paramList()
                                          : "; it has no parameters"));
  }
  return q;
}

int varIndex(const Population &pop, const char *name) {
  needName(name, "variable");
  int v = pop.findVar(name);
  if (v < 0)
    throw Error(NCL_ERROR_NOT_FOUND,
                "population '" + std::string(pop.info->name) + "' has no state variable '" + name +
                    "'" +
                    (pop.info->num_vars ? "; its variables are: " + pop.varList()
                                        : "; it has no state variables"));
  return v;
}

void needState(const ncl_model &m) {
  if (!m.initialized)
    throw Error(NCL_ERROR_STATE, "the model has no state yet; call ncl_init or ncl_run first");
}

/// Brings the host's copy of the state (of the allocation holding `at`,
/// or all of it) up to date before the host reads it: on the CUDA backend
/// a run leaves what the kernels wrote on the device (docs/gpu.md). The
/// host's copy is a cache of the model's state, hence the const_cast.
void syncHost(const ncl_model &m, const void *at = nullptr) {
  if (m.device)
    m.device->syncHost(const_cast<ncl_model &>(m), at);
}

/// After the host changed the allocation holding `at`: the next run on the
/// device uploads it.
void hostChanged(ncl_model &m, const void *at) {
  if (m.device)
    m.device->markHostChanged(at);
}

/// Before the host changes any of the state (all of it current first), and
/// the next run uploads all of it.
void hostReplacesState(ncl_model &m) {
  if (!m.device)
    return;
  m.device->syncHost(m);
  m.device->markHostReplaced();
}

/// "NaN", "+Inf" or "-Inf".
const char *nonFiniteName(double x) { return std::isnan(x) ? "NaN" : x > 0 ? "+Inf" : "-Inf"; }

/// "e.g. '2.5nA'": the parameter's own display unit when it has one.
std::string unitExample(const std::string &number, const ncl_param_info &p,
                        const ncl::units::Dimension &dim) {
  if (p.unit && *p.unit)
    return "'" + number + p.unit + "'";
  return "'" + number + " " + dim.str() + "'";
}

/// Refuses a value outside the parameter's declared range (ABI 2), e.g. a
/// negative refractory period; `target` is "POP.NAME" for the message.
void needInRange(const ncl_param_info &p, const std::string &target, double value) {
  if (!(p.flags & NCL_PARAM_HAS_RANGE) || (value >= p.min_value && value <= p.max_value))
    return;
  // In the parameter's display unit, as the user wrote it.
  const bool hasUnit = p.unit && *p.unit && p.unit_scale > 0;
  auto shown = [&](double v) {
    std::ostringstream s;
    s << (hasUnit ? v / p.unit_scale : v) << (hasUnit ? " " : "") << (hasUnit ? p.unit : "");
    return s.str();
  };
  std::string range;
  if (p.min_value > -HUGE_VAL)
    range = ">= " + shown(p.min_value);
  if (p.max_value < HUGE_VAL)
    range += (range.empty() ? "<= " : " and <= ") + shown(p.max_value);
  throw Error(NCL_ERROR_ARGUMENT,
              target + " = " + shown(value) + " is out of range: it must be " + range);
}

} // namespace

// --- Population and ncl_model helpers ---------------------------------------

int Population::findParam(const std::string &name) const {
  for (int32_t q = 0; q < info->num_params; ++q)
    if (name == info->params[q].name)
      return q;
  return -1;
}

int Population::findEvent(const std::string &name) const {
  for (int32_t e = 0; e < info->num_events; ++e)
    if (name == info->event_names[e])
      return e;
  return -1;
}

int Population::findVar(const std::string &name) const {
  for (int32_t v = 0; v < info->num_vars; ++v)
    if (name == info->vars[v].name)
      return v;
  return -1;
}

std::string Population::paramList() const {
  std::vector<std::string> names;
  for (int32_t q = 0; q < info->num_params; ++q)
    names.push_back(info->params[q].name);
  return join(names);
}

std::string Population::eventList() const {
  std::vector<std::string> names;
  for (int32_t e = 0; e < info->num_events; ++e)
    names.push_back(info->event_names[e]);
  return join(names);
}

std::string Population::varList() const {
  std::vector<std::string> names;
  for (int32_t v = 0; v < info->num_vars; ++v)
    names.push_back(info->vars[v].name);
  return join(names);
}

ncl_model::ncl_model() = default;

ncl_model::~ncl_model() {
  // The device first (its module is an image inside the library), then
  // threads and state: they may point into the library's code.
  device.reset();
  pool.reset();
  threadStates.clear();
  bufferPtrs.clear();
  buffers.clear();
  buffersAtChunkStart.clear();
  pops.clear();
  if (handle)
    dlclose(handle);
}

int ncl_model::findPopulation(const std::string &name) const {
  for (size_t p = 0; p < pops.size(); ++p)
    if (name == pops[p].info->name)
      return static_cast<int>(p);
  return -1;
}

std::string ncl_model::populationList() const {
  std::vector<std::string> names;
  for (const Population &p : pops)
    names.push_back(p.info->name);
  return join(names);
}

const Population &ncl_model::population(const char *name) const {
  needName(name, "population");
  int p = findPopulation(name);
  if (p < 0)
    throw Error(NCL_ERROR_NOT_FOUND,
                "model '" + std::string(desc->model_name ? desc->model_name : "") +
                    "' has no population '" + name + "'" +
                    (pops.empty() ? "; it has no populations"
                                  : "; its populations are: " + populationList()));
  return pops[static_cast<size_t>(p)];
}

Population &ncl_model::population(const char *name) {
  return const_cast<Population &>(static_cast<const ncl_model *>(this)->population(name));
}

// --- C API -------------------------------------------------------------------

extern "C" {

const char *ncl_last_error(void) { return lastError.c_str(); }

uint32_t ncl_runtime_abi_version(void) { return NCL_ABI_VERSION; }

ncl_status ncl_parse_quantity(const char *text, double *value, ncl_dimension dim) {
  return guarded([&] {
    if (!text)
      throw Error(NCL_ERROR_ARGUMENT, "no quantity given (NULL)");
    std::string err;
    auto parsed = ncl::units::parseQuantity(text, &err);
    if (!parsed)
      throw Error(NCL_ERROR_UNITS,
                  "cannot read '" + std::string(text) + "'" + (err.empty() ? "" : ": " + err));
    if (value)
      *value = parsed->first;
    if (dim)
      ncl::units::toABI(parsed->second, dim);
  });
}

const char *ncl_dimension_name(const ncl_dimension dim) {
  thread_local std::string name;
  name = ncl::units::fromABI(dim).str();
  return name.c_str();
}

ncl_model *ncl_open(const char *so_path) {
  ncl_model *result = nullptr;
  guarded([&] { result = openModel(so_path).release(); });
  return result;
}

void ncl_close(ncl_model *m) { delete m; }

const ncl_model_descriptor *ncl_descriptor(const ncl_model *m) {
  return guardedValue<const ncl_model_descriptor *>(nullptr, [&] { return need(m).desc; });
}

const char *ncl_model_path(const ncl_model *m) {
  return guardedValue<const char *>(nullptr, [&] { return need(m).path.c_str(); });
}

const char *ncl_model_name(const ncl_model *m) {
  return guardedValue<const char *>(nullptr, [&] {
    const char *n = need(m).desc->model_name;
    return n ? n : "";
  });
}

double ncl_dt(const ncl_model *m) {
  return guardedValue<double>(0.0, [&] { return need(m).dt; });
}

int32_t ncl_num_populations(const ncl_model *m) {
  return guardedValue<int32_t>(-1, [&] { return static_cast<int32_t>(need(m).pops.size()); });
}

const char *ncl_population_name(const ncl_model *m, int32_t i) {
  return guardedValue<const char *>(nullptr, [&]() -> const char * {
    const ncl_model &mm = need(m);
    if (i < 0 || static_cast<size_t>(i) >= mm.pops.size())
      throw Error(NCL_ERROR_NOT_FOUND, "population index " + std::to_string(i) +
                                           " is out of range (the model has " +
                                           std::to_string(mm.pops.size()) + ")");
    return mm.pops[static_cast<size_t>(i)].info->name;
  });
}

int64_t ncl_population_size(const ncl_model *m, const char *pop) {
  return guardedValue<int64_t>(-1, [&] { return need(m).population(pop).size; });
}

int32_t ncl_num_vars(const ncl_model *m, const char *pop) {
  return guardedValue<int32_t>(-1, [&] { return need(m).population(pop).info->num_vars; });
}

const char *ncl_var_name(const ncl_model *m, const char *pop, int32_t i) {
  return guardedValue<const char *>(nullptr, [&]() -> const char * {
    const Population &p = need(m).population(pop);
    if (i < 0 || i >= p.info->num_vars)
      throw Error(NCL_ERROR_NOT_FOUND, "variable index " + std::to_string(i) +
                                           " is out of range (population '" + p.info->name +
                                           "' has " + std::to_string(p.info->num_vars) + ")");
    return p.info->vars[i].name;
  });
}

namespace {
const ncl::rt::Projection &projectionAt(const ncl_model &m, int32_t i) {
  if (i < 0 || static_cast<size_t>(i) >= m.projs.size())
    throw Error(NCL_ERROR_NOT_FOUND, "projection index " + std::to_string(i) +
                                         " is out of range (the model has " +
                                         std::to_string(m.projs.size()) + ")");
  return m.projs[static_cast<size_t>(i)];
}
} // namespace

int32_t ncl_num_projections(const ncl_model *m) {
  return guardedValue<int32_t>(-1, [&] { return static_cast<int32_t>(need(m).projs.size()); });
}

const char *ncl_projection_name(const ncl_model *m, int32_t i) {
  return guardedValue<const char *>(
      nullptr, [&]() -> const char * { return projectionAt(need(m), i).info->name; });
}

int64_t ncl_projection_synapses(const ncl_model *m, int32_t i) {
  return guardedValue<int64_t>(-1, [&] { return projectionAt(need(m), i).synapses; });
}

int64_t ncl_projection_bytes(const ncl_model *m, int32_t i) {
  return guardedValue<int64_t>(-1, [&] {
    const ncl_model &mm = need(m);
    const ncl::rt::Projection &proj = projectionAt(mm, i);
    // Its postsynaptic index, its variables, its delay in steps (one byte
    // or two: narrowSynapseDelays) and
    // its place in the column index of on_post.
    const int64_t perSynapse =
        static_cast<int64_t>(sizeof(int32_t)) + proj.info->num_vars * (mm.desc->real_bits / 8) +
        (proj.delayBuffer >= 0 ? static_cast<int64_t>(proj.delayBytes) : 0) +
        (proj.columnSynapseBuffer >= 0 ? static_cast<int64_t>(sizeof(int32_t)) : 0);
    return proj.synapses * perSynapse +
           static_cast<int64_t>((proj.rowStart.size() + proj.columnStart.size()) * sizeof(int64_t));
  });
}

ncl_status ncl_set_param(ncl_model *m, const char *pop, const char *name, double value) {
  return guarded([&] {
    Population &p = need(m).population(pop);
    int q = paramIndex(p, name);
    if (!std::isfinite(value))
      throw Error(NCL_ERROR_ARGUMENT, "parameter " + std::string(pop) + "." + name +
                                          " cannot be set to " + nonFiniteName(value) +
                                          "; give a finite value");
    needInRange(p.info->params[q], std::string(pop) + "." + name, value);
    p.params[static_cast<size_t>(q)] = value;
    hostChanged(need(m), p.params.data());
  });
}

ncl_status ncl_set_param_str(ncl_model *m, const char *target, const char *value) {
  return guarded([&] {
    ncl_model &mm = need(m);
    const std::string t = needName(target, "parameter");
    if (!value)
      throw Error(NCL_ERROR_ARGUMENT, "NULL value for " + t);
    const size_t dot = t.find('.');
    if (dot == std::string::npos || dot == 0 || dot + 1 == t.size())
      throw Error(NCL_ERROR_ARGUMENT, "expected POPULATION.PARAMETER, got '" + t + "'");
    const std::string popName = t.substr(0, dot), name = t.substr(dot + 1);
    Population &p = mm.population(popName.c_str());
    const int q = paramIndex(p, name.c_str());
    const ncl_param_info &info = p.info->params[q];

    std::string err;
    auto parsed = ncl::units::parseQuantity(value, &err);
    if (!parsed)
      throw Error(NCL_ERROR_UNITS, "cannot read '" + std::string(value) + "' as a value for " + t +
                                       (err.empty() ? "" : ": " + err));
    // Before the unit check: strtod reads "nan", "inf" and "1e400", and a
    // unit suggestion built from such a number ('nannA') only misleads.
    if (!std::isfinite(parsed->first))
      throw Error(
          NCL_ERROR_ARGUMENT,
          t + " = '" + value + "' is " +
              (std::isnan(parsed->first) ? "not a number" : "infinite or too large for a double") +
              "; give a finite value");
    const ncl::units::Dimension want = ncl::units::fromABI(info.dim);
    const ncl::units::Dimension &got = parsed->second;
    if (got != want) {
      // Suggest the number as the user wrote it, with the right unit.
      const char *start = value;
      while (*start == ' ' || *start == '\t')
        ++start;
      char *stop = nullptr;
      std::strtod(start, &stop);
      const std::string number(start, stop ? stop : start);
      if (got.isDimensionless())
        throw Error(NCL_ERROR_UNITS, t + " = '" + value + "' has no unit, but " + t + " is in " +
                                         want.str() + "; add a unit, e.g. " +
                                         unitExample(number.empty() ? "2" : number, info, want));
      if (want.isDimensionless())
        throw Error(NCL_ERROR_UNITS, t + " is dimensionless, but '" + value + "' is in " +
                                         got.str() + "; give a plain number");
      throw Error(NCL_ERROR_UNITS, t + " is in " + want.str() + ", but '" + value + "' is in " +
                                       got.str() + "; use a unit such as " +
                                       unitExample(number.empty() ? "2" : number, info, want));
    }
    needInRange(info, t, parsed->first);
    p.params[static_cast<size_t>(q)] = parsed->first;
    hostChanged(mm, p.params.data());
  });
}

ncl_status ncl_get_param(const ncl_model *m, const char *pop, const char *name, double *value) {
  return guarded([&] {
    const Population &p = need(m).population(pop);
    int q = paramIndex(p, name);
    if (!value)
      throw Error(NCL_ERROR_ARGUMENT, "NULL output pointer");
    *value = p.params[static_cast<size_t>(q)];
  });
}

namespace {
std::string percent(double fraction) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%g %%", fraction * 100);
  return buf;
}

/// A population whose k-WTA would keep no neuron, or more neurons than it
/// has, at size n cannot take that size (docs/semantics.md, "k-WTA").
void refuseKwtaSize(const ncl_model &m, int32_t population, int64_t n) {
  for (int32_t s = 0; s < m.desc->num_stages; ++s) {
    const ncl_stage_info &st = m.desc->stages[s];
    if ((st.kind != NCL_STAGE_KWTA && st.kind != NCL_STAGE_KWTA_GATE) ||
        st.population != population)
      continue;
    const std::string name = m.desc->populations[population].name;
    const int64_t k =
        st.kwta_keep > 0
            ? st.kwta_keep
            : static_cast<int64_t>(std::floor(st.kwta_fraction * static_cast<double>(n) + 0.5));
    if (k < 1)
      throw Error(NCL_ERROR_ARGUMENT, "population '" + name + "' cannot have " + std::to_string(n) +
                                          " neurons: its k-WTA keeps " + percent(st.kwta_fraction) +
                                          " of them, which rounds to k = 0");
    if (k > n)
      throw Error(NCL_ERROR_ARGUMENT, "population '" + name + "' cannot have " + std::to_string(n) +
                                          " neurons: its k-WTA keeps k = " + std::to_string(k) +
                                          " of them");
  }
}
} // namespace

ncl_status ncl_set_batch(ncl_model *m, int64_t batch) {
  return guarded([&] {
    ncl_model &mm = need(m);
    if (batch < 1 || batch > kMaxBatch)
      throw Error(NCL_ERROR_ARGUMENT, "batch must be 1.." + std::to_string(kMaxBatch) + ", got " +
                                          std::to_string(batch));
    if (batch > 1 && mm.desc->batch_refusal)
      throw Error(NCL_ERROR_ARGUMENT,
                  "batch " + std::to_string(batch) + ": " + mm.desc->batch_refusal);
    for (const Population &p : mm.pops)
      if (batch * p.size > kMaxPopulationSize)
        throw Error(NCL_ERROR_ARGUMENT, "batch " + std::to_string(batch) + " of population '" +
                                            p.info->name + "' (" + std::to_string(p.size) +
                                            " neurons) holds more than " +
                                            std::to_string(kMaxPopulationSize) + " neurons");
    if (mm.batch == batch)
      return;
    mm.batch = batch;
    discardState(mm);
  });
}

int64_t ncl_batch(const ncl_model *m) {
  return guardedValue<int64_t>(-1, [&] { return need(m).batch; });
}

ncl_status ncl_set_size(ncl_model *m, const char *pop, int64_t n) {
  return guarded([&] {
    ncl_model &mm = need(m);
    Population &p = mm.population(pop);
    if (n <= 0 || n > kMaxPopulationSize)
      throw Error(NCL_ERROR_ARGUMENT, "size of population '" + std::string(pop) + "' must be 1.." +
                                          std::to_string(kMaxPopulationSize) + ", got " +
                                          std::to_string(n));
    refuseKwtaSize(mm, static_cast<int32_t>(&p - mm.pops.data()), n);
    if (p.size == n)
      return;
    p.size = n;
    discardState(mm);
  });
}

namespace {
std::string showSeconds(double s) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%g s", s);
  return buf;
}
} // namespace

ncl_status ncl_set_dt(ncl_model *m, double dt) {
  return guarded([&] {
    ncl_model &mm = need(m);
    if (!(std::isnormal(dt) && dt > 0))
      throw Error(NCL_ERROR_ARGUMENT,
                  "dt must be a positive number of seconds, got " + showSeconds(dt));
    // Exact and exponential-Euler updates are right at any dt; an explicit
    // scheme was judged stable at the network's dt, so only a smaller one.
    for (const Population &p : mm.pops)
      if (dt > p.info->max_dt * (1 + 1e-12))
        throw Error(NCL_ERROR_ARGUMENT,
                    "dt = " + showSeconds(dt) + " is larger than population '" + p.info->name +
                        "' allows: it is integrated by an explicit scheme, " +
                        "chosen for dt = " + showSeconds(p.info->max_dt) +
                        ", and may be unstable at a larger step (a discrete-time update counts "
                        "as one). Use dt <= " +
                        showSeconds(p.info->max_dt) +
                        ", or recompile with the larger dt in the network's simulate line");
    for (const ncl::rt::Projection &q : mm.projs)
      if (dt > q.info->max_dt * (1 + 1e-12))
        throw Error(
            NCL_ERROR_ARGUMENT,
            "dt = " + showSeconds(dt) + " is larger than projection '" + q.info->name +
                "' allows: its synapse dynamics are integrated every step by an "
                "explicit scheme, chosen for dt = " +
                showSeconds(q.info->max_dt) +
                ", and may be unstable at a larger step. Use dt <= " + showSeconds(q.info->max_dt) +
                ", or recompile with the larger dt in the network's simulate line");
    // A discrete update that does not scale with dt holds at one step only.
    for (const Population &p : mm.pops)
      if (p.info->min_dt > 0 && dt < p.info->min_dt * (1 - 1e-12))
        throw Error(NCL_ERROR_ARGUMENT,
                    "dt = " + showSeconds(dt) + " is not allowed for population '" + p.info->name +
                        "': its neuron '" + p.info->neuron +
                        "' has a discrete-time update that does not use dt, written for dt = " +
                        showSeconds(p.info->min_dt) +
                        " only. Use dt = " + showSeconds(p.info->min_dt) +
                        ", or write the update in terms of dt to allow smaller steps");
    if (dt == mm.dt)
      return;
    mm.dt = dt;
    // Recorded steps mean step * dt: the old records would now lie.
    discardState(mm);
  });
}

ncl_status ncl_set_data_dir(ncl_model *m, const char *dir) {
  return guarded([&] {
    ncl_model &mm = need(m);
    std::string d = dir ? dir : "";
    if (d == mm.dataDir)
      return;
    mm.dataDir = std::move(d);
    discardState(mm);
  });
}

ncl_status ncl_set_threads(ncl_model *m, int32_t n) {
  return guarded([&] {
    ncl_model &mm = need(m);
    if (n < 1 || n > kMaxThreads)
      throw Error(NCL_ERROR_ARGUMENT, "number of threads must be 1.." +
                                          std::to_string(kMaxThreads) + ", got " +
                                          std::to_string(n));
    if (mm.device) { // kept for the CPU; the device is driven by one thread
      mm.cpuThreads = n;
      return;
    }
    if (mm.threads == n)
      return;
    mm.threads = n;
    mm.layoutDirty = true;
  });
}

ncl_status ncl_set_backend(ncl_model *m, const char *backend) {
  return guarded([&] {
    ncl_model &mm = need(m);
    std::string name = needName(backend, "backend");
    // "cuda:N": the driver's device N ("cuda" is device 0).
    int ordinal = 0;
    if (name.rfind("cuda:", 0) == 0) {
      const std::string number = name.substr(5);
      if (number.empty() || number.size() > 4 ||
          number.find_first_not_of("0123456789") != std::string::npos)
        throw Error(NCL_ERROR_ARGUMENT, "unknown backend '" + name +
                                            "'; a CUDA device is cuda:N with N a device number, "
                                            "e.g. cuda:1");
      ordinal = std::stoi(number);
      name = "cuda";
    }
    if (name != "cpu" && name != "cuda" && name != "auto")
      throw Error(NCL_ERROR_ARGUMENT, "unknown backend '" + name +
                                          "'; the backends are cpu, cuda (cuda:N for device N) "
                                          "and auto");
    if (name == "cpu" && !mm.device) {
      mm.backendFallback.clear();
      return;
    }
    std::unique_ptr<CudaDevice> device;
    std::string fallback;
    if (name != "cpu") {
      if (mm.device && (name == "auto" || mm.device->ordinal() == ordinal))
        return; // already on the device
      try {
        device = CudaDevice::open(mm, ordinal);
      } catch (const Error &e) {
        if (name == "cuda")
          throw;
        fallback = e.what();
      }
    }
    const bool wasOnDevice = mm.device != nullptr;
    if (wasOnDevice) // the CPU or another device goes on from this device's state
      syncHost(mm);
    mm.backendFallback = fallback;
    if (device) {
      mm.device = std::move(device);
      if (!wasOnDevice)
        mm.cpuThreads = mm.threads;
      mm.threads = 1;
    } else {
      mm.device.reset();
      if (wasOnDevice)
        mm.threads = mm.cpuThreads;
    }
    mm.layoutDirty = true;
  });
}

const char *ncl_backend(const ncl_model *m) {
  return guardedValue<const char *>(nullptr, [&] { return need(m).device ? "cuda" : "cpu"; });
}

const char *ncl_device_name(const ncl_model *m) {
  return guardedValue<const char *>(nullptr, [&] {
    const ncl_model &mm = need(m);
    return mm.device ? mm.device->name().c_str() : "";
  });
}

const char *ncl_backend_fallback(const ncl_model *m) {
  return guardedValue<const char *>(nullptr, [&] { return need(m).backendFallback.c_str(); });
}

int32_t ncl_device_profile(const ncl_model *m, int32_t k, const char **what, int64_t *commands,
                           double *seconds) {
  return guardedValue<int32_t>(-1, [&] {
    const ncl_model &mm = need(m);
    if (!mm.device || !mm.device->profiling())
      return int32_t{0};
    const auto entries = mm.device->profile();
    if (k >= 0 && static_cast<size_t>(k) < entries.size()) {
      const ncl::rt::CudaDevice::ProfileEntry &e = *entries[static_cast<size_t>(k)];
      if (what)
        *what = e.what.c_str();
      if (commands)
        *commands = e.commands;
      if (seconds)
        *seconds = e.seconds;
    }
    return static_cast<int32_t>(entries.size());
  });
}

int32_t ncl_threads(const ncl_model *m) {
  return guardedValue<int32_t>(-1, [&] { return need(m).threads; });
}

ncl_status ncl_set_chunk_steps(ncl_model *m, int64_t steps) {
  return guarded([&] {
    ncl_model &mm = need(m);
    if (steps < 0)
      throw Error(NCL_ERROR_ARGUMENT, "chunk steps must be >= 0 (0: automatic)");
    mm.chunkSteps = steps;
    mm.layoutDirty = true; // the default spike buffer depends on it
  });
}

ncl_status ncl_set_spike_buffer(ncl_model *m, int64_t capacity) {
  return guarded([&] {
    ncl_model &mm = need(m);
    if (capacity < 0 || capacity > (int64_t{1} << 32))
      throw Error(NCL_ERROR_ARGUMENT, "spike buffer capacity must be 0..2^32 (0: automatic)");
    mm.spikeCapacity = capacity;
    mm.layoutDirty = true;
  });
}

ncl_status ncl_init(ncl_model *m, uint64_t seed) {
  return guarded([&] { initModel(need(m), seed); });
}

uint64_t ncl_default_seed(const ncl_model *m) {
  return guardedValue<uint64_t>(0, [&] { return need(m).desc->default_seed; });
}

double ncl_default_duration(const ncl_model *m) {
  return guardedValue<double>(0.0, [&] { return need(m).desc->default_duration; });
}

ncl_status ncl_run(ncl_model *m, double seconds) {
  return guarded([&] {
    ncl_model &mm = need(m);
    if (!std::isfinite(seconds) || seconds < 0)
      throw Error(NCL_ERROR_ARGUMENT, "duration must be a finite number of seconds >= 0");
    const double steps = std::nearbyint(seconds / mm.dt);
    if (steps > static_cast<double>(INT32_MAX))
      throw Error(NCL_ERROR_ARGUMENT, "a run of " + std::to_string(seconds) +
                                          " s is too many steps of dt = " + std::to_string(mm.dt) +
                                          " s");
    runModel(mm, std::llround(seconds / mm.dt));
  });
}

ncl_status ncl_run_steps(ncl_model *m, int64_t steps) {
  return guarded([&] { runModel(need(m), steps); });
}

int64_t ncl_current_step(const ncl_model *m) {
  return guardedValue<int64_t>(-1, [&] { return need(m).step; });
}

int64_t ncl_spike_count(const ncl_model *m, const char *pop) {
  return guardedValue<int64_t>(-1, [&] { return need(m).population(pop).spikeCount; });
}

int64_t ncl_get_spikes(const ncl_model *m, const char *pop, double *times, int64_t *indices,
                       int64_t capacity) {
  return guardedValue<int64_t>(-1, [&] {
    const ncl_model &mm = need(m);
    const Population &p = mm.population(pop);
    if (!p.info->record_spikes)
      throw Error(NCL_ERROR_NOT_FOUND, "population '" + std::string(pop) +
                                           "' does not record its spikes (add it to `record "
                                           "spikes(...)` in the network)");
    if (capacity < 0)
      throw Error(NCL_ERROR_ARGUMENT, "negative capacity");
    const int64_t n = static_cast<int64_t>(p.record.size());
    const int64_t copy = std::min(n, capacity);
    for (int64_t s = 0; s < copy; ++s) {
      const Spike &sp = p.record[static_cast<size_t>(s)];
      if (times)
        times[s] = static_cast<double>(sp.step) * mm.dt;
      if (indices)
        indices[s] = sp.index;
    }
    return n;
  });
}

int32_t ncl_num_events(const ncl_model *m, const char *pop) {
  return guardedValue<int32_t>(-1, [&] { return need(m).population(pop).info->num_events; });
}

const char *ncl_event_name(const ncl_model *m, const char *pop, int32_t k) {
  return guardedValue<const char *>(nullptr, [&]() -> const char * {
    const Population &p = need(m).population(pop);
    if (k < 0 || k >= p.info->num_events)
      throw Error(NCL_ERROR_NOT_FOUND, "event index " + std::to_string(k) +
                                           " is out of range (population '" + pop + "' has " +
                                           std::to_string(p.info->num_events) + " events)");
    return p.info->event_names[k];
  });
}

int64_t ncl_get_events(const ncl_model *m, const char *pop, const char *event, double *times,
                       int64_t *indices, int64_t capacity) {
  return guardedValue<int64_t>(-1, [&] {
    const ncl_model &mm = need(m);
    const Population &p = mm.population(pop);
    needName(event, "event");
    const int e = p.findEvent(event);
    if (e < 0)
      throw Error(
          NCL_ERROR_NOT_FOUND,
          "population '" + std::string(pop) + "' has no event '" + event + "'" +
              (p.info->num_events ? "; its events are: " + p.eventList() : "; it has no events"));
    if (!p.info->record_spikes)
      throw Error(NCL_ERROR_NOT_FOUND,
                  "population '" + std::string(pop) +
                      "' does not record its spikes and events (add it to `record "
                      "spikes(...)` in the network)");
    if (capacity < 0)
      throw Error(NCL_ERROR_ARGUMENT, "negative capacity");
    if (static_cast<size_t>(e) >= p.events.size())
      return int64_t{0}; // nothing recorded yet
    const std::vector<Spike> &rec = p.events[static_cast<size_t>(e)];
    const int64_t n = static_cast<int64_t>(rec.size());
    for (int64_t s = 0; s < std::min(n, capacity); ++s) {
      if (times)
        times[s] = static_cast<double>(rec[static_cast<size_t>(s)].step) * mm.dt;
      if (indices)
        indices[s] = rec[static_cast<size_t>(s)].index;
    }
    return n;
  });
}

namespace {
/// Refuses values a run could not use: a non-finite one would only stop the
/// next run, one beyond float32's range would become infinite. `what` is
/// "P.v", `kind` "state" or "synapse".
void checkSettable(const ncl_model &m, const double *values, int64_t count, const std::string &what,
                   const char *kind) {
  for (int64_t i = 0; i < count; ++i)
    if (!std::isfinite(values[i]))
      throw Error(NCL_ERROR_ARGUMENT, "value " + std::to_string(i) + " for " + what + " is " +
                                          nonFiniteName(values[i]) + "; " + kind +
                                          " values must be finite");
    else if (m.desc->real_bits == 32 && std::fabs(values[i]) > FLT_MAX)
      throw Error(NCL_ERROR_ARGUMENT, "value " + std::to_string(i) + " for " + what +
                                          " is too large for this float32 model");
}
} // namespace

int64_t ncl_get_state(const ncl_model *m, const char *pop, const char *var, double *out,
                      int64_t capacity) {
  return guardedValue<int64_t>(-1, [&] {
    const ncl_model &mm = need(m);
    const Population &p = mm.population(pop);
    const int v = varIndex(p, var);
    if (capacity < 0 || (capacity > 0 && !out))
      throw Error(NCL_ERROR_ARGUMENT, "bad output buffer");
    needState(mm);
    // Every batch member's neurons, member b's neuron i at b * size + i.
    const int64_t copy = std::min(p.units(), capacity);
    const void *data = mm.bufferPtrs[static_cast<size_t>(p.stateBuffer[static_cast<size_t>(v)])];
    syncHost(mm, data);
    for (int64_t i = 0; i < copy; ++i)
      out[i] = mm.desc->real_bits == 32 ? static_cast<const float *>(data)[i]
                                        : static_cast<const double *>(data)[i];
    return p.units();
  });
}

namespace {
const ncl::rt::Projection &projectionNamed(const ncl_model &m, const char *name) {
  if (!name)
    throw Error(NCL_ERROR_ARGUMENT, "NULL projection name");
  for (const ncl::rt::Projection &proj : m.projs)
    if (std::strcmp(proj.info->name, name) == 0)
      return proj;
  std::string names;
  for (const ncl::rt::Projection &proj : m.projs)
    names += std::string(names.empty() ? "" : ", ") + "'" + proj.info->name + "'";
  throw Error(NCL_ERROR_NOT_FOUND, "no projection '" + std::string(name) + "' (the model has " +
                                       (names.empty() ? std::string("none") : names) + ")");
}
/// The index of per-synapse variable `var` of `q`; throws NOT_FOUND listing
/// the variables.
int synapseVarIndex(const ncl::rt::Projection &q, const char *var) {
  if (!var)
    throw Error(NCL_ERROR_ARGUMENT, "NULL variable name");
  std::vector<std::string> names;
  for (int i = 0; i < q.info->num_vars; ++i) {
    if (std::strcmp(q.info->vars[i].name, var) == 0)
      return i;
    names.push_back(q.info->vars[i].name);
  }
  throw Error(NCL_ERROR_NOT_FOUND,
              "projection '" + std::string(q.info->name) + "' has no per-synapse variable '" + var +
                  "'" +
                  (names.empty() ? std::string("; it has none")
                                 : "; its per-synapse variables are: " + join(names, ", ")));
}
} // namespace

namespace {
/// The trace of `q` that `var` names ("pre.apre", "post.apost", or a bare
/// name that is no per-synapse variable), if any.
std::optional<ncl::rt::TraceView> traceNamed(const ncl_model &m, const ncl::rt::Projection &q,
                                             const char *var) {
  if (!var)
    return std::nullopt;
  for (int i = 0; i < q.info->num_vars; ++i)
    if (std::strcmp(q.info->vars[i].name, var) == 0)
      return std::nullopt;
  for (const ncl::rt::TraceView &trace : ncl::rt::traceViews(m, q))
    if (trace.fileName() == var ||
        (!ncl::rt::isEventTime(trace.name) && trace.name == std::string(var)))
      return trace;
  return std::nullopt;
}
} // namespace

int64_t ncl_get_synapse_state(const ncl_model *m, const char *proj, const char *var, double *out,
                              int64_t capacity) {
  return guardedValue<int64_t>(-1, [&] {
    const ncl_model &mm = need(m);
    const ncl::rt::Projection &q = projectionNamed(mm, proj);
    // A trace kept per neuron reads, for each synapse, its neuron's value.
    if (std::optional<ncl::rt::TraceView> trace = traceNamed(mm, q, var)) {
      if (capacity < 0 || (capacity > 0 && !out))
        throw Error(NCL_ERROR_ARGUMENT, "bad output buffer");
      needState(mm);
      syncHost(mm, trace->data);
      const int64_t copy = std::min(q.synapses, capacity);
      int64_t row = 0;
      for (int64_t k = 0; k < copy; ++k) {
        while (q.rowStart[static_cast<size_t>(row) + 1] <= k)
          ++row;
        const int64_t neuron = trace->pre ? row : q.post[static_cast<size_t>(k)];
        out[k] = mm.desc->real_bits == 32 ? static_cast<const float *>(trace->data)[neuron]
                                          : static_cast<const double *>(trace->data)[neuron];
      }
      return q.synapses;
    }
    const int v = synapseVarIndex(q, var);
    if (capacity < 0 || (capacity > 0 && !out))
      throw Error(NCL_ERROR_ARGUMENT, "bad output buffer");
    needState(mm);
    const int64_t copy = std::min(q.synapses, capacity);
    const void *data = mm.bufferPtrs[static_cast<size_t>(q.varBuffer[static_cast<size_t>(v)])];
    syncHost(mm, data);
    const size_t stride = ncl::rt::synapseRecordLength(q);
    for (int64_t i = 0; i < copy; ++i)
      out[i] = mm.desc->real_bits == 32
                   ? static_cast<const float *>(data)[static_cast<size_t>(i) * stride]
                   : static_cast<const double *>(data)[static_cast<size_t>(i) * stride];
    return q.synapses;
  });
}

ncl_status ncl_set_synapse_state(ncl_model *m, const char *proj, const char *var,
                                 const double *values, int64_t count) {
  return guarded([&] {
    ncl_model &mm = need(m);
    const ncl::rt::Projection &q = projectionNamed(mm, proj);
    if (std::optional<ncl::rt::TraceView> trace = traceNamed(mm, q, var))
      throw Error(NCL_ERROR_ARGUMENT,
                  "'" + std::string(var) + "' of projection '" + proj + "' is kept once per " +
                      (trace->pre ? "presynaptic" : "postsynaptic") +
                      " neuron (every synapse of a neuron shares it, nclc --explain), so it "
                      "cannot be set per synapse");
    const int v = synapseVarIndex(q, var);
    if (!values)
      throw Error(NCL_ERROR_ARGUMENT, "NULL values");
    needState(mm);
    if (count != q.synapses)
      throw Error(NCL_ERROR_ARGUMENT, "projection '" + std::string(proj) + "' has " +
                                          std::to_string(q.synapses) + " synapses, got " +
                                          std::to_string(count) + " values for '" + var + "'");
    checkSettable(mm, values, count, std::string(proj) + "." + var, "synapse");
    void *data = mm.bufferPtrs[static_cast<size_t>(q.varBuffer[static_cast<size_t>(v)])];
    syncHost(mm, data); // the records interleave the other variables
    const size_t stride = ncl::rt::synapseRecordLength(q);
    for (int64_t i = 0; i < count; ++i) {
      if (mm.desc->real_bits == 32)
        static_cast<float *>(data)[static_cast<size_t>(i) * stride] = static_cast<float>(values[i]);
      else
        static_cast<double *>(data)[static_cast<size_t>(i) * stride] = values[i];
    }
    hostChanged(mm, data);
  });
}

int64_t ncl_get_synapses(const ncl_model *m, const char *proj, int64_t *pre, int64_t *post,
                         int64_t capacity) {
  return guardedValue<int64_t>(-1, [&] {
    const ncl_model &mm = need(m);
    const ncl::rt::Projection &q = projectionNamed(mm, proj);
    if (capacity < 0)
      throw Error(NCL_ERROR_ARGUMENT, "bad output buffer");
    needState(mm);
    const int64_t copy = std::min(q.synapses, capacity);
    for (int64_t i = 0, row = 0; i < copy; ++i) {
      while (q.rowStart[static_cast<size_t>(row) + 1] <= i)
        ++row;
      if (pre)
        pre[i] = row;
      if (post)
        post[i] = q.post[static_cast<size_t>(i)];
    }
    return q.synapses;
  });
}

ncl_status ncl_set_state(ncl_model *m, const char *pop, const char *var, const double *values,
                         int64_t count) {
  return guarded([&] {
    ncl_model &mm = need(m);
    Population &p = mm.population(pop);
    const int v = varIndex(p, var);
    if (!values)
      throw Error(NCL_ERROR_ARGUMENT, "NULL values");
    // Every batch member's neurons (the next run's batch before ncl_init).
    const int64_t units = p.size * mm.batch;
    if (count != units)
      throw Error(NCL_ERROR_ARGUMENT,
                  "population '" + std::string(pop) + "' has " + std::to_string(p.size) +
                      " neurons" +
                      (mm.batch > 1 ? " in each of " + std::to_string(mm.batch) +
                                          " batch members (" + std::to_string(units) + ")"
                                    : "") +
                      ", got " + std::to_string(count) + " values");
    checkSettable(mm, values, count, std::string(pop) + "." + var, "state");
    needState(mm);
    void *data = mm.bufferPtrs[static_cast<size_t>(p.stateBuffer[static_cast<size_t>(v)])];
    syncHost(mm, data);
    for (int64_t i = 0; i < count; ++i) {
      if (mm.desc->real_bits == 32)
        static_cast<float *>(data)[i] = static_cast<float>(values[i]);
      else
        static_cast<double *>(data)[i] = values[i];
    }
    hostChanged(mm, data);
  });
}

ncl_status ncl_load_state(ncl_model *m, const char *pop, const char *var, const char *path) {
  return guarded([&] {
    ncl_model &mm = need(m);
    Population &p = mm.population(pop);
    varIndex(p, var);
    if (!path || !*path)
      throw Error(NCL_ERROR_ARGUMENT, "no state file given");
    needState(mm);
    ncl::rt::NpyArray array;
    std::vector<int64_t> shape;
    std::string error;
    if (!ncl::rt::readNpy(path, 2, array, shape, error))
      throw Error(NCL_ERROR_IO, error);
    // (N,) for every member alike, or (B, N): one row per member.
    const bool shared = shape.size() == 1 && shape[0] == p.size;
    const bool perMember = shape.size() == 2 && shape[0] == mm.batch && shape[1] == p.size;
    if (!shared && !perMember) {
      std::string got;
      for (int64_t d : shape)
        got += (got.empty() ? "" : ", ") + std::to_string(d);
      throw Error(NCL_ERROR_ARGUMENT,
                  "'" + std::string(path) + "' holds an array of shape (" + got +
                      (shape.size() == 1 ? ",)" : ")") + "; the state of population '" + pop +
                      "' needs shape (" + std::to_string(p.size) + ",)" +
                      (mm.batch > 1 ? " or (" + std::to_string(mm.batch) + ", " +
                                          std::to_string(p.size) + "), one row per batch member"
                                    : ""));
    }
    std::vector<double> values(static_cast<size_t>(p.units()));
    for (size_t i = 0; i < values.size(); ++i) {
      const size_t from = shared ? i % static_cast<size_t>(p.size) : i;
      values[i] = array.isInteger() ? static_cast<double>(array.ints[from]) : array.reals[from];
    }
    checkSettable(mm, values.data(), static_cast<int64_t>(values.size()),
                  "'" + std::string(path) + "' (" + pop + "." + var + ")", "state");
    void *data =
        mm.bufferPtrs[static_cast<size_t>(p.stateBuffer[static_cast<size_t>(varIndex(p, var))])];
    syncHost(mm, data);
    for (size_t i = 0; i < values.size(); ++i) {
      if (mm.desc->real_bits == 32)
        static_cast<float *>(data)[i] = static_cast<float>(values[i]);
      else
        static_cast<double *>(data)[i] = values[i];
    }
    hostChanged(mm, data);
  });
}

namespace {

/// The monitor named `name`; throws NOT_FOUND listing the monitors.
const Monitor &monitorNamed(const ncl_model &m, const char *name) {
  needName(name, "monitor");
  std::vector<std::string> names;
  for (const Monitor &mon : m.monitors) {
    if (std::strcmp(mon.info->name, name) == 0)
      return mon;
    names.push_back(mon.info->name);
  }
  throw Error(NCL_ERROR_NOT_FOUND,
              "unknown monitor '" + std::string(name) + "'" +
                  (names.empty() ? std::string("; the model has none (add `record v(P)` or "
                                               "`record rate(P)` to the network)")
                                 : "; the model has '" + join(names, "', '") + "'"));
}

/// Values per sample of `mon` at the current sizes: a state or rate
/// monitor's for each batch member in turn.
int64_t monitorWidth(const ncl_model &m, const Monitor &mon) {
  const int64_t members = mon.isSynapse() ? 1 : m.batch;
  if (mon.isRate())
    return members;
  auto [begin, end] = monitorRange(m, *mon.info);
  return (end - begin) * members;
}

} // namespace

int32_t ncl_num_monitors(const ncl_model *m) {
  return guardedValue<int32_t>(-1, [&] { return need(m).desc->num_monitors; });
}

const char *ncl_monitor_name(const ncl_model *m, int32_t i) {
  return guardedValue<const char *>(nullptr, [&]() -> const char * {
    const ncl_model &mm = need(m);
    if (i < 0 || i >= mm.desc->num_monitors)
      throw Error(NCL_ERROR_ARGUMENT, "monitor index " + std::to_string(i) + " out of range (" +
                                          std::to_string(mm.desc->num_monitors) + " monitors)");
    return mm.desc->monitors[i].name;
  });
}

int64_t ncl_monitor_samples(const ncl_model *m, const char *name) {
  return guardedValue<int64_t>(-1, [&] {
    const ncl_model &mm = need(m);
    return monitorNamed(mm, name).rows(mm.step);
  });
}

int64_t ncl_monitor_width(const ncl_model *m, const char *name) {
  return guardedValue<int64_t>(-1, [&] {
    const ncl_model &mm = need(m);
    return monitorWidth(mm, monitorNamed(mm, name));
  });
}

int64_t ncl_get_monitor(const ncl_model *m, const char *name, double *times, double *values,
                        int64_t capacity) {
  return guardedValue<int64_t>(-1, [&] {
    const ncl_model &mm = need(m);
    const Monitor &mon = monitorNamed(mm, name);
    if (capacity < 0)
      throw Error(NCL_ERROR_ARGUMENT, "negative capacity");
    const int64_t rows = mon.rows(mm.step), copy = std::min(rows, capacity);
    if (mon.isRate()) {
      const double perNeuron =
          static_cast<double>(mm.pops[static_cast<size_t>(mon.info->population)].size) * mm.dt;
      // A row holds each batch member's rate in turn.
      const int64_t members = mon.members;
      for (int64_t n = 0; n < copy; ++n) {
        if (times)
          times[n] = static_cast<double>(n + 1) * mm.dt;
        for (int64_t b = 0; values && b < members; ++b) {
          const size_t k = static_cast<size_t>(n * members + b);
          values[k] = static_cast<double>(mon.counts[k]) / perNeuron;
        }
      }
      return rows;
    }
    const int64_t width = mon.width();
    for (int64_t r = 0; r < copy; ++r) {
      if (times)
        times[r] = static_cast<double>(r * mon.info->every) * mm.dt;
      if (!values)
        continue;
      const size_t first = static_cast<size_t>(r * width);
      for (int64_t j = 0; j < width; ++j) {
        const size_t k = first + static_cast<size_t>(j);
        values[k] =
            mm.desc->real_bits == 32
                ? static_cast<double>(reinterpret_cast<const float *>(mon.samples.data())[k])
                : reinterpret_cast<const double *>(mon.samples.data())[k];
      }
    }
    return rows;
  });
}

int64_t ncl_monitor_indices(const ncl_model *m, const char *name, int64_t *indices,
                            int64_t capacity) {
  return guardedValue<int64_t>(-1, [&] {
    const ncl_model &mm = need(m);
    const Monitor &mon = monitorNamed(mm, name);
    if (mon.isRate())
      throw Error(NCL_ERROR_ARGUMENT, "'" + std::string(name) +
                                          "' is a rate monitor: it records the whole "
                                          "population, not neurons");
    if (capacity < 0 || (capacity > 0 && !indices))
      throw Error(NCL_ERROR_ARGUMENT, "bad output buffer");
    auto [begin, end] = monitorRange(mm, *mon.info);
    for (int64_t j = 0; j < std::min(end - begin, capacity); ++j)
      indices[j] = begin + j;
    return end - begin;
  });
}

int64_t ncl_monitor_memory(const ncl_model *m, int64_t steps) {
  return guardedValue<int64_t>(-1, [&] {
    const ncl_model &mm = need(m);
    if (steps < 0)
      throw Error(NCL_ERROR_ARGUMENT, "negative number of steps");
    uint64_t total = 0;
    for (size_t k = 0; k < mm.monitors.size(); ++k)
      total = std::min<uint64_t>(total + monitorBytes(mm, k, steps), INT64_MAX);
    return static_cast<int64_t>(total);
  });
}

ncl_status ncl_get_timings(const ncl_model *m, ncl_timings *out) {
  return guarded([&] {
    const ncl_model &mm = need(m);
    if (!out)
      throw Error(NCL_ERROR_ARGUMENT, "NULL output pointer");
    out->load_s = mm.loadSeconds;
    out->init_s = mm.initSeconds;
    out->simulate_s = mm.simulateSeconds;
  });
}

int64_t ncl_memory_required(const ncl_model *m) {
  return guardedValue<int64_t>(-1, [&] {
    const uint64_t total = planMemory(need(m)).total();
    return static_cast<int64_t>(std::min<uint64_t>(total, INT64_MAX));
  });
}

ncl_status ncl_interrupt(ncl_model *m) {
  // Async-signal-safe: one lock-free store, no message (that would allocate).
  static_assert(std::atomic<bool>::is_always_lock_free);
  if (!m)
    return NCL_ERROR_ARGUMENT;
  m->interruptRequested.store(true);
  return NCL_OK;
}

ncl_status ncl_write_output(const ncl_model *m, const char *dir) {
  return guarded([&] {
    const ncl_model &mm = need(m);
    if (!dir || !*dir)
      throw Error(NCL_ERROR_ARGUMENT, "no output directory given");
    writeOutput(mm, dir); // spikes and monitors: the host's own
  });
}

namespace {
/// Refuses a per-synapse variable named `pre` or `post`, whose file would
/// be the projection's list of neurons.
void checkWeightFileNames(const ncl_model &m) {
  for (const ncl::rt::Projection &q : m.projs)
    for (int v = 0; v < q.info->num_vars; ++v)
      if (std::strcmp(q.info->vars[v].name, "pre") == 0 ||
          std::strcmp(q.info->vars[v].name, "post") == 0)
        throw Error(NCL_ERROR_ARGUMENT,
                    "projection '" + std::string(q.info->name) + "' has a per-synapse variable '" +
                        q.info->vars[v].name + "', whose file would be its list of " +
                        q.info->vars[v].name + "synaptic neurons; rename the variable");
}
} // namespace

ncl_status ncl_save_weights(const ncl_model *m, const char *dir) {
  return guarded([&] {
    const ncl_model &mm = need(m);
    if (!dir || !*dir)
      throw Error(NCL_ERROR_ARGUMENT, "no weights directory given");
    needState(mm);
    checkWeightFileNames(mm);
    syncHost(mm);
    writeSynapseState(mm, dir);
  });
}

ncl_status ncl_load_weights(ncl_model *m, const char *dir) {
  return guarded([&] {
    ncl_model &mm = need(m);
    if (!dir || !*dir)
      throw Error(NCL_ERROR_ARGUMENT, "no weights directory given");
    needState(mm);
    checkWeightFileNames(mm);
    hostReplacesState(mm); // records and traces, in part
    readSynapseState(mm, dir);
  });
}

} // extern "C"
