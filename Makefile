# gatebridge: the two commands of the README, and the pieces they are made of.
# `make test` installs everything the tests need: Python packages into .venv, and the
# system packages (mosquitto, mbpoll, chromium, chromium-driver) with apt-get when missing
# and running as root.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
PKGS   := controller devices emulators simulation

.PHONY: demo test lint typecheck imports pytest venv sysdeps bench docs screenshots clean

demo: $(STAMP)
	$(BIN)/gatectl demo

test: $(STAMP) sysdeps lint typecheck imports pytest

$(VENV)/bin/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "gatebridge needs Python 3.11+"' \
		|| { echo "error: Python 3.11 or newer is required (found: $$($(PYTHON) --version 2>&1))"; exit 1; }
	@$(PYTHON) -m venv $(VENV) \
		|| { echo "error: cannot create a venv; on Debian/Ubuntu: apt-get install python3-venv"; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(VENV)/bin/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test,dev]'
	@rm -f $(VENV)/.installed-* && touch $@

venv: $(STAMP)

sysdeps:
	@scripts/ensure-sysdeps.sh

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

imports: $(STAMP)
	$(BIN)/lint-imports

pytest: $(STAMP)
	$(BIN)/pytest -q

bench: $(STAMP)
	$(BIN)/python -m bench.core
	$(BIN)/python -m bench.bus
	$(BIN)/python -m bench.lane
	$(BIN)/python -m bench.bridge
	$(BIN)/python -m bench.camera

screenshots: $(STAMP) sysdeps
	GATEBRIDGE_UPDATE_SCREENSHOTS=1 $(BIN)/pytest -q tests/e2e/test_console_browser.py

docs: $(STAMP)
	$(BIN)/python scripts/gen_state_diagram.py
	$(BIN)/python scripts/gen_architecture.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
