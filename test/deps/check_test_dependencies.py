#!/usr/bin/env python3
"""Every Python module and every executable that `make test` uses must come
from the packages `make test` installs (the default list of
scripts/install-deps.sh), or
from a package those depend on, or from an essential Debian package.

A machine that has more installed (scipy and Brian2 after `make bench`) runs
a test that a fresh Debian 12 machine cannot: this check fails there too,
naming the file and the module or executable, instead of passing by luck.

What it looks at:
- the command of every ctest test (`ctest --show-only=json-v1`): the program,
  the Python script it runs, the words of an `sh -c` script and any argument
  that is an installed executable outside the source and build trees;
- every RUN: line of the lit suite (each command of each pipeline, and the
  command after `not`);
- the shell scripts tests run (the commands they call);
- every Python file the tests run and, through their imports, every local
  module those import (each `import`, at top level or inside a function):
  each third-party module is found with importlib and its file's package
  with `dpkg -S`.

Usage: check_test_dependencies.py SOURCE_DIR BUILD_DIR CTEST [LLVM_TOOLS_DIR]
"""
import ast
import importlib.machinery
import json
import os
import re
import shlex
import shutil
import subprocess
import sys

src, build, ctest = (os.path.realpath(a) for a in sys.argv[1:4])
llvm_tools = sys.argv[4] if len(sys.argv) > 4 else "/usr/lib/llvm-22/bin"
problems = []


# --- The allowed packages ------------------------------------------------------------------
def read_list(name):
    """A package list of scripts/install-deps.sh ('default' or 'bench')."""
    script = os.path.join(src, "scripts", "install-deps.sh")
    out = subprocess.run(["bash", script, "--list", name], capture_output=True, text=True, check=True)
    return out.stdout.split()


def dpkg_query(fields, packages=None):
    """{package: {field: value}} of the installed packages (all, or these)."""
    fmt = "\\t".join("${%s}" % f for f in ["Package", "Status"] + fields) + "\\n"
    r = subprocess.run(["dpkg-query", "-W", "-f=" + fmt] + (packages or []),
                       capture_output=True, text=True)
    out = {}
    for line in r.stdout.splitlines():
        cols = line.split("\t")
        if len(cols) == 2 + len(fields) and cols[1].endswith("installed") and "not-installed" not in cols[1]:
            out[cols[0]] = dict(zip(fields, cols[2:]))
    return out


installed = dpkg_query(["Depends", "Pre-Depends", "Provides", "Essential", "Priority"])
providers = {}
for pkg, info in installed.items():
    for prov in info["Provides"].split(","):
        name = prov.strip().split(" ")[0]
        if name:
            providers.setdefault(name, []).append(pkg)

default = read_list("default")
bench = set(read_list("bench"))
allowed = set()
todo = list(default) + [p for p, i in installed.items()
                        if i["Essential"] == "yes" or i["Priority"] == "required"]
while todo:
    pkg = todo.pop().split(":")[0]
    for name in [pkg] + providers.get(pkg, []):
        if name in allowed or name not in installed:
            continue
        allowed.add(name)
        deps = installed[name]["Depends"] + "," + installed[name]["Pre-Depends"]
        for dep in deps.split(","):
            for alt in dep.split("|"):  # any installed alternative may be the one used
                alt = alt.strip().split(" ")[0].split(":")[0]
                if alt:
                    todo.append(alt)


def owner(path):
    """The Debian package that installed `path` (following symlinks), or None."""
    candidates = [path]
    p = path
    for _ in range(10):  # the symlink chain, and each link's merged-/usr twin
        if not os.path.islink(p):
            break
        p = os.path.join(os.path.dirname(p), os.readlink(p))
        candidates.append(os.path.normpath(p))
    candidates.append(os.path.realpath(path))
    for c in list(candidates):
        for a, b in (("/usr/bin/", "/bin/"), ("/usr/sbin/", "/sbin/"), ("/usr/lib/", "/lib/")):
            if c.startswith(a):
                candidates.append(b + c[len(a):])
            elif c.startswith(b):
                candidates.append(a + c[len(b):])
    for c in candidates:
        r = subprocess.run(["dpkg", "-S", c], capture_output=True, text=True)
        if r.returncode == 0:
            for line in r.stdout.splitlines():
                if line.startswith("diversion by"):
                    continue
                pkgs, _, f = line.partition(": ")
                if f.strip() == c:
                    return [p.strip().split(":")[0] for p in pkgs.split(",")]
    return None


def check_package(what, where, path):
    pkgs = owner(path)
    if pkgs is None:
        problems.append("%s: %s (%s) belongs to no Debian package; the default install "
                        "(scripts/install-deps.sh) cannot provide it" % (where, what, path))
    elif not any(p in allowed for p in pkgs):
        hint = " (it is in the bench list, installed only by `make bench`)" if any(p in bench for p in pkgs) else ""
        problems.append("%s: %s comes from %s, which the default install "
                        "(scripts/install-deps.sh) does not provide%s" % (where, what, ", ".join(pkgs), hint))


# --- Executables -----------------------------------------------------------------------------
project_tools = {"nclc", "ncl-opt", "ncl-run", "ncl-embed-example", "ncl-fuzz-frontend"}
shell_words = {"set", "cd", "echo", "exit", "export", "if", "then", "else", "elif", "fi", "for", "do",
               "done", "while", "case", "esac", "in", "local", "return", "true", "false", "test", "[",
               "[[", "]]", "{", "}", "!", "read", "mapfile", "printf", "shift", "trap", "exec", "eval",
               "wait", "command", "type", ":", ".", "source", "unset", "declare", "break", "continue"}
checked_exes = {}


def under_project(path):
    real = os.path.realpath(path)
    return real.startswith(src + os.sep) or real.startswith(build + os.sep)


def check_executable(word, where, strict):
    """`word` as a command (a name or a path). Unresolved names count only
    where the command is known to be a command (`strict`)."""
    name = os.path.basename(word)
    if not word or name in project_tools or name in shell_words or "$" in word or "=" in word:
        return
    if os.path.isabs(word):
        path = word if os.access(word, os.X_OK) else None
        if path and under_project(path):
            return
    else:
        path = shutil.which(word, path=os.environ.get("PATH", "") + os.pathsep + llvm_tools)
    if path is None:
        if strict:
            problems.append("%s: executable '%s' is not installed (the default install "
                            "must provide it)" % (where, word))
        return
    key = os.path.realpath(path)
    if key not in checked_exes:
        checked_exes[key] = where
        check_package("executable '%s'" % word, where, path)


def commands_of_shell(text):
    """The command words of a shell script (one per simple command)."""
    words = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.commenters = "#"
        lexer.wordchars += "$%{}[]=.:/-+@,~*?!'"
        try:
            tokens = list(lexer)
        except ValueError:  # an unbalanced quote: a line of a larger construct
            continue
        command = []
        for tok in tokens + [";"]:
            if tok and all(c in "|&;()<>" for c in tok):
                while command and (re.match(r"^\w+=", command[0]) or
                                   command[0] in ("!", "then", "do", "else", "exec", "time", "{")):
                    command = command[1:]
                if command and not tok.startswith(("<", ">")):
                    words.append(command[0])
                    if os.path.basename(command[0]) == "not":
                        rest = [t for t in command[1:] if not t.startswith("--")]
                        if rest:
                            words.append(rest[0])
                command = [] if not tok.startswith(("<", ">")) else command + ["<redirect>"]
            elif command and command[-1] == "<redirect>":
                command.pop()  # the redirection's target is no command
            else:
                command.append(tok)
    return words


python_files = {}  # path -> where it is used


def note_python(path, where):
    if path.endswith(".py") and os.path.isfile(path) and path not in python_files:
        python_files[path] = where


# No CTestTestfile (the checker's own fixture, made by check_detects.py): no ctest commands.
tests = []
if os.path.exists(os.path.join(build, "CTestTestfile.cmake")):
    tests = json.loads(subprocess.run([ctest, "--show-only=json-v1"], cwd=build, capture_output=True,
                                      text=True, check=True).stdout)["tests"]
for t in tests:
    cmd = t.get("command") or []
    if not cmd:
        continue
    where = "ctest '%s'" % t["name"]
    check_executable(cmd[0], where, strict=True)
    base = os.path.basename(cmd[0])
    if base.startswith("python"):
        note_python(os.path.realpath(cmd[1]), where)
    if base in ("sh", "bash") and len(cmd) > 2 and cmd[1] == "-c":
        for w in commands_of_shell(cmd[2]):
            check_executable(w, where, strict=True)
    for a in cmd[1:]:
        if os.path.isabs(a) and os.path.isfile(a):
            if a.endswith(".py"):
                note_python(os.path.realpath(a), where)
            elif a.endswith(".sh") or (not under_project(a) and os.access(a, os.X_OK)):
                if under_project(a):
                    for w in commands_of_shell(open(a, errors="replace").read()):
                        check_executable(w, "%s (%s)" % (where, os.path.relpath(a, src)), strict=False)
                else:
                    check_executable(a, where, strict=True)
    if under_project(cmd[0]) and cmd[0].endswith(".sh"):
        for w in commands_of_shell(open(cmd[0], errors="replace").read()):
            check_executable(w, "%s (%s)" % (where, os.path.relpath(cmd[0], src)), strict=False)

# The lit suite: every RUN: line.
lit_dir = os.path.join(src, "test", "lit")
for root, _, files in os.walk(lit_dir):
    for f in sorted(files):
        path = os.path.join(root, f)
        if f.endswith(".py"):
            note_python(path, "lit configuration")
            continue
        if "Inputs" in path.split(os.sep):
            continue
        for n, line in enumerate(open(path, errors="replace"), 1):
            m = re.search(r"\bRUN:(.*)", line)
            if not m:
                continue
            body = m.group(1).rstrip().rstrip("\\")
            # lit's %python is the interpreter lit runs under (this one, from CMake); the
            # other substitutions (%s, %t, %S, ...) are paths, never commands of their own.
            body = body.replace("%python", sys.executable)
            body = re.sub(r"%[\w.]+", "nclc", body)
            for w in commands_of_shell(body):
                if w:
                    check_executable(w, "%s:%d" % (os.path.relpath(path, src), n), strict=True)


# --- Python modules --------------------------------------------------------------------------
local_modules = {}  # module name -> paths of files of that name in the repository
for top in ("test", "scripts", "bench", "examples", "docs"):
    for root, dirs, files in os.walk(os.path.join(src, top)):
        for f in files:
            if f.endswith(".py"):
                local_modules.setdefault(f[:-3], []).append(os.path.join(root, f))

search_path = [p for p in sys.path if p and not p.startswith(src)]
lit_exe = shutil.which("lit", path=llvm_tools) or os.path.join(llvm_tools, "lit")
if os.path.isfile(lit_exe):  # the lit configuration imports lit from where the lit script puts it
    search_path += re.findall(r"sys\.path\.insert\(\s*\d+\s*,\s*['\"]([^'\"]+)['\"]", open(lit_exe).read())
stdlib = set(sys.stdlib_module_names)
checked_modules = {}
queue = sorted(python_files)
seen = set(queue)
while queue:
    path = queue.pop()
    rel = os.path.relpath(path, src)
    try:
        tree = ast.parse(open(path, encoding="utf-8").read(), path)
    except SyntaxError as e:
        problems.append("%s: cannot be parsed: %s" % (rel, e))
        continue
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [(node.module, node.lineno)]
        else:
            continue
        for name, line in names:
            top = name.split(".")[0]
            where = "%s:%d" % (rel, line)
            if top in stdlib or top == "__future__":
                continue
            if top in local_modules:
                for p in local_modules[top]:
                    if p not in seen:
                        seen.add(p)
                        queue.append(p)
                continue
            spec = importlib.machinery.PathFinder.find_spec(top, search_path)
            if spec is None:
                problems.append("%s: imports '%s', which is not installed; the default install "
                                "(scripts/install-deps.sh) must provide it, or the test "
                                "must not need it" % (where, top))
                continue
            origin = spec.origin if spec.origin not in (None, "namespace") else \
                (list(spec.submodule_search_locations)[0] if spec.submodule_search_locations else None)
            if origin is None:
                continue
            if top not in checked_modules:
                checked_modules[top] = where
                check_package("module '%s'" % top, where, origin)

print("checked %d ctest commands, the lit RUN lines, %d executables and %d Python files "
      "(%d third-party modules) against %d allowed packages"
      % (len(tests), len(checked_exes), len(seen), len(checked_modules), len(allowed)))
if problems:
    for p in problems:
        print("error: " + p)
    sys.exit(1)
print("OK: everything the tests use comes with the default install")
