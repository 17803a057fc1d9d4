# Entry points: `make run` serves examples/hello.py on http://127.0.0.1:8000,
# `make test` runs every test tier (ctest, bounded fuzzing, sanitizers), `make build` only
# builds, `make bench` compares peers and `make bench-scenario` runs the scaler's scenarios;
# `make fuzz` fuzzes longer, `make sanitize` runs the sanitizer tier alone.
# EMBED_PYTHON: the CPython 3.9-3.13 the worker embeds (Debian's by default, in build/;
# another one builds in build-pyX.Y/, e.g. `make build EMBED_PYTHON=~/.pyenv/versions/3.12.1/bin/python3.12`).
# PYTHON runs the test and benchmark scripts.
EMBED_PYTHON ?= /usr/bin/python3
ifeq ($(EMBED_PYTHON),/usr/bin/python3)
BUILD ?= build
else
BUILD ?= build-py$(shell $(EMBED_PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])')
endif
JOBS ?= $(shell nproc)
PYTHON := /usr/bin/python3
CMAKE_FLAGS := -DPython_EXECUTABLE=$(EMBED_PYTHON) -DPYBIND11_FINDPYTHON=ON \
	-DCMAKE_BUILD_TYPE=RelWithDebInfo
# ccache when installed (TEST_PACKAGES): build folders at the same depth share the objects
# that do not depend on Python (the version matrix and pip tests build beside build/).
export CCACHE_BASEDIR ?= $(CURDIR)
export CCACHE_NOHASHDIR ?= 1

# Debian packages: build dependencies, then what the tests and benchmarks run.
BUILD_PACKAGES := g++ cmake make pkg-config python3-dev pybind11-dev libcpp-httplib-dev libssl-dev \
	nlohmann-json3-dev prometheus-cpp-dev libgtest-dev
# issue 18: man pages (help2man, in the default build), the Debian package (dpkg-dev's
# dpkg-shlibdeps for make deb); man -l, logrotate and strace (the unit's syscall filter) for the tests.
BUILD_PACKAGES += help2man dpkg-dev
TEST_PACKAGES_OPS := man-db logrotate strace
TEST_PACKAGES := python3-flask python3-django python3-yaml curl wrk nghttp2-client nginx-light prometheus \
	tmux openssl systemd sslscan haproxy python3-venv ccache $(TEST_PACKAGES_OPS)
# kubectl (test_deploy_k8s) is not one of them: Debian's kubernetes-client 1.20 cannot render
# deploy/k8s (its kustomize predates `labels`); the image's google-cloud-sdk kubectl does.
BENCH_PACKAGES := wrk nghttp2-client gunicorn uwsgi-core uwsgi-plugin-python3 nginx-light \
	python3-matplotlib python3-waitress \
	python3-numpy python3-pandas python3-sqlalchemy
# clang-14 with libFuzzer and the ASan/UBSan runtimes, for the fuzzing and sanitizer tiers
# (tests/fuzz/README.md, tests/sanitize/README.md); they build their own trees, build-fuzz/
# and build-asan/.
SANITIZE_PACKAGES := clang-14 libfuzzer-14-dev libclang-rt-14-dev
# Fuzzing time per target: bounded in `make test`, longer in `make fuzz`.
FUZZ_SECONDS ?= 60
FUZZ_LONG_SECONDS ?= 600

.PHONY: setup setup-bench build run test fuzz sanitize bench bench-python bench-scenario clean deb

define install_missing
	@missing=$$(for p in $(1); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
		grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		if [ "$$(id -u)" != 0 ]; then echo "run as root to install packages" >&2; exit 1; fi; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	fi
endef

setup:
	$(call install_missing,$(BUILD_PACKAGES) $(TEST_PACKAGES) $(SANITIZE_PACKAGES))

setup-bench: setup
	$(call install_missing,$(BENCH_PACKAGES))

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS) \
		$$(command -v ccache >/dev/null && echo -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)

build: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

run: setup build
	exec $(BUILD)/bin/wsgid -b 127.0.0.1:8000 --chdir examples hello:app

# Three tiers, each run even when an earlier one failed (one run shows every failure); the
# target fails if any did: the ctest tiers (unit, integration, conformance, bench smoke), a
# bounded fuzzing run (regression and seed inputs, then FUZZ_SECONDS per target) and the
# ASan+UBSan build of the unit, integration and conformance tiers.
test: setup build
	@failed=""; \
	(cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 600) || failed="$$failed ctest"; \
	tests/fuzz/run_fuzzers.sh --jobs 2 $(FUZZ_SECONDS) || failed="$$failed fuzz"; \
	tests/sanitize/run_sanitized.sh --jobs 2 || failed="$$failed sanitize"; \
	if [ -n "$$failed" ]; then echo "make test: FAILED:$$failed" >&2; exit 1; fi; \
	echo "make test: all tiers passed (ctest, fuzz, sanitize)"

fuzz: setup
	tests/fuzz/run_fuzzers.sh --jobs 2 $(FUZZ_LONG_SECONDS)

sanitize: setup
	tests/sanitize/run_sanitized.sh --jobs 2

# Every benchmark but the scaler's scenarios, ending with bench-python (issue 14).
bench: setup-bench build
	$(PYTHON) tests/bench/run.py --bin-dir $(BUILD)/bin
	$(PYTHON) tests/bench/preload.py --bin-dir $(BUILD)/bin
	$(PYTHON) tests/bench/tls_bench.py --bin-dir $(BUILD)/bin
	$(MAKE) bench-python

# Hello world from the worker built against another CPython (BENCH_PYTHON, pyenv's newest
# 3.12 by default) beside the default build's, in one run: the wsgid/x column is the ratio,
# and tests/bench/results/python/results.md names the Python each row embeds.
PYENV_ROOT ?= $(shell command -v pyenv >/dev/null && pyenv root || echo $(HOME)/.pyenv)
BENCH_PYTHON ?= $(lastword $(sort $(wildcard $(PYENV_ROOT)/versions/3.12.*/bin/python3.12)))
bench-python: setup-bench build
	@test -n "$(BENCH_PYTHON)" || { echo "no BENCH_PYTHON (pyenv's 3.12 not found)" >&2; exit 1; }
	$(MAKE) build EMBED_PYTHON=$(BENCH_PYTHON)
	$(PYTHON) tests/bench/run.py --servers wsgid,wsgid-alt --workloads hello --no-charts \
		--bin-dir $(BUILD)/bin \
		--alt-bin-dir build-py$$($(BENCH_PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])')/bin \
		--results-dir tests/bench/results/python

# The scaler's scenario benchmark (about 20 minutes); e.g.
# make bench-scenario SCENARIO_FLAGS="--phase-seconds 5 --scenarios io"
bench-scenario: setup-bench build
	$(PYTHON) tests/bench/scenario.py --bin-dir $(BUILD)/bin $(SCENARIO_FLAGS)

# The Debian package of the default build (packaging/CMakeLists.txt): $(BUILD)/wsgid_*.deb.
deb: build
	cd $(BUILD) && cpack -G DEB

clean:
	rm -rf $(BUILD)
