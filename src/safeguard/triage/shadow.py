"""The shadow policy on every escalation: evaluated over the context the live policy used, its
result stored as a triage record of kind "shadow" and never acted on (no case change, no page,
no deadline task)."""

from __future__ import annotations

import logging
from datetime import datetime

from safeguard.cases.models import Case
from safeguard.intake.models import Escalation
from safeguard.triage.context import TriageContext
from safeguard.triage.lifecycle import policy_compiled, policy_shadow_current
from safeguard.triage.models import TriageKind, TriageRecord

__all__ = ["SHADOW_FAILED", "shadow_evaluate"]

logger = logging.getLogger(__name__)

# The rule name a shadow record's error carries when the policy as a whole could not run.
SHADOW_FAILED = "<policy>"


def shadow_evaluate(
    *, case: Case, escalation: Escalation, context: TriageContext, now: datetime
) -> TriageRecord | None:
    """Evaluate the shadow policy, if there is one, and store its result beside the live one.

    Runs inside intake's transaction, right after the live result was stored. A shadow policy
    that fails as a whole is recorded (priority "", the error in `rule_errors`) and logged with
    its traceback; intake goes on, because a policy on trial must never stop a real report.
    """
    shadow = policy_shadow_current()
    if shadow is None:
        return None
    version, source_text = shadow
    signals = sorted(name for name, signal in context.signals.items() if signal.triggered)
    try:
        result = policy_compiled(source_text).evaluate(context, now=now)
    except Exception as exc:
        # Broad on purpose: recorded and logged with its traceback (see the docstring).
        logger.exception("shadow policy %s failed on escalation %s", version, escalation.pk)
        error = f"{type(exc).__name__}: {exc}"
        return TriageRecord.objects.create(
            case=case,
            escalation=escalation,
            kind=TriageKind.SHADOW,
            priority="",
            queue="",
            explanation=f"the shadow policy {version} could not be evaluated: {error}",
            rule_errors=[[SHADOW_FAILED, error]],
            signals_triggered=signals,
            policy_version=version,
            applied=False,
            computed_at=now,
        )
    return TriageRecord.objects.create(
        case=case,
        escalation=escalation,
        kind=TriageKind.SHADOW,
        priority=result.priority,
        queue=result.queue,
        explanation=result.explanation,
        rules_matched=list(result.rules_matched),
        rule_errors=[list(e) for e in result.rule_errors],
        signals_triggered=signals,
        tags=list(result.tags),
        deadlines={k: v.isoformat() for k, v in result.deadlines.items()},
        policy_version=result.policy_version,
        applied=False,
        computed_at=now,
    )
