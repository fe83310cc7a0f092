# Two commands: `make demo` and `make test`. Everything else is a step they share.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck pytest install clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Safeguard needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(STAMP)

demo: $(STAMP)
	SAFEGUARD_ENV=development $(BIN)/safeguard demo

lint: $(STAMP)
	$(BIN)/ruff check src tests $(wildcard bench)
	$(BIN)/ruff format --check src tests $(wildcard bench)
	SAFEGUARD_ENV=test SAFEGUARD_VAR_DIR=var/test $(BIN)/safeguard makemigrations --check --dry-run
	SAFEGUARD_ENV=test SAFEGUARD_VAR_DIR=var/test $(BIN)/safeguard diagrams --check

typecheck: $(STAMP)
	$(BIN)/mypy src/safeguard/audit/chain.py src/safeguard/evidence/vault.py \
		src/safeguard/cases/workflow.py src/safeguard/accounts/permissions.py \
		src/safeguard/config/env.py src/safeguard/triage/policy.py src/safeguard/triage/context.py \
		src/safeguard/actions/webhooks.py src/safeguard/signals \
		src/safeguard/matching/index.py src/safeguard/matching/signal_types.py \
		src/safeguard/matching/video.py src/safeguard/matching/video_signal.py \
		src/safeguard/matching/formats.py src/safeguard/matching/scanfiles.py \
		src/safeguard/accounts/totp.py src/safeguard/review/highlight.py

pytest: $(STAMP)
	$(BIN)/pytest

test: lint typecheck pytest

clean:
	rm -rf $(VENV) var/test
