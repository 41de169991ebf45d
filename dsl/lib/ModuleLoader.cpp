//===- ModuleLoader.cpp - Resolve `import` and merge neuron libraries -----===//
//
// Imports are resolved relative to the importing file, then the -I
// directories, then NCL's standard library. Files are identified by their
// canonical path, so a file imported twice (a diamond) is read once, and a
// file that imports itself through a chain is reported with the chain.
//
//===----------------------------------------------------------------------===//
#include "ncl/DSL/Frontend.h"

#include <algorithm>
#include <filesystem>
#include <set>

using namespace ncl;
namespace fs = std::filesystem;

namespace {

class Loader {
public:
  Loader(const ImportOptions &options, DiagnosticEngine &diags) : options(options), diags(diags) {}

  /// Parses `path` (or, for the root, `rootText` given as its contents) and
  /// moves the neurons of its imports into it.
  std::unique_ptr<ast::Module> load(const std::string &path, bool isRoot,
                                    const std::string *rootText = nullptr) {
    std::string key = canonical(path);
    std::unique_ptr<ast::Module> module =
        isRoot && rootText ? parseSource(path, *rootText, diags) : parseFile(path, diags);
    if (!module)
      return nullptr;
    loaded.insert(key);
    stack.push_back({key, path});
    std::vector<ast::NeuronDecl> imported;
    std::vector<ast::SynapseDecl> importedSynapses;
    bool ok = true;
    for (const ast::Import &imp : module->imports) {
      std::optional<std::string> found = resolve(imp.path, fs::path(path).parent_path(), key);
      if ((found && canonical(*found) == key) ||
          (!found && importsItself(imp.path, fs::path(path).parent_path(), key))) {
        diags.error(imp.loc, "'" + path + "' imports itself");
        ok = false;
        continue;
      }
      if (!found) {
        std::string searched = fs::path(path).parent_path().string();
        if (searched.empty())
          searched = ".";
        for (auto *dirs : {&options.includeDirs, &options.libraryDirs})
          for (const auto &d : *dirs)
            searched += ", " + d;
        diags.error(imp.loc, "cannot find '" + imp.path + "' (searched " + searched + ")");
        ok = false;
        continue;
      }
      std::string foundKey = canonical(*found);
      auto onStack = std::find_if(stack.begin(), stack.end(),
                                  [&](const auto &entry) { return entry.first == foundKey; });
      if (onStack != stack.end()) {
        std::string chain;
        for (auto it = onStack; it != stack.end(); ++it)
          chain += it->second + " -> ";
        diags.error(imp.loc, "import cycle: " + chain + *found);
        ok = false;
        continue;
      }
      if (loaded.count(foundKey))
        continue; // already imported elsewhere
      std::unique_ptr<ast::Module> child = load(*found, false);
      if (!child) {
        ok = false;
        continue;
      }
      for (auto &n : child->neurons)
        imported.push_back(std::move(n));
      for (auto &s : child->synapses)
        importedSynapses.push_back(std::move(s));
    }
    stack.pop_back();
    if (!ok)
      return nullptr;
    for (auto &n : module->neurons)
      imported.push_back(std::move(n));
    module->neurons = std::move(imported);
    for (auto &s : module->synapses)
      importedSynapses.push_back(std::move(s));
    module->synapses = std::move(importedSynapses);
    (void)isRoot;
    return module;
  }

private:
  /// The first file named `name` on the search path, other than the
  /// importing file itself (so examples/hh.ncl can import the library's hh.ncl).
  std::optional<std::string> resolve(const std::string &name, const fs::path &from,
                                     const std::string &importer) {
    std::error_code ec;
    if (fs::path(name).is_absolute())
      return fs::is_regular_file(name, ec) ? std::optional<std::string>(name) : std::nullopt;
    std::vector<fs::path> dirs{from};
    for (auto *group : {&options.includeDirs, &options.libraryDirs})
      for (const auto &d : *group)
        dirs.push_back(d);
    for (const fs::path &dir : dirs) {
      fs::path candidate = dir / name;
      if (fs::is_regular_file(candidate, ec) && canonical(candidate.string()) != importer)
        return candidate.lexically_normal().string();
    }
    return std::nullopt;
  }

  /// Whether `name`, found nowhere else, names the importing file itself.
  bool importsItself(const std::string &name, const fs::path &from, const std::string &importer) {
    fs::path candidate = fs::path(name).is_absolute() ? fs::path(name) : from / name;
    std::error_code ec;
    return fs::is_regular_file(candidate, ec) && canonical(candidate.string()) == importer;
  }

  static std::string canonical(const std::string &path) {
    std::error_code ec;
    fs::path p = fs::weakly_canonical(path, ec);
    return ec ? path : p.string();
  }

  const ImportOptions &options;
  DiagnosticEngine &diags;
  std::set<std::string> loaded;
  std::vector<std::pair<std::string, std::string>> stack; ///< (canonical, as named)
};

} // namespace

std::unique_ptr<ast::Module> ncl::loadModule(const std::string &path, const ImportOptions &options,
                                             DiagnosticEngine &diags) noexcept {
  try {
    return Loader(options, diags).load(path, true);
  } catch (const std::exception &e) {
    diags.error(std::string("cannot load '") + path + "': " + e.what());
  } catch (...) {
    diags.error("cannot load '" + path + "'");
  }
  return nullptr;
}

std::unique_ptr<ast::Module> ncl::loadModuleFromSource(const std::string &fileName,
                                                       const std::string &text,
                                                       const ImportOptions &options,
                                                       DiagnosticEngine &diags) noexcept {
  try {
    return Loader(options, diags).load(fileName, true, &text);
  } catch (const std::exception &e) {
    diags.error(std::string("cannot load '") + fileName + "': " + e.what());
  } catch (...) {
    diags.error("cannot load '" + fileName + "'");
  }
  return nullptr;
}
