# Two commands do all the setup: `make plan` and `make test`.
# Each bootstraps .venv (and, as root, the Debian packages) on a fresh Debian 12.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
SYSTEM_STAMP := $(VENV)/.system-stamp
PLAN_DIR := build/plan
# Byte-compile the project's own modules, as pip does for a regular install. An editable install
# leaves that to the first import, and with PYTHONDONTWRITEBYTECODE set every run compiles again.
BYTECODE = $(BIN)/python -m compileall -q infra dashboards

.PHONY: plan test bench venv system clean lambda-layer policy-test docs-check

$(STAMP): pyproject.toml requirements-opa.txt
	@$(PYTHON) -c 'import sys; sys.exit("Python >= 3.11 is required, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	@$(PYTHON) -c 'import ensurepip' 2>/dev/null || scripts/system-packages.sh python3-venv
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[dev]'
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps --ignore-requires-python --require-hashes -r requirements-opa.txt
	@$(BYTECODE)
	@touch $@

$(SYSTEM_STAMP): scripts/system-packages.sh | $(STAMP)
	scripts/system-packages.sh
	@touch $@

venv: $(STAMP)

system: $(SYSTEM_STAMP)

## The offline plan of the prod stack, with the policy verdicts and the access report.
plan: $(STAMP)
	$(BIN)/opshub plan --stack prod --out $(PLAN_DIR)
	$(BIN)/opshub access-report --stack prod --plan $(PLAN_DIR)/resources.json --format html --format md --format csv --format json --out $(PLAN_DIR)

## The whole test suite.
test: $(STAMP) $(SYSTEM_STAMP)
	node --test tests/node/*.test.js
	$(BIN)/python -m pytest -n 2

## Generated docs are current and every command the docs and workflows show is valid (part of `make test`).
docs-check: $(STAMP)
	$(BIN)/opshub docs --check
	$(BIN)/python -m pytest -q tests/test_docs_commands.py tests/test_generated.py

## Just the policy pack's tests: fixtures in regorus and real OPA, the prod plan and its mutations.
policy-test: $(STAMP)
	$(BIN)/python -m pytest tests/policies -q -n 2

## Benchmarks; results go to docs/benchmarks.md.
bench: $(STAMP) $(SYSTEM_STAMP)
	@$(BYTECODE)
	$(BIN)/python -m benchmarks

## psycopg and cryptography for the rotation, export and review Lambdas (python3.12, x86_64), pinned as in pyproject.toml; run before `pulumi up`.
## No bytecode: this machine's Python would compile for itself, and the layer's hash would differ per machine.
LAYER_DIR := build/lambda-layer/psycopg
LAYER_PINS = $(shell grep -o -E '"(psycopg\[binary\]|cryptography)==[^"]*"' pyproject.toml | tr -d '"')
## The metrics job's other dependencies (infra/components/metrics.py), pinned as in pyproject.toml.
METRICS_LAYER_DIR := build/lambda-layer/metrics
METRICS_PINS = $(shell grep -o -E '"(urllib3|jsonschema|pydantic|PyYAML)==[^"]*"' pyproject.toml | tr -d '"')
lambda-layer: $(STAMP)
	rm -rf $(LAYER_DIR) $(METRICS_LAYER_DIR)
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-compile --target $(LAYER_DIR)/python \
		--platform manylinux2014_x86_64 --implementation cp --python-version 3.12 --only-binary=:all: $(foreach pin,$(LAYER_PINS),'$(pin)')
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-compile --target $(METRICS_LAYER_DIR)/python \
		--platform manylinux2014_x86_64 --implementation cp --python-version 3.12 --only-binary=:all: $(METRICS_PINS)

clean:
	rm -rf build .pytest_cache
