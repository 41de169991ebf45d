#!/usr/bin/env python3
"""The GPU images of a model library (docs/gpu.md), read back through its
descriptor by ncl-gpu-descriptor: a --target=cuda (and --target=all)
library lists PTX for each --gpu-arch, a cubin beside it where the CUDA
toolkit's ptxas exists, and every stage's GPU kernel and the runtime's
entries (model_abi.h), each an `.entry` of every PTX image and of
`nclc --emit=ptx`; a --target=cpu library has no
image and no GPU kernel. The --target=cuda library's CPU code is the CPU
library's: run by ncl-run (on the CPU), both write the same files.
nclc generates the PTX of sm_80 only and gives sm_90 the same PTX under its
own .version and .target: with ptxas, the library's sm_90 cubin must be,
byte for byte, the one ptxas makes of NVPTX's own PTX for sm_90
(`nclc --emit=ptx --gpu-arch=sm_90`), and the two PTX images must differ in
those two lines only. Stages whose entries differ only in their buffers and
constants share one (flag 0x100 of gpu_launch): hh's four populations of one
neuron model must, and brunel's two projections of one synapse model, whose
shared entry has a `_seq` beside it.

usage: gpu_descriptor.py NCLC DUMPER NCL_RUN WORKDIR MODEL...
"""
import os
import re
import shutil
import subprocess
import sys

# Models that must have a shared entry.
SHARED = {"hh.ncl", "brunel.ncl"}


def run(args, **kw):
    result = subprocess.run(args, capture_output=True, text=True, **kw)
    if result.returncode != 0:
        sys.exit(f"FAIL: {' '.join(args)} exited {result.returncode}:\n{result.stderr}")
    return result.stdout


def describe(dumper, library, directory):
    os.makedirs(directory, exist_ok=True)
    images, stages = [], []
    for line in run([dumper, library, directory]).splitlines():
        words = line.split()
        if words[0] == "image":
            images.append((words[1], words[2]))
        elif words[0] == "stage":
            # name, GPU kernel, gpu_launch, kind, the projection's
            # presynaptic traces
            stages.append((words[1], words[2], int(words[3]), int(words[4]), int(words[5])))
    return images, stages


def entries(ptx):
    return set(re.findall(r"^\.visible \.entry (\w+)\(", ptx, re.M))


def same_ptx_for_later_archs(nclc, model, directory, images, cubins, work):
    """The library's images of each architecture after the first: its PTX is
    the first's but for .version and .target, and (with ptxas) its cubin is
    the one of NVPTX's own PTX for that architecture."""
    def read(k):
        with open(os.path.join(directory, f"image{k}.{images[k][1]}"), "rb") as f:
            return f.read()
    def body(ptx):
        return [line for line in ptx.decode().splitlines()
                if not line.startswith((".version ", ".target "))]
    ptx_images = [k for k, (_, form) in enumerate(images) if form == "ptx"]
    first = read(ptx_images[0])
    for k in ptx_images[1:]:
        arch = images[k][0]
        if body(read(k)) != body(first):
            sys.exit(f"FAIL: {model}: the {arch} PTX is not the {images[0][0]} PTX "
                     f"under another header")
        if not cubins:
            continue
        own = os.path.join(work, f"own_{os.path.basename(model)}_{arch}.ptx")
        with open(own, "w") as f:
            f.write(run([nclc, model, "--target=cuda", "--emit=ptx", f"--gpu-arch={arch}"]))
        cubin = own + ".cubin"
        ptxas = os.path.join(os.environ.get("NCL_CUDA_PATH", "/usr/local/cuda"), "bin", "ptxas")
        run([ptxas, f"-arch={arch}", "-o", cubin, own])
        with open(cubin, "rb") as f:
            if f.read() != read(k + 1):
                sys.exit(f"FAIL: {model}: the library's {arch} cubin is not ptxas's of "
                         f"NVPTX's own {arch} PTX")


def main():
    nclc, dumper, ncl_run, work = sys.argv[1:5]
    models = sys.argv[5:]
    toolkit = os.environ.get("NCL_CUDA_PATH", "/usr/local/cuda")
    cubins = os.access(os.path.join(toolkit, "bin", "ptxas"), os.X_OK)
    archs = ["sm_80", "sm_90"]
    os.makedirs(work, exist_ok=True)
    for model in models:
        name = os.path.splitext(os.path.basename(model))[0]
        # CPU only: no image, no GPU kernel.
        cpu = os.path.join(work, f"gpu_{name}_cpu.so")
        run([nclc, model, "-o", cpu])
        images, stages = describe(dumper, cpu, os.path.join(work, f"gpu_{name}_cpu"))
        if images or not stages or any(kernel != "-" or launch != 0 for _, kernel, launch, _, _ in stages):
            sys.exit(f"FAIL: {name} --target=cpu: images {images}, stages {stages}")
        for target in ["cuda", "all"]:
            library = os.path.join(work, f"gpu_{name}_{target}.so")
            run([nclc, model, f"--target={target}", "-o", library])
            directory = os.path.join(work, f"gpu_{name}_{target}")
            images, stages = describe(dumper, library, directory)
            expected = []
            for arch in archs:
                expected.append((arch, "ptx"))
                if cubins:
                    expected.append((arch, "cubin"))
            if images != expected:
                sys.exit(f"FAIL: {name} --target={target}: images {images}, expected {expected}")
            # The host runs init, connect and connect_condition (kinds 1, 3,
            # 9): no GPU kernel; every other stage has one.
            host = [(s, k) for s, k, _, kind, _ in stages if kind in (1, 3, 9)]
            device = [(s, k) for s, k, _, kind, _ in stages if kind not in (1, 3, 9)]
            if any(k != "-" for _, k in host) or any(k == "-" for _, k in device) or not device:
                sys.exit(f"FAIL: {name} --target={target}: GPU kernels {stages}")
            # A deliver split in two (5) has a second entry, <kernel>_commit,
            # and a dense sum with member tiles (flags 0x400, 0x800 and
            # 0x1000: 4, 8 and 16 members) <kernel>_tiles, _tiles8, _tiles16;
            # every image has the runtime's entries (model_abi.h): the spike
            # list, the count copies, the spike gather, the records' gather
            # and the test of the state for NaN; and an image of a network with per-synapse delays (a
            # deliver_synapses stage, kind 8) the arrival queues' entry, no
            # other.
            kernels = {k for _, k in device} | {
                k + "_commit" for _, k, launch, _, _ in stages if launch == 5} | {
                k + suffix for _, k, launch, _, _ in stages
                for flag, suffix in ((0x400, "_tiles"), (0x800, "_tiles8"), (0x1000, "_tiles16"))
                if launch & flag} | {
                "ncl_spike_lists_gpu", "ncl_copy_counts_gpu", "ncl_gather_spikes_gpu",
                "ncl_gather_records_gpu", "ncl_find_nonfinite_gpu"}
            if any(kind == 8 for _, _, _, kind, _ in stages):
                kernels.add("ncl_arrivals_byte_delays_gpu")
            # A shared entry (flag 0x100) of deliveries (kinds 4, 8) a thread
            # per index or target (1, 4), or in a network with deliveries of
            # the updates (2) of three populations or more a thread per
            # index, has `<entry>_seq` beside it.
            delivers = any(kind in (4, 8) for _, _, _, kind, _ in stages)
            sharing = {}
            for _, k, launch, kind, _ in stages:
                if kind == 2 and launch & 0x100:
                    sharing[k] = sharing.get(k, 0) + 1
            kernels |= {k + "_seq" for _, k, launch, kind, _ in stages
                        if launch & 0x100 and ((kind in (4, 8) and launch & 0xff in (1, 6))
                                               or (kind == 2 and launch & 0xff == 1
                                                   and delivers and sharing[k] >= 3))}
            # And an update's `_seq` its lean form, `_seq_lean`.
            kernels |= {k + "_seq_lean" for _, k, launch, kind, _ in stages
                        if kind == 2 and launch & 0x100 and launch & 0xff == 1
                        and delivers and sharing[k] >= 3}
            # ncl_gpu_launch as ncl-gpu-map chose it: the k-WTA selections
            # (kinds 11, 16) on thread 0 (2), deliver_synapses (8, delays'
            # per-synapse delays) a thread per postsynaptic neuron, its list
            # beginning with its bucket starts (6), on_post
            # (6) a thread per postsynaptic spike (3), a deliver (4) with
            # presynaptic traces (stdp_song's) a thread per index and its
            # commit (5), every other device stage of these models a thread
            # per index (1); never 0, the runtime's guess for older
            # libraries, but for the host's.
            for stage, _, launch, kind, pre_traces in stages:
                want = (0 if kind in (1, 3, 9) else 2 if kind in (11, 16) else 6 if kind == 8
                        else 3 if kind == 6 else 5 if kind == 4 and pre_traces > 0 else 1)
                if launch & 0xff != want:
                    sys.exit(f"FAIL: {name} --target={target}: {stage} has gpu_launch {launch}, "
                             f"expected {want}")
            # NCL_GPU_LAUNCH_SHARED_ENTRY (0x100) on exactly the stages whose
            # entry several stages name (docs/gpu.md, "Shared entries"), and
            # on nothing else; NCL_GPU_LAUNCH_SEQ_BLOCKS (0x200) on exactly
            # those whose entry has a _seq (which reads the first blocks);
            # NCL_GPU_LAUNCH_MEMBER_TILES (0x400) and its sizes (0x800,
            # 0x1000) on every sum (5), which is dense in these models, and
            # never with 0x100.
            named = [k for _, k in device]
            for stage, kernel, launch, kind, _ in stages:
                shared = kind not in (1, 3, 9) and named.count(kernel) > 1 and kind != 5
                flags = (0x100 if shared else 0) | (
                    0x200 if shared and kernel + "_seq" in kernels else 0) | (
                    0x1c00 if kind == 5 else 0)
                if launch & ~0xff != flags:
                    sys.exit(f"FAIL: {name} --target={target}: {stage} has gpu_launch {launch} "
                             f"for the entry {kernel}, named by {named.count(kernel)} stages")
            if os.path.basename(model) in SHARED and not any(named.count(k) > 1 for k in named):
                sys.exit(f"FAIL: {name} --target={target}: no shared entry in {named}")
            for k, (arch, form) in enumerate(images):
                path = os.path.join(directory, f"image{k}.{form}")
                with open(path, "rb") as f:
                    data = f.read()
                if form == "cubin":
                    if not data.startswith(b"\x7fELF"):
                        sys.exit(f"FAIL: {path} is not an ELF cubin")
                    continue
                ptx = data.decode()
                if f".target {arch}" not in ptx:
                    sys.exit(f"FAIL: {path} is not PTX for {arch}")
                if entries(ptx) != kernels:
                    sys.exit(f"FAIL: {path}: entries {sorted(entries(ptx))}, "
                             f"stages name {sorted(kernels)}")
            if target == "cuda":
                same_ptx_for_later_archs(nclc, model, directory, images, cubins, work)
        # The CPU code of the GPU library runs as the CPU library does.
        outputs = {}
        for target in ["cpu", "cuda"]:
            out = os.path.join(work, f"gpu_{name}_{target}_run")
            shutil.rmtree(out, ignore_errors=True)
            run([ncl_run, os.path.join(work, f"gpu_{name}_{target}.so"), "--time", "20ms",
                 "--out", out, "--quiet"])
            outputs[target] = {f: open(os.path.join(out, f), "rb").read()
                               for f in sorted(os.listdir(out)) if not f.endswith(".json")}
        if not outputs["cpu"] or outputs["cpu"] != outputs["cuda"]:
            sys.exit(f"FAIL: {name}: the --target=cuda library's CPU run differs from "
                     f"--target=cpu's (files {sorted(outputs['cuda'])})")
        # What --emit=ptx prints is the first architecture's image.
        printed = run([nclc, model, "--emit=ptx"])
        if entries(printed) != kernels or ".target sm_80" not in printed:
            sys.exit(f"FAIL: {name} --emit=ptx: entries {sorted(entries(printed))}")
        print(f"{name}: {len(stages)} stages, images {images}")
    print("cubins: " + ("assembled by " + toolkit + "/bin/ptxas" if cubins
                        else "none (no ptxas at " + toolkit + "/bin/ptxas)"))


if __name__ == "__main__":
    main()
