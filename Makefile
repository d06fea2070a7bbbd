SHELL := /bin/bash
# Docket: `make demo` runs a real deploy on loopback; `make test` runs every test.
# Both install missing Debian packages first (scripts/install-deps.sh).
SWIFT ?= swift

.PHONY: deps build demo test bench fuzz clean

deps:
	bash scripts/install-deps.sh

build: deps
	$(SWIFT) build -c release --product docket-cli

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
