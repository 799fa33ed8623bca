# llm-o11y: the documented interface. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STACK ?= local
STACK_FILE := stacks/Pulumi.$(STACK).yaml
# The oldest Docker Engine the local stack runs on (Debian 12's docker.io): API 1.41.
DOCKER_MINIMUM := 20.10
DOCKER_MINIMUM_API_MINOR := 41

# Local Pulumi state and the passphrase that encrypts its secrets stay in this folder (gitignored).
STATE_DIR := $(CURDIR)/.pulumi/state
PASSPHRASE_FILE := $(CURDIR)/.pulumi/passphrase
export PULUMI_BACKEND_URL ?= file://$(STATE_DIR)
export PULUMI_CONFIG_PASSPHRASE_FILE ?= $(PASSPHRASE_FILE)
export PULUMI_SKIP_UPDATE_CHECK := true
# Without the salt in a stack file, decrypt state with the provider the state names, rather
# than minting a new salt (pulumi/pulumi#16412).
export PULUMI_FALLBACK_TO_STATE_SECRETS_MANAGER := true

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python requirements.txt requirements-dev.txt
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

.PHONY: venv
venv: $(VENV)/.installed ## create .venv with the pinned dependencies

# Messages go to stderr, so `eval "$(make env)"` gets only the env block.
.PHONY: prerequisites
prerequisites:
	@command -v pulumi >/dev/null || { echo "make $(MAKECMDGOALS) needs the Pulumi CLI, which is not installed." >&2; \
	  echo "Install it (https://www.pulumi.com/docs/iac/download-install/), then run make $(MAKECMDGOALS) again." >&2; exit 1; }
	@if ! grep -qE '^ *llm-o11y:target: *cloud' $(STACK_FILE) 2>/dev/null; then \
	  command -v docker >/dev/null || { echo "make up needs Docker, which is not installed." >&2; \
	    echo "Install Docker Engine $(DOCKER_MINIMUM) or newer (https://docs.docker.com/get-docker/), then run make up again." >&2; exit 1; }; \
	  api=$$(docker version --format '{{.Server.APIVersion}}' 2>/dev/null) || { \
	    echo "make up needs a running Docker engine, and 'docker version' could not reach it." >&2; \
	    echo "Start Docker (or check that your user may use it), then run make up again." >&2; exit 1; }; \
	  echo "$$api" | awk -F. '{ exit !($$1 > 1 || ($$1 == 1 && $$2 >= $(DOCKER_MINIMUM_API_MINOR))) }' || { \
	    echo "make up needs Docker Engine $(DOCKER_MINIMUM) or newer (API 1.$(DOCKER_MINIMUM_API_MINOR)); this engine speaks API $$api." >&2; exit 1; }; \
	fi

$(PASSPHRASE_FILE):
	@mkdir -p $(STATE_DIR)
	@umask 077 && head -c 32 /dev/urandom | base64 > $@
	@echo "created $@ (the passphrase for this machine's stack secrets; keep it, it is gitignored)" >&2

# The CLI runs on this machine's copy of the stack file (.pulumi/stacks/, with the passphrase's
# encryptionsalt), so the tracked stacks/Pulumi.<stack>.yaml stays byte-identical.
ON_STACK_FILE = $(BIN)/python -m tools.stack_file $(STACK) --

.PHONY: stack
stack: prerequisites venv $(PASSPHRASE_FILE)
	@mkdir -p $(STATE_DIR)
	@$(ON_STACK_FILE) pulumi stack select $(STACK) >/dev/null 2>&1 || \
	  $(ON_STACK_FILE) pulumi stack init $(STACK) --secrets-provider passphrase >&2

.PHONY: up
up: stack ## start the local stack in Docker (pulumi up -s local)
	$(ON_STACK_FILE) pulumi up --stack $(STACK) $(if $(YES),--yes,)
	@echo; echo "Grafana: $$($(ON_STACK_FILE) pulumi stack output --stack $(STACK) grafanaUrl)  user: $$($(ON_STACK_FILE) pulumi stack output --stack $(STACK) grafanaAdminUser)  password: make password"

.PHONY: preview
preview: stack ## show what pulumi up would change, with the diff
	$(ON_STACK_FILE) pulumi preview --stack $(STACK) --diff

.PHONY: config
config: stack ## run `pulumi config $(ARGS)` on this machine's copy of the stack file
	$(ON_STACK_FILE) pulumi config --stack $(STACK) $(ARGS)

# Reading an output needs only the CLI and the state: no Docker, no venv, and no stack is
# created; the stack file is put back should the CLI touch it.
define stack_output
command -v pulumi >/dev/null || { echo "make $@ needs the Pulumi CLI (https://www.pulumi.com/docs/iac/download-install/)." >&2; exit 1; }; \
[ -f "$(PASSPHRASE_FILE)" ] || { echo "no $(STACK) stack on this machine yet: run make up first" >&2; exit 1; }; \
pristine=$$(mktemp) && { cp $(STACK_FILE) "$$pristine" 2>/dev/null || { rm -f "$$pristine"; pristine=; }; }; \
pulumi stack output --stack $(STACK) --show-secrets $(1); status=$$?; \
[ -z "$$pristine" ] || { cmp -s "$$pristine" $(STACK_FILE) || cp "$$pristine" $(STACK_FILE); rm -f "$$pristine"; }; exit $$status
endef

.PHONY: password
password: ## print the Grafana admin password
	@$(call stack_output,grafanaAdminPassword)

.PHONY: env
env: ## print the env block for Claude Code (eval "$(make env)", or paste it into your shell)
	@$(call stack_output,claudeCodeEnv)

.PHONY: down
down: stack ## remove the containers; keep the protected data volumes and the admin password
	$(ON_STACK_FILE) pulumi destroy --stack $(STACK) --exclude-protected $(if $(YES),--yes,)

# Prometheus and promtool at the image's version, from the pinned Go module (build/prometheus):
# the query tests then run the same PromQL engine and OTLP translation as the local stack.
PROMETHEUS_VERSION := $(shell sed -n 's|.*"prom/prometheus:v\([0-9.]*\)".*|\1|p' components/versions.py)
CACHE_BIN := .cache/bin

$(CACHE_BIN)/prometheus: build/prometheus/go.mod build/prometheus/go.sum
	@echo "building Prometheus $(PROMETHEUS_VERSION) and promtool from Go modules into $(CACHE_BIN) (first time: several minutes)"
	@mkdir -p $(CACHE_BIN)
	cd build/prometheus && CGO_ENABLED=0 go build -trimpath -tags netgo \
	  -ldflags "-s -w -X github.com/prometheus/common/version.Version=$(PROMETHEUS_VERSION)" \
	  -o $(CURDIR)/$(CACHE_BIN)/ github.com/prometheus/prometheus/cmd/prometheus github.com/prometheus/prometheus/cmd/promtool
	@touch $@

# Grafana, Loki and Tempo are AGPL: they run only as the images users pull, and nothing here
# builds or links them (tests/test_licences.py reads every go.mod against a not-to-use list).

# The OpenTelemetry Collector the collector tests run, built with OCB from collector/builder-config.yaml
# into .cache/collector/ (rebuilt only when the manifest changes; cold: about 10 minutes on 2 cores).
.PHONY: collector
collector: venv ## build (or reuse) the OCB collector the collector tests run
	$(BIN)/python -m collector.build

.PHONY: tools
tools: $(CACHE_BIN)/prometheus collector ## build the pinned Prometheus, promtool and collector the slow tests run

MINUTES ?= 10
.PHONY: demo
demo: venv ## send MINUTES (default 10) of generated LLM traffic to the local collector
	$(BIN)/python -m tools.loadgen --endpoint http://127.0.0.1:4317 --minutes $(MINUTES)

BENCH_ARGS ?=
.PHONY: bench
bench: venv $(CACHE_BIN)/prometheus ## time every dashboard from recorded and raw series over 24 h, 7 d and 30 d (BENCH_ARGS="--users 50 --days 7")
	$(BIN)/python -m tools.bench $(BENCH_ARGS)

REPORT_MONTH ?= $(shell date -u -d "$$(date -u +%Y-%m-01) -1 day" +%Y-%m)
.PHONY: report
report: venv ## write last month's cost report (REPORT_MONTH=YYYY-MM) into reports/
	$(BIN)/python -m tools.report --month $(REPORT_MONTH) --out reports/

.PHONY: unpriced
unpriced: venv ## list the models the local Prometheus saw in 30 days that configs/pricing.yaml lacks
	$(BIN)/python -m tools.pricing unpriced

.PHONY: lint
lint: venv ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

.PHONY: synth
synth: venv ## regenerate the offline plan snapshots in tests/snapshots/
	@mkdir -p tests/snapshots
	@for stack in $$(ls stacks | sed -n 's/^Pulumi\.\(.*\)\.yaml$$/\1/p'); do \
	  $(BIN)/python -m tools.synth $$stack --out tests/snapshots/$$stack.json && echo "tests/snapshots/$$stack.json"; \
	done

.PHONY: diff
diff: venv ## the semantic diff of this branch against main, as Markdown (BASE=ref [HEAD=ref] for others)
	@if [ -n "$(HEAD)" ] && [ -z "$(BASE)" ]; then echo "make diff: give BASE with HEAD"; exit 2; fi
	@$(BIN)/python -m tools.diff $(BASE) $(HEAD)

.PHONY: test
test: venv lint ## run every test (slow query/collector tests skip, with a reason, when their tools are missing)
	$(BIN)/pytest

.PHONY: test-queries
test-queries: venv ## only the tests that run queries on a real Prometheus and the official grammars
	$(BIN)/pytest -m query
