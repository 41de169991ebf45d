//===- Diagnostics.cpp - Source-quoting error messages --------------------===//
#include "ncl/DSL/Diagnostics.h"

#include <algorithm>
#include <sstream>

using namespace ncl;

std::string SourceLoc::str() const {
  std::ostringstream s;
  s << (file ? *file : std::string("<unknown>")) << ':' << line << ':' << column;
  return s.str();
}

std::shared_ptr<const std::string> DiagnosticEngine::addFile(const std::string &name,
                                                             std::string text) {
  auto &split = lines[name];
  split.clear();
  std::string current;
  for (char c : text) {
    if (c == '\n') {
      split.push_back(current);
      current.clear();
    } else if (c != '\r') {
      current += c;
    }
  }
  split.push_back(current);
  auto &ptr = names[name];
  if (!ptr)
    ptr = std::make_shared<const std::string>(name);
  return ptr;
}

void DiagnosticEngine::error(const std::string &message) {
  ++errors;
  os << "error: " << message << '\n';
  if (observer)
    observer(Severity::Error, SourceLoc(), message);
}

void DiagnosticEngine::report(Severity severity, const SourceLoc &loc, const std::string &message) {
  const char *label = severity == Severity::Error     ? "error"
                      : severity == Severity::Warning ? "warning"
                                                      : "note";
  if (severity == Severity::Error)
    ++errors;
  if (observer)
    observer(severity, loc, message);
  if (!loc.isValid()) {
    os << label << ": " << message << '\n';
    return;
  }
  os << loc.str() << ": " << label << ": " << message << '\n';
  auto it = loc.file ? lines.find(*loc.file) : lines.end();
  if (it == lines.end() || loc.line > it->second.size())
    return;
  const std::string &text = it->second[loc.line - 1];
  os << text << '\n';
  // Keep tabs in the caret line so the caret lines up under tabbed text.
  std::string caret;
  for (unsigned i = 1; i < loc.column && i - 1 < text.size(); ++i)
    caret += text[i - 1] == '\t' ? '\t' : ' ';
  caret += '^';
  unsigned underline = loc.length > 1 ? loc.length - 1 : 0;
  if (loc.column - 1 + loc.length > text.size() && text.size() >= loc.column)
    underline = static_cast<unsigned>(text.size() - loc.column);
  caret += std::string(underline, '~');
  os << caret << '\n';
}

//===----------------------------------------------------------------------===//
// Spelling suggestions
//===----------------------------------------------------------------------===//

static size_t editDistance(const std::string &a, const std::string &b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] != b[j - 1])});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string ncl::didYouMean(const std::string &name, const std::vector<std::string> &candidates) {
  std::string best;
  // Short names are too easily one edit away from anything.
  size_t bestDist = (name.size() <= 2 ? 0 : name.size() <= 5 ? 1 : 2) + 1;
  for (const auto &c : candidates) {
    if (c == name)
      continue;
    size_t d = editDistance(name, c);
    if (d < bestDist) {
      bestDist = d;
      best = c;
    }
  }
  return best.empty() ? "" : "; did you mean '" + best + "'?";
}
