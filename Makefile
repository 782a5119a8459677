# Thin wrapper over the project's scripts; see README.md.
.PHONY: all deps build build-asan build-tsan build-fuzz test unit fuzz soak demo bench cluster-up cluster-down clean

BUILD_DIR ?= build
ASAN_DIR ?= build-asan
TSAN_DIR ?= build-tsan
FUZZ_DIR ?= build-fuzz
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

# The libFuzzer targets (tests/fuzz/), with clang, ASan and UBSan, into
# build-fuzz/bin/; only the layer libraries they link are built.
build-fuzz: deps
	@cmake -S . -B $(FUZZ_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++-14 \
	  -DEO_FUZZ=ON -DEO_BUILD_TESTS=OFF $(CMAKE_FLAGS) >/dev/null
	@ninja -C $(FUZZ_DIR) fuzz_targets

# Unit tests only (no cluster), in the normal and the sanitizer builds, and
# each fuzz target for EO_FUZZ_TEST_SECONDS (30).
unit: build build-asan build-tsan build-fuzz
	@scripts/test.sh --unit-only

# Everything: unit tests, fuzzing, then the local control plane, integration and e2e.
test: build build-asan build-tsan build-fuzz
	@scripts/test.sh

# Each fuzz target for EO_FUZZ_SECONDS (300); writes tests/fuzz/results/latest.json.
fuzz: build-fuzz
	@scripts/fuzz.sh

# The churn soak for 10 minutes (scripts/soak.sh); writes tests/integration/results/soak.json.
soak: build
	@scripts/soak.sh

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
	rm -rf $(BUILD_DIR) $(ASAN_DIR) $(FUZZ_DIR)
