#!/usr/bin/python3
"""Compiles the NCL code blocks of a Markdown file, so the docs cannot rot.

    check_docs.py NCLC DOC.md WORK_DIR

Fenced code blocks (``` or ~~~) are classified by their info string:

  ```ncl             must pass `nclc --check`; a block with a network must
                     also build into a library
  ```ncl-error       must FAIL `nclc --check`, and its output must contain the
                     text of each trailing `# error: TEXT` line of the block
  ```ncl fragment    (any info string containing the word `fragment`) skipped
  anything else      not NCL, ignored (an untagged ``` block included; they
                     are listed with --untagged)

Each block is written to WORK_DIR/<doc>-L<line>.ncl and checked with the
docs directory as working directory and, when nclc has -I, as include path
(so `import`s of files next to the docs resolve).
Failures name the docs file and the line of the block's opening fence.
"""
import argparse
import os
import re
import subprocess
import sys

FENCE = re.compile(r"^( {0,3})(`{3,}|~{3,})(.*)$")
ERROR_LINE = re.compile(r"^\s*(?:#|//)\s*error:\s*(.*?)\s*$")


class Block:
    def __init__(self, line, info, text):
        self.line = line        # 1-based line of the opening fence
        self.info = info        # the info string, stripped
        self.text = text

    @property
    def words(self):
        return self.info.replace(",", " ").replace("{", " ").replace("}", " ").split()

    @property
    def lang(self):
        return self.words[0] if self.words else ""


def blocks(markdown):
    """Yields the fenced code blocks of a CommonMark document."""
    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m or (m.group(2)[0] == "`" and "`" in m.group(3)):
            i += 1
            continue
        indent, fence, info = len(m.group(1)), m.group(2), m.group(3).strip()
        start, body = i + 1, []
        i += 1
        while i < len(lines):
            close = re.match(r"^ {0,3}(%s{%d,})\s*$" % (re.escape(fence[0]), len(fence)), lines[i])
            if close:
                break
            line = lines[i]
            # Content is de-indented by the fence's indentation.
            strip = len(line) - len(line.lstrip(" "))
            body.append(line[min(indent, strip):])
            i += 1
        i += 1  # past the closing fence (or the end of the document)
        yield Block(start, info, "\n".join(body) + "\n")


def expected_errors(text):
    """The `# error: ...` lines at the end of a block (the trailing comment lines)."""
    errors = []
    for line in reversed(text.rstrip("\n").splitlines()):
        if not line.strip():
            continue
        m = ERROR_LINE.match(line)
        if not m:
            break
        errors.append(m.group(1))
    return list(reversed(errors))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("nclc")
    ap.add_argument("doc")
    ap.add_argument("work")
    ap.add_argument("--untagged", action="store_true",
                    help="also check untagged ``` blocks as ncl (to see which would fail)")
    args = ap.parse_args()

    nclc = os.path.abspath(args.nclc)
    doc = os.path.abspath(args.doc)
    docdir = os.path.dirname(doc)
    name = os.path.basename(doc)
    shown = os.path.join(os.path.basename(docdir), name)  # e.g. docs/language.md
    os.makedirs(args.work, exist_ok=True)
    with open(doc, encoding="utf-8") as f:
        markdown = f.read()

    # Blocks may `import` files next to the docs: nclc runs in the docs
    # directory, and gets -I <docs> where it has that option.
    extra = []
    try:
        helptext = subprocess.run([nclc, "--help"], stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, universal_newlines=True,
                                  timeout=60).stdout
        if re.search(r"(?m)^\s*-I[\s=<]", helptext):
            extra = ["-I", docdir]
    except (OSError, subprocess.SubprocessError):
        pass

    checked = skipped = 0
    failures = []
    for b in blocks(markdown):
        lang = b.lang
        if args.untagged and lang == "":
            lang = "ncl"
        if lang not in ("ncl", "ncl-error"):
            continue
        where = "%s:%d" % (shown, b.line)
        if "fragment" in b.words[1:]:
            skipped += 1
            continue
        path = os.path.join(os.path.abspath(args.work),
                            "%s-L%d.ncl" % (os.path.splitext(name)[0], b.line))
        with open(path, "w", encoding="utf-8") as f:
            f.write(b.text)
        proc = subprocess.run([nclc, "--check"] + extra + [path], cwd=docdir,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              universal_newlines=True, timeout=60)
        # Point nclc's file:line:col at the docs file (block line 1 is the
        # line after the fence).
        out = re.sub(r"(?m)^%s:(\d+):" % re.escape(path),
                     lambda m: "%s:%d:" % (shown, b.line + int(m.group(1))), proc.stdout)
        checked += 1
        if lang == "ncl":
            if proc.returncode != 0:
                failures.append("%s: ```ncl block does not compile (nclc --check exit %d):\n%s"
                                % (where, proc.returncode, out))
            elif re.search(r"(?m)^\s*network\b", b.text):
                # A whole model: also generate its library, so the example
                # goes through every stage, not only the checks.
                lib = path[:-len(".ncl")] + ".so"
                full = subprocess.run([nclc] + extra + [path, "-o", lib], cwd=docdir,
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                      universal_newlines=True, timeout=120)
                if full.returncode != 0:
                    failures.append("%s: ```ncl block passes --check but does not build "
                                    "(nclc exit %d):\n%s" % (where, full.returncode, full.stdout))
            continue
        want = expected_errors(b.text)
        if not want:
            failures.append("%s: ```ncl-error block has no trailing '# error: ...' line" % where)
        elif proc.returncode == 0:
            failures.append("%s: ```ncl-error block compiles, but should fail with: %s"
                            % (where, "; ".join(want)))
        elif proc.returncode < 0 or proc.returncode > 1:
            failures.append("%s: ```ncl-error block crashed nclc (exit %d):\n%s"
                            % (where, proc.returncode, out))
        else:
            missing = [w for w in want if w not in out]
            if missing:
                failures.append("%s: ```ncl-error block fails, but without the expected error %s; "
                                "nclc said:\n%s" % (where, "; ".join(repr(w) for w in missing), out))

    for f in failures:
        print("FAIL " + f.rstrip("\n") + "\n")
    print("%s: %d block(s) checked, %d fragment(s) skipped, %d failure(s)"
          % (shown, checked, skipped, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
