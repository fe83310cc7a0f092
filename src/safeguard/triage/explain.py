"""`safeguard triage explain FILE.json`: the triage result for an escalation, saving nothing.

Without `--database` it needs no database and no settings: the built-in default policy and no
case history. With `--database` it uses the policy in force, the suspects' open case and their
history across stored escalations (suspect.distinct_minors and the rest). The escalation is
read as a platform's service account would send it: law enforcement counts as unverified.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from safeguard.intake.schemas import EscalationIn
from safeguard.intake.sources import source_of
from safeguard.triage.context import SourceFacts, build_context
from safeguard.triage.policy import Policy, compile_policy, default_policy_text


class ExplainError(Exception):
    pass


def read_escalation(path: str) -> EscalationIn:
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ExplainError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ExplainError(f"{path} is not valid JSON: {exc}") from None
    try:
        return EscalationIn.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: "
            f"{e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        )
        raise ExplainError(f"{path} is not a valid escalation: {problems}") from None


def explain_result(
    escalation: EscalationIn,
    now: datetime,
    *,
    policy: Policy,
    le_partner: bool = False,
    history: bool = False,
) -> dict[str, Any]:
    """What `policy` decides for an escalation that is not saved, as JSON. With `history`, the
    suspects' open case and stored escalations count (needs the database)."""
    kind, verified = source_of(escalation, le_partner=le_partner)
    payload = escalation.model_dump(mode="json")
    source = SourceFacts(kind=kind.value, verified=verified)
    if history:
        from safeguard.triage.history import context_unsaved

        context = context_unsaved(
            payload, now=now, source=source, ignored_models=policy.ignored_models
        )
    else:
        context = build_context(
            payload, now=now, source=source, ignored_models=policy.ignored_models
        )
    result: dict[str, Any] = policy.evaluate(context, now=now).to_json()
    return result


def explain_offline(escalation: EscalationIn, now: datetime) -> dict[str, Any]:
    return explain_result(escalation, now, policy=compile_policy(default_policy_text()))


def explain_with_database(escalation: EscalationIn, now: datetime) -> dict[str, Any]:
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "safeguard.config.settings")
    django.setup()
    from safeguard.triage.services import policy_active

    return explain_result(escalation, now, policy=policy_active(), history=True)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="safeguard triage explain")
    parser.add_argument("file", help="an escalation in the intake contract's JSON ('-' for stdin)")
    parser.add_argument(
        "--database",
        action="store_true",
        help="use the policy in force and case history from the configured database",
    )
    args = parser.parse_args(argv)
    now = datetime.now(UTC)
    try:
        escalation = read_escalation(args.file)
        if args.database:
            result = explain_with_database(escalation, now)
        else:
            result = explain_offline(escalation, now)
    except ExplainError as exc:
        sys.stderr.write(f"safeguard triage explain: {exc}\n")
        return 2
    sys.stdout.write(json.dumps(result, indent=2, sort_keys=True) + "\n")
    return 0
