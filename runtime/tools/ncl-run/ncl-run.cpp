//===- ncl-run.cpp - Run a compiled NCL model from the command line -------===//
//
// ncl-run model.so [--time 1s] [--dt 0.05ms] [--seed S] [--set POP.PARAM=VALUE]...
//                  [--size POP=N]... [--batch B] [--threads N] [--data-dir DIR] [--out DIR]
//                  [--backend cpu|cuda|cuda:N|auto] [--quiet]
//                  [--init POP.VAR=FILE]... [--load-weights DIR] [--save-weights DIR]
//
// Loads the model through the C++ wrapper of libnclrt (the same API an
// embedding program uses), applies the overrides, runs, prints a summary and
// optionally writes the .npy/run.json output. Every failure is one line
// `ncl-run: error: ...` on stderr: exit 1 for errors, 2 for bad usage.
// SIGINT stops the run at the end of its current chunk; what was simulated
// is written with --out (run.json says "interrupted") and the exit status
// is 130. A second SIGINT kills at once. On a terminal, a run that lasts
// more than about a second shows a progress line on stderr (simulated time,
// speed, ETA), rewritten in place and erased at the end.
//
//===----------------------------------------------------------------------===//
#include "ncl/runtime.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unistd.h>
#include <utility>
#include <vector>

namespace {

const char *kUsage = "usage: ncl-run MODEL.so [options]\n"
                     "\n"
                     "Runs a model compiled by nclc and prints a summary.\n"
                     "\n"
                     "options:\n"
                     "  --time T             simulated time with a unit, e.g. 500ms, 1s, '0.2 s'\n"
                     "                       (default: the model's `simulate` duration)\n"
                     "  --dt T               time step with a unit, e.g. 0.05ms (default: the\n"
                     "                       network's); explicit schemes accept only smaller\n"
                     "  --seed S             random seed, an integer (default: the model's)\n"
                     "  --set POP.PARAM=V    set a parameter, with its unit: --set E.I=2.5nA\n"
                     "  --size POP=N         change a population's size\n"
                     "  --batch B            run B independent copies of the network (batch\n"
                     "                       members; default: the model's `batch`)\n"
                     "  --threads N          number of threads (default 1); results do not\n"
                     "                       depend on it\n"
                     "  --backend B          cpu (default), cuda (the first CUDA device; fails\n"
                     "                       where there is none), cuda:N (device N) or auto\n"
                     "                       (cuda where it can run, else the CPU, saying\n"
                     "                       so); docs/gpu.md\n"
                     "  --data-dir DIR       where relative .npy names in the model (spike\n"
                     "                       generators, timed arrays) resolve (default: the\n"
                     "                       directory of the .ncl file when it was compiled)\n"
                     "  --out DIR            write POP_spike_t.npy, POP_spike_i.npy, run.json\n"
                     "  --init POP.VAR=FILE  after init, set a state variable from a .npy\n"
                     "                       file: shape (N,), or (B, N) with one row per\n"
                     "                       batch member; internal (SI) units (outputs\n"
                     "                       such as r = f(x) are not recomputed)\n"
                     "  --load-weights DIR   after init, read every projection's per-synapse\n"
                     "                       state from DIR (as --save-weights wrote it)\n"
                     "  --save-weights DIR   at the end of the run, write every projection's\n"
                     "                       per-synapse state into DIR: PROJ_VAR.npy and\n"
                     "                       PROJ_pre.npy, PROJ_post.npy\n"
                     "  --quiet              print nothing but errors\n"
                     "  --version            print NCL's version and the model ABI it runs\n"
                     "  --help               show this text\n"
                     "\n"
                     "environment, for --backend=cuda (docs/gpu.md):\n"
                     "  NCL_CUDA_DRIVER=LIB       the driver library instead of libcuda.so.1\n"
                     "  NCL_CUDA_PROFILE=1        time every command on the device and print\n"
                     "                            where a step's time goes (no CUDA graphs)\n"
                     "  NCL_CUDA_WAIT_EACH=1      wait after each command, so that a kernel\n"
                     "                            that faults is named (slow)\n"
                     "  NCL_CUDA_GRAPHS=0         issue every launch instead of CUDA graphs\n"
                     "  NCL_CUDA_MEMBER_TILE=N    dense sums in tiles of N batch members (4,\n"
                     "                            8, 16; 0 none; default auto: timed)\n"
                     "  NCL_CUDA_LEAN=0|1         updates in at most 80 registers or not\n"
                     "                            (default auto: timed)\n"
                     "  NCL_CUDA_ARRIVAL_ROOM=N   synapses each arrival queue holds a step\n";

/// Bad command line: printed with a hint and exit status 2.
struct UsageError {
  std::string message;
};

struct Options {
  std::string model;
  std::string time, dt;
  bool haveSeed = false;
  uint64_t seed = 0;
  std::vector<std::pair<std::string, std::string>> sets, sizes;
  int64_t batch = 0; // 0: the model's
  int32_t threads = 1;
  std::string backend = "cpu";
  std::string out;
  std::string dataDir;
  std::string loadWeights, saveWeights;
  /// --init POP.VAR=FILE, in the order given: (POP.VAR, FILE).
  std::vector<std::pair<std::string, std::string>> initialStates;
  bool quiet = false;
};

[[noreturn]] void fail(const std::string &msg, int code = 1) {
  std::fprintf(stderr, "ncl-run: error: %s\n", msg.c_str());
  if (code == 2)
    std::fprintf(stderr, "run 'ncl-run --help' for usage\n");
  std::exit(code);
}

/// The model a SIGINT interrupts; ncl_interrupt is async-signal-safe.
std::atomic<ncl_model *> interruptTarget{nullptr};

extern "C" void onInterrupt(int) {
  if (ncl_model *m = interruptTarget.load())
    ncl_interrupt(m);
  std::signal(SIGINT, SIG_DFL); // a second Ctrl-C kills at once
}

bool parseInt(const std::string &s, long long lo, long long hi, long long &out) {
  if (s.empty() || s[0] == ' ')
    return false;
  errno = 0;
  char *end = nullptr;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (errno || *end || v < lo || v > hi)
    return false;
  out = v;
  return true;
}

std::pair<std::string, std::string> splitAssign(const std::string &flag, const std::string &arg,
                                                const char *shape) {
  size_t eq = arg.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == arg.size())
    throw UsageError{flag + " expects " + shape + ", got '" + arg + "'"};
  return {arg.substr(0, eq), arg.substr(eq + 1)};
}

Options parseArgs(int argc, char **argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i], value;
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    }
    if (a == "--quiet" || a == "-q") {
      o.quiet = true;
      continue;
    }
    if (a == "--version") {
      // The runtime's ABI, from the library actually loaded.
      std::printf("ncl-run (NCL) %s\n  runs model libraries of ABI %u\n", NCL_VERSION_STRING,
                  ncl_runtime_abi_version());
      std::exit(0);
    }
    if (a.rfind("--", 0) != 0 || a == "--") {
      if (!o.model.empty())
        throw UsageError{"unexpected argument '" + a + "' (the model is '" + o.model + "')"};
      o.model = a;
      continue;
    }
    // --flag VALUE or --flag=VALUE
    size_t eq = a.find('=');
    std::string flag = a.substr(0, eq);
    if (eq != std::string::npos) {
      value = a.substr(eq + 1);
    } else {
      if (i + 1 >= argc)
        throw UsageError{flag + " needs a value"};
      value = argv[++i];
    }
    if (value.empty())
      throw UsageError{flag + " needs a value, got ''"};
    if (flag == "--time") {
      o.time = value;
    } else if (flag == "--dt") {
      o.dt = value;
    } else if (flag == "--seed") {
      errno = 0;
      char *end = nullptr;
      unsigned long long s = std::strtoull(value.c_str(), &end, 10);
      if (value.empty() || value[0] == '-' || errno || *end)
        throw UsageError{"--seed expects a non-negative integer, got '" + value + "'"};
      o.seed = s;
      o.haveSeed = true;
    } else if (flag == "--set") {
      o.sets.push_back(splitAssign(flag, value, "POP.PARAM=VALUE"));
    } else if (flag == "--size") {
      o.sizes.push_back(splitAssign(flag, value, "POP=N"));
    } else if (flag == "--batch") {
      long long n;
      if (!parseInt(value, 1, int64_t{1} << 20, n))
        throw UsageError{"--batch expects an integer from 1 to 1048576, got '" + value + "'"};
      o.batch = n;
    } else if (flag == "--threads") {
      long long n;
      if (!parseInt(value, 1, 1024, n))
        throw UsageError{"--threads expects an integer from 1 to 1024, got '" + value + "'"};
      o.threads = static_cast<int32_t>(n);
    } else if (flag == "--backend") {
      const bool device = value.rfind("cuda:", 0) == 0 && value.size() > 5 && value.size() <= 9 &&
                          value.find_first_not_of("0123456789", 5) == std::string::npos;
      if (value != "cpu" && value != "cuda" && value != "auto" && !device)
        throw UsageError{"--backend expects cpu, cuda, cuda:N (CUDA device N) or auto, got '" +
                         value + "'"};
      o.backend = value;
    } else if (flag == "--out") {
      o.out = value;
    } else if (flag == "--data-dir") {
      o.dataDir = value;
    } else if (flag == "--init") {
      auto [target, file] = splitAssign(flag, value, "POP.VAR=FILE.npy");
      size_t dot = target.find('.');
      if (dot == std::string::npos || dot == 0 || dot + 1 == target.size())
        throw UsageError{"--init expects POP.VAR=FILE.npy, got '" + value + "'"};
      o.initialStates.emplace_back(target, file);
    } else if (flag == "--load-weights") {
      o.loadWeights = value;
    } else if (flag == "--save-weights") {
      o.saveWeights = value;
    } else {
      throw UsageError{"unknown option '" + flag + "'"};
    }
  }
  if (o.model.empty())
    throw UsageError{"no model given"};
  return o;
}

/// Seconds from a --time or --dt value; it must carry a time unit.
double parseTime(const std::string &flag, const std::string &text) {
  double seconds;
  ncl_dimension dim;
  if (ncl_parse_quantity(text.c_str(), &seconds, dim) != NCL_OK) {
    // "cannot read 'X': why" from the runtime, said of the flag.
    std::string why = ncl_last_error();
    size_t colon = why.find("': ");
    throw UsageError{"cannot read " + flag + " '" + text + "'" +
                     (colon == std::string::npos ? "" : why.substr(colon + 1))};
  }
  if (std::isnan(seconds))
    throw UsageError{flag + " '" + text + "' is not a number"};
  if (std::isinf(seconds))
    throw UsageError{flag + " '" + text + "' is infinite or too large"};
  const ncl_dimension time = {0, 0, 2, 0, 0, 0, 0, 0}; // s, doubled
  if (std::all_of(dim, dim + 8, [](int8_t e) { return e == 0; }))
    throw UsageError{flag + " needs a unit, e.g. '" + text + "s' or '" + text + "ms'"};
  if (!std::equal(dim, dim + 8, time))
    throw UsageError{flag + " expects a time such as 500ms or 1s, but '" + text + "' is in " +
                     ncl_dimension_name(dim)};
  if (flag == "--dt" && !(seconds > 0))
    throw UsageError{"--dt must be positive, got '" + text + "'"};
  if (seconds < 0)
    throw UsageError{flag + " must not be negative, got '" + text + "'"};
  return seconds;
}

/// A population size: an integer, also written like 2e8 or 1.5e6 when
/// that is a whole number.
bool parseSize(const std::string &s, long long &out) {
  if (parseInt(s, 1, INT64_MAX, out))
    return true;
  if (s.empty() || s[0] == ' ' || s.find_first_of("eE") == std::string::npos)
    return false;
  errno = 0;
  char *end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (errno || *end || !(v >= 1 && v <= 9.0e18) || v != std::floor(v))
    return false;
  out = static_cast<long long>(v);
  return true;
}

std::string fmtTime(double s) {
  char buf[64];
  if (s >= 1)
    std::snprintf(buf, sizeof buf, "%.3f s", s);
  else if (s >= 1e-3)
    std::snprintf(buf, sizeof buf, "%.3f ms", s * 1e3);
  else
    std::snprintf(buf, sizeof buf, "%.1f us", s * 1e6);
  return buf;
}

/// "1.2 s", "3 min 20 s", "2 h 05 min": an ETA at a glance.
std::string fmtDuration(double s) {
  char buf[64];
  if (s < 60)
    std::snprintf(buf, sizeof buf, "%.1f s", s);
  else if (s < 3600)
    std::snprintf(buf, sizeof buf, "%d min %02d s", static_cast<int>(s / 60),
                  static_cast<int>(std::fmod(s, 60)));
  else
    std::snprintf(buf, sizeof buf, "%d h %02d min", static_cast<int>(s / 3600),
                  static_cast<int>(std::fmod(s, 3600) / 60));
  return buf;
}

/// Runs `steps` steps; on a terminal, in slices of about a tenth of a
/// second, with a progress line on stderr once the run has taken longer
/// than `delay` seconds, rewritten at most four times a second and erased
/// when the run ends. Slicing changes no result: runs continue exactly.
void runWithProgress(ncl::Model &model, int64_t steps, double delay) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  auto since = [](Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
  };
  const double dt = model.dt();
  const int64_t first = model.step();
  double lastPrint = -1;
  bool shown = false;
  struct Erase {
    bool &shown;
    ~Erase() {
      if (shown)
        std::fputs("\r\033[K", stderr);
    }
  } erase{shown};
  int64_t slice = 16, done = 0;
  while (done < steps) {
    const int64_t n = std::min(slice, steps - done);
    const auto t0 = Clock::now();
    model.runSteps(n);
    done += n;
    // Aim at slices of about 0.1 s, growing at most fourfold at a time.
    const double took = since(t0);
    slice = took > 0 ? std::clamp<int64_t>(
                           static_cast<int64_t>(static_cast<double>(n) * 0.1 / took), 1, 4 * n)
                     : 4 * n;
    const double wall = since(start);
    if (done == steps || wall < delay || (lastPrint >= 0 && wall - lastPrint < 0.25))
      continue;
    lastPrint = wall;
    const double simulated = static_cast<double>(done) * dt;
    const double speed = simulated / wall;
    const double eta = static_cast<double>(steps - done) * dt / speed;
    std::fprintf(stderr, "\rt = %.4g s of %.4g s (%.0f%%)  %.3g bio-s/s  ETA %s\033[K",
                 static_cast<double>(first + done) * dt, static_cast<double>(first + steps) * dt,
                 100.0 * static_cast<double>(done) / static_cast<double>(steps), speed,
                 fmtDuration(eta).c_str());
    std::fflush(stderr);
    shown = true;
  }
}

/// Seconds a run must last before the progress line appears:
/// NCL_RUN_PROGRESS_DELAY when set (tests set 0), else 1.
double progressDelay() {
  const char *text = std::getenv("NCL_RUN_PROGRESS_DELAY");
  char *end = nullptr;
  const double v = text ? std::strtod(text, &end) : 1.0;
  return text && end != text && *end == '\0' && v >= 0 ? v : 1.0;
}

void printSummary(const ncl::Model &model, const Options &o) {
  const ncl_model_descriptor &d = model.descriptor();
  const double dt = model.dt();
  const int64_t steps = model.step();
  const double duration = static_cast<double>(steps) * dt;
  std::printf("model    %s (%s), float%d, dt = %g ms\n", model.name().c_str(),
              d.source_file ? d.source_file : "?", d.real_bits, dt * 1e3);
  std::printf("run      %g s = %" PRId64 " steps, seed %" PRIu64 ", %d thread%s", duration, steps,
              o.haveSeed ? o.seed : model.defaultSeed(), model.threads(),
              model.threads() == 1 ? "" : "s");
  if (model.batch() > 1)
    std::printf(", batch %" PRId64 " (neurons per member below)", model.batch());
  if (model.backend() == "cuda")
    std::printf(", on %s", model.deviceName().c_str());
  std::printf("\n");
  // The model column is as wide as its longest name ("spike_generator").
  int width = 12;
  for (int32_t p = 0; p < d.num_populations; ++p)
    if (d.populations[p].neuron)
      width = std::max(width, static_cast<int>(std::strlen(d.populations[p].neuron)));
  for (int32_t q = 0; q < d.num_projections; ++q)
    if (d.projections[q].synapse)
      width = std::max(width, static_cast<int>(std::strlen(d.projections[q].synapse)));
  std::printf("%-16s %-*s %10s %12s %12s\n", "population", width, "neuron", "neurons", "spikes",
              "rate (Hz)");
  int64_t neurons = 0;
  for (int32_t p = 0; p < d.num_populations; ++p) {
    const ncl_population_info &pi = d.populations[p];
    const int64_t n = model.size(pi.name), s = model.spikeCount(pi.name);
    neurons += n;
    const double rate =
        duration > 0 ? static_cast<double>(s) / (static_cast<double>(n) * duration) : 0.0;
    std::printf("%-16s %-*s %10" PRId64 " %12" PRId64 " %12.3f\n", pi.name, width,
                pi.neuron ? pi.neuron : "", n, s, rate);
    // Custom events of a recorded population, one line each.
    for (int32_t e = 0; pi.record_spikes && e < pi.num_events; ++e) {
      const int64_t count =
          ncl_get_events(model.get(), pi.name, pi.event_names[e], nullptr, nullptr, 0);
      std::printf("  event %-26s %12" PRId64 "\n", pi.event_names[e], count);
    }
  }
  // Projections: the synapses drawn and what each costs in memory.
  if (d.num_projections > 0)
    std::printf("%-16s %-*s %10s %12s %12s\n", "projection", width, "synapse", "pre -> post",
                "synapses", "B/synapse");
  for (int32_t q = 0; q < d.num_projections; ++q) {
    const ncl_projection_info &qi = d.projections[q];
    const int64_t synapses = ncl_projection_synapses(model.get(), q);
    const int64_t bytes = ncl_projection_bytes(model.get(), q);
    char ends[64];
    std::snprintf(ends, sizeof ends, "%s -> %s", d.populations[qi.pre].name,
                  d.populations[qi.post].name);
    std::printf("%-16s %-*s %10s %12" PRId64 " %12.2f\n", qi.name, width, qi.synapse, ends,
                synapses,
                synapses > 0 ? static_cast<double>(bytes) / static_cast<double>(synapses) : 0.0);
  }
  // With NCL_CUDA_PROFILE=1 on a CUDA device: the device time of each kind
  // of command (docs/gpu.md, "Where a step's time goes"), per step.
  const ncl_timings t = model.timings();
  if (const int32_t entries = ncl_device_profile(model.get(), 0, nullptr, nullptr, nullptr);
      entries > 0) {
    // As wide as the longest entry (an arrival launch's works run long).
    int labels = 56;
    for (int32_t k = 0; k < entries; ++k) {
      const char *what = nullptr;
      ncl_device_profile(model.get(), k, &what, nullptr, nullptr);
      labels = std::max(labels, what ? static_cast<int>(std::strlen(what)) : 0);
    }
    std::printf("%-*s %10s %12s %8s\n", labels, "device (NCL_CUDA_PROFILE)", "commands", "us/step",
                "of sim");
    for (int32_t k = 0; k < entries; ++k) {
      const char *what = nullptr;
      int64_t commands = 0;
      double seconds = 0;
      ncl_device_profile(model.get(), k, &what, &commands, &seconds);
      std::printf("%-*s %10" PRId64 " %12.3f %7.1f%%\n", labels, what ? what : "?", commands,
                  steps > 0 ? 1e6 * seconds / static_cast<double>(steps) : 0.0,
                  t.simulate_s > 0 ? 100.0 * seconds / t.simulate_s : 0.0);
    }
  }
  std::printf("time     load %s, init %s, simulate %s", fmtTime(t.load_s).c_str(),
              fmtTime(t.init_s).c_str(), fmtTime(t.simulate_s).c_str());
  if (t.simulate_s > 0 && steps > 0)
    std::printf(" (%.3g neuron updates/s)",
                static_cast<double>(neurons) * static_cast<double>(steps) / t.simulate_s);
  std::printf("\n");
}

} // namespace

int main(int argc, char **argv) {
  // With a file size limit (ulimit -f), a write past it should fail with
  // EFBIG and be reported, not kill the process with SIGXFSZ.
  std::signal(SIGXFSZ, SIG_IGN);
  Options o;
  double duration = 0, dt = 0;
  try {
    o = parseArgs(argc, argv);
    if (!o.time.empty())
      duration = parseTime("--time", o.time);
    if (!o.dt.empty())
      dt = parseTime("--dt", o.dt);
  } catch (const UsageError &e) {
    fail(e.message, 2);
  }

  try {
    ncl::Model model(o.model);
    if (dt > 0)
      model.setDt(dt);
    if (!o.dataDir.empty())
      model.setDataDir(o.dataDir);
    for (const auto &[pop, n] : o.sizes) {
      long long v;
      if (!parseSize(n, v))
        fail("--size " + pop + "=" + n + ": expected a positive integer", 2);
      model.setSize(pop, v);
    }
    if (o.batch > 0)
      model.setBatch(o.batch);
    for (const auto &[target, value] : o.sets)
      model.setParam(target, value);
    model.setThreads(o.threads);
    if (o.backend != "cpu") {
      model.setBackend(o.backend);
      if (!model.backendFallback().empty())
        std::fprintf(stderr, "ncl-run: running on the CPU: %s\n", model.backendFallback().c_str());
    }
    model.init(o.haveSeed ? o.seed : model.defaultSeed());
    if (!o.loadWeights.empty())
      model.loadWeights(o.loadWeights);
    for (const auto &[target, file] : o.initialStates) {
      size_t dot = target.find('.');
      model.loadState(target.substr(0, dot), target.substr(dot + 1), file);
    }
    if (o.time.empty())
      duration = model.defaultDuration();

    std::string runError;
    bool interrupted = false;
    interruptTarget.store(model.get());
    std::signal(SIGINT, onInterrupt);
    try {
      // The progress line only where someone watches: a terminal on both
      // outputs, and not with --quiet.
      const double steps = std::nearbyint(duration / model.dt());
      if (!o.quiet && isatty(STDOUT_FILENO) && isatty(STDERR_FILENO) && steps <= INT32_MAX)
        runWithProgress(model, static_cast<int64_t>(steps), progressDelay());
      else
        model.run(duration);
    } catch (const ncl::Error &e) {
      // Keep what was simulated: write it before reporting the failure.
      runError = e.what();
      interrupted = e.status() == NCL_ERROR_INTERRUPTED;
    }
    interruptTarget.store(nullptr);
    if (!o.quiet && runError.empty())
      printSummary(model, o);
    if (!o.out.empty()) {
      model.writeOutput(o.out);
      if (!o.quiet)
        std::printf("%s %s\n", runError.empty() ? "wrote" : "wrote partial output to",
                    o.out.c_str());
    }
    // The weights of a finished or interrupted run (whose state is that of
    // its last step); a failed run's may be non-finite, so none are saved.
    if (!o.saveWeights.empty() && (runError.empty() || interrupted)) {
      model.saveWeights(o.saveWeights);
      if (!o.quiet)
        std::printf("saved weights to %s\n", o.saveWeights.c_str());
    }
    if (interrupted) {
      std::fflush(stdout);
      std::fprintf(stderr, "ncl-run: %s\n", runError.c_str());
      return 130; // the shell's status for "terminated by SIGINT"
    }
    if (!runError.empty())
      fail(runError);
  } catch (const ncl::Error &e) {
    fail(e.what());
  }
  return 0;
}
