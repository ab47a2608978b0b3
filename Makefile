# hotline NOC — the two set-up commands are `make run` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# the Python versions the tests passed with (`make lock` rewrites it from .venv)
LOCK := constraints.txt
PIP_INSTALL := $(PY) -m pip install -c $(LOCK)
RUN_STAMP := $(VENV)/.installed-run
# the test install (the service plus pytest, ruff, …); `venv` names it
STAMP := $(VENV)/.installed-stamp
LAB_INVENTORY ?= .lab/lingshui.yaml
LISTEN ?= 127.0.0.1:8080
PYTEST_ARGS ?=
# pytest-xdist workers: most tests wait on daemons, sockets and timers rather than the CPU, so
# three workers on this 2-core machine; tests/conftest.py keeps each module, and every test
# that needs root, on one worker (TEST_WORKERS=0 runs them all in this process)
TEST_WORKERS ?= 3

.PHONY: run test bench lint venv system-deps postgres lab-up lab-down clean

.PHONY: run-deps test-deps lock

$(PY):
	@echo "creating the virtualenv $(VENV) …"
	@$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
	  echo "could not create $(VENV); on Debian: apt-get install python3-venv (README.md)" >&2; exit 1; }

# pip prints a line per package it collects and installs: minutes on a fresh checkout
$(RUN_STAMP): pyproject.toml $(LOCK) | $(PY)
	@echo "installing Python packages into $(VENV) (the versions in $(LOCK)) …"
	@$(PIP_INSTALL) -q --upgrade pip
	$(PIP_INSTALL) -e .
	@touch $@

$(STAMP): pyproject.toml $(LOCK) | $(PY)
	@echo "installing Python packages and the test tools into $(VENV) (the versions in $(LOCK)) …"
	@$(PIP_INSTALL) -q --upgrade pip
	$(PIP_INSTALL) -e '.[test]'
	@touch $@ $(RUN_STAMP)

venv: $(STAMP)

# Debian packages: `run` = the service and its lab, `test` = those and the tests' peers
run-deps:
	@./.ci/system-deps run

test-deps:
	@./.ci/system-deps test

system-deps: test-deps

postgres:
	@./.ci/ensure-postgres

# Rewrite $(LOCK) from what .venv holds (after `make test` passed with it); see docs/operations.md
lock:
	@test -x $(PY) || { echo "no $(VENV) to freeze: run \`make test\` first" >&2; exit 1; }
	@{ echo "# The versions \`make test\` passed with; \`make run\` and \`make test\` install with -c $(LOCK)."; \
	  echo "# Written by \`make lock\` (pip freeze of .venv); see docs/operations.md."; \
	  $(PY) -m pip freeze --all --exclude-editable \
	    | grep -viE '^(hotline-noc|hotline_noc|distribute)( |==|@)'; } > $(LOCK).tmp
	@mv $(LOCK).tmp $(LOCK)
	@echo "wrote $(LOCK): $$(grep -vc '^#' $(LOCK)) pinned packages"

# Start the service on its embedded defaults: SQLite, the shipped Lingshui inventory and, when run
# as root, the built-in network lab (its generated inventory matches the lab's daemons). A store
# without tickets first gets a synthetic demo month (noc demo generate; README.md).
run: $(RUN_STAMP) run-deps
	@echo "the noc command: $(abspath $(VENV))/bin/noc (on PATH: export PATH=\"$(abspath $(VENV))/bin:\$$PATH\")"
	@config=noc/defaults/lingshui.yaml; \
	if [ "$$(id -u)" = 0 ]; then \
	  $(VENV)/bin/noc lab up --inventory-out $(LAB_INVENTORY) && config=$(LAB_INVENTORY); \
	else \
	  echo "not root: no network lab (run as root for it); probes of 198.18.0.0/15 are refused unless its blackhole route exists"; \
	fi; \
	$(VENV)/bin/noc db upgrade --config $$config >/dev/null || exit 1; \
	$(VENV)/bin/noc demo generate --months 1 --if-empty --config $$config \
	  || echo "no demo month loaded (see above); the service starts anyway"; \
	echo "控制台 console: http://$(LISTEN)/   指标 metrics: http://$(LISTEN)/metrics   (Ctrl-C stops)"; \
	exec $(VENV)/bin/noc run --config $$config --listen $(LISTEN)

test: venv test-deps postgres
	$(VENV)/bin/pytest -q -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

bench: venv test-deps
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

lab-up: $(RUN_STAMP) run-deps
	$(VENV)/bin/noc lab up --inventory-out $(LAB_INVENTORY)

lab-down: $(RUN_STAMP)
	$(VENV)/bin/noc lab down

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
