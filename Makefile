SHELL := /bin/bash
# Docket: `make demo` runs a real deploy on loopback; `make test` runs every test.
# Both install missing Debian packages first (scripts/install-deps.sh).
SWIFT ?= swift

.PHONY: deps build demo test bench fuzz clean

deps:
	bash scripts/install-deps.sh

# The release docket-cli links the Swift runtime in: one file to copy to hosts (it needs only the
# Debian C libraries: curl, microhttpd, sqlite, openssl, zlib), and it starts faster.
RELEASE := -c release --static-swift-stdlib

build: deps
	$(SWIFT) build $(RELEASE) --product docket-cli

demo: build
	bash scripts/demo.sh

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) build --package-path Examples/Deployer
	$(SWIFT) test --skip-build 2>&1 | tee .build/test.log; exit $${PIPESTATUS[0]}

bench: deps
	$(SWIFT) build -c release --product docket-bench
	bash bench/run.sh

clean:
	rm -rf .build Examples/*/.build

# The swarm lab (bench/swarm): N hosts as network namespaces with capped links, Docket vs HTTP, aria2c,
# libtorrent and the physical bound. Root only. Not part of `make test` except its smoke version.
.PHONY: bench-swarm bench-swarm-smoke
bench-swarm: deps
	bash bench/swarm/run.sh

bench-swarm-smoke: deps
	SWARM_N=2 SWARM_SIZE_MB=8 SWARM_RATE_MBIT=1000 SWARM_PREFIX=dks SWARM_SUBNET=10.78.0 \
	  SWARM_TIMEOUT=20 SWARM_OUT=.build/swarm-smoke bash bench/swarm/run.sh

# Registry benchmark (bench/registry.sh): push and 64-client blob GET throughput, Docket vs docker-registry.
.PHONY: bench-registry
bench-registry: deps
	$(SWIFT) build $(RELEASE) --product docket-cli
	bash bench/registry.sh

# libFuzzer targets for the DocketTorrent codecs (fuzz/run.sh): bencode, metainfo, tracker response,
# peer wire; each runs FUZZ_SECONDS (default 60). Crashing inputs land in fuzz/crashes/.
fuzz:
	bash fuzz/run.sh
