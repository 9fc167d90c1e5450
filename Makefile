# Everything a person types. `make run` to run it, `make test` to test it.
SHELL := /bin/bash
PYTHON := .venv/bin/python
# The one place that knows the prerequisites (Debian packages, uv, the locked .venv); .ci/run uses it too.
BOOTSTRAP := bash deploy/bootstrap.sh

.PHONY: help install install-test up down run status test lint fmt typecheck unit integration bench chaos demo contract generated bench-scale

help:
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

install: ## set up what `make run` needs: Java 17+, Maven, PostgreSQL 14+, make (as root: apt-get), uv, the locked .venv
	$(BOOTSTRAP) --for run

install-test: ## the same for `make test`, with Prometheus' promtool
	$(BOOTSTRAP) --for test

up: install ## start Kafka, Postgres, topics, migrations and the three services in the background
	$(PYTHON) -m deploy.local.services up

down: ## stop the services and the local Kafka and Postgres
	$(PYTHON) -m deploy.local.services down

run: install ## the same as `up`, in the foreground: Ctrl-C stops everything
	$(PYTHON) -m deploy.local.services run

status: ## what runs locally
	$(PYTHON) -m deploy.local.infra status

lint: ## ruff, formatting and the import contracts
	$(PYTHON) -m ruff check .
	$(PYTHON) -m ruff format --check .
	.venv/bin/lint-imports

typecheck: ## mypy --strict
	$(PYTHON) -m mypy shared services programme deploy devkit tests bench

fmt: ## format and fix what ruff can
	$(PYTHON) -m ruff format .
	$(PYTHON) -m ruff check --fix .

# Without KAFKA_BOOTSTRAP_SERVERS: the CLI's default would otherwise show this shell's broker.
generated: ## rewrite the generated files: docs/operations/settings.md, deploy/k8s/prometheus-rule.yaml (commit them)
	env -u KAFKA_BOOTSTRAP_SERVERS $(PYTHON) -m deploy.settings_doc
	$(PYTHON) -m deploy.prometheus_rule

contract: ## export the contract: JSON Schemas, AsyncAPI documents, notification catalogue, into contract/ (commit them)
	.venv/bin/programme contract export
	$(PYTHON) -m programme.contract

unit: ## the domain's rules, no I/O
	$(PYTHON) -m pytest tests/unit -q

integration: ## real Kafka and Postgres (env, testcontainers, or started locally)
	$(PYTHON) -m pytest tests -q -m "not unit" --ignore=tests/unit

test: install-test lint typecheck ## lint, type checks, unit, integration and end-to-end tests
	$(PYTHON) -m pytest tests -q -p no:cacheprovider

demo: up ## a short programme story sent to the running system, printed as a timeline
	$(PYTHON) -m deploy.local.demo

# The bench group (matplotlib) only here: neither the image nor the default install carries it.
bench: ## measure the system against its Kafka and database ceilings (.bench/bench.json)
	$(BOOTSTRAP) --for run --group bench
	$(PYTHON) -m bench

bench-scale: ## the chain's hop rate and p99 beside 10^3..10^6 pre-loaded rows of each (.bench/bench.json scale, .bench/scale.png)
	$(BOOTSTRAP) --for run --group bench
	$(PYTHON) -m bench --scale $(SCALE_ARGS)

chaos: ## the fault suite: kills, broker and database restarts, a paused consumer (.bench/chaos.json)
	$(BOOTSTRAP) --for run --group bench
	$(PYTHON) -m bench.chaos
