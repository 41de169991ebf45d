//===- Diagnostics.h - One diagnostics engine for parse and sema -*- C++ -*-===//
//
// Every user-facing message about a `.ncl` file goes through here, so they
// all read `file:line:col: error: message`, then the source line and a caret
// (underlining the whole range where one is known).
//
//===----------------------------------------------------------------------===//
#ifndef NCL_DSL_DIAGNOSTICS_H
#define NCL_DSL_DIAGNOSTICS_H

#include <functional>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

namespace ncl {

/// A position in a source file; line and column count from 1.
struct SourceLoc {
  std::shared_ptr<const std::string> file;
  unsigned line = 0;
  unsigned column = 0;
  unsigned length = 1; ///< characters to underline
  bool isValid() const { return line != 0; }
  std::string str() const;
};

class DiagnosticEngine {
public:
  enum class Severity { Error, Warning, Note };

  explicit DiagnosticEngine(std::ostream &os) : os(os) {}

  /// Called with every message as it is reported, with
  /// an invalid location for messages without one: how the compiler library
  /// (ncl/compiler.h) hands diagnostics to its caller as records.
  using Observer =
      std::function<void(Severity severity, const SourceLoc &loc, const std::string &message)>;
  void setObserver(Observer callback) { observer = std::move(callback); }

  /// Registers the text of a file so that messages can quote its lines.
  std::shared_ptr<const std::string> addFile(const std::string &name, std::string text);

  void error(const SourceLoc &loc, const std::string &message) {
    report(Severity::Error, loc, message);
  }
  void warning(const SourceLoc &loc, const std::string &message) {
    report(Severity::Warning, loc, message);
  }
  void note(const SourceLoc &loc, const std::string &message) {
    report(Severity::Note, loc, message);
  }
  /// An error with no source position (e.g. a missing file).
  void error(const std::string &message);

  void report(Severity severity, const SourceLoc &loc, const std::string &message);
  unsigned errorCount() const { return errors; }
  /// The names of every file registered (the model and its imports).
  std::vector<std::string> files() const {
    std::vector<std::string> out;
    for (const auto &entry : names)
      out.push_back(entry.first);
    return out;
  }

private:
  std::ostream &os;
  Observer observer;
  std::map<std::string, std::vector<std::string>> lines;
  std::map<std::string, std::shared_ptr<const std::string>> names;
  unsigned errors = 0;
};

/// "; did you mean 'x'?" for the candidate closest to `name` in edit
/// distance, when one is close enough to be a typo (1 edit for names of up to
/// 5 characters, 2 for longer ones, none for 1-2 characters); "" otherwise.
std::string didYouMean(const std::string &name, const std::vector<std::string> &candidates);

} // namespace ncl

#endif // NCL_DSL_DIAGNOSTICS_H
