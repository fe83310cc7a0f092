"""The platform adapter: request actions, deliver them as signed webhooks with retries, record
the platform's confirmation exactly once, and reverse them with a reason."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from safeguard.accounts.models import User
from safeguard.accounts.permissions import Permission
from safeguard.actions import tasks
from safeguard.actions.models import Action, ActionStatus
from safeguard.actions.selectors import ActionNotFound
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.audit.services import audit_record
from safeguard.cases.decisions import REVERSALS, ActionKind, ActionTarget
from safeguard.cases.models import Case, Decision
from safeguard.cases.services import case_transition
from safeguard.cases.workflow import CaseState, CaseTransition
from safeguard.core import webhooks
from safeguard.core.errors import Invalid
from safeguard.core.tasks import enqueue

MAX_ATTEMPTS = 8


class ActionError(Invalid):
    pass


def action_request(
    *,
    case: Case,
    kind: ActionKind,
    target_type: str,
    target_id: str,
    actor: User,
    source: AuditSource,
    decision: Decision | None = None,
    reason: str = "",
    platform: str,
    reverses: Action | None = None,
) -> Action:
    """Record an action and enqueue its delivery, inside the caller's transaction. `platform`
    is the platform that owns the target: only its service accounts may confirm the action."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("action_request must run inside the transaction of its decision")
    action = Action.objects.create(
        case=case,
        decision=decision,
        kind=kind.value,
        target_type=target_type,
        target_id=target_id,
        platform=platform,
        requested_by=actor,
        reason=reason,
        reverses=reverses,
        created_at=timezone.now(),
    )
    audit_record(
        event_type=AuditEventType.ACTION_REQUESTED,
        actor=actor,
        source=source,
        target_type="case",
        target_id=case.pk,
        data={
            "action": str(action.pk),
            "kind": kind.value,
            "target": f"{target_type}:{target_id}",
            "platform": platform,
            "reverses": str(reverses.pk) if reverses else None,
            "reason": reason,
        },
    )
    enqueue(tasks.action_deliver, action_id=str(action.pk), attempt=1)
    return action


def _payload(action: Action) -> dict[str, object]:
    return {
        "type": "safeguard.action",
        "action_id": str(action.pk),
        "kind": action.kind,
        "target": {"type": action.target_type, "id": action.target_id},
        # Whose content or account it is: a platform acts only on its own.
        "platform": action.platform,
        "case_id": str(action.case_id),
        "reverses": str(action.reverses_id) if action.reverses_id else None,
        # A law-enforcement non-disclosure order on the case: the platform must not tell the
        # account holder (its usual notice is suppressed; the suppression is audited where
        # the order was recorded).
        "user_notice_suppressed": "non_disclosure" in action.case.tags,
        # The platform confirms here later when it cannot answer {"status": "done"} at once.
        "confirm_path": f"/api/v1/actions/{action.pk}/confirm",
    }


def _done(reply: bytes) -> bool:
    try:
        body = json.loads(reply or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError):
        return False
    return isinstance(body, dict) and body.get("status") == "done"


def action_deliver_attempt(*, action_id: uuid.UUID, attempt: int) -> bool | None:
    """One delivery. True: delivered; False: retry later; None: nothing to do or given up."""
    action = Action.objects.filter(pk=action_id).first()
    if action is None or action.status != ActionStatus.PENDING:
        return None
    url = settings.SAFEGUARD_PLATFORM_WEBHOOK_URL
    if not url:
        result = webhooks.Delivery(False, None, "no platform webhook is configured")
    else:
        # One delivery id per action: every retry of it sends the same, so the platform's
        # replay guard acts on it once however many attempts reach it.
        result = webhooks.deliver(
            url,
            _payload(action),
            settings.SAFEGUARD_PLATFORM_WEBHOOK_SECRET,
            delivery_id=f"action-{action.pk}",
        )
    with transaction.atomic():
        locked = Action.objects.select_for_update().get(pk=action.pk)
        if locked.status != ActionStatus.PENDING:
            return None
        locked.attempts = attempt
        locked.last_error = result.error[:300]
        if result.ok:
            locked.status = ActionStatus.SENT
        elif attempt >= MAX_ATTEMPTS:
            locked.status = ActionStatus.FAILED
        locked.save(update_fields=["attempts", "last_error", "status"])
        audit_record(
            event_type=(
                AuditEventType.ACTION_SENT if result.ok else AuditEventType.ACTION_DELIVERY_FAILED
            ),
            actor=None,
            source=AuditSource.TASK,
            target_type="case",
            target_id=locked.case_id,
            data={
                "action": str(locked.pk),
                "attempt": attempt,
                "http": result.status,
                "error": result.error,
                "gave_up": locked.status == ActionStatus.FAILED,
            },
        )
    if result.ok:
        if _done(result.body):
            action_confirm(action=locked, actor=None, source=AuditSource.TASK)
        return True
    return False if attempt < MAX_ATTEMPTS else None


@transaction.atomic
def action_confirm(*, action: Action, actor: User | None, source: AuditSource) -> Action:
    """The platform says the action is done. Confirming again changes nothing. A person or
    service account confirming (`actor` not None) must speak for the platform the action is
    addressed to; any other answers as if the action did not exist."""
    locked = Action.objects.select_for_update().get(pk=action.pk)
    if actor is not None and (
        not actor.has_permission(Permission.ACTIONS_ACTION_CONFIRM)
        or not actor.platform
        or actor.platform != locked.platform
    ):
        raise ActionNotFound(locked.pk)
    if locked.status == ActionStatus.CONFIRMED:
        return locked
    locked.status = ActionStatus.CONFIRMED
    locked.confirmed_at = timezone.now()
    locked.save(update_fields=["status", "confirmed_at"])
    audit_record(
        event_type=AuditEventType.ACTION_CONFIRMED,
        actor=actor,
        source=source,
        target_type="case",
        target_id=locked.case_id,
        data={"action": str(locked.pk), "kind": locked.kind},
    )
    _maybe_actioned(locked)
    return locked


def _maybe_actioned(action: Action) -> None:
    """When every action of a decision is confirmed, the case moves from decided to actioned."""
    if action.decision_id is None:
        return
    open_ = Action.objects.filter(decision_id=action.decision_id).exclude(
        status=ActionStatus.CONFIRMED
    )
    case = Case.objects.get(pk=action.case_id)
    if not open_.exists() and case.state == CaseState.DECIDED:
        case_transition(
            case=case,
            transition=CaseTransition.RECORD_ACTIONS,
            actor=None,
            source=AuditSource.TASK,
        )


@transaction.atomic
def action_reverse(*, action: Action, actor: User, reason: str, source: AuditSource) -> Action:
    """Undo an action the world allows undoing (restore content, unban, unrestrict)."""
    if not actor.has_permission(Permission.CASES_CASE_ASSIGN):
        raise ActionError(f"{actor.username} may not reverse actions (leads only)")
    if not reason.strip():
        raise ActionError("reversing an action needs a reason")
    if "\x00" in reason:
        raise ActionError("the reason holds a NUL character, which cannot be stored; remove it")
    kind = REVERSALS.get(ActionKind(action.kind))
    if kind is None:
        raise ActionError(f"{action.kind} cannot be reversed")
    if action.status != ActionStatus.CONFIRMED:
        raise ActionError("only a confirmed action can be reversed")
    if Action.objects.filter(reverses=action).exists():
        raise ActionError("this action has already been reversed")
    return action_request(
        case=action.case,
        kind=kind,
        target_type=action.target_type,
        target_id=action.target_id,
        actor=actor,
        source=source,
        reason=reason,
        reverses=action,
        platform=action.platform,
    )


def decision_act(
    *,
    case: Case,
    decision: Decision,
    targets: Sequence[ActionTarget],
    actor: User,
    source: AuditSource,
) -> None:
    """Subscribed to `cases.hooks.decision_recorded`: one action per target, in the decision's
    transaction, each delivered once it commits."""
    for target in targets:
        action_request(
            case=case,
            decision=decision,
            kind=target.kind,
            target_type=target.target_type,
            target_id=target.target_id,
            platform=target.platform,
            actor=actor,
            source=source,
        )
