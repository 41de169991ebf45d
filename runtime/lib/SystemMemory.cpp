//===- SystemMemory.cpp - How much memory a run may still take ------------===//
//
// Before allocating a model's state the runtime compares what the run needs
// with what the machine can give, so that a huge population is refused with
// both figures instead of being killed by the kernel's OOM killer midway.
// "What the machine can give" is MemAvailable from /proc/meminfo, lowered to
// the headroom of the process's memory cgroup (v2, or v1's memory
// controller) when that cgroup or one of its ancestors has a limit, since
// containers and batch schedulers enforce their limits there. A user may
// lower it further with NCL_MEMORY_LIMIT (bytes, or with a k/M/G/T suffix,
// powers of 1000): the most one model may hold.
//
//===----------------------------------------------------------------------===//
#include "Model.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

using namespace ncl::rt;

namespace {

/// Reads the first unsigned number of a file; false if absent or "max".
bool readNumber(const std::string &path, uint64_t &out) {
  std::ifstream in(path);
  unsigned long long v;
  if (!(in >> v))
    return false;
  out = v;
  return true;
}

/// MemAvailable in bytes, or 0 when /proc/meminfo does not say.
uint64_t memAvailable() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  unsigned long long kb;
  std::string unit;
  while (in >> key >> kb) {
    std::getline(in, unit);
    if (key == "MemAvailable:")
      return static_cast<uint64_t>(kb) * 1024;
  }
  return 0;
}

/// Lowers `headroom` to limit - usage of the cgroup directory `dir` and of
/// each of its ancestors below `root` that has a limit.
void lowerToCgroupHeadroom(std::string root, std::string dir, const char *limitFile,
                           const char *usageFile, uint64_t &headroom) {
  while (true) {
    uint64_t limit = 0, usage = 0;
    if (readNumber(root + dir + "/" + limitFile, limit) &&
        readNumber(root + dir + "/" + usageFile, usage))
      headroom = std::min(headroom, limit > usage ? limit - usage : 0);
    if (dir.empty() || dir == "/")
      return;
    dir = dir.substr(0, dir.rfind('/'));
  }
}

} // namespace

/// NCL_MEMORY_LIMIT in bytes ("2G", "512M", "1000000"), 0 when unset or
/// unreadable.
uint64_t memoryLimitFromEnvironment() {
  const char *text = std::getenv("NCL_MEMORY_LIMIT");
  if (!text || !*text)
    return 0;
  char *end = nullptr;
  const double value = std::strtod(text, &end);
  double scale = 1;
  switch (*end) {
  case 'k':
  case 'K':
    scale = 1e3;
    ++end;
    break;
  case 'M':
    scale = 1e6;
    ++end;
    break;
  case 'G':
    scale = 1e9;
    ++end;
    break;
  case 'T':
    scale = 1e12;
    ++end;
    break;
  default:
    break;
  }
  if (*end == 'B')
    ++end;
  if (*end || !(value > 0) || value * scale >= 1.8e19)
    return 0;
  return static_cast<uint64_t>(value * scale);
}

uint64_t ncl::rt::availableMemory(uint64_t held) {
  uint64_t available = memAvailable();
  if (available == 0)
    available = UINT64_MAX;
  if (const uint64_t limit = memoryLimitFromEnvironment())
    available = std::min(available, limit > held ? limit - held : 0);
  // /proc/self/cgroup lines: "ID:CONTROLLERS:PATH"; v2 has "0::PATH", v1's
  // memory controller "N:memory:PATH" (or "N:...,memory,...:PATH").
  std::ifstream in("/proc/self/cgroup");
  std::string line;
  while (std::getline(in, line)) {
    const size_t a = line.find(':'), b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos)
      continue;
    const std::string controllers = "," + line.substr(a + 1, b - a - 1) + ",";
    const std::string path = line.substr(b + 1);
    if (controllers == ",,")
      lowerToCgroupHeadroom("/sys/fs/cgroup", path, "memory.max", "memory.current", available);
    else if (controllers.find(",memory,") != std::string::npos)
      lowerToCgroupHeadroom("/sys/fs/cgroup/memory", path, "memory.limit_in_bytes",
                            "memory.usage_in_bytes", available);
  }
  return available;
}

std::string ncl::rt::formatBytes(uint64_t bytes) {
  static const char *const units[] = {"bytes", "kB", "MB", "GB", "TB", "PB", "EB"};
  double value = static_cast<double>(bytes);
  size_t u = 0;
  while (value >= 1000 && u + 1 < sizeof units / sizeof *units) {
    value /= 1000;
    ++u;
  }
  char buf[32];
  if (u == 0)
    std::snprintf(buf, sizeof buf, "%llu bytes", static_cast<unsigned long long>(bytes));
  else
    std::snprintf(buf, sizeof buf, "%.1f %s", value, units[u]);
  return buf;
}
