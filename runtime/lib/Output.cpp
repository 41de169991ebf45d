//===- Output.cpp - Spike records as .npy files and run.json --------------===//
//
// The output format is a contract with the user's analysis scripts
// (docs/runtime.md): numpy must load every file with np.load and nothing
// else. Each file goes to a temporary name in the same directory and is
// renamed into place, so a later failure (disk full, a run that stops with
// NaN) never leaves a torn file, and files already written stay valid.
//
//===----------------------------------------------------------------------===//
#include "Model.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <unistd.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the .npy writer assumes a little-endian host ('<f8', '<i8')"
#endif

using namespace ncl::rt;
namespace fs = std::filesystem;

namespace {

Error ioError(const std::string &what, const std::string &path) {
  return Error(NCL_ERROR_IO, "cannot " + what + " '" + path +
                                 "': " + std::strerror(errno));
}

/// Writes `bytes` to `path` through a temporary file and rename(2).
void writeFileAtomically(const std::string &path, const std::string &head,
                         const void *data, size_t size) {
  const std::string tmp = path + ".tmp" + std::to_string(getpid());
  std::FILE *f = std::fopen(tmp.c_str(), "wb");
  if (!f)
    throw ioError("create", tmp);
  bool ok = std::fwrite(head.data(), 1, head.size(), f) == head.size() &&
            (size == 0 || std::fwrite(data, 1, size, f) == size);
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) {
    int saved = errno;
    std::remove(tmp.c_str());
    errno = saved;
    throw ioError("write", path);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    int saved = errno;
    std::remove(tmp.c_str());
    errno = saved;
    throw ioError("rename a temporary file to", path);
  }
}

/// NPY format version 1.0: magic, version, little-endian u16 header length,
/// then a Python dict literal padded with spaces and ended by '\n' so that
/// the data starts at a multiple of 64 bytes.
std::string npyHeader(const char *descr, size_t n) {
  std::string dict = std::string("{'descr': '") + descr +
                     "', 'fortran_order': False, 'shape': (" +
                     std::to_string(n) + ",), }";
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

void writeNpy(const std::string &path, const char *descr, const void *data,
              size_t n, size_t elemSize) {
  writeFileAtomically(path, npyHeader(descr, n), data, n * elemSize);
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

std::string runJson(const ncl_model &m) {
  const ncl_model_descriptor &d = *m.desc;
  const double duration = static_cast<double>(m.step) * m.dt;
  std::string j = "{\n";
  j += "  \"model\": " + jsonString(d.model_name ? d.model_name : "") + ",\n";
  j += "  \"source\": " + jsonString(d.source_file ? d.source_file : "") +
       ",\n";
  j += "  \"abi_version\": " + std::to_string(d.abi_version) + ",\n";
  j += "  \"precision\": " + std::to_string(d.real_bits) + ",\n";
  j += "  \"dt\": " + jsonNumber(m.dt) + ",\n";
  j += "  \"steps\": " + std::to_string(m.step) + ",\n";
  j += "  \"duration\": " + jsonNumber(duration) + ",\n";
  j += "  \"seed\": " + std::to_string(m.seed) + ",\n";
  j += "  \"threads\": " + std::to_string(m.threads) + ",\n";
  j += "  \"populations\": {";
  for (size_t p = 0; p < m.pops.size(); ++p) {
    const Population &pop = m.pops[p];
    const double rate =
        duration > 0 && pop.size > 0
            ? static_cast<double>(pop.spikeCount) /
                  (static_cast<double>(pop.size) * duration)
            : 0.0;
    j += p ? ",\n    " : "\n    ";
    j += jsonString(pop.info->name) + ": {\"neuron\": " +
         jsonString(pop.info->neuron ? pop.info->neuron : "") +
         ", \"size\": " + std::to_string(pop.size) +
         ", \"spikes\": " + std::to_string(pop.spikeCount) +
         ", \"rate_hz\": " + jsonNumber(rate);
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
  j += "  \"timings\": {\"load_s\": " + jsonNumber(m.loadSeconds) +
       ", \"init_s\": " + jsonNumber(m.initSeconds) +
       ", \"simulate_s\": " + jsonNumber(m.simulateSeconds) + "}\n";
  j += "}\n";
  return j;
}

} // namespace

void ncl::rt::writeOutput(const ncl_model &m, const std::string &dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir))
    throw Error(NCL_ERROR_IO, "cannot create output directory '" + dir +
                                  "': " +
                                  (ec ? ec.message() : "not a directory"));
  const double dt = m.dt;
  for (const Population &pop : m.pops) {
    if (!pop.info->record_spikes)
      continue;
    const size_t n = pop.record.size();
    std::vector<double> t(n);
    std::vector<int64_t> i(n);
    for (size_t s = 0; s < n; ++s) {
      t[s] = static_cast<double>(pop.record[s].step) * dt;
      i[s] = pop.record[s].index;
    }
    const std::string base = (fs::path(dir) / pop.info->name).string();
    writeNpy(base + "_spike_t.npy", "<f8", t.data(), n, sizeof(double));
    writeNpy(base + "_spike_i.npy", "<i8", i.data(), n, sizeof(int64_t));
    // Custom events: P_<event>_t.npy and P_<event>_i.npy, in the same order.
    for (size_t e = 0; e < pop.events.size(); ++e) {
      const std::vector<Spike> &rec = pop.events[e];
      std::vector<double> et(rec.size());
      std::vector<int64_t> ei(rec.size());
      for (size_t s = 0; s < rec.size(); ++s) {
        et[s] = static_cast<double>(rec[s].step) * dt;
        ei[s] = rec[s].index;
      }
      const std::string name = base + "_" + pop.info->event_names[e];
      writeNpy(name + "_t.npy", "<f8", et.data(), rec.size(), sizeof(double));
      writeNpy(name + "_i.npy", "<i8", ei.data(), rec.size(), sizeof(int64_t));
    }
  }
  // Last, so that a complete run.json means all the arrays are in place.
  const std::string json = runJson(m);
  writeFileAtomically((fs::path(dir) / "run.json").string(), json, nullptr, 0);
}
