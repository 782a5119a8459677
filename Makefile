# Thin wrapper over the project's scripts; see README.md.
.PHONY: all deps build build-asan build-tsan test unit demo bench cluster-up cluster-down clean

BUILD_DIR ?= build
ASAN_DIR ?= build-asan
TSAN_DIR ?= build-tsan
CMAKE_FLAGS ?=

all: build

deps:
	@scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null
	@ninja -C $(BUILD_DIR)

build-asan: deps
	@cmake -S . -B $(ASAN_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DEO_SANITIZE=ON $(CMAKE_FLAGS) >/dev/null
	@ninja -C $(ASAN_DIR)

# ThreadSanitizer, for the unit tests of the layers that run threads
# (runtime/: queue, informers, manager, writers; app/: reconciler, checker).
build-tsan: deps
	@cmake -S . -B $(TSAN_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DEO_TSAN=ON $(CMAKE_FLAGS) >/dev/null
	@ninja -C $(TSAN_DIR) unit_runtime unit_app

# Unit tests only (no cluster), in the normal and the sanitizer builds.
unit: build build-asan build-tsan
	@scripts/test.sh --unit-only

# Everything: unit tests, then the local control plane, integration and e2e.
test: build build-asan build-tsan
	@scripts/test.sh

demo: build
	@scripts/demo.sh

# The budget of `make bench` (EO_BENCH_BUDGET_SECONDS) counts the build too.
bench:
	@started=$$(date +%s); $(MAKE) --no-print-directory build && EO_BENCH_STARTED=$$started scripts/bench.sh

cluster-up:
	@tests/cluster/cluster up

cluster-down:
	@tests/cluster/cluster down

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR)
