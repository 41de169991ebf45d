# The two quick-start commands: `make run` and `make test`. Both install the
# Debian packages that are missing, configure and build; `make bench` runs the
# benchmarks against their peers, `make test-sanitize` and `make test-tsan`
# the tests under sanitizers (none of these is part of `make test`);
# `make install PREFIX=/opt/ncl` installs the SDK, `make package` builds its Debian
# package (docs/embedding.md), `make gpu-bundle` the folder that checks and benchmarks
# the GPU backend on a machine with a GPU but no NCL build (docs/gpu.md).
BUILD   ?= build
CMAKE_FLAGS ?=
# `make bench BENCH_ARGS=--quick`: a short smoke run; also --skip-lif, --skip-networks,
# --skip-kwta.
BENCH_ARGS ?=
LLVM    := /usr/lib/llvm-22
PREFIX  ?= /usr/local

.PHONY: all deps configure build run test bench gpu-bundle install package format test-sanitize test-tsan clean

all: build

deps:
	@./scripts/install-deps.sh

$(BUILD)/build.ninja: | deps
	cmake -G Ninja -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release \
	  -DMLIR_DIR=$(LLVM)/lib/cmake/mlir -DLLVM_EXTERNAL_LIT=$(LLVM)/bin/lit \
	  $$(command -v ccache >/dev/null && echo -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache) \
	  $(CMAKE_FLAGS)

configure: deps $(BUILD)/build.ninja

build: configure
	cmake --build $(BUILD)

run: build
	$(BUILD)/bin/nclc examples/cuba.ncl -o $(BUILD)/cuba.so
	$(BUILD)/bin/ncl-run $(BUILD)/cuba.so --out $(BUILD)/cuba-out

test: build
	cd $(BUILD) && ctest --output-on-failure -j2

install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

# The SDK as a Debian package, $(BUILD)/ncl_<version>_<arch>.deb (docs/embedding.md).
package: build
	cd $(BUILD) && cpack -G DEB

bench: build
	@NCL_INSTALL_BENCH=1 ./scripts/install-deps.sh
	/usr/bin/python3 bench/run_benchmarks.py --build $(BUILD) $(BENCH_ARGS)

# .gpu-bundle/: every example and the GPU benchmarks compiled for GPU_ARCH, with
# ncl-run and libnclrt; run .gpu-bundle/run.sh where the GPU is.
GPU_ARCH ?= sm_90
gpu-bundle: build
	/usr/bin/python3 bench/gpu/make_bundle.py --build $(BUILD) --out .gpu-bundle --gpu-arch $(GPU_ARCH)

# Sanitizers, in their own build directories. Slow (the ASan build and suite
# take about three times as long as the normal ones): run them before a
# release and after changing the runtime's threads, memory or file handling.
# - test-sanitize: ASan+UBSan over the whole ctest suite. The unit tests run
#   first on their own with leak checking; in the suite, Python loads
#   libnclrt through ctypes, so libasan is preloaded (ASan must come first),
#   with libstdc++ (else ASan cannot intercept a C++ throw in a process that
#   did not start with libstdc++), and leak checking is off (the
#   interpreter's own allocations are not ours). The fuzzer's replay test
#   runs apart: it carries clang's ASan runtime, which must not meet gcc's.
#   Manual poisoning is off (allow_user_poisoning=0): LLVM's allocators poison
#   and unpoison only in instrumented code, and libMLIR is not (see
#   test/fuzz/run_fuzz.sh).
# - test-tsan: TSan over the runtime's tests (libnclrt, ncl-run, fixtures).
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
# A sanitizer report exits 134, like an abort, so that expect_error.sh (which
# accepts any exit status from 1 to 127 as a clean error) counts it a crash.
SANITIZER_ENV := NCL_TEST_SANITIZER=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=134

test-sanitize: deps
	$(MAKE) BUILD=$(ASAN_BUILD) CMAKE_FLAGS="-DNCL_SANITIZE=address,undefined $(CMAKE_FLAGS)" build
	for t in nclrt-unittests ncl-dsl-unittests ncl-random-unittests; do \
	  $(SANITIZER_ENV) ASAN_OPTIONS=detect_leaks=1:exitcode=134:allow_user_poisoning=0 $(ASAN_BUILD)/bin/$$t --gtest_brief=1 || exit 1; \
	done
	cd $(ASAN_BUILD) && $(SANITIZER_ENV) ASAN_OPTIONS=detect_leaks=0:exitcode=134:allow_user_poisoning=0 \
	  LD_PRELOAD="$$($(CXX) -print-file-name=libasan.so) $$($(CXX) -print-file-name=libstdc++.so.6)" \
	  ctest --output-on-failure -j2 -E '^fuzz/'
	cd $(ASAN_BUILD) && ctest --output-on-failure -R '^fuzz/'

test-tsan: deps
	$(MAKE) BUILD=$(TSAN_BUILD) CMAKE_FLAGS="-DNCL_SANITIZE=thread $(CMAKE_FLAGS)" configure
	cmake --build $(TSAN_BUILD) --target ncl-run nclrt-unittests
	cd $(TSAN_BUILD) && $(SANITIZER_ENV) TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:exitcode=134 \
	  ctest --output-on-failure -j2 -R '^nclrt\.' -E 'truncated-library'

# Formats every C and C++ source with .clang-format (clang-format-22, as the
# ctest format/clang-format checks).
format: deps
	find support dsl dialects compiler runtime test bench examples -type f \
	  \( -name '*.c' -o -name '*.cpp' -o -name '*.h' -o -name '*.hpp' \) \
	  -exec $(LLVM)/bin/clang-format -i --style=file {} +

clean:
	rm -rf $(BUILD)
