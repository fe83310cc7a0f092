"""Turning stored escalations into the API's response shapes, so route code stays thin."""

from __future__ import annotations

from safeguard.cases.models import Case
from safeguard.evidence.models import ContentItem
from safeguard.intake.models import Escalation
from safeguard.intake.schemas import (
    ClaimOut,
    ContentOut,
    ContentRef,
    EscalationDetail,
    EscalationOut,
    LawEnforcementIn,
    MatchOut,
    SubjectOut,
)


def content_out(item: ContentItem) -> ContentOut:
    return ContentOut(
        id=item.pk,
        platform_id=item.platform_id,
        kind=item.kind,
        text=item.text,
        live=item.live,
        sha256=item.blob_id or item.declared_sha256 or None,
        has_media=item.blob_id is not None,
        matches=[
            MatchOut(
                bank=m.entry.bank.name,
                entry_id=m.entry_id,
                signal_type=m.signal_type,
                distance=m.distance,
                verified=m.entry.bank.verified,
                low_confidence=m.low_confidence,
                allow_listed=m.suppressed_by_id is not None,
            )
            for m in item.matches.all()
        ],
        claims=[
            ClaimOut(
                caller=c.caller.username,
                kind=c.kind,
                sha256=c.sha256 or None,
                differs=c.differs,
                recorded_at=c.recorded_at,
            )
            for c in item.claims.all()
        ],
    )


def escalation_detail(escalation: Escalation) -> EscalationDetail:
    le = escalation.payload.get("law_enforcement")
    return EscalationDetail(
        id=escalation.pk,
        case_id=escalation.case_link.case_id,
        channel=escalation.channel,
        external_id=escalation.external_id,
        caller=escalation.caller.username,
        category=escalation.category,
        summary=escalation.summary,
        occurred_at=escalation.occurred_at,
        received_at=escalation.received_at,
        subjects=[
            SubjectOut(
                platform_id=link.subject.platform_id,
                role=link.role,
                age=link.age,
                country=link.country or None,
            )
            for link in escalation.subjects.all()
        ],
        content=[content_out(link.content) for link in escalation.content.all()],
        law_enforcement=LawEnforcementIn.model_validate(le) if le else None,
    )


def intake_response(escalation: Escalation, case: Case) -> EscalationOut:
    """The case's current triage: automatic triage may have kept a more urgent earlier answer."""
    items = [link.content for link in escalation.content.select_related("content")]
    deadlines = None
    if case.first_action_due is not None:
        deadlines = {"first_action": case.first_action_due}
        if case.warn_at is not None:
            deadlines["warn"] = case.warn_at
    return EscalationOut(
        id=escalation.pk,
        case_id=case.pk,
        priority=case.priority or None,
        deadlines=deadlines,
        explanation=case.explanation or None,
        content=[
            ContentRef(id=i.pk, platform_id=i.platform_id, has_media=i.blob_id is not None)
            for i in items
        ],
    )
