# obi-ts: `make run` sets everything up and starts the agent; `make test` sets up and runs every test.
SHELL := /bin/bash
ROOT := $(abspath .)
NODE = $(shell $(ROOT)/scripts/provision-node.sh)
NODE_INCLUDE = $(abspath $(dir $(NODE))/../include/node)
NPM := $(ROOT)/scripts/npm.sh
FUZZ_MS ?= 2000

.PHONY: all deps test-deps lint-deps build bpf native typecheck js abi-check run test test-unit test-integration bench soak churn clean \
  lint eslint deps-check format-check format install image

all: build

deps:
	@scripts/install-deps.sh

test-deps:
	@scripts/install-deps.sh --test

lint-deps:
	@scripts/install-deps.sh --lint

node_modules/.obi-stamp: package.json package-lock.json
	@$(NPM) ci --no-audit --no-fund --loglevel=error
	@touch node_modules/.obi-stamp

bpf: deps
	@$(MAKE) -s -C bpf

native: deps bpf
	@$(MAKE) -s -C native NODE_INCLUDE=$(NODE_INCLUDE)

abi-check: bpf
	@$(NODE) scripts/gen-abi.ts --check

typecheck: node_modules/.obi-stamp
	@$(NODE) node_modules/typescript/bin/tsc -p tsconfig.json

# the runtime's JavaScript (bin/obi-ts prefers it while it is newer than src/)
js: node_modules/.obi-stamp
	@rm -rf build/js && $(NODE) node_modules/typescript/bin/tsc -p tsconfig.build.json && touch build/js/.stamp

build: deps node_modules/.obi-stamp bpf native abi-check typecheck js

# C sources we own (bpf/include is vendored: not formatted)
C_SOURCES = $(shell find bpf native -path bpf/include -prune -o -type f \( -name '*.c' -o -name '*.h' \) -print | sort)

# typescript-eslint (type-aware, eslint.config.js), clang-format (.clang-format), dependency-cruiser
# (the three run side by side: eslint is the long one)
lint: node_modules/.obi-stamp lint-deps
	@$(MAKE) -s --no-print-directory -j3 eslint format-check deps-check

eslint: node_modules/.obi-stamp
	@$(NODE) node_modules/eslint/bin/eslint.js --max-warnings=0 .

format-check: lint-deps
	@clang-format --dry-run -Werror $(C_SOURCES)

format: lint-deps
	@clang-format -i $(C_SOURCES)

# the dependency direction (docs/devdocs/architecture.md): .dependency-cruiser.cjs
deps-check: node_modules/.obi-stamp
	@$(NODE) scripts/deps-check.ts

run: build
	@bin/obi-ts --config deploy/default.yaml

test-unit: build test-deps
	FUZZ_MS=$(FUZZ_MS) $(NODE) --test "src/**/*.test.ts" "scripts/**/*.test.ts" "test/unit/**/*.test.ts"

test-integration: build test-deps
	$(NODE) --test --test-concurrency=1 --test-timeout=180000 "test/integration/**/*.test.ts"

test: lint build test-deps
	FUZZ_MS=$(FUZZ_MS) $(NODE) --test --test-concurrency=1 --test-timeout=180000 \
	  "src/**/*.test.ts" "scripts/**/*.test.ts" "test/unit/**/*.test.ts" "test/integration/**/*.test.ts"

# the agent under $(DESTDIR)$(PREFIX) (default /opt/obi-ts), the systemd unit, a default configuration
PREFIX ?= /opt/obi-ts
install: build
	@PREFIX=$(PREFIX) DESTDIR=$(DESTDIR) NODE=$(NODE) scripts/install.sh

# the Docker image (Dockerfile; base debian:bookworm-slim); IMAGE=name:tag, DOCKER=docker client
IMAGE ?= obi-ts:latest
DOCKER ?= docker
image:
	$(DOCKER) build --network host -t $(IMAGE) .

bench: build test-deps
	$(NODE) bench/run.ts

# 10 minutes of HTTP/HTTPS/Postgres/Redis load with process churn and a 60 s collector outage (not in make test)
soak: build test-deps
	SOAK_SECONDS=$${SOAK_SECONDS:-600} $(NODE) test/soak/soak.ts

# 10,000 selected short-lived clients, by exe_path then by language: client spans, RSS, kernel maps (not in make test)
churn: build test-deps
	CHURN_PROCESSES=$${CHURN_PROCESSES:-10000} $(NODE) test/soak/churn.ts

clean:
	rm -rf build
