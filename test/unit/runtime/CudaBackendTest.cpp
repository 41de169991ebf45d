//===- CudaBackendTest.cpp - The CUDA backend on a fake device -----------===//
//
// This binary runs with the fake driver (fixtures/fake_cuda.c) in place of
// libcuda.so.1: a device emulated on the host that runs, for each launch, the
// CPU function of the stage it names once per GPU thread, as docs/gpu.md
// says a GPU thread behaves, in an order that is not the CPU's. The CUDA
// backend's orchestration (buffers, headers, spike sorting, steps per
// launch, monitors, the state between runs) must then give the CPU
// backend's results bit for bit. fake_model_gpu.so is fake_model.c with GPU
// kernel names: neuron i spikes every i + 2 steps, P has the event "even",
// and the monitors P_v, P_w and Q_rate.
//
//===----------------------------------------------------------------------===//
#include "RuntimeTestSupport.h"

#include <dlfcn.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

using namespace ncl_test;

namespace {

// Before any test opens the driver (once per process).
const bool driverChosen = [] {
  setenv("NCL_CUDA_DRIVER", NCL_FIXTURE_FAKE_CUDA, 1);
  return true;
}();

/// What a run leaves that the user can read, as raw bytes: every
/// population's spikes and state, P's events and every monitor's samples.
struct Results {
  std::vector<std::string> parts;
  bool operator==(const Results &o) const { return parts == o.parts; }
};

template <typename T> std::string bytes(const std::vector<T> &v) {
  return std::string(reinterpret_cast<const char *>(v.data()), v.size() * sizeof(T));
}

Results results(const ncl_model *m) {
  Results r;
  SpikeList s = spikes(m, "P"); // Q counts its spikes without recording them
  r.parts.push_back(bytes(s.t) + bytes(s.i));
  for (const char *pop : {"P", "Q"}) {
    r.parts.push_back(std::to_string(ncl_spike_count(m, pop)));
    for (const char *var : {"v", "w"})
      r.parts.push_back(bytes(state(m, pop, var)));
  }
  const int64_t n = ncl_get_events(m, "P", "even", nullptr, nullptr, 0);
  std::vector<double> t(static_cast<size_t>(n));
  std::vector<int64_t> i(static_cast<size_t>(n));
  ncl_get_events(m, "P", "even", t.data(), i.data(), n);
  r.parts.push_back(bytes(t) + bytes(i));
  for (const char *mon : {"P_v", "P_w", "Q_rate"}) {
    const int64_t rows = ncl_get_monitor(m, mon, nullptr, nullptr, 0);
    const int64_t width = ncl_monitor_width(m, mon);
    std::vector<double> times(static_cast<size_t>(rows)), values(static_cast<size_t>(rows * width));
    ncl_get_monitor(m, mon, times.data(), values.data(), rows);
    r.parts.push_back(bytes(times) + bytes(values));
  }
  r.parts.push_back(std::to_string(ncl_current_step(m)));
  return r;
}

struct RunSetup {
  int64_t sizeP = 10, sizeQ = 5, batch = 1, spikeBuffer = 0, chunk = 0;
  double current = 0; // P.I and Q.I in A: w grows by it each step
};

/// Runs `steps` steps in the pieces `pieces` (summing to steps) on
/// `backend`, with the setup, from seed 11.
Results run(const char *library, const char *backend, const RunSetup &s,
            const std::vector<int64_t> &pieces) {
  ModelPtr m = open(library);
  if (!m)
    return {};
  EXPECT_EQ(ncl_set_size(m.get(), "P", s.sizeP), NCL_OK);
  EXPECT_EQ(ncl_set_size(m.get(), "Q", s.sizeQ), NCL_OK);
  EXPECT_EQ(ncl_set_batch(m.get(), s.batch), NCL_OK) << lastError();
  EXPECT_EQ(ncl_set_spike_buffer(m.get(), s.spikeBuffer), NCL_OK);
  EXPECT_EQ(ncl_set_chunk_steps(m.get(), s.chunk), NCL_OK);
  EXPECT_EQ(ncl_set_param(m.get(), "P", "I", s.current), NCL_OK);
  EXPECT_EQ(ncl_set_param(m.get(), "Q", "I", -s.current), NCL_OK);
  EXPECT_EQ(ncl_set_backend(m.get(), backend), NCL_OK) << lastError();
  EXPECT_STREQ(ncl_backend(m.get()), backend);
  EXPECT_EQ(ncl_init(m.get(), 11), NCL_OK) << lastError();
  for (int64_t steps : pieces)
    EXPECT_EQ(ncl_run_steps(m.get(), steps), NCL_OK) << lastError();
  return results(m.get());
}

void expectSameOnBothBackends(const char *library, const RunSetup &s,
                              const std::vector<int64_t> &pieces) {
  const Results cpu = run(library, "cpu", s, pieces);
  const Results gpu = run(library, "cuda", s, pieces);
  ASSERT_EQ(cpu.parts.size(), gpu.parts.size());
  const char *what[] = {
      "P spikes", "P count",  "P.v",         "P.w",         "Q count",        "Q.v",
      "Q.w",      "P events", "monitor P_v", "monitor P_w", "monitor Q_rate", "steps"};
  for (size_t k = 0; k < cpu.parts.size(); ++k)
    EXPECT_TRUE(cpu.parts[k] == gpu.parts[k]) << what[k] << " differ";
  // Not vacuous: the run spiked, and the monitors sampled.
  EXPECT_GT(cpu.parts[0].size(), 0u);
  EXPECT_GT(cpu.parts[8].size(), 0u);
  EXPECT_GT(cpu.parts[10].size(), 0u);
}

/// What the fake driver copied so far (fixtures/fake_cuda.c): pageable
/// bytes are the state, pinned ones headers, lists and spike readback.
struct Copies {
  long long htod, htodBytes, htodPageableBytes;
  long long dtoh, dtohBytes, dtohPageableBytes;
  long long waits, launches;
  long long dtod, dtodBytes;      // on the device: monitor samples
  long long graphLaunches;        // cuGraphLaunch
  long long mostLaunchesInABatch; // between two waits or uploads, since the last read
};

Copies copies() {
  Copies c{};
  void *lib = dlopen(NCL_FIXTURE_FAKE_CUDA, RTLD_NOW | RTLD_NOLOAD); // loaded by the runtime
  EXPECT_TRUE(lib) << "the fake driver is not loaded";
  if (!lib)
    return c;
  auto counts = reinterpret_cast<void (*)(Copies *)>(dlsym(lib, "fake_cuda_counts"));
  EXPECT_TRUE(counts);
  if (counts)
    counts(&c);
  dlclose(lib);
  return c;
}

/// The embedding loop: `steps` runs of one step, reading and changing the
/// state between them (every `every` steps) through the C API; what it
/// leaves is the network's T.h, S's spikes and its state after each change.
std::vector<std::string> embeddingLoop(const char *backend, int64_t steps, int64_t every) {
  ModelPtr m = open(NCL_FIXTURE_FAKE_NETWORK);
  EXPECT_TRUE(m);
  if (!m)
    return {};
  EXPECT_EQ(ncl_set_backend(m.get(), backend), NCL_OK) << lastError();
  std::vector<std::string> seen;
  for (int64_t s = 0; s < steps; ++s) {
    EXPECT_EQ(ncl_run_steps(m.get(), 1), NCL_OK) << lastError();
    if (s % every != every - 1)
      continue;
    // S.v counts up to each neuron's threshold: setting it moves spikes.
    std::vector<double> v = state(m.get(), "S", "v"), h = state(m.get(), "T", "h");
    seen.push_back(bytes(v) + bytes(h));
    v[static_cast<size_t>(s % 8)] += 1;
    h[static_cast<size_t>(s % 3)] *= 0.5;
    EXPECT_EQ(ncl_set_state(m.get(), "S", "v", v.data(), 8), NCL_OK) << lastError();
    EXPECT_EQ(ncl_set_state(m.get(), "T", "h", h.data(), 3), NCL_OK) << lastError();
  }
  const SpikeList spikesOfS = spikes(m.get(), "S");
  seen.push_back(bytes(spikesOfS.t) + bytes(spikesOfS.i));
  seen.push_back(bytes(state(m.get(), "T", "h")));
  return seen;
}

} // namespace

TEST(CudaBackend, FakeDeviceGivesTheCpuResults) {
  expectSameOnBothBackends(NCL_FIXTURE_FAKE_MODEL_GPU, RunSetup{}, {500});
}

TEST(CudaBackend, ManyStepsPerLaunchAndBlocksOfNeurons) {
  // A spike buffer of 64 entries for 300 neurons with two channels: blocks
  // of 32 neurons, two steps per launch; runs in pieces that cut chunks.
  RunSetup s;
  s.sizeP = 300;
  s.sizeQ = 70;
  s.spikeBuffer = 64;
  s.chunk = 37;
  s.current = 1e-9;
  expectSameOnBothBackends(NCL_FIXTURE_FAKE_MODEL_GPU, s, {1, 100, 299});
}

TEST(CudaBackend, BatchMembersAndFloat32) {
  RunSetup s;
  s.batch = 3;
  s.sizeP = 40;
  s.current = 3e-9;
  expectSameOnBothBackends(NCL_FIXTURE_FAKE_MODEL_GPU, s, {250});
  expectSameOnBothBackends(NCL_FIXTURE_FAKE_MODEL_GPU_F32, s, {250});
}

TEST(CudaBackend, NetworkDeliveriesSeeTheSpikesInTheCpuOrder) {
  // fake_network.c: T.h depends on the order of each delivery's spikes,
  // which the fake device emits in decreasing neuron order.
  std::vector<double> h[2];
  SpikeList s[2];
  for (int k = 0; k < 2; ++k) {
    ModelPtr m = open(NCL_FIXTURE_FAKE_NETWORK);
    ASSERT_TRUE(m);
    ASSERT_EQ(ncl_set_backend(m.get(), k ? "cuda" : "cpu"), NCL_OK) << lastError();
    ASSERT_EQ(ncl_run_steps(m.get(), 50), NCL_OK) << lastError();
    ASSERT_EQ(ncl_run_steps(m.get(), 70), NCL_OK) << lastError();
    h[k] = state(m.get(), "T", "h");
    s[k] = spikes(m.get(), "S");
  }
  EXPECT_TRUE(s[0] == expectedSpikes(8, 120));
  EXPECT_TRUE(s[0] == s[1]);
  ASSERT_EQ(h[0].size(), 3u);
  EXPECT_GT(h[0][0], 0);
  EXPECT_EQ(std::memcmp(h[0].data(), h[1].data(), 3 * sizeof(double)), 0)
      << h[0][0] << " on the CPU, " << h[1][0] << " on the fake device";
}

/// The fake network on `backend`, its chunks of `chunk` steps; `variable`
/// (when given) set to `value` while the backend opens the device.
ModelPtr openNetwork(const char *backend, int64_t chunk, const char *variable = nullptr,
                     const char *value = nullptr) {
  if (variable)
    setenv(variable, value, 1);
  ModelPtr m = open(NCL_FIXTURE_FAKE_NETWORK);
  EXPECT_TRUE(m);
  if (m) {
    EXPECT_EQ(ncl_set_backend(m.get(), backend), NCL_OK) << lastError();
    EXPECT_EQ(ncl_set_chunk_steps(m.get(), chunk), NCL_OK);
  }
  if (variable)
    unsetenv(variable);
  return m;
}

TEST(CudaBackend, NetworkSpikeListsStayOnTheDevice) {
  // The fake driver makes a step's spike lists on the device
  // (NCL_GPU_SPIKE_LISTS_ENTRY) for any library: the host then waits for a
  // network's spikes once a chunk, not once a step, with the CPU's results.
  // NCL_FAKE_CUDA_MISSING hides the kernels (that one and the older
  // NCL_GPU_SPIKE_LIST_ENTRY), as in a library without them:
  // the host exchanges them every step. A spike buffer too small for a
  // population's step in one launch also makes the host exchange them;
  // going back to the device's lists then uploads the host's history.
  struct Outcome {
    std::vector<double> h;
    SpikeList s;
    long long waits = 0, listsUploaded = 0;
  };
  auto run = [](const char *backend, bool hideKernel, bool changeBuffer) {
    Outcome o;
    ModelPtr m = openNetwork(backend, 100, hideKernel ? "NCL_FAKE_CUDA_MISSING" : nullptr,
                             "ncl_spike_list_gpu,ncl_spike_lists_gpu");
    if (!m)
      return o;
    // The driver's counts (loaded with the first device).
    const bool device = std::strcmp(backend, "cpu") != 0;
    auto count = [device] { return device ? copies() : Copies{}; };
    const Copies before = count();
    EXPECT_EQ(ncl_run_steps(m.get(), 200), NCL_OK) << lastError();
    o.waits = count().waits - before.waits;
    if (changeBuffer) {
      // One entry: S's 8 neurons step one at a time, through the host.
      EXPECT_EQ(ncl_set_spike_buffer(m.get(), 1), NCL_OK);
      EXPECT_EQ(ncl_run_steps(m.get(), 37), NCL_OK) << lastError();
      EXPECT_EQ(ncl_set_spike_buffer(m.get(), 0), NCL_OK);
      const Copies again = count();
      EXPECT_EQ(ncl_run_steps(m.get(), 41), NCL_OK) << lastError();
      o.listsUploaded = count().htodPageableBytes - again.htodPageableBytes;
    }
    o.h = state(m.get(), "T", "h");
    o.s = spikes(m.get(), "S");
    return o;
  };
  for (bool change : {false, true}) {
    const Outcome cpu = run("cpu", false, change);
    const Outcome lists = run("cuda", false, change);
    const Outcome host = run("cuda", true, change);
    ASSERT_EQ(cpu.h.size(), 3u);
    EXPECT_GT(cpu.h[0], 0);
    EXPECT_TRUE(cpu.s == expectedSpikes(8, change ? 278 : 200));
    for (const Outcome *o : {&lists, &host}) {
      EXPECT_TRUE(o->s == cpu.s);
      ASSERT_EQ(o->h.size(), 3u);
      EXPECT_EQ(std::memcmp(o->h.data(), cpu.h.data(), 3 * sizeof(double)), 0)
          << cpu.h[0] << " on the CPU, " << o->h[0] << " on the fake device";
    }
    // Two chunks: a collection and the state's download each (the first
    // run's uploads wait too, once the deferred area is made).
    EXPECT_LE(lists.waits, 12) << "spike lists on the device";
    EXPECT_GE(host.waits, 200) << "the host's exchange waits every step";
    if (change) // the history comes back to the device with the state
      EXPECT_GT(lists.listsUploaded, 0);
  }
  // Backends switched between runs: the CPU goes on from the device's
  // history (collected with each chunk's spikes), and a device from the
  // CPU's (uploaded before its first chunk).
  auto switching = [](const std::vector<const char *> &backends) {
    ModelPtr m = open(NCL_FIXTURE_FAKE_NETWORK);
    EXPECT_TRUE(m);
    if (!m)
      return Outcome{};
    for (const char *backend : backends) {
      EXPECT_EQ(ncl_set_backend(m.get(), backend), NCL_OK) << lastError();
      EXPECT_EQ(ncl_run_steps(m.get(), 53), NCL_OK) << lastError();
    }
    Outcome o;
    o.h = state(m.get(), "T", "h");
    o.s = spikes(m.get(), "S");
    return o;
  };
  const Outcome cpu = switching({"cpu", "cpu", "cpu", "cpu"});
  const Outcome mixed = switching({"cuda", "cpu", "cuda", "cpu"});
  EXPECT_TRUE(cpu.s == expectedSpikes(8, 4 * 53));
  EXPECT_TRUE(mixed.s == cpu.s);
  ASSERT_EQ(mixed.h.size(), 3u);
  EXPECT_EQ(std::memcmp(mixed.h.data(), cpu.h.data(), 3 * sizeof(double)), 0)
      << cpu.h[0] << " on the CPU, " << mixed.h[0] << " switching backends";
}

TEST(CudaBackend, RunJsonCountsTheDriverCalls) {
  // run.json's device_stats: what the runtime counted it asked of the
  // driver, against what the fake driver counted it was asked.
  ModelPtr m = open(NCL_FIXTURE_FAKE_NETWORK);
  ASSERT_TRUE(m);
  ASSERT_EQ(ncl_set_backend(m.get(), "cuda"), NCL_OK) << lastError();
  const Copies before = copies();
  ASSERT_EQ(ncl_run_steps(m.get(), 300), NCL_OK) << lastError();
  ASSERT_EQ(ncl_run_steps(m.get(), 7), NCL_OK) << lastError();
  (void)state(m.get(), "T", "h"); // a download outside a run
  const Copies after = copies();
  char dir[] = "/tmp/ncl-device-stats-XXXXXX";
  ASSERT_TRUE(mkdtemp(dir));
  ASSERT_EQ(ncl_write_output(m.get(), dir), NCL_OK) << lastError();
  std::ifstream in(std::string(dir) + "/run.json");
  const std::string json((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto field = [&json](const std::string &name) -> long long {
    const size_t at = json.find("\"" + name + "\": ");
    EXPECT_NE(at, std::string::npos) << name << " in " << json;
    return at == std::string::npos ? -1 : std::atoll(json.c_str() + at + name.size() + 4);
  };
  EXPECT_NE(json.find("\"device_stats\": {"), std::string::npos) << json;
  EXPECT_EQ(field("launches"), after.launches - before.launches);
  EXPECT_EQ(field("copies_to_device"), after.htod - before.htod);
  EXPECT_EQ(field("copies_to_host"), after.dtoh - before.dtoh);
  EXPECT_EQ(field("copies_on_device"), after.dtod - before.dtod);
  EXPECT_EQ(field("graph_launches"), after.graphLaunches - before.graphLaunches);
  EXPECT_EQ(field("waits"), after.waits - before.waits);
  EXPECT_GT(after.launches - before.launches, 300); // not vacuous
  EXPECT_NE(json.find("\"wait_s\": "), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(CudaBackend, ProfileTimesEachCommand) {
  // NCL_CUDA_PROFILE=1: every command issued between two events, without
  // graphs, and run.json's device_profile totals them by what they ran
  // (docs/gpu.md, "Where a step's time goes"); the results stay the CPU's.
  // The fake driver's events take the host's clock when its stream runs
  // them, so the times are those of its emulated kernels.
  ModelPtr cpu = openNetwork("cpu", 100);
  ModelPtr m = openNetwork("cuda", 100, "NCL_CUDA_PROFILE", "1");
  ASSERT_TRUE(cpu && m);
  ASSERT_EQ(ncl_run_steps(cpu.get(), 300), NCL_OK) << lastError();
  const Copies before = copies();
  ASSERT_EQ(ncl_run_steps(m.get(), 300), NCL_OK) << lastError();
  const Copies after = copies();
  EXPECT_TRUE(spikes(m.get(), "S") == spikes(cpu.get(), "S"));
  EXPECT_EQ(state(m.get(), "T", "h"), state(cpu.get(), "T", "h"));
  EXPECT_EQ(after.graphLaunches, before.graphLaunches) << "no graphs while profiling";
  char dir[] = "/tmp/ncl-device-profile-XXXXXX";
  ASSERT_TRUE(mkdtemp(dir));
  ASSERT_EQ(ncl_write_output(m.get(), dir), NCL_OK) << lastError();
  std::ifstream in(std::string(dir) + "/run.json");
  const std::string json((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::filesystem::remove_all(dir);
  const size_t at = json.find("\"device_profile\": [");
  ASSERT_NE(at, std::string::npos) << json;
  const std::string profile = json.substr(at, json.find(']', at) - at);
  // Each entry: {"what": ..., "commands": n, "device_s": t}, most time first.
  long long commands = 0;
  double last = 1e300;
  std::vector<std::string> names;
  for (size_t p = profile.find("{\"what\": \""); p != std::string::npos;
       p = profile.find("{\"what\": \"", p + 1)) {
    const size_t name = p + 10;
    names.push_back(profile.substr(name, profile.find('"', name) - name));
    const size_t n = profile.find("\"commands\": ", p);
    const size_t t = profile.find("\"device_s\": ", p);
    ASSERT_NE(n, std::string::npos);
    ASSERT_NE(t, std::string::npos);
    commands += std::atoll(profile.c_str() + n + 12);
    const double seconds = std::atof(profile.c_str() + t + 12);
    EXPECT_GE(seconds, 0);
    EXPECT_LE(seconds, last) << profile;
    last = seconds;
  }
  // Every launch and copy on the device of the run is timed once.
  EXPECT_EQ(commands, (after.launches - before.launches) + (after.dtod - before.dtod)) << profile;
  for (const char *stage : {"C.deliver", "S.update", "T.update"})
    EXPECT_NE(std::find(names.begin(), names.end(), stage), names.end())
        << stage << ": " << profile;
  EXPECT_NE(std::find(names.begin(), names.end(), "making the spike lists on the device"),
            names.end())
      << profile;
  // The C API gives the same entries, in the same order.
  const int32_t entries = ncl_device_profile(m.get(), 0, nullptr, nullptr, nullptr);
  ASSERT_EQ(entries, static_cast<int32_t>(names.size()));
  long long apiCommands = 0;
  for (int32_t k = 0; k < entries; ++k) {
    const char *what = nullptr;
    int64_t n = -1;
    double seconds = -1;
    EXPECT_EQ(ncl_device_profile(m.get(), k, &what, &n, &seconds), entries);
    ASSERT_TRUE(what);
    EXPECT_EQ(what, names[static_cast<size_t>(k)]);
    EXPECT_GT(n, 0);
    EXPECT_GE(seconds, 0);
    apiCommands += n;
  }
  EXPECT_EQ(apiCommands, commands);
  const char *untouched = "untouched";
  EXPECT_EQ(ncl_device_profile(m.get(), entries, &untouched, nullptr, nullptr), entries);
  EXPECT_STREQ(untouched, "untouched") << "an entry past the last is not written";
  EXPECT_EQ(ncl_device_profile(cpu.get(), 0, nullptr, nullptr, nullptr), 0) << "not profiled";
  EXPECT_EQ(ncl_device_profile(nullptr, 0, nullptr, nullptr, nullptr), -1);
}

TEST(CudaBackend, LaunchHeadersAreUploadedTogether) {
  // Launches are recorded and issued when the host next copies or waits,
  // after one upload of their headers (docs/gpu.md, "One stream per
  // model"): with its spike lists on the device, a chunk of 100 steps
  // uploads a few ranges, not a header per launch; through the host
  // (NCL_FAKE_CUDA_MISSING hides the list kernel), a few per exchange.
  // Launches are counted as issued: without CUDA graphs.
  for (bool throughHost : {false, true}) {
    if (throughHost)
      setenv("NCL_FAKE_CUDA_MISSING", "ncl_spike_list_gpu", 1);
    ModelPtr m = openNetwork("cuda", 100, "NCL_CUDA_GRAPHS", "0");
    unsetenv("NCL_FAKE_CUDA_MISSING");
    ASSERT_TRUE(m);
    ASSERT_EQ(ncl_run_steps(m.get(), 100), NCL_OK) << lastError(); // the first uploads
    const Copies before = copies();
    ASSERT_EQ(ncl_run_steps(m.get(), 200), NCL_OK) << lastError();
    const Copies after = copies();
    const long long launches = after.launches - before.launches;
    const long long uploads = after.htod - before.htod;
    EXPECT_GE(launches, 2 * 200) << "a delivery and an update each step at least";
    if (throughHost)
      EXPECT_LE(uploads, 2 * (after.waits - before.waits)) << launches << " launches";
    else
      EXPECT_LE(uploads, 8) << launches << " launches, in two chunks";
  }
}

TEST(CudaBackend, RepeatedBatchesRunAsCudaGraphs) {
  // Chunks of a network whose lists stay on the device repeat the same
  // launches on headers of other contents: the second time a batch is
  // seen it is captured as a graph, and replayed after (docs/gpu.md, "One
  // stream per model"), with the CPU's results; NCL_CUDA_GRAPHS=0 issues
  // every launch.
  struct Outcome {
    std::vector<double> h;
    SpikeList s;
    Copies used{};
  };
  auto run = [](const char *backend, const char *graphs) {
    Outcome o;
    ModelPtr m = openNetwork(backend, 20, graphs ? "NCL_CUDA_GRAPHS" : nullptr, graphs);
    if (!m)
      return o;
    const bool device = std::strcmp(backend, "cpu") != 0;
    const Copies before = device ? copies() : Copies{};
    EXPECT_EQ(ncl_run_steps(m.get(), 400), NCL_OK) << lastError();
    const Copies after = device ? copies() : Copies{};
    o.used.launches = after.launches - before.launches;
    o.used.graphLaunches = after.graphLaunches - before.graphLaunches;
    o.h = state(m.get(), "T", "h");
    o.s = spikes(m.get(), "S");
    return o;
  };
  const Outcome cpu = run("cpu", nullptr);
  const Outcome graphs = run("cuda", nullptr);
  const Outcome launches = run("cuda", "0");
  EXPECT_TRUE(cpu.s == expectedSpikes(8, 400));
  for (const Outcome *o : {&graphs, &launches}) {
    EXPECT_TRUE(o->s == cpu.s);
    ASSERT_EQ(o->h.size(), 3u);
    EXPECT_EQ(std::memcmp(o->h.data(), cpu.h.data(), 3 * sizeof(double)), 0)
        << cpu.h[0] << " on the CPU, " << o->h[0] << " on the fake device";
  }
  EXPECT_EQ(launches.used.graphLaunches, 0);
  EXPECT_GE(graphs.used.graphLaunches, 15) << "20 chunks, the first two issued";
  EXPECT_LT(graphs.used.launches * 5, launches.used.launches)
      << "a replayed chunk costs one driver call";
}

TEST(CudaBackend, LongRoundsAreIssuedInParts) {
  // What the host records between two waits is issued in parts of at most
  // 512 commands (docs/gpu.md, "One stream per model"), so that the device
  // runs one part while the host records the next: the fake driver sees
  // about 512 launches at most between two waits or uploads of headers
  // (each part's; a part ends before the launch that passes 512 commands,
  // and a command may launch more than one kernel), where a chunk of 2000
  // steps of this network makes 10 000 launches. Counted without CUDA graphs (a replayed part is
  // one call); the results are the CPU's.
  ModelPtr m = openNetwork("cuda", 2000, "NCL_CUDA_GRAPHS", "0");
  ModelPtr cpu = openNetwork("cpu", 2000);
  ASSERT_TRUE(m && cpu);
  const Copies before = copies();
  ASSERT_EQ(ncl_run_steps(m.get(), 2000), NCL_OK) << lastError();
  const Copies after = copies();
  ASSERT_EQ(ncl_run_steps(cpu.get(), 2000), NCL_OK) << lastError();
  const long long launches = after.launches - before.launches;
  EXPECT_GE(launches, 5 * 2000) << "not vacuous";
  EXPECT_GT(after.mostLaunchesInABatch, 100);
  EXPECT_LE(after.mostLaunchesInABatch, 512 + 16)
      << launches << " launches, " << after.waits - before.waits << " waits";
  EXPECT_TRUE(spikes(m.get(), "S") == spikes(cpu.get(), "S"));
  const std::vector<double> h = state(m.get(), "T", "h"), hCpu = state(cpu.get(), "T", "h");
  ASSERT_EQ(h.size(), hCpu.size());
  EXPECT_EQ(std::memcmp(h.data(), hCpu.data(), h.size() * sizeof(double)), 0);
  // With graphs, parts of later rounds, at the same places of the arena,
  // replay, with the CPU's results.
  ModelPtr g = openNetwork("cuda", 2000), cpu8000 = openNetwork("cpu", 2000);
  ASSERT_TRUE(g && cpu8000);
  const Copies start = copies();
  ASSERT_EQ(ncl_run_steps(g.get(), 8000), NCL_OK) << lastError();
  const Copies end = copies();
  ASSERT_EQ(ncl_run_steps(cpu8000.get(), 8000), NCL_OK) << lastError();
  EXPECT_GT(end.graphLaunches - start.graphLaunches, 10);
  EXPECT_LT(end.launches - start.launches, 5 * 8000)
      << end.graphLaunches - start.graphLaunches << " graphs";
  EXPECT_TRUE(spikes(g.get(), "S") == spikes(cpu8000.get(), "S"));
}

TEST(CudaBackend, StateSetBetweenRunsReachesTheDevice) {
  // The host's buffers are the state between runs: set on the host, the
  // device runs from them; switching backends keeps the state.
  auto runWith = [](const char *first, const char *second) {
    ModelPtr m = open(NCL_FIXTURE_FAKE_MODEL_GPU);
    EXPECT_EQ(ncl_set_backend(m.get(), first), NCL_OK) << lastError();
    EXPECT_EQ(ncl_init(m.get(), 3), NCL_OK);
    EXPECT_EQ(ncl_run_steps(m.get(), 40), NCL_OK) << lastError();
    std::vector<double> v(10, 1.0);
    EXPECT_EQ(ncl_set_state(m.get(), "P", "v", v.data(), 10), NCL_OK);
    EXPECT_EQ(ncl_set_param(m.get(), "P", "I", 5e-9), NCL_OK);
    EXPECT_EQ(ncl_set_backend(m.get(), second), NCL_OK) << lastError();
    EXPECT_EQ(ncl_run_steps(m.get(), 60), NCL_OK) << lastError();
    return results(m.get());
  };
  const Results cpu = runWith("cpu", "cpu");
  EXPECT_TRUE(cpu == runWith("cuda", "cuda"));
  EXPECT_TRUE(cpu == runWith("cpu", "cuda"));
  EXPECT_TRUE(cpu == runWith("cuda", "cpu"));
  // From one device to another (the fake driver's device 1): the second
  // goes on from the first's state.
  setenv("NCL_FAKE_CUDA_DEVICES", "2", 1);
  EXPECT_TRUE(cpu == runWith("cuda", "cuda:1"));
  EXPECT_TRUE(cpu == runWith("cuda:1", "cpu"));
  unsetenv("NCL_FAKE_CUDA_DEVICES");
}

TEST(CudaBackend, DeviceNumbers) {
  setenv("NCL_FAKE_CUDA_DEVICES", "2", 1);
  ModelPtr m = open(NCL_FIXTURE_FAKE_MODEL_GPU);
  ASSERT_EQ(ncl_set_backend(m.get(), "cuda:1"), NCL_OK) << lastError();
  EXPECT_STREQ(ncl_backend(m.get()), "cuda");
  EXPECT_STREQ(ncl_device_name(m.get()), "NCL fake CUDA device 1");
  ASSERT_EQ(ncl_set_backend(m.get(), "cuda"), NCL_OK) << lastError(); // device 0
  EXPECT_STREQ(ncl_device_name(m.get()), "NCL fake CUDA device");
  EXPECT_EQ(ncl_set_backend(m.get(), "cuda:2"), NCL_ERROR_STATE);
  EXPECT_EQ(lastError(), "cannot use the CUDA backend: there is no CUDA device 2: the NVIDIA "
                         "driver reports 2 devices (0 to 1)");
  EXPECT_STREQ(ncl_device_name(m.get()), "NCL fake CUDA device"); // as it was
  for (const char *bad : {"cuda:", "cuda:x", "cuda:-1", "cuda:12345"}) {
    EXPECT_EQ(ncl_set_backend(m.get(), bad), NCL_ERROR_ARGUMENT) << bad;
    EXPECT_TRUE(contains(lastError(), "a CUDA device is cuda:N with N a device number"))
        << lastError();
  }
  unsetenv("NCL_FAKE_CUDA_DEVICES");
}

namespace {

/// P's v turns NaN in step 123 on the CPU and on the device: both runs
/// stop after it, with the same report.
void expectTheSameNaNReport() {
  std::string messages[2];
  for (int k = 0; k < 2; ++k) {
    ModelPtr m = open(NCL_FIXTURE_FAKE_MODEL_GPU);
    ASSERT_EQ(ncl_set_param(m.get(), "P", "nan_step", 123), NCL_OK);
    ASSERT_EQ(ncl_set_backend(m.get(), k ? "cuda" : "cpu"), NCL_OK) << lastError();
    ASSERT_EQ(ncl_run_steps(m.get(), 1000), NCL_ERROR_NUMERIC);
    messages[k] = lastError();
    EXPECT_EQ(ncl_current_step(m.get()), 124);
  }
  EXPECT_EQ(messages[0], messages[1]);
  EXPECT_TRUE(contains(messages[1], "became NaN in step 123")) << messages[1];
}

} // namespace

TEST(CudaBackend, NaNIsReportedAtTheSameStep) { expectTheSameNaNReport(); }

TEST(CudaBackend, WithoutTheDeviceTestTheHostScansTheState) {
  // An image without NCL_GPU_FIND_NONFINITE_ENTRY (an older nclc's): the
  // state comes back after every chunk and the host scans it; the report
  // is the same.
  setenv("NCL_FAKE_CUDA_MISSING", NCL_GPU_FIND_NONFINITE_ENTRY, 1);
  expectTheSameNaNReport();
  // A chunk of 250 steps: 15 neurons' v, w and refractory step come back
  // (8 + 8 + 4 bytes), for the scan and the chunk-start copy.
  ModelPtr m = open(NCL_FIXTURE_FAKE_MODEL_GPU);
  ASSERT_EQ(ncl_set_chunk_steps(m.get(), 250), NCL_OK);
  ASSERT_EQ(ncl_set_backend(m.get(), "cuda"), NCL_OK) << lastError();
  ASSERT_EQ(ncl_run_steps(m.get(), 250), NCL_OK) << lastError();
  const Copies before = copies();
  ASSERT_EQ(ncl_run_steps(m.get(), 250), NCL_OK) << lastError();
  EXPECT_EQ(copies().dtohPageableBytes - before.dtohPageableBytes, 15 * 20);
  unsetenv("NCL_FAKE_CUDA_MISSING");
}

TEST(CudaBackend, ThreadsAndDeviceName) {
  ModelPtr m = open(NCL_FIXTURE_FAKE_MODEL_GPU);
  ASSERT_EQ(ncl_set_threads(m.get(), 4), NCL_OK);
  EXPECT_STREQ(ncl_backend(m.get()), "cpu");
  EXPECT_STREQ(ncl_device_name(m.get()), "");
  ASSERT_EQ(ncl_set_backend(m.get(), "cuda"), NCL_OK) << lastError();
  EXPECT_STREQ(ncl_backend(m.get()), "cuda");
  EXPECT_STREQ(ncl_device_name(m.get()), "NCL fake CUDA device");
  EXPECT_STREQ(ncl_backend_fallback(m.get()), "");
  EXPECT_EQ(ncl_threads(m.get()), 1); // one host thread drives the device
  ASSERT_EQ(ncl_set_threads(m.get(), 3), NCL_OK);
  EXPECT_EQ(ncl_threads(m.get()), 1);
  ASSERT_EQ(ncl_set_backend(m.get(), "auto"), NCL_OK);
  EXPECT_STREQ(ncl_backend(m.get()), "cuda");
  ASSERT_EQ(ncl_set_backend(m.get(), "cpu"), NCL_OK);
  EXPECT_EQ(ncl_threads(m.get()), 3); // what was asked for the CPU
  // run.json names the backend and the device.
  ASSERT_EQ(ncl_set_backend(m.get(), "cuda"), NCL_OK);
  ASSERT_EQ(ncl_run_steps(m.get(), 10), NCL_OK) << lastError();
  const std::string dir = tempDir();
  ASSERT_EQ(ncl_write_output(m.get(), dir.c_str()), NCL_OK) << lastError();
  const std::string json = readFile(dir + "/run.json");
  EXPECT_TRUE(contains(json, "\"backend\": \"cuda\",")) << json;
  EXPECT_TRUE(contains(json, "\"device\": \"NCL fake CUDA device\",")) << json;
}

TEST(CudaBackend, InitRunsOnTheCpuThreads) {
  // One host thread drives the device, but the init (the host's CPU kernels:
  // initial state, synapses, connect stages) takes the threads asked for
  // the CPU; the runs then give the CPU's results.
  ModelPtr m = openNetwork("cpu", 0);
  ASSERT_TRUE(m);
  ASSERT_EQ(ncl_set_threads(m.get(), 4), NCL_OK);
  ASSERT_EQ(ncl_set_backend(m.get(), "cuda"), NCL_OK) << lastError();
  void *lib = dlopen(NCL_FIXTURE_FAKE_NETWORK, RTLD_NOW | RTLD_NOLOAD); // loaded by the runtime
  ASSERT_TRUE(lib);
  auto *initCalls = static_cast<int *>(dlsym(lib, "fake_network_init_calls"));
  ASSERT_TRUE(initCalls);
  *initCalls = 0;
  ASSERT_EQ(ncl_init(m.get(), 7), NCL_OK) << lastError();
  EXPECT_EQ(*initCalls, 4); // S's 8 neurons on 4 threads
  EXPECT_EQ(ncl_threads(m.get()), 1);
  ASSERT_EQ(ncl_run_steps(m.get(), 60), NCL_OK) << lastError();
  ModelPtr cpu = openNetwork("cpu", 0);
  ASSERT_TRUE(cpu);
  ASSERT_EQ(ncl_init(cpu.get(), 7), NCL_OK) << lastError();
  ASSERT_EQ(ncl_run_steps(cpu.get(), 60), NCL_OK) << lastError();
  EXPECT_TRUE(spikes(m.get(), "S") == spikes(cpu.get(), "S"));
  EXPECT_EQ(bytes(state(m.get(), "T", "h")), bytes(state(cpu.get(), "T", "h")));
  // A backend switch before any run keeps the CPU's threads.
  *initCalls = 0;
  ASSERT_EQ(ncl_init(m.get(), 7), NCL_OK) << lastError();
  ASSERT_EQ(ncl_set_backend(m.get(), "cpu"), NCL_OK) << lastError();
  EXPECT_EQ(ncl_threads(m.get()), 4);
  EXPECT_EQ(*initCalls, 4);
  dlclose(lib);
}

TEST(CudaBackend, RefusalsLeaveTheBackendAsItWas) {
  // A library compiled for the CPU only.
  ModelPtr cpuOnly = open(NCL_FIXTURE_FAKE_MODEL);
  EXPECT_EQ(ncl_set_backend(cpuOnly.get(), "cuda"), NCL_ERROR_LOAD);
  EXPECT_EQ(lastError(), "cannot use the CUDA backend: '" + std::string(NCL_FIXTURE_FAKE_MODEL) +
                             "' has no GPU code (it was compiled for the CPU only); recompile "
                             "it with nclc --target=cuda");
  EXPECT_STREQ(ncl_backend(cpuOnly.get()), "cpu");
  ASSERT_EQ(ncl_set_backend(cpuOnly.get(), "auto"), NCL_OK);
  EXPECT_STREQ(ncl_backend(cpuOnly.get()), "cpu");
  EXPECT_TRUE(
      contains(ncl_backend_fallback(cpuOnly.get()), "recompile it with nclc --target=cuda"));
  // A stage without a GPU kernel is named.
  ModelPtr dropped = open(NCL_FIXTURE_FAKE_MODEL_GPU_DROP);
  EXPECT_EQ(ncl_set_backend(dropped.get(), "cuda"), NCL_ERROR_LOAD);
  EXPECT_TRUE(contains(lastError(), "the stage 'Q.update' of '")) << lastError();
  EXPECT_TRUE(contains(lastError(), "has no GPU kernel; recompile it with nclc --target=cuda"));
  // Names.
  ModelPtr m = open(NCL_FIXTURE_FAKE_MODEL_GPU);
  EXPECT_EQ(ncl_set_backend(m.get(), "bogus"), NCL_ERROR_ARGUMENT);
  EXPECT_EQ(lastError(), "unknown backend 'bogus'; the backends are cpu, cuda (cuda:N for device "
                         "N) and auto");
  EXPECT_EQ(ncl_set_backend(m.get(), nullptr), NCL_ERROR_ARGUMENT);
  EXPECT_EQ(ncl_set_backend(nullptr, "cpu"), NCL_ERROR_ARGUMENT);
  EXPECT_EQ(ncl_backend(nullptr), nullptr);
  EXPECT_EQ(ncl_device_name(nullptr), nullptr);
  EXPECT_EQ(ncl_backend_fallback(nullptr), nullptr);
}

TEST(CudaBackend, EmbeddingLoopOfOneStepRunsGivesTheCpuResults) {
  // State read and set between runs of one step: the device's copy stays
  // between runs and the host's is refreshed before each read.
  for (int64_t every : {1, 3, 7}) {
    const std::vector<std::string> cpu = embeddingLoop("cpu", 90, every);
    const std::vector<std::string> gpu = embeddingLoop("cuda", 90, every);
    ASSERT_EQ(cpu.size(), gpu.size());
    for (size_t k = 0; k < cpu.size(); ++k)
      EXPECT_TRUE(cpu[k] == gpu[k]) << "every " << every << ": part " << k << " differs";
    EXPECT_GT(cpu[cpu.size() - 2].size(), 0u); // S spiked
  }
  // The same with the populations' model: parameters, events, monitors,
  // state set in every batch member, runs in pieces.
  auto loop = [](const char *backend) {
    ModelPtr m = open(NCL_FIXTURE_FAKE_MODEL_GPU);
    EXPECT_EQ(ncl_set_batch(m.get(), 2), NCL_OK);
    EXPECT_EQ(ncl_set_backend(m.get(), backend), NCL_OK) << lastError();
    for (int s = 0; s < 60; ++s) {
      EXPECT_EQ(ncl_run_steps(m.get(), s % 4 == 3 ? 5 : 1), NCL_OK) << lastError();
      if (s % 5 == 0) {
        std::vector<double> w = state(m.get(), "P", "w");
        w[static_cast<size_t>(s) % w.size()] += 0.25;
        EXPECT_EQ(ncl_set_state(m.get(), "P", "w", w.data(), static_cast<int64_t>(w.size())),
                  NCL_OK);
      }
      if (s % 11 == 0) {
        EXPECT_EQ(ncl_set_param(m.get(), "P", "I", 1e-9 * s), NCL_OK);
      }
    }
    return results(m.get());
  };
  const Results cpu = loop("cpu");
  EXPECT_TRUE(cpu == loop("cuda"));
}

TEST(CudaBackend, RunsWithoutHostAccessCopyNoState) {
  // A run uploads only what the host changed, and downloads after each
  // chunk only the device's test of the state variables for NaN (an int64;
  // docs/gpu.md, "After each chunk"). The rest stays on the device until
  // the host reads it.
  ModelPtr m = open(NCL_FIXTURE_FAKE_NETWORK);
  ASSERT_TRUE(m);
  ASSERT_EQ(ncl_set_backend(m.get(), "cuda"), NCL_OK) << lastError();
  // The first run uploads everything; by its end S has spiked (neuron 0
  // every 2 steps), so the list buffer and the spike readback have their size.
  ASSERT_EQ(ncl_run_steps(m.get(), 4), NCL_OK) << lastError();
  const Copies before = copies();
  EXPECT_GT(before.htodPageableBytes, 0);
  for (int s = 0; s < 40; ++s)
    ASSERT_EQ(ncl_run_steps(m.get(), 1), NCL_OK) << lastError();
  Copies after = copies();
  EXPECT_EQ(after.htodPageableBytes - before.htodPageableBytes, 0);
  EXPECT_EQ(after.dtohPageableBytes - before.dtohPageableBytes, 40 * 8);
  // Not vacuous: S and T stepped on the device, and deliveries went to T.
  EXPECT_GT(after.launches - before.launches, 40 * 2);
  // The step's updates (S and T) are launched before the host waits, once,
  // for both their spikes and headers (when there are no more than their
  // previous launches gave, with headroom); with the chunk's end, two
  // waits a step (three when each update was waited for).
  EXPECT_EQ(after.waits - before.waits, 40 * 2);

  // A state set between runs: the next run uploads that buffer only. Read
  // first, it comes back from the device (3 doubles), once.
  const std::vector<double> h = state(m.get(), "T", "h");
  EXPECT_EQ(copies().dtohPageableBytes - after.dtohPageableBytes, 3 * 8);
  state(m.get(), "T", "h");
  EXPECT_EQ(copies().dtohPageableBytes - after.dtohPageableBytes, 3 * 8);
  ASSERT_EQ(ncl_set_state(m.get(), "T", "h", h.data(), 3), NCL_OK);
  after = copies();
  ASSERT_EQ(ncl_run_steps(m.get(), 1), NCL_OK) << lastError();
  EXPECT_EQ(copies().htodPageableBytes - after.htodPageableBytes, 3 * 8);
  // The output (spikes, monitors) is the host's: writing it copies
  // nothing. Saving the weights reads everything: what the kernels wrote
  // (S's v, refractory and last-spike steps, T's h and input) comes back
  // once, and a second save copies nothing.
  after = copies();
  const std::string dir = tempDir();
  ASSERT_EQ(ncl_write_output(m.get(), dir.c_str()), NCL_OK) << lastError();
  EXPECT_EQ(copies().dtohPageableBytes, after.dtohPageableBytes);
  ASSERT_EQ(ncl_save_weights(m.get(), (dir + "/weights").c_str()), NCL_OK) << lastError();
  const Copies saved = copies();
  EXPECT_EQ(saved.dtohPageableBytes - after.dtohPageableBytes,
            8 * 8 + 8 * 4 + 8 * 4 + 3 * 8 + 3 * 8);
  ASSERT_EQ(ncl_save_weights(m.get(), (dir + "/weights").c_str()), NCL_OK) << lastError();
  EXPECT_EQ(copies().dtohPageableBytes, saved.dtohPageableBytes);
}

namespace {

/// A monitor's samples, as raw bytes (times, then values).
std::string monitorBytes(const ncl_model *m, const char *name) {
  const int64_t rows = ncl_get_monitor(m, name, nullptr, nullptr, 0);
  const int64_t width = ncl_monitor_width(m, name);
  std::vector<double> times(static_cast<size_t>(rows)), values(static_cast<size_t>(rows * width));
  EXPECT_EQ(ncl_get_monitor(m, name, times.data(), values.data(), rows), rows);
  return bytes(times) + bytes(values);
}

} // namespace

TEST(CudaBackend, MonitorSamplesStayOnTheDeviceUntilTheChunkEnds) {
  // P_v samples P's 10 v every step, P_w 5 w every third step; P and Q
  // have no projections, so no step launch waits either. A chunk waits
  // once for its launches' spikes and once at its end (the monitors' rows
  // with the NaN scan's state), where it waited about twice a step. The
  // copies are counted as issued: without CUDA graphs, which would replay
  // the chunks' batches (RepeatedBatchesRunAsCudaGraphs).
  ModelPtr m = open(NCL_FIXTURE_FAKE_MODEL_GPU);
  ASSERT_TRUE(m);
  ASSERT_EQ(ncl_set_chunk_steps(m.get(), 250), NCL_OK);
  setenv("NCL_CUDA_GRAPHS", "0", 1);
  ASSERT_EQ(ncl_set_backend(m.get(), "cuda"), NCL_OK) << lastError();
  unsetenv("NCL_CUDA_GRAPHS");
  ASSERT_EQ(ncl_init(m.get(), 11), NCL_OK) << lastError();
  // A first run sets the expectations of spike counts and sizes the
  // blocks (a run that needs larger ones waits once for the stream first).
  ASSERT_EQ(ncl_run_steps(m.get(), 1000), NCL_OK) << lastError();
  const Copies before = copies();
  ASSERT_EQ(ncl_run_steps(m.get(), 1000), NCL_OK) << lastError();
  const Copies after = copies();
  EXPECT_EQ(after.waits - before.waits, 4 * 2);
  // A copy on the device per sample: 1000 of P_v and 333 of P_w (the
  // multiples of 3 from 1002 to 1998), and the chunk's start kept on the
  // device, a copy per per-neuron buffer: P's and Q's v, w and refractory
  // step (15 neurons, 8 + 8 + 4 bytes each).
  EXPECT_EQ(after.dtod - before.dtod, 1000 + 333 + 4 * 6);
  EXPECT_EQ(after.dtodBytes - before.dtodBytes, (1000 * 10 + 333 * 5) * 8 + 4 * 15 * 20);
  // Nothing of the state comes back: the device tests it for NaN, and only
  // that test's int64 comes home each chunk; the monitors' rows through
  // pinned staging, with it.
  EXPECT_EQ(after.dtohPageableBytes - before.dtohPageableBytes, 4 * 8);
  EXPECT_GT(after.launches - before.launches, 1000); // P stepped a launch per sample
  // The values are those of the CPU backend.
  ModelPtr cpu = open(NCL_FIXTURE_FAKE_MODEL_GPU);
  ASSERT_EQ(ncl_set_chunk_steps(cpu.get(), 250), NCL_OK);
  ASSERT_EQ(ncl_init(cpu.get(), 11), NCL_OK) << lastError();
  ASSERT_EQ(ncl_run_steps(cpu.get(), 2000), NCL_OK) << lastError();
  EXPECT_TRUE(results(cpu.get()) == results(m.get()));
}

TEST(CudaBackend, MonitorBlocksThatFillSeveralTimesInARun) {
  // Blocks of 560 bytes: 7 rows of P_v (10 doubles; 2 batch members: 3
  // rows), a few of P_w; they go home when full, mid-chunk.
  setenv("NCL_CUDA_MONITOR_BLOCK_BYTES", "560", 1);
  RunSetup s;
  s.chunk = 64;
  s.current = 1e-9;
  expectSameOnBothBackends(NCL_FIXTURE_FAKE_MODEL_GPU, s, {1, 100, 299});
  s.batch = 2;
  expectSameOnBothBackends(NCL_FIXTURE_FAKE_MODEL_GPU, s, {5, 200});
  expectSameOnBothBackends(NCL_FIXTURE_FAKE_MODEL_GPU_F32, s, {205});
  // Not vacuous: a 300-step run waits for every third block of P_v at least.
  ModelPtr m = open(NCL_FIXTURE_FAKE_MODEL_GPU);
  ASSERT_EQ(ncl_set_backend(m.get(), "cuda"), NCL_OK) << lastError();
  const Copies before = copies();
  ASSERT_EQ(ncl_run_steps(m.get(), 300), NCL_OK) << lastError();
  EXPECT_GE(copies().waits - before.waits, 300 / 7);
  unsetenv("NCL_CUDA_MONITOR_BLOCK_BYTES");
}

TEST(CudaBackend, MonitorsReadBetweenRunsHaveEveryRow) {
  auto samples = [](const char *backend) {
    ModelPtr m = open(NCL_FIXTURE_FAKE_MODEL_GPU);
    EXPECT_EQ(ncl_set_chunk_steps(m.get(), 40), NCL_OK);
    EXPECT_EQ(ncl_set_param(m.get(), "P", "I", 2e-9), NCL_OK);
    EXPECT_EQ(ncl_set_backend(m.get(), backend), NCL_OK) << lastError();
    std::vector<std::string> seen;
    for (int64_t steps : {1, 37, 100, 3, 59}) {
      EXPECT_EQ(ncl_run_steps(m.get(), steps), NCL_OK) << lastError();
      seen.push_back(monitorBytes(m.get(), "P_v") + monitorBytes(m.get(), "P_w"));
    }
    return seen;
  };
  const std::vector<std::string> cpu = samples("cpu"), gpu = samples("cuda");
  ASSERT_EQ(cpu.size(), gpu.size());
  for (size_t k = 0; k < cpu.size(); ++k)
    EXPECT_TRUE(cpu[k] == gpu[k]) << "after run " << k;
  EXPECT_EQ(cpu.back().size(), (200 * 8 + 200 * 10 * 8) + (67 * 8 + 67 * 5 * 8));
}

TEST(CudaBackend, NaNKeepsTheSamplesTakenBeforeIt) {
  // The chunk that turns NaN is replayed step by step to the bad step; the
  // samples taken before it are kept, on the device's blocks too.
  for (const char *block : {"", "400"}) {
    setenv("NCL_CUDA_MONITOR_BLOCK_BYTES", block, 1);
    std::string messages[2], samples[2];
    for (int k = 0; k < 2; ++k) {
      ModelPtr m = open(NCL_FIXTURE_FAKE_MODEL_GPU);
      ASSERT_EQ(ncl_set_param(m.get(), "P", "nan_step", 123), NCL_OK);
      ASSERT_EQ(ncl_set_chunk_steps(m.get(), 50), NCL_OK);
      ASSERT_EQ(ncl_set_backend(m.get(), k ? "cuda" : "cpu"), NCL_OK) << lastError();
      ASSERT_EQ(ncl_run_steps(m.get(), 30), NCL_OK) << lastError();
      ASSERT_EQ(ncl_run_steps(m.get(), 1000), NCL_ERROR_NUMERIC);
      messages[k] = lastError();
      EXPECT_EQ(ncl_current_step(m.get()), 124);
      samples[k] = monitorBytes(m.get(), "P_v") + monitorBytes(m.get(), "P_w");
    }
    EXPECT_EQ(messages[0], messages[1]);
    EXPECT_TRUE(contains(messages[1], "became NaN in step 123")) << messages[1];
    EXPECT_TRUE(samples[0] == samples[1]) << "block " << block;
    EXPECT_GE(samples[0].size(), 124u * 11 * 8);
  }
  unsetenv("NCL_CUDA_MONITOR_BLOCK_BYTES");
}

TEST(CudaBackend, DeferredSpikesAreCollectedWhenTheirBufferIsFull) {
  // 300 neurons in blocks of 32 (a spike buffer of 64, two channels), a
  // launch per block and step (P_v samples every step): 5000 launches a
  // chunk of 500 steps, beyond the 4096 a collection holds.
  RunSetup s;
  s.sizeP = 300;
  s.spikeBuffer = 64;
  s.chunk = 500;
  s.current = 2e-9;
  expectSameOnBothBackends(NCL_FIXTURE_FAKE_MODEL_GPU, s, {1000});
  ModelPtr m = open(NCL_FIXTURE_FAKE_MODEL_GPU);
  ASSERT_EQ(ncl_set_size(m.get(), "P", 300), NCL_OK);
  ASSERT_EQ(ncl_set_spike_buffer(m.get(), 64), NCL_OK);
  ASSERT_EQ(ncl_set_chunk_steps(m.get(), 500), NCL_OK);
  setenv("NCL_CUDA_GRAPHS", "0", 1); // launches counted as issued
  ASSERT_EQ(ncl_set_backend(m.get(), "cuda"), NCL_OK) << lastError();
  unsetenv("NCL_CUDA_GRAPHS");
  ASSERT_EQ(ncl_run_steps(m.get(), 1000), NCL_OK) << lastError(); // expectations, block sizes
  const Copies before = copies();
  ASSERT_EQ(ncl_run_steps(m.get(), 1000), NCL_OK) << lastError();
  const Copies after = copies();
  // P a launch per block and step, Q (5 neurons, one channel) 12 steps per
  // launch, the gathering's two launches per collection (two a chunk), and
  // the test of the state for NaN once a chunk.
  EXPECT_EQ(after.launches - before.launches, 2 * (5000 + 42) + 2 * 2 * 2 + 2);
  // Per chunk: the full buffer's spikes, the rest's, the chunk's end.
  EXPECT_EQ(after.waits - before.waits, 2 * 3);
}
