# hotline NOC — the two set-up commands are `make run` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
LAB_INVENTORY ?= .lab/lingshui.yaml
LISTEN ?= 127.0.0.1:8080
PYTEST_ARGS ?=

.PHONY: run test bench lint venv system-deps postgres lab-up lab-down clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	@touch $(STAMP)

venv: $(STAMP)

system-deps:
	@./.ci/system-deps

postgres:
	@./.ci/ensure-postgres

# Start the service on its embedded defaults: SQLite, the shipped Lingshui inventory and, when run
# as root, the built-in network lab (its generated inventory matches the lab's daemons).
run: venv system-deps
	@config=noc/defaults/lingshui.yaml; \
	if [ "$$(id -u)" = 0 ]; then \
	  $(VENV)/bin/noc lab up --inventory-out $(LAB_INVENTORY) && config=$(LAB_INVENTORY); \
	else \
	  echo "not root: no network lab; probes of 198.18.0.0/15 are refused unless its blackhole route exists"; \
	fi; \
	echo "控制台 console: http://$(LISTEN)/   指标 metrics: http://$(LISTEN)/metrics   (Ctrl-C stops)"; \
	exec $(VENV)/bin/noc run --config $$config --listen $(LISTEN)

test: venv system-deps postgres
	$(VENV)/bin/pytest -q $(PYTEST_ARGS)

bench: venv system-deps
	$(PY) bench/run.py

# The same checks run in CI through tests/unit/test_layout.py: style, the import contracts of
# pyproject.toml (noc.core is the floor, pure modules, SQLAlchemy only in noc.store …), no cycles.
# Every check runs (one report for all of them); the target fails if any did.
lint: venv
	@status=0; \
	$(VENV)/bin/ruff check . || status=1; \
	$(VENV)/bin/ruff format --check . || status=1; \
	$(VENV)/bin/lint-imports --no-cache || status=1; \
	$(PY) tests/support/import_cycles.py || status=1; \
	exit $$status

lab-up: venv system-deps
	$(VENV)/bin/noc lab up --inventory-out $(LAB_INVENTORY)

lab-down: venv
	$(VENV)/bin/noc lab down

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
