"""Writes for cases: grouping escalations into cases and moving cases through their lifecycle."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from safeguard.accounts.models import User
from safeguard.accounts.permissions import Permission
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.audit.services import audit_record
from safeguard.cases import hooks
from safeguard.cases.claims import claim_end
from safeguard.cases.models import Case, CaseEscalation, CaseNote
from safeguard.cases.workflow import (
    EDGES_BY_NAME,
    OPEN_STATES,
    CaseState,
    CaseTransition,
    next_state,
)
from safeguard.core.errors import Forbidden, Invalid
from safeguard.intake.models import Escalation, Subject


class CasePermissionDenied(Forbidden):
    def __init__(self, actor: User, transition: CaseTransition) -> None:
        permission = EDGES_BY_NAME[transition].permission
        super().__init__(f"{actor.username} may not {transition.value} cases (needs {permission})")


class ReasonRequired(Invalid):
    pass


def case_for_escalation(
    *,
    escalation: Escalation,
    suspects: Sequence[Subject],
    actor: User | None,
    source: AuditSource,
    content_ids: Sequence[object] = (),
) -> tuple[Case, bool]:
    """Put an escalation into the open case of one of its suspects, or open a new case.

    Must run inside the intake transaction with the suspects locked (`subjects_lock`). Where
    the suspects already have different open cases, the escalation joins the oldest; merging
    cases is a person's decision. An escalation naming no known suspect joins the open case
    that already holds one of its content items (a second report of the same image, or a hash
    match on it). Returns the case and whether it was opened now.
    """
    now = timezone.now()
    case = None
    if suspects:
        case = (
            Case.objects.filter(state__in=list(OPEN_STATES), suspects__in=suspects)
            .order_by("opened_at", "id")
            .first()
        )
    if case is None and content_ids:
        case = (
            Case.objects.filter(
                state__in=list(OPEN_STATES),
                links__escalation__content__content_id__in=list(content_ids),
            )
            .exclude(links__escalation=escalation)
            .order_by("opened_at", "id")
            .first()
        )
    opened = case is None
    if case is None:
        case = Case.objects.create(state=CaseState.NEW, opened_at=now, updated_at=now)
        audit_record(
            event_type=AuditEventType.CASE_OPENED,
            actor=actor,
            source=source,
            target_type="case",
            target_id=case.pk,
            data={"escalation": str(escalation.pk)},
        )
    else:
        case.updated_at = now
        case.save(update_fields=["updated_at"])
    if suspects:
        case.suspects.add(*suspects)
    CaseEscalation.objects.create(case=case, escalation=escalation, joined_at=now)
    audit_record(
        event_type=AuditEventType.CASE_ESCALATION_JOINED,
        actor=actor,
        source=source,
        target_type="case",
        target_id=case.pk,
        data={
            "escalation": str(escalation.pk),
            "suspects": sorted(s.platform_id for s in suspects),
        },
    )
    return case, opened


MAX_NOTE = 10_000


@transaction.atomic
def case_note_add(*, case: Case, actor: User, text: str, source: AuditSource) -> CaseNote:
    """An internal note by anyone who reviews cases; audited with its length, not its text."""
    if not actor.has_permission(Permission.CASES_CASE_REVIEW):
        raise CasePermissionDenied(actor, CaseTransition.START_REVIEW)
    text = text.strip()
    if not text or len(text) > MAX_NOTE:
        raise ReasonRequired(f"a note is 1 to {MAX_NOTE} characters")
    if "\x00" in text:
        raise ReasonRequired("the note holds a NUL character, which cannot be stored; remove it")
    note = CaseNote.objects.create(case=case, author=actor, text=text, written_at=timezone.now())
    audit_record(
        event_type=AuditEventType.CASE_NOTE_ADDED,
        actor=actor,
        source=source,
        target_type="case",
        target_id=case.pk,
        data={"note": note.pk, "length": len(text)},
    )
    return note


@transaction.atomic
def case_transition(
    *,
    case: Case,
    transition: CaseTransition,
    actor: User | None,
    source: AuditSource,
    reason: str = "",
) -> Case:
    """Move a case along one edge of the lifecycle; `actor=None` is Safeguard itself."""
    if actor is not None and not actor.has_permission(EDGES_BY_NAME[transition].permission):
        raise CasePermissionDenied(actor, transition)
    if transition is CaseTransition.REOPEN and not reason.strip():
        raise ReasonRequired("reopening a case needs a reason")
    # Re-read under lock so two people cannot move the same case from the same state at once.
    locked = Case.objects.select_for_update().get(pk=case.pk)
    previous = CaseState(locked.state)
    target = next_state(previous, transition)
    now = timezone.now()
    locked.state = target
    locked.updated_at = now
    locked.closed_at = now if target is CaseState.CLOSED else None
    fields = ["state", "updated_at", "closed_at"]
    if target in (CaseState.DECIDED, CaseState.ACTIONED, CaseState.CLOSED):
        # A decision releases the claim: nobody holds a case that is no longer in review.
        fields += claim_end(case=locked, now=now)
    locked.save(update_fields=fields)
    audit_record(
        event_type=AuditEventType.CASE_TRANSITIONED,
        actor=actor,
        source=source,
        target_type="case",
        target_id=locked.pk,
        data={
            "transition": transition.value,
            "from": previous.value,
            "to": target.value,
            "reason": reason,
        },
    )
    return locked


def escalation_group(
    *,
    escalation: Escalation,
    suspects: Sequence[Subject],
    content_ids: Sequence[object],
    actor: User | None,
    source: AuditSource,
    hash_match: object = None,
) -> None:
    """Subscribed to `intake.hooks.escalation_accepted`: the escalation joins its case (or
    opens one), and that is announced for triage, in intake's transaction."""
    case, _ = case_for_escalation(
        escalation=escalation,
        suspects=suspects,
        actor=actor,
        source=source,
        content_ids=content_ids,
    )
    hooks.escalation_grouped.announce(
        case=case, escalation=escalation, source=source, hash_match=hash_match
    )
