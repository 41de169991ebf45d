#!/usr/bin/env python3
"""The reference generated from the .td files (target ncl-doc, add_mlir_doc):
build it, then check that every op defined in NclOps.td has its section in
build/docs/ncl/NclDialect.md with its summary and every line of its
description (its MLIR example included), that every attribute of
NclAttributes.td has its section in NclAttributes.md likewise, and that every
pass of the Passes.td files has its section with its summary and description.

The .td files are read here with a few regular expressions, apart from
mlir-tblgen, so a reference that drops an op or a description fails.

Usage: check_op_reference.py CMAKE BUILD_DIR SOURCE_DIR
"""
import os
import re
import subprocess
import sys

cmake, build, src = sys.argv[1:4]
problems = []

# Generated afresh: a page left over or edited by hand is not what is checked.
docs = os.path.join(build, "docs", "ncl")
for page in ["NclDialect.md", "NclAttributes.md", "NclTransformsPasses.md", "NclConversionPasses.md"]:
    if os.path.exists(os.path.join(docs, page)):
        os.remove(os.path.join(docs, page))
r = subprocess.run([cmake, "--build", build, "--target", "ncl-doc"],
                   capture_output=True, text=True)
if r.returncode != 0:
    sys.exit("building ncl-doc failed:\n" + r.stdout + r.stderr)


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def td_records(text, kind):
    """(name, template argument, summary, description lines) of each `def`
    of class `kind` (Ncl_Op or Pass) in a .td file."""
    out = []
    heads = list(re.finditer(r'^def (\w+)\s*:\s*%s<"([^"]+)"' % kind, text, re.M))
    for k, m in enumerate(heads):
        body = text[m.end():heads[k + 1].start() if k + 1 < len(heads) else len(text)]
        summary = re.search(r'let summary = "((?:[^"\\]|\\.)*)";', body)
        description = re.search(r"let description = \[\{(.*?)\}\];", body, re.S)
        lines = [l.strip() for l in description.group(1).splitlines()] if description else []
        out.append((m.group(1), m.group(2), summary.group(1) if summary else None,
                    [l for l in lines if l]))
    return out


def sections(markdown):
    """{heading line: body} of the `### ` sections of a generated page."""
    parts = re.split(r"^### ", markdown, flags=re.M)[1:]
    return {p.split("\n", 1)[0].strip(): p for p in parts}


def check(what, section, summary, description):
    if summary is None:
        problems.append(f"{what}: no summary in the .td")
    # mlir-tblgen capitalises a summary's first letter.
    elif summary not in section and summary[:1].upper() + summary[1:] not in section:
        problems.append(f"{what}: the summary '{summary}' is not in its section")
    if not description:
        problems.append(f"{what}: no description in the .td")
    lines = [l.strip() for l in section.splitlines()]
    at = 0
    for want in description:
        try:
            at = lines.index(want, at) + 1
        except ValueError:
            problems.append(f"{what}: its section lacks the description line '{want}'")
            return


ops_td = os.path.join(src, "dialects/include/ncl/Dialect/Ncl/IR/NclOps.td")
dialect = sections(read(os.path.join(docs, "NclDialect.md")))
ops = td_records(read(ops_td), "Ncl_Op")
if not ops:
    problems.append(f"no ops found in {ops_td}")
for name, mnemonic, summary, description in ops:
    cls = name[len("Ncl_"):] if name.startswith("Ncl_") else name
    heading = f"`ncl.{mnemonic}` (ncl::{cls})"
    if heading not in dialect:
        problems.append(f"ncl.{mnemonic}: no section '### {heading}' in NclDialect.md")
        continue
    check(f"ncl.{mnemonic}", dialect[heading], summary, description)

attrs_td = os.path.join(src, "dialects/include/ncl/Dialect/Ncl/IR/NclAttributes.td")
attr_page = sections(read(os.path.join(docs, "NclAttributes.md")))
attrs = td_records(read(attrs_td), "Ncl_Attr")
if not attrs:
    problems.append(f"no attributes found in {attrs_td}")
for _, cls, summary, description in attrs:
    heading = f"{cls}Attr"
    if heading not in attr_page:
        problems.append(f"{heading}: no section '### {heading}' in NclAttributes.md")
        continue
    check(heading, attr_page[heading], summary, description)

for td, page in [("dialects/include/ncl/Dialect/Ncl/Transforms/Passes.td", "NclTransformsPasses.md"),
                 ("compiler/include/ncl/Conversion/Passes.td", "NclConversionPasses.md")]:
    passes = td_records(read(os.path.join(src, td)), "Pass")
    if not passes:
        problems.append(f"no passes found in {td}")
    generated = sections(read(os.path.join(docs, page)))
    for _, flag, summary, description in passes:
        heading = f"`-{flag}`"
        if heading not in generated:
            problems.append(f"{flag}: no section '### {heading}' in {page}")
            continue
        check(flag, generated[heading], summary, description)

if problems:
    print("\n".join(problems))
    sys.exit(1)
print(f"{len(ops)} ops, {len(attrs)} attributes and the passes documented in {docs}")
