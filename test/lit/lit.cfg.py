# lit configuration of NCL's IR and diagnostics tests.
import os

import lit.formats
from lit.llvm import llvm_config

config.name = "NCL"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".ncl"]
config.excludes = ["Inputs", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.ncl_obj_root)

config.environment["FILECHECK_OPTS"] = "-enable-var-scope"
llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.add_tool_substitutions(["ncl-opt", "nclc", "ncl-run"], [config.ncl_tools_dir])
config.substitutions.append(("%examples", os.path.join(config.ncl_src_root, "examples")))

# The descriptor's ABI version, as runtime/include/ncl/model_abi.h defines it,
# so that tests of the descriptor need no edit when it moves.
import re  # noqa: E402

with open(os.path.join(config.ncl_src_root, "runtime", "include", "ncl", "model_abi.h")) as abi:
    config.substitutions.append(
        ("%ncl_abi", re.search(r"#define NCL_ABI_VERSION (\d+)u", abi.read()).group(1)))

# CUDA's libdevice where nclc --target=cuda looks for it (docs/gpu.md): tests
# of kernels that call libdevice run only where it is installed.
if os.path.isfile("/usr/local/cuda/nvvm/libdevice/libdevice.10.bc"):
    config.available_features.add("cuda-libdevice")
