# The two quick-start commands: `make run` and `make test`. Both install the
# Debian packages that are missing, configure and build; `make bench` runs the
# benchmarks against their peers (not part of `make test`).
BUILD   ?= build
CMAKE_FLAGS ?=
LLVM    := /usr/lib/llvm-22

.PHONY: all deps configure build run test bench clean

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
	$(BUILD)/bin/nclc examples/lif.ncl -o $(BUILD)/lif.so
	$(BUILD)/bin/ncl-run $(BUILD)/lif.so --out $(BUILD)/lif-out

test: build
	cd $(BUILD) && ctest --output-on-failure -j2

bench: build
	@NCL_INSTALL_BENCH=1 ./scripts/install-deps.sh
	/usr/bin/python3 bench/run_benchmarks.py --build $(BUILD)

clean:
	rm -rf $(BUILD)
