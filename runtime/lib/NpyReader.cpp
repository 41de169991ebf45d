//===- NpyReader.cpp - Reading 1-D and 2-D .npy arrays ---------------------===//
//
// The header is a Python dict literal ({'descr': '<i8', 'fortran_order':
// False, 'shape': (n,), }); it is parsed here with a small tokenizer that
// accepts the spacing and key order any NumPy writes, not by searching for
// substrings, so a malformed header is reported rather than misread.
//
//===----------------------------------------------------------------------===//
#include "NpyReader.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <sys/stat.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the .npy reader assumes a little-endian host ('<i8', '<f8')"
#endif

using namespace ncl::rt;

namespace {

struct Header {
  std::string descr;
  bool fortranOrder = false;
  std::vector<int64_t> shape;
  bool haveDescr = false, haveOrder = false, haveShape = false;
};

/// Parses the header dict into `h`; returns "" or what is wrong with it.
class HeaderParser {
public:
  explicit HeaderParser(const std::string &text) : t_(text) {}

  std::string parse(Header &h) {
    skipSpace();
    if (!eat('{'))
      return "its header is not a dict";
    for (;;) {
      skipSpace();
      if (eat('}'))
        break;
      std::string key;
      if (!string(key))
        return "its header has a key that is not a quoted string";
      skipSpace();
      if (!eat(':'))
        return "its header has no ':' after '" + key + "'";
      skipSpace();
      if (key == "descr") {
        if (!string(h.descr))
          return "its header's 'descr' is not a string";
        h.haveDescr = true;
      } else if (key == "fortran_order") {
        if (word("True"))
          h.fortranOrder = true;
        else if (word("False"))
          h.fortranOrder = false;
        else
          return "its header's 'fortran_order' is neither True nor False";
        h.haveOrder = true;
      } else if (key == "shape") {
        if (!tuple(h.shape))
          return "its header's 'shape' is not a tuple of sizes";
        h.haveShape = true;
      } else {
        return "its header has an unknown key '" + key + "'";
      }
      skipSpace();
      if (eat(','))
        continue;
      skipSpace();
      if (eat('}'))
        break;
      return "its header dict is malformed after '" + key + "'";
    }
    if (!h.haveDescr || !h.haveOrder || !h.haveShape)
      return "its header lacks 'descr', 'fortran_order' or 'shape'";
    return "";
  }

private:
  void skipSpace() {
    while (p_ < t_.size() && (t_[p_] == ' ' || t_[p_] == '\n' || t_[p_] == '\t'))
      ++p_;
  }
  bool eat(char c) {
    if (p_ < t_.size() && t_[p_] == c) {
      ++p_;
      return true;
    }
    return false;
  }
  bool word(const char *w) {
    const size_t n = std::strlen(w);
    if (t_.compare(p_, n, w) != 0)
      return false;
    p_ += n;
    return true;
  }
  bool string(std::string &out) {
    if (p_ >= t_.size() || (t_[p_] != '\'' && t_[p_] != '"'))
      return false;
    const char quote = t_[p_++];
    const size_t end = t_.find(quote, p_);
    if (end == std::string::npos)
      return false;
    out = t_.substr(p_, end - p_);
    p_ = end + 1;
    return true;
  }
  bool tuple(std::vector<int64_t> &dims) {
    if (!eat('('))
      return false;
    for (;;) {
      skipSpace();
      if (eat(')'))
        return true;
      if (p_ >= t_.size() || t_[p_] < '0' || t_[p_] > '9')
        return false;
      int64_t v = 0;
      while (p_ < t_.size() && t_[p_] >= '0' && t_[p_] <= '9') {
        if (v > (INT64_MAX - 9) / 10)
          return false;
        v = v * 10 + (t_[p_++] - '0');
      }
      while (p_ < t_.size() && t_[p_] == 'L') // Python 2 longs
        ++p_;
      dims.push_back(v);
      skipSpace();
      if (eat(','))
        continue;
      skipSpace();
      if (eat(')'))
        return true;
      return false;
    }
  }

  const std::string &t_;
  size_t p_ = 0;
};

std::string shapeText(const std::vector<int64_t> &shape) {
  std::string s = "(";
  for (size_t k = 0; k < shape.size(); ++k)
    s += (k ? ", " : "") + std::to_string(shape[k]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

struct FileCloser {
  void operator()(FILE *f) const { std::fclose(f); }
};

} // namespace

const char *ncl::rt::npyDtypeName(NpyArray::Dtype dtype) {
  switch (dtype) {
  case NpyArray::Dtype::Int32:
    return "<i4";
  case NpyArray::Dtype::Int64:
    return "<i8";
  case NpyArray::Dtype::Float32:
    return "<f4";
  case NpyArray::Dtype::Float64:
    return "<f8";
  }
  return "?";
}

bool ncl::rt::readNpy1D(const std::string &path, NpyArray &out, std::string &error) {
  std::vector<int64_t> shape;
  return readNpy(path, 1, out, shape, error);
}

bool ncl::rt::readNpy(const std::string &path, int maxRank, NpyArray &out,
                      std::vector<int64_t> &shape, std::string &error) {
  out = NpyArray();
  shape.clear();
  const std::string quoted = "'" + path + "'";
  auto fail = [&](const std::string &what) {
    error = quoted + " " + what;
    out = NpyArray();
    return false;
  };
  struct stat st;
  if (::stat(path.c_str(), &st) != 0)
    return fail(std::string("cannot be read: ") + std::strerror(errno));
  if (S_ISDIR(st.st_mode))
    return fail("is a directory, not a .npy file");
  std::unique_ptr<FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
  if (!file)
    return fail(std::string("cannot be read: ") + std::strerror(errno));
  FILE *f = file.get();

  // Magic, version, header length (2 bytes in 1.0, 4 in 2.0 and 3.0).
  unsigned char prefix[12];
  const size_t got = std::fread(prefix, 1, 8, f);
  if (got < 6 || std::memcmp(prefix, "\x93NUMPY", 6) != 0)
    return fail("is not a .npy file (it does not start with \\x93NUMPY)");
  if (got < 8)
    return fail("is truncated: it ends inside the .npy header");
  const unsigned major = prefix[6], minor = prefix[7];
  if (major < 1 || major > 3)
    return fail("has .npy format version " + std::to_string(major) + "." + std::to_string(minor) +
                "; versions 1.0, 2.0 and 3.0 are read");
  const size_t lengthBytes = major == 1 ? 2 : 4;
  if (std::fread(prefix + 8, 1, lengthBytes, f) != lengthBytes)
    return fail("is truncated: it ends inside the .npy header");
  uint64_t headerLength = 0;
  for (size_t k = 0; k < lengthBytes; ++k)
    headerLength |= uint64_t(prefix[8 + k]) << (8 * k);
  const uint64_t dataOffset = 8 + lengthBytes + headerLength;
  if (dataOffset > static_cast<uint64_t>(st.st_size))
    return fail("is truncated: it ends inside the .npy header");
  std::string text(headerLength, '\0');
  if (std::fread(text.data(), 1, headerLength, f) != headerLength)
    return fail("is truncated: it ends inside the .npy header");

  Header h;
  if (std::string e = HeaderParser(text).parse(h); !e.empty())
    return fail("is not a valid .npy file: " + e);
  size_t itemSize;
  if (h.descr == "<i4")
    out.dtype = NpyArray::Dtype::Int32, itemSize = 4;
  else if (h.descr == "<i8")
    out.dtype = NpyArray::Dtype::Int64, itemSize = 8;
  else if (h.descr == "<f4")
    out.dtype = NpyArray::Dtype::Float32, itemSize = 4;
  else if (h.descr == "<f8")
    out.dtype = NpyArray::Dtype::Float64, itemSize = 8;
  else
    return fail("has dtype '" + h.descr +
                "', which is not read; save it as int32, int64, float32 or float64 "
                "(little-endian '<i4', '<i8', '<f4', '<f8')");
  if (h.shape.empty() || h.shape.size() > static_cast<size_t>(std::max(1, maxRank)))
    return fail("holds a " + std::to_string(h.shape.size()) + "-D array of shape " +
                shapeText(h.shape) +
                (maxRank <= 1   ? "; only 1-D arrays are read (flatten it)"
                 : maxRank == 2 ? "; only 1-D and 2-D arrays are read here"
                                : "; only 1-D, 2-D and 3-D arrays are read here"));
  // Fortran order differs from C order only where two dimensions exceed 1.
  if (h.fortranOrder &&
      std::count_if(h.shape.begin(), h.shape.end(), [](int64_t d) { return d > 1; }) > 1)
    return fail("holds a Fortran-ordered array of shape " + shapeText(h.shape) +
                "; save it in C order (numpy.ascontiguousarray)");

  uint64_t n = 1;
  for (int64_t d : h.shape)
    if (__builtin_mul_overflow(n, static_cast<uint64_t>(d), &n))
      return fail("has a shape " + shapeText(h.shape) + " too large to read");
  const uint64_t available = static_cast<uint64_t>(st.st_size) - dataOffset;
  if (n > available / itemSize)
    return fail("is truncated: its header announces " + std::to_string(n) + " elements (" +
                std::to_string(n * itemSize) + " bytes of data), but only " +
                std::to_string(available) + " bytes follow the header");
  if (available != n * itemSize)
    return fail("has " + std::to_string(available - n * itemSize) +
                " bytes after the data its header announces (" + std::to_string(n) + " elements)");

  // Read in blocks and widen, so the file's bytes are never held twice.
  constexpr size_t kBlock = 1 << 16;
  std::vector<unsigned char> buffer(kBlock * itemSize);
  if (out.isInteger())
    out.ints.resize(n);
  else
    out.reals.resize(n);
  for (uint64_t first = 0; first < n; first += kBlock) {
    const size_t count = static_cast<size_t>(std::min<uint64_t>(kBlock, n - first));
    if (std::fread(buffer.data(), itemSize, count, f) != count)
      return fail("is truncated: reading its data failed");
    for (size_t k = 0; k < count; ++k) {
      const unsigned char *b = buffer.data() + k * itemSize;
      switch (out.dtype) {
      case NpyArray::Dtype::Int32: {
        int32_t v;
        std::memcpy(&v, b, 4);
        out.ints[first + k] = v;
        break;
      }
      case NpyArray::Dtype::Int64:
        std::memcpy(&out.ints[first + k], b, 8);
        break;
      case NpyArray::Dtype::Float32: {
        float v;
        std::memcpy(&v, b, 4);
        out.reals[first + k] = v;
        break;
      }
      case NpyArray::Dtype::Float64:
        std::memcpy(&out.reals[first + k], b, 8);
        break;
      }
    }
  }
  shape = h.shape;
  error.clear();
  return true;
}
