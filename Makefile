# Two commands on a fresh Debian 12 machine:
#   make demo   install dependencies, build, run a day of returns on the embedded default
#   make test   install dependencies, build, run every test suite
BUILD ?= build
JOBS ?= 2
CMAKE_FLAGS ?=

.PHONY: all deps configure build test demo bench bench-peers bench-big-return clean

all: build

deps:
	./scripts/install-deps.sh

configure: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)

build: configure
	cmake --build $(BUILD) -j$(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

demo: build
	./examples/demo.sh $(BUILD)/rmaflow

bench: build
	$(BUILD)/rmaflow bench --instances 20000 --steps 5

# rmaflow, DBOS and Restate side by side (bench/peers/run.sh); installs the peers from npm.
bench-peers: build
	./bench/peers/run.sh $(BUILD)/rmaflow

bench-big-return: build
	./bench/big-return/run.sh $(BUILD)/rmaflow

clean:
	rm -rf $(BUILD)
