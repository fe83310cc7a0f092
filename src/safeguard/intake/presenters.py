"""Turning stored escalations into the API's response shapes, so route code stays thin."""

from __future__ import annotations

from safeguard.evidence.models import ContentItem
from safeguard.intake.models import Escalation
from safeguard.intake.schemas import (
    ClaimOut,
    ContentOut,
    ContentRef,
    EscalationDetail,
    EscalationOut,
    LawEnforcementOut,
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
        stream_url=item.stream_url or None,
        viewer_url=item.viewer_url or None,
        ended_at=item.ended_at,
        sha256=item.blob_id or item.declared_sha256 or None,
        has_media=item.blob_id is not None,
        detected=item.blob.detected if item.blob else None,
        renderable=item.blob is not None and item.blob.media_kind == item.kind,
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
        law_enforcement=LawEnforcementOut.model_validate(le) if le else None,
    )


def intake_response(escalation: Escalation, *, created: bool) -> EscalationOut:
    """The answer to the caller who filed `escalation`: its id and status, and the content ids
    of the caller's own platform (to upload media to). Nothing of the case it joined, its
    priority or its explanation: those come from other callers' reports too."""
    platform = escalation.caller.platform
    items = [
        link.content
        for link in escalation.content.select_related("content")
        if platform and link.content.platform == platform
    ]
    return EscalationOut(
        id=escalation.pk,
        status="accepted" if created else "already_accepted",
        content=[
            ContentRef(id=i.pk, platform_id=i.platform_id, has_media=i.blob_id is not None)
            for i in items
        ],
    )
