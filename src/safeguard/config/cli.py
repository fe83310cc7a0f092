"""The `safeguard` command: Django's management commands under one name, with clear errors."""

from __future__ import annotations

import os
import sys

# Commands that only make sense on a local trial machine run in development mode unless told
# otherwise, so that `safeguard demo` works on a fresh checkout without any secret set.
_DEVELOPMENT_COMMANDS = {"demo"}


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:2] == ["triage", "explain"]:
        # Pure: works in a fresh checkout before any database or secret exists.
        from safeguard.triage.explain import main as explain

        raise SystemExit(explain(args[2:]))
    if args[:2] == ["audit", "check-proof"]:
        # An outsider checks a proof with the public key alone: no database, no settings.
        from safeguard.audit.proofs import main as check_proof

        raise SystemExit(check_proof(args[2:]))
    if args[:2] == ["custody", "verify"]:
        # A recipient checks a disclosure package with the log's public key: no database.
        from safeguard.evidence.custody import main as verify_package

        raise SystemExit(verify_package(args[2:]))
    if args[:1] == ["scan"] and "--no-match" in args:
        # Hashing alone needs no database or settings.
        from safeguard.matching.scanfiles import run

        raise SystemExit(run(args[1:], None))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "safeguard.config.settings")
    if args and args[0] in _DEVELOPMENT_COMMANDS:
        os.environ.setdefault("SAFEGUARD_ENV", "development")
        # The demo's on-call list: P0 pages go to the demo specialist, then the demo lead.
        os.environ.setdefault("SAFEGUARD_ONCALL", "sam.specialist")
        os.environ.setdefault("SAFEGUARD_ONCALL_LEAD", "lee.lead")
    from safeguard.config.env import ConfigurationError

    try:
        import django

        django.setup()
    except ConfigurationError as exc:
        sys.stderr.write(f"safeguard: configuration error: {exc}\n")
        raise SystemExit(2) from None

    if args[:2] in (["triage", "backtest"], ["triage", "diff"], ["triage", "policy"]):
        # Beside `triage explain`, but these use the database: settings are loaded above.
        from safeguard.triage import backtest, policy_cli

        commands = {
            "backtest": backtest.backtest_main,
            "diff": backtest.diff_main,
            "policy": policy_cli.main,
        }
        raise SystemExit(commands[args[1]](args[2:]))

    from django.core.management import execute_from_command_line

    execute_from_command_line(["safeguard", *args])


if __name__ == "__main__":
    main()
