# Entry points: `make run` serves examples/hello.py on http://127.0.0.1:8000,
# `make test` runs every test tier, `make build` only builds, `make bench` compares peers.
BUILD ?= build
JOBS ?= $(shell nproc)
PYTHON := /usr/bin/python3
CMAKE_FLAGS := -DPython_EXECUTABLE=$(PYTHON) -DPYBIND11_FINDPYTHON=ON \
	-DCMAKE_BUILD_TYPE=RelWithDebInfo

# Debian packages: build dependencies, then what the tests and benchmarks run.
BUILD_PACKAGES := g++ cmake make pkg-config python3-dev pybind11-dev libcpp-httplib-dev \
	nlohmann-json3-dev prometheus-cpp-dev libgtest-dev
TEST_PACKAGES := python3-flask python3-django curl wrk nghttp2-client nginx-light prometheus tmux
BENCH_PACKAGES := wrk nghttp2-client gunicorn uwsgi-core uwsgi-plugin-python3 nginx-light \
	python3-matplotlib python3-waitress

.PHONY: setup setup-bench build run test bench clean

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
	$(call install_missing,$(BUILD_PACKAGES) $(TEST_PACKAGES))

setup-bench: setup
	$(call install_missing,$(BENCH_PACKAGES))

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

build: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

run: setup build
	exec $(BUILD)/bin/wsgid -b 127.0.0.1:8000 --chdir examples hello:app

test: setup build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 600

bench: setup-bench build
	$(PYTHON) tests/bench/run.py --bin-dir $(BUILD)/bin

clean:
	rm -rf $(BUILD)
