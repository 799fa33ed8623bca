# llm-o11y: the documented interface. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STACK ?= local

# Local Pulumi state and the passphrase that encrypts its secrets stay in this folder (gitignored).
STATE_DIR := $(CURDIR)/.pulumi/state
PASSPHRASE_FILE := $(CURDIR)/.pulumi/passphrase
export PULUMI_BACKEND_URL ?= file://$(STATE_DIR)
export PULUMI_CONFIG_PASSPHRASE_FILE ?= $(PASSPHRASE_FILE)
export PULUMI_SKIP_UPDATE_CHECK := true

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

.PHONY: prerequisites
prerequisites:
	@command -v pulumi >/dev/null || { echo "make up needs the Pulumi CLI, which is not installed."; \
	  echo "Install it (https://www.pulumi.com/docs/iac/download-install/), then run make up again."; exit 1; }
	@if ! grep -q '^ *llm-o11y:target: *cloud' stacks/Pulumi.$(STACK).yaml 2>/dev/null; then \
	  command -v docker >/dev/null || { echo "make up needs Docker, which is not installed."; \
	    echo "Install Docker Engine or Docker Desktop (https://docs.docker.com/get-docker/), then run make up again."; exit 1; }; \
	  docker info >/dev/null 2>&1 || { echo "make up needs a running Docker engine, and 'docker info' failed."; \
	    echo "Start Docker (or check that your user may use it), then run make up again."; exit 1; }; \
	fi

$(PASSPHRASE_FILE):
	@mkdir -p $(STATE_DIR)
	@umask 077 && head -c 32 /dev/urandom | base64 > $@
	@echo "created $@ (the passphrase for this machine's stack secrets; keep it, it is gitignored)"

.PHONY: stack
stack: prerequisites venv $(PASSPHRASE_FILE)
	@mkdir -p $(STATE_DIR)
	@pulumi stack select --create $(STACK) --non-interactive >/dev/null

.PHONY: up
up: stack ## start the local stack in Docker (pulumi up -s local)
	pulumi up --stack $(STACK) $(if $(YES),--yes,)
	@echo; echo "Grafana: $$(pulumi stack output --stack $(STACK) grafanaUrl)  user: $$(pulumi stack output --stack $(STACK) grafanaAdminUser)  password: make password"

.PHONY: preview
preview: stack ## show what pulumi up would change, with the diff
	pulumi preview --stack $(STACK) --diff

.PHONY: password
password: stack ## print the Grafana admin password
	@pulumi stack output --stack $(STACK) --show-secrets grafanaAdminPassword

.PHONY: env
env: stack ## print the env block for Claude Code (source it, or paste it into your shell)
	@pulumi stack output --stack $(STACK) --show-secrets claudeCodeEnv

.PHONY: down
down: stack ## remove the containers; keep the protected data volumes
	pulumi destroy --stack $(STACK) --exclude-protected $(if $(YES),--yes,)

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

# Loki at the image's version, from the pinned Go module (build/loki): the Loki tests run our
# configs/loki/loki.yaml and the LogQL of the dashboards and alert rules on it.
LOKI_VERSION := $(shell sed -n 's|.*"grafana/loki:\([0-9.]*\)".*|\1|p' components/versions.py)

$(CACHE_BIN)/loki: build/loki/go.mod build/loki/go.sum
	@echo "building Loki $(LOKI_VERSION) from Go modules into $(CACHE_BIN) (first time: several minutes)"
	@mkdir -p $(CACHE_BIN)
	cd build/loki && CGO_ENABLED=0 go build -trimpath -tags netgo \
	  -ldflags "-s -w -X github.com/grafana/loki/v3/pkg/util/build.Version=$(LOKI_VERSION)" \
	  -o $(CURDIR)/$(CACHE_BIN)/loki github.com/grafana/loki/v3/cmd/loki
	@touch $@

# The OpenTelemetry Collector the collector tests run, built with OCB from collector/builder-config.yaml
# into .cache/collector/ (rebuilt only when the manifest changes; cold: about 10 minutes on 2 cores).
.PHONY: collector
collector: venv ## build (or reuse) the OCB collector the collector tests run
	$(BIN)/python -m collector.build

.PHONY: tools
tools: $(CACHE_BIN)/prometheus $(CACHE_BIN)/loki collector ## build the pinned Prometheus, promtool, Loki and collector the slow tests run

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

.PHONY: test
test: venv lint ## run every test (slow query/collector tests skip, with a reason, when their tools are missing)
	$(BIN)/pytest

.PHONY: test-queries
test-queries: venv ## only the tests that run queries on a real Prometheus and the official grammars
	$(BIN)/pytest -m query
