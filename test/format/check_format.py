#!/usr/bin/env python3
"""The C and C++ sources follow the repository's .clang-format.

    check_format.py CLANG_FORMAT SOURCE_DIR

Runs `clang-format --dry-run` over every .c, .cpp, .h and .hpp file under the
source directories (not build trees) and fails naming each file that
`make format` would change. clang-format-22 comes from scripts/install-deps.sh;
another version formats differently, so it is named exactly.
"""
import os
import pathlib
import subprocess
import sys

DIRS = ["support", "dsl", "dialects", "compiler", "runtime", "test", "bench", "examples"]
SUFFIXES = {".c", ".cpp", ".h", ".hpp"}


def sources(root):
    for top in DIRS:
        for path in sorted((root / top).rglob("*")):
            if path.suffix in SUFFIXES and path.is_file():
                yield path


def main():
    clang_format, root = sys.argv[1], pathlib.Path(sys.argv[2])
    if not clang_format or not os.access(clang_format, os.X_OK):
        sys.exit("clang-format-22 not found: run scripts/install-deps.sh")
    files = list(sources(root))
    unformatted = []
    for path in files:
        result = subprocess.run([clang_format, "--dry-run", "--Werror", f"--style=file:{root / '.clang-format'}",
                                 str(path)], capture_output=True, text=True)
        if result.returncode != 0:
            unformatted.append(str(path.relative_to(root)))
    if unformatted:
        sys.exit("not formatted with .clang-format (run `make format`):\n  " + "\n  ".join(unformatted))
    print(f"{len(files)} files formatted")


if __name__ == "__main__":
    main()
