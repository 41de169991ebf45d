//===- Output.cpp - Spike and monitor records as .npy files and run.json -===//
//
// The output format is a contract with the user's analysis scripts
// (docs/runtime.md): numpy must load every file with np.load and nothing
// else, and run.json says whether the files beside it are a complete run.
// So the writer
//  - removes the old run.json first and writes the new one last, with the
//    run's status, error and steps, and the list of files it covers;
//  - writes each file to a fresh temporary name in the same directory,
//    created with O_CREAT|O_EXCL|O_NOFOLLOW (a planted symlink is never
//    followed), fsyncs it and renames it into place, so no file is torn;
//  - when a write fails (disk full, file size limit), removes the files of
//    an older run that this one did not get to replace, so the directory
//    never mixes two runs, and records the failure in run.json if it can;
//  - removes temporaries that an interrupted writer (a dead process) left.
//
//===----------------------------------------------------------------------===//
#include "CudaBackend.h"
#include "Model.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <filesystem>
#include <functional>
#include <optional>
#include <random>
#include <signal.h>
#include <string>
#include <sys/stat.h>
#include <tuple>
#include <unistd.h>
#include <vector>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the .npy writer assumes a little-endian host ('<f8', '<i8')"
#endif

using namespace ncl::rt;
namespace fs = std::filesystem;

namespace {

Error ioError(const std::string &what, const std::string &path, int err) {
  return Error(NCL_ERROR_IO, "cannot " + what + " '" + path + "': " + std::strerror(err));
}

/// Creates a new file for writing under a name no one else can predict or
/// have planted: PATH.tmp<pid>-<random>, exclusively, not through a symlink.
/// Returns the descriptor and sets `tmp` to the name.
int createTemporary(const std::string &path, std::string &tmp) {
  static std::atomic<uint64_t> counter{0};
  std::random_device entropy;
  for (int attempt = 0; attempt < 100; ++attempt) {
    char suffix[64];
    std::snprintf(suffix, sizeof suffix, ".tmp%ld-%08x%04x", static_cast<long>(getpid()), entropy(),
                  static_cast<unsigned>(counter.fetch_add(1) & 0xffff));
    tmp = path + suffix;
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (fd >= 0)
      return fd;
    if (errno != EEXIST)
      throw ioError("create", tmp, errno);
  }
  throw ioError("create a temporary file for", path, EEXIST);
}

/// Writes all of `size` bytes, retrying short writes; false with errno set.
bool writeAll(int fd, const void *data, size_t size) {
  const char *p = static_cast<const char *>(data);
  while (size > 0) {
    ssize_t n = ::write(fd, p, size);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      if (n == 0)
        errno = EIO;
      return false;
    }
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

/// Writes a file through a temporary in the same directory, fsync and
/// rename(2): `writeBody(fd)` writes the contents and returns false, with
/// errno set, when a write fails. A symlink at `path` is replaced, never
/// followed.
template <typename WriteBody>
void writeFileAtomically(const std::string &path, WriteBody writeBody) {
  std::string tmp;
  const int fd = createTemporary(path, tmp);
  int err = 0;
  errno = 0;
  if (!writeBody(fd) || ::fsync(fd) != 0)
    err = errno ? errno : EIO;
  if (::close(fd) != 0 && err == 0) // NFS may report a full disk only here
    err = errno;
  if (err) {
    ::unlink(tmp.c_str());
    throw ioError("write", path, err);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    err = errno;
    ::unlink(tmp.c_str());
    throw ioError("rename a temporary file to", path, err);
  }
}

void writeTextFile(const std::string &path, const std::string &text) {
  writeFileAtomically(path, [&](int fd) { return writeAll(fd, text.data(), text.size()); });
}

/// True for NAME.tmp<pid>[-<suffix>] where NAME is an output file name
/// (*.npy or run.json) and no process <pid> exists any more.
bool isStaleTemporary(const std::string &name) {
  const size_t at = name.rfind(".tmp");
  if (at == std::string::npos)
    return false;
  const std::string base = name.substr(0, at);
  const bool ours =
      base == "run.json" || (base.size() > 4 && base.compare(base.size() - 4, 4, ".npy") == 0);
  if (!ours)
    return false;
  const char *digits = name.c_str() + at + 4;
  char *end = nullptr;
  errno = 0;
  const long pid = std::strtol(digits, &end, 10);
  if (end == digits || errno || pid <= 0 || (*end && *end != '-'))
    return false;
  return ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}

/// Removes temporaries that writers killed midway left in `dir`.
void removeStaleTemporaries(const std::string &dir) {
  DIR *d = ::opendir(dir.c_str());
  if (!d)
    return;
  std::vector<std::string> stale;
  while (const dirent *e = ::readdir(d))
    if (isStaleTemporary(e->d_name))
      stale.push_back(e->d_name);
  ::closedir(d);
  for (const std::string &name : stale)
    ::unlink((fs::path(dir) / name).c_str());
}

/// NPY format version 1.0: magic, version, little-endian u16 header length,
/// then a Python dict literal padded with spaces and ended by '\n' so that
/// the data starts at a multiple of 64 bytes.
std::string npyHeader(const char *descr, size_t n, std::optional<size_t> columns = std::nullopt,
                      std::optional<size_t> depth = std::nullopt) {
  std::string shape =
      columns ? std::to_string(n) + ", " + std::to_string(*columns) : std::to_string(n) + ",";
  if (columns && depth)
    shape += ", " + std::to_string(*depth);
  std::string dict =
      std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': (" + shape + "), }";
  const size_t prefix = 10; // magic(6) + version(2) + length(2)
  size_t total = prefix + dict.size() + 1;
  total = (total + 63) / 64 * 64;
  dict.append(total - prefix - dict.size() - 1, ' ');
  dict.push_back('\n');
  std::string head("\x93NUMPY\x01\x00", 8);
  const size_t len = dict.size();
  head.push_back(static_cast<char>(len & 0xff));
  head.push_back(static_cast<char>((len >> 8) & 0xff));
  return head + dict;
}

/// What a column of a spike record holds.
enum class SpikeColumn { Times, Neurons, Members };

/// Writes one column of a spike record as a 1-D .npy array: the times
/// (step * dt, '<f8'), the neuron indices ('<i8', i within the batch
/// member) or the batch members ('<i8') of a population of `size` neurons
/// per member. Converted in blocks, so writing needs no second copy of the
/// record in memory.
void writeSpikeColumn(const std::string &path, const std::vector<Spike> &record, SpikeColumn column,
                      double dt, int64_t size) {
  const bool times = column == SpikeColumn::Times;
  writeFileAtomically(path, [&](int fd) {
    const std::string head = npyHeader(times ? "<f8" : "<i8", record.size());
    if (!writeAll(fd, head.data(), head.size()))
      return false;
    constexpr size_t kBlock = 8192;
    static_assert(sizeof(double) == 8 && sizeof(int64_t) == 8);
    std::vector<char> buffer(kBlock * 8);
    for (size_t first = 0; first < record.size(); first += kBlock) {
      const size_t count = std::min(kBlock, record.size() - first);
      for (size_t k = 0; k < count; ++k) {
        const Spike &s = record[first + k];
        if (times) {
          const double t = static_cast<double>(s.step) * dt;
          std::memcpy(&buffer[8 * k], &t, 8);
        } else {
          const int64_t v = column == SpikeColumn::Neurons ? s.index % size : s.index / size;
          std::memcpy(&buffer[8 * k], &v, 8);
        }
      }
      if (!writeAll(fd, buffer.data(), 8 * count))
        return false;
    }
    return true;
  });
}

/// Writes `n` values computed by value(k) as a 1-D '<f8' .npy array.
template <typename Value> void writeDoubles(const std::string &path, size_t n, Value value) {
  writeFileAtomically(path, [&](int fd) {
    const std::string head = npyHeader("<f8", n);
    if (!writeAll(fd, head.data(), head.size()))
      return false;
    constexpr size_t kBlock = 8192;
    std::vector<double> buffer(kBlock);
    for (size_t first = 0; first < n; first += kBlock) {
      const size_t count = std::min(kBlock, n - first);
      for (size_t k = 0; k < count; ++k)
        buffer[k] = value(first + k);
      if (!writeAll(fd, buffer.data(), count * sizeof(double)))
        return false;
    }
    return true;
  });
}

/// An output file and the function that writes it to a path.
using OutputFile = std::pair<std::string, std::function<void(const std::string &)>>;

/// The files of monitor `mon`: STEM.npy (samples x neurons, or samples x
/// synapses, in the model's precision, or Hz per step), STEM_t.npy
/// (seconds) and, for a state or synapse monitor, STEM_i.npy (neuron or
/// synapse indices).
std::vector<OutputFile> monitorFiles(const ncl_model &m, const Monitor &mon) {
  const std::string stem = mon.info->name;
  const size_t rows = static_cast<size_t>(mon.rows(m.step));
  const int64_t every = mon.info->every;
  const double dt = m.dt;
  std::vector<OutputFile> files;
  if (mon.isRate()) {
    // Spikes found in step n are stored with time (n + 1) * dt; the rate of
    // that step carries the same time.
    // A batched run: samples x members, each member's rate.
    const double perNeuron =
        static_cast<double>(m.pops[static_cast<size_t>(mon.info->population)].size) * dt;
    const size_t members = static_cast<size_t>(mon.members);
    files.emplace_back(stem + ".npy", [&mon, rows, perNeuron, members](const std::string &path) {
      auto rate = [&](size_t n) { return static_cast<double>(mon.counts[n]) / perNeuron; };
      if (members == 1) {
        writeDoubles(path, rows, rate);
        return;
      }
      writeFileAtomically(path, [&](int fd) {
        const std::string head = npyHeader("<f8", rows, members);
        std::vector<double> values(rows * members);
        for (size_t n = 0; n < values.size(); ++n)
          values[n] = rate(n);
        return writeAll(fd, head.data(), head.size()) &&
               writeAll(fd, values.data(), values.size() * sizeof(double));
      });
    });
    files.emplace_back(stem + "_t.npy", [rows, dt](const std::string &path) {
      writeDoubles(path, rows, [&](size_t n) { return static_cast<double>(n + 1) * dt; });
    });
    return files;
  }
  const bool f32 = m.desc->real_bits == 32;
  const size_t width = static_cast<size_t>(mon.width());
  // A batched run: samples x members x neurons.
  const size_t members = static_cast<size_t>(mon.members);
  files.emplace_back(stem + ".npy", [&mon, rows, width, members, f32](const std::string &path) {
    writeFileAtomically(path, [&](int fd) {
      const std::string head = members == 1
                                   ? npyHeader(f32 ? "<f4" : "<f8", rows, width)
                                   : npyHeader(f32 ? "<f4" : "<f8", rows, members, width / members);
      return writeAll(fd, head.data(), head.size()) &&
             writeAll(fd, mon.samples.data(), rows * width * (f32 ? 4 : 8));
    });
  });
  files.emplace_back(stem + "_t.npy", [rows, every, dt](const std::string &path) {
    writeDoubles(path, rows, [&](size_t r) {
      return static_cast<double>(static_cast<int64_t>(r) * every) * dt;
    });
  });
  files.emplace_back(stem + "_i.npy", [&mon](const std::string &path) {
    const size_t width = static_cast<size_t>(mon.width() / mon.members);
    writeFileAtomically(path, [&](int fd) {
      const std::string head = npyHeader("<i8", width);
      std::vector<int64_t> indices(width);
      for (size_t k = 0; k < width; ++k)
        indices[k] = mon.begin + static_cast<int64_t>(k);
      return writeAll(fd, head.data(), head.size()) &&
             writeAll(fd, indices.data(), width * sizeof(int64_t));
    });
  });
  return files;
}

std::string jsonString(const std::string &s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\t':
      out += "\\t";
      break;
    case '\r':
      out += "\\r";
      break;
    default:
      if (c < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", c);
        out += buf;
      } else {
        out.push_back(static_cast<char>(c));
      }
    }
  }
  return out + "\"";
}

/// The shortest decimal that reads back as the same double, so dt = 1e-4
/// appears as 0.0001 and not 0.00010000000000000001. JSON has no NaN/Inf.
std::string jsonNumber(double x) {
  if (!std::isfinite(x))
    return "null";
  char buf[32];
  for (int prec = 15; prec <= 17; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*g", prec, x);
    if (std::strtod(buf, nullptr) == x)
      break;
  }
  return buf;
}

const char *runStatus(const ncl_model &m) {
  switch (m.runEnd) {
  case RunEnd::Complete:
    return "complete";
  case RunEnd::Failed:
    return "failed";
  case RunEnd::Interrupted:
    return "interrupted";
  }
  return "failed";
}

/// run.json for the files `written`; `outputError` is why the output is
/// incomplete ("" when it is not), and makes the status "failed".
std::string runJson(const ncl_model &m, const std::vector<std::string> &written,
                    const std::string &outputError) {
  const ncl_model_descriptor &d = *m.desc;
  const double duration = static_cast<double>(m.step) * m.dt;
  std::string error = m.runError;
  if (!outputError.empty())
    error += (error.empty() ? "" : "; then ") + outputError;
  std::string j = "{\n";
  j += "  \"status\": " + jsonString(outputError.empty() ? runStatus(m) : "failed") + ",\n";
  j += "  \"error\": " + (error.empty() ? std::string("null") : jsonString(error)) + ",\n";
  j += "  \"model\": " + jsonString(d.model_name ? d.model_name : "") + ",\n";
  j += "  \"source\": " + jsonString(d.source_file ? d.source_file : "") + ",\n";
  j += "  \"abi_version\": " + std::to_string(d.abi_version) + ",\n";
  j += "  \"precision\": " + std::to_string(d.real_bits) + ",\n";
  j += "  \"dt\": " + jsonNumber(m.dt) + ",\n";
  j += "  \"requested_steps\": " + std::to_string(m.requestedSteps) + ",\n";
  j += "  \"steps\": " + std::to_string(m.step) + ",\n";
  j += "  \"duration\": " + jsonNumber(duration) + ",\n";
  j += "  \"seed\": " + std::to_string(m.seed) + ",\n";
  j += "  \"threads\": " + std::to_string(m.threads) + ",\n";
  j += "  \"backend\": " + jsonString(m.device ? "cuda" : "cpu") + ",\n";
  j += "  \"device\": " + (m.device ? jsonString(m.device->name()) : std::string("null")) + ",\n";
  if (m.device) {
    j += "  \"device_image\": " + jsonString(m.device->image()) + ",\n";
    if (!m.device->imageNote().empty())
      j += "  \"device_image_note\": " + jsonString(m.device->imageNote()) + ",\n";
    // What the host asked of the driver (docs/gpu.md, "What a run costs").
    const CudaDevice::Stats &d = m.device->stats();
    j += "  \"device_stats\": {\"launches\": " + std::to_string(d.launches) +
         ", \"copies_to_device\": " + std::to_string(d.copiesToDevice) +
         ", \"copies_to_host\": " + std::to_string(d.copiesToHost) +
         ", \"copies_on_device\": " + std::to_string(d.copiesOnDevice) +
         ", \"graph_launches\": " + std::to_string(d.graphLaunches) +
         ", \"arrival_launches\": " + std::to_string(d.arrivalLaunches) +
         ", \"waits\": " + std::to_string(d.waits) + ", \"wait_s\": " + jsonNumber(d.waitSeconds) +
         "},\n";
    // NCL_CUDA_PROFILE=1: the device time of each kind of command.
    if (m.device->profiling()) {
      j += "  \"device_profile\": [";
      const auto profile = m.device->profile();
      for (size_t k = 0; k < profile.size(); ++k)
        j += std::string(k ? ",\n    " : "\n    ") + "{\"what\": " + jsonString(profile[k]->what) +
             ", \"commands\": " + std::to_string(profile[k]->commands) +
             ", \"device_s\": " + jsonNumber(profile[k]->seconds) + "}";
      j += "],\n";
    }
    if (!m.device->profileNote().empty())
      j += "  \"device_profile_note\": " + jsonString(m.device->profileNote()) + ",\n";
    // What each kernel holds (registers, spills, blocks per multiprocessor).
    auto count = [](int n) { return n < 0 ? std::string("null") : std::to_string(n); };
    j += "  \"device_multiprocessors\": " + count(m.device->multiprocessors()) + ",\n";
    // How each dense sum with member tiles was launched: the members of
    // its tiles (0: a thread per index; null while its sizes are still
    // timed) and, where they were timed, each size's mean device time per
    // launch (docs/gpu.md, "Member tiles").
    j += "  \"device_member_tiles\": [";
    const auto &tiling = m.device->memberTiling();
    bool first = true;
    for (size_t s = 0; s < tiling.size(); ++s) {
      const auto &t = tiling[s];
      if (t.candidates.empty())
        continue;
      j += std::string(first ? "\n    " : ",\n    ") +
           "{\"stage\": " + jsonString(m.desc->stages[s].name) +
           ", \"members\": " + (t.decided ? std::to_string(t.members) : std::string("null")) +
           ", \"timed_us\": ";
      first = false;
      bool timed = false;
      std::string times;
      for (size_t k = 0; k < t.candidates.size(); ++k) {
        timed = timed || t.launches[k] > 0;
        times +=
            std::string(k ? ", " : "") + "\"" + std::to_string(t.candidates[k]) + "\": " +
            (t.launches[k] > 0 ? jsonNumber(1e6 * t.seconds[k] / static_cast<double>(t.launches[k]))
                               : std::string("null"));
      }
      j += (timed ? "{" + times + "}" : std::string("null")) + "}";
    }
    j += "],\n";
    // How each update `_seq` entry with a lean form was launched: "lean",
    // "full" (the entry), or null while its forms are still timed; what
    // chose it (LeanChoice::chosenBy); each form's blocks per multiprocessor and,
    // where timed, mean device time per launch (docs/gpu.md, "Lean
    // updates").
    j += "  \"device_lean_updates\": [";
    const auto &leans = m.device->leanChoices();
    for (size_t k = 0; k < leans.size(); ++k) {
      const auto &c = leans[k];
      const bool timed = c.launches[0] > 0 && c.launches[1] > 0;
      auto mean = [&](int form) {
        return c.launches[form] > 0
                   ? jsonNumber(1e6 * c.seconds[form] / static_cast<double>(c.launches[form]))
                   : std::string("null");
      };
      j +=
          std::string(k ? ",\n    " : "\n    ") + "{\"entry\": " + jsonString(c.entry) +
          ", \"form\": " +
          (c.decided ? std::string(c.form ? "\"lean\"" : "\"full\"") : std::string("null")) +
          ", \"chosen_by\": " + jsonString(c.chosenBy) +
          ", \"blocks_per_multiprocessor\": {\"full\": " + count(c.blocksPerMultiprocessor[0]) +
          ", \"lean\": " + count(c.blocksPerMultiprocessor[1]) + "}, \"timed_us\": " +
          (timed ? "{\"full\": " + mean(0) + ", \"lean\": " + mean(1) + "}" : std::string("null")) +
          "}";
    }
    j += "],\n";
    j += "  \"device_kernels\": [";
    const auto &kernels = m.device->kernelResources();
    for (size_t k = 0; k < kernels.size(); ++k)
      j += std::string(k ? ",\n    " : "\n    ") + "{\"entry\": " + jsonString(kernels[k].entry) +
           ", \"registers\": " + count(kernels[k].registers) +
           ", \"local_bytes\": " + count(kernels[k].localBytes) +
           ", \"blocks_per_multiprocessor\": " + count(kernels[k].blocksPerMultiprocessor) + "}";
    j += "],\n";
  }
  if (m.batch > 1)
    j += "  \"batch\": " + std::to_string(m.batch) + ",\n";
  j += "  \"populations\": {";
  for (size_t p = 0; p < m.pops.size(); ++p) {
    const Population &pop = m.pops[p];
    const double rate =
        duration > 0 && pop.size > 0
            ? static_cast<double>(pop.spikeCount) / (static_cast<double>(pop.units()) * duration)
            : 0.0;
    j += p ? ",\n    " : "\n    ";
    j += jsonString(pop.info->name) +
         ": {\"neuron\": " + jsonString(pop.info->neuron ? pop.info->neuron : "") +
         ", \"size\": " + std::to_string(pop.size) +
         ", \"spikes\": " + std::to_string(pop.spikeCount) + ", \"rate_hz\": " + jsonNumber(rate);
    if (pop.info->record_spikes && !pop.events.empty()) {
      j += ", \"events\": {";
      for (size_t e = 0; e < pop.events.size(); ++e)
        j += std::string(e ? ", " : "") + jsonString(pop.info->event_names[e]) + ": " +
             std::to_string(pop.events[e].size());
      j += "}";
    }
    j += "}";
  }
  j += m.pops.empty() ? "},\n" : "\n  },\n";
  j += "  \"monitors\": {";
  for (size_t k = 0; k < m.monitors.size(); ++k) {
    const Monitor &mon = m.monitors[k];
    j += k ? ",\n    " : "\n    ";
    if (mon.isSynapse()) {
      const Projection &proj = m.projs[static_cast<size_t>(mon.info->projection)];
      j += jsonString(mon.info->name) +
           ": {\"kind\": \"synapse\", \"projection\": " + jsonString(proj.info->name) +
           ", \"variable\": " + jsonString(proj.info->vars[mon.info->var].name) +
           ", \"synapses\": [" + std::to_string(mon.begin) + ", " + std::to_string(mon.end) +
           "], \"every\": " + std::to_string(mon.info->every) +
           ", \"samples\": " + std::to_string(mon.rows(m.step)) + "}";
      continue;
    }
    const Population &pop = m.pops[static_cast<size_t>(mon.info->population)];
    j += jsonString(mon.info->name) +
         ": {\"kind\": " + jsonString(mon.isState() ? "state" : "rate") +
         ", \"population\": " + jsonString(pop.info->name);
    if (mon.isState())
      j += ", \"variable\": " + jsonString(pop.info->vars[mon.info->var].name) +
           ", \"neurons\": [" + std::to_string(mon.begin) + ", " + std::to_string(mon.end) +
           "], \"every\": " + std::to_string(mon.info->every);
    j += ", \"samples\": " + std::to_string(mon.rows(m.step)) + "}";
  }
  j += m.monitors.empty() ? "},\n" : "\n  },\n";
  j += "  \"files\": [";
  for (size_t f = 0; f < written.size(); ++f)
    j += (f ? ", " : "") + jsonString(written[f]);
  j += "],\n";
  j += "  \"timings\": {\"load_s\": " + jsonNumber(m.loadSeconds) +
       ", \"init_s\": " + jsonNumber(m.initSeconds) +
       ", \"simulate_s\": " + jsonNumber(m.simulateSeconds) + "}\n";
  j += "}\n";
  return j;
}

/// Adds `shift` seconds to each time in `column` (values of `f32` or f64).
void shiftTimes(std::vector<unsigned char> &column, bool f32, double shift) {
  const size_t bytes = f32 ? 4 : 8;
  for (size_t k = 0; k < column.size(); k += bytes) {
    if (f32) {
      float t;
      std::memcpy(&t, &column[k], 4);
      t = static_cast<float>(t + shift);
      std::memcpy(&column[k], &t, 4);
    } else {
      double t;
      std::memcpy(&t, &column[k], 8);
      t += shift;
      std::memcpy(&column[k], &t, 8);
    }
  }
}

} // namespace

void ncl::rt::writeSynapseState(const ncl_model &m, const std::string &dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir))
    throw Error(NCL_ERROR_IO, "cannot create the weights directory '" + dir +
                                  "': " + (ec ? ec.message() : "not a directory"));
  removeStaleTemporaries(dir);
  const bool f32 = m.desc->real_bits == 32;
  for (const Projection &q : m.projs) {
    const std::string stem = (fs::path(dir) / q.info->name).string() + "_";
    const size_t n = static_cast<size_t>(q.synapses);
    // The connectivity, so that loading can check it is the same: the
    // presynaptic neuron of each synapse (its row) and the postsynaptic one.
    std::vector<int32_t> pre(n);
    for (size_t row = 0; row + 1 < q.rowStart.size(); ++row)
      for (int64_t k = q.rowStart[row]; k < q.rowStart[row + 1]; ++k)
        pre[static_cast<size_t>(k)] = static_cast<int32_t>(row);
    const std::pair<const char *, const int32_t *> sides[] = {{"pre", pre.data()},
                                                              {"post", q.post.data()}};
    for (const auto &[side, data] : sides)
      writeFileAtomically(stem + side + ".npy", [&, data = data](int fd) {
        const std::string head = npyHeader("<i4", n);
        return writeAll(fd, head.data(), head.size()) && writeAll(fd, data, n * sizeof(int32_t));
      });
    // Each variable's values out of the interleaved synapse records, as
    // stored (the same bits), except an event-driven synapse's time of its
    // last event, which is saved relative to now (<= 0) so that a run that
    // loads it, whose clock starts again, decays the traces over the right
    // time (readSynapseState adds that run's time back).
    const size_t stride = synapseRecordLength(q), bytes = f32 ? 4 : 8;
    std::vector<unsigned char> column(n * bytes);
    for (int v = 0; v < q.info->num_vars; ++v) {
      const auto *data = static_cast<const unsigned char *>(
          m.bufferPtrs[static_cast<size_t>(q.varBuffer[static_cast<size_t>(v)])]);
      for (size_t k = 0; k < n; ++k)
        std::memcpy(&column[k * bytes], data + k * stride * bytes, bytes);
      if (isEventTime(q.info->vars[v].name))
        shiftTimes(column, f32, -currentTime(m));
      writeFileAtomically(stem + q.info->vars[v].name + ".npy", [&](int fd) {
        const std::string head = npyHeader(f32 ? "<f4" : "<f8", n);
        return writeAll(fd, head.data(), head.size()) && writeAll(fd, column.data(), n * bytes);
      });
    }
    // Traces kept per neuron: P_pre.<trace>.npy and P_post.<trace>.npy,
    // one value per neuron of the side's population, times likewise
    // relative to now.
    for (const TraceView &trace : traceViews(m, q)) {
      const size_t neurons = static_cast<size_t>(trace.neurons);
      std::vector<unsigned char> values(neurons * bytes);
      std::memcpy(values.data(), trace.data, neurons * bytes);
      if (isEventTime(trace.name))
        shiftTimes(values, f32, -currentTime(m));
      writeFileAtomically(stem + trace.fileName() + ".npy", [&](int fd) {
        const std::string head = npyHeader(f32 ? "<f4" : "<f8", neurons);
        return writeAll(fd, head.data(), head.size()) &&
               writeAll(fd, values.data(), neurons * bytes);
      });
    }
  }
}

void ncl::rt::writeOutput(const ncl_model &m, const std::string &dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir))
    throw Error(NCL_ERROR_IO, "cannot create output directory '" + dir +
                                  "': " + (ec ? ec.message() : "not a directory"));
  removeStaleTemporaries(dir);
  // From here until the new run.json is in place, the directory does not
  // look like a finished run.
  const std::string runJsonPath = (fs::path(dir) / "run.json").string();
  if (::unlink(runJsonPath.c_str()) != 0 && errno != ENOENT)
    throw ioError("remove the old", runJsonPath, errno);

  // Spike and event records: P_spike_{t,i}.npy, P_<event>_{t,i}.npy.
  // A batched run adds P_spike_b.npy, each spike's batch member; a spike
  // generator's spikes are every member's, listed once.
  struct Record {
    std::string stem;
    const std::vector<Spike> *spikes;
    int64_t size;
    bool batched;
  };
  std::vector<Record> records;
  for (const Population &pop : m.pops) {
    if (!pop.info->record_spikes)
      continue;
    const bool batched = pop.batch > 1 && pop.info->source_kind != NCL_SOURCE_SPIKE_GENERATOR;
    records.push_back({std::string(pop.info->name) + "_spike", &pop.record, pop.size, batched});
    for (size_t e = 0; e < pop.events.size(); ++e)
      records.push_back({std::string(pop.info->name) + "_" + pop.info->event_names[e],
                         &pop.events[e], pop.size, batched});
  }
  // Then the monitors: STEM.npy, STEM_t.npy (and STEM_i.npy).
  std::vector<OutputFile> files;
  for (const Record &r : records)
    for (SpikeColumn column : {SpikeColumn::Times, SpikeColumn::Neurons, SpikeColumn::Members}) {
      if (column == SpikeColumn::Members && !r.batched)
        continue;
      const char *suffix = column == SpikeColumn::Times     ? "_t.npy"
                           : column == SpikeColumn::Neurons ? "_i.npy"
                                                            : "_b.npy";
      files.emplace_back(r.stem + suffix, [&r, column, &m](const std::string &path) {
        writeSpikeColumn(path, *r.spikes, column, m.dt, r.size);
      });
    }
  for (const Monitor &mon : m.monitors)
    for (OutputFile &file : monitorFiles(m, mon))
      files.push_back(std::move(file));
  std::vector<std::string> written;
  try {
    for (const auto &[name, write] : files) {
      write((fs::path(dir) / name).string());
      written.push_back(name);
    }
  } catch (const Error &e) {
    // An older run's files that this one did not get to replace must not
    // pass for this run's.
    for (const OutputFile &file : files)
      if (std::find(written.begin(), written.end(), file.first) == written.end())
        ::unlink((fs::path(dir) / file.first).c_str());
    // Say so in run.json if there is room for it; if not, no run.json is
    // the sign of an incomplete directory.
    try {
      writeTextFile(runJsonPath, runJson(m, written, e.what()));
    } catch (const Error &) {
    }
    throw;
  }
  // Last, so that a run.json means all the files it lists are in place.
  writeTextFile(runJsonPath, runJson(m, written, ""));
}
