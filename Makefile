# Two commands: `make demo` and `make test`. Everything else is a step they share.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck pytest install clean chromium

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
	$(BIN)/lint-imports
	SAFEGUARD_ENV=test SAFEGUARD_VAR_DIR=var/test $(BIN)/safeguard makemigrations --check --dry-run
	SAFEGUARD_ENV=test SAFEGUARD_VAR_DIR=var/test $(BIN)/safeguard diagrams --check

typecheck: $(STAMP)
	SAFEGUARD_ENV=test SAFEGUARD_VAR_DIR=var/test $(BIN)/mypy \
		src/safeguard/core src/safeguard/signals src/safeguard/*/services.py \
		src/safeguard/*/selectors.py src/safeguard/*/api.py src/safeguard/cases/queue_api.py \
		src/safeguard/cases/grant_api.py src/safeguard/cases/search.py src/safeguard/cases/search_api.py \
		src/safeguard/triage/bulk.py src/safeguard/triage/bulk_api.py \
		src/safeguard/cases/playbooks.py src/safeguard/cases/playbook_services.py \
		src/safeguard/cases/playbook_selectors.py src/safeguard/cases/playbook_api.py \
		src/safeguard/audit/leaves.py src/safeguard/audit/merkle.py src/safeguard/audit/checkpoint.py \
		src/safeguard/audit/verification.py src/safeguard/audit/proofs.py src/safeguard/audit/tasks.py \
		src/safeguard/audit/models.py src/safeguard/audit/management/commands/audit.py \
		src/safeguard/evidence/vault.py src/safeguard/evidence/custody.py \
		src/safeguard/lawenforcement/clocks.py src/safeguard/lawenforcement/request_types.py \
		src/safeguard/lawenforcement/directory.py src/safeguard/lawenforcement/workflow.py \
		src/safeguard/lawenforcement/disclosures.py src/safeguard/lawenforcement/referrals.py \
		src/safeguard/cases/workflow.py src/safeguard/cases/clock.py src/safeguard/accounts/permissions.py \
		src/safeguard/accounts/permission_text.py src/safeguard/review/live.py \
		src/safeguard/config/env.py src/safeguard/triage/policy.py src/safeguard/triage/context.py \
		src/safeguard/triage/history.py src/safeguard/intake/sources.py \
		src/safeguard/triage/lifecycle.py src/safeguard/triage/shadow.py src/safeguard/triage/backtest.py \
		src/safeguard/triage/policy_cli.py src/safeguard/triage/evaluation.py \
		src/safeguard/matching/index.py src/safeguard/matching/signal_types.py \
		src/safeguard/matching/video.py src/safeguard/matching/video_signal.py \
		src/safeguard/matching/formats.py src/safeguard/matching/scanfiles.py \
		src/safeguard/accounts/totp.py src/safeguard/review/highlight.py src/safeguard/review/words.py \
		src/safeguard/matching/pdq_fast.py src/safeguard/evidence/sniff.py \
		src/safeguard/accounts/sealing.py \
		src/safeguard/config/layers_doc.py \
		src/safeguard/triage/cel_check.py

# The browser tests (tests/browser) drive Debian's chromium, never a browser Playwright downloads.
# Without apt-get (or root) they are skipped, and say why.
chromium:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
	else \
		echo "Debian's chromium is missing and apt-get (as root) is not available:" \
			"the browser tests in tests/browser will be skipped; install the chromium package."; \
	fi

pytest: $(STAMP) chromium
	$(BIN)/pytest

test: lint typecheck pytest

clean:
	rm -rf $(VENV) var/test
