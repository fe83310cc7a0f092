"""Accepting escalations: durable, idempotent on the caller's key, grouped into a case at once."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from safeguard.accounts.models import User
from safeguard.accounts.permissions import Permission
from safeguard.audit.chain import canonical_json
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.audit.services import audit_record
from safeguard.cases.models import Case
from safeguard.cases.services import case_for_escalation, subjects_lock
from safeguard.evidence.models import ContentItem
from safeguard.intake.enums import Channel, SubjectRole
from safeguard.intake.models import Escalation, EscalationContent, EscalationSubject
from safeguard.intake.schemas import EscalationIn
from safeguard.triage.context import HashMatchSummary
from safeguard.triage.services import case_triage


class IntakeError(Exception):
    """Base of intake's refusals; each maps to a 4xx with its message."""


class ChannelNotAllowed(IntakeError):
    pass


class IdempotencyConflict(IntakeError):
    pass


class ContentConflict(IntakeError):
    pass


@dataclass(frozen=True)
class IntakeResult:
    escalation: Escalation
    case: Case
    created: bool


def payload_digest(payload: EscalationIn) -> str:
    return hashlib.sha256(canonical_json(payload.model_dump(mode="json"))).hexdigest()


def _check_channel(caller: User, channel: Channel) -> None:
    if caller.has_permission(Permission.INTAKE_ESCALATION_CREATE):
        return
    if channel is Channel.LAW_ENFORCEMENT and caller.has_permission(
        Permission.INTAKE_LE_REQUEST_CREATE
    ):
        return
    raise ChannelNotAllowed(
        f"{caller.username} may not file escalations on channel {channel.value!r}"
    )


def _existing(caller: User, payload: EscalationIn, digest: str) -> IntakeResult | None:
    found = (
        Escalation.objects.select_related("case_link__case")
        .filter(caller=caller, channel=payload.channel.value, external_id=payload.external_id)
        .first()
    )
    if found is None:
        return None
    if found.payload_sha256 != digest:
        raise IdempotencyConflict(
            f"external_id {payload.external_id!r} was already used on channel "
            f"{payload.channel.value!r} for a different escalation; use a new external_id"
        )
    return IntakeResult(escalation=found, case=found.case_link.case, created=False)


def _content_items(payload: EscalationIn, now: datetime) -> list[ContentItem]:
    """Get or create the named content items, locked, refusing a conflicting description."""
    if not payload.content:
        return []
    ContentItem.objects.bulk_create(
        [
            ContentItem(
                platform_id=c.platform_id,
                kind=c.kind.value,
                text=c.text or "",
                live=c.live,
                declared_sha256=c.sha256 or "",
                first_seen_at=now,
            )
            for c in payload.content
        ],
        ignore_conflicts=True,
    )
    ids = [c.platform_id for c in payload.content]
    known = {
        item.platform_id: item
        for item in ContentItem.objects.select_for_update()
        .filter(platform_id__in=ids)
        .order_by("id")
    }
    items = []
    for content in payload.content:
        item = known[content.platform_id]
        if item.kind != content.kind.value:
            raise ContentConflict(
                f"content {content.platform_id!r} is already known as {item.kind}, "
                f"not {content.kind.value}"
            )
        known_sha = item.blob_id or item.declared_sha256
        if content.sha256 and known_sha and content.sha256 != known_sha:
            raise ContentConflict(
                f"content {content.platform_id!r} is already known with sha256 {known_sha}, "
                f"not {content.sha256}"
            )
        if content.sha256 and not known_sha:
            item.declared_sha256 = content.sha256
            item.save(update_fields=["declared_sha256"])
        items.append(item)
    return items


def _accept(
    caller: User,
    payload: EscalationIn,
    digest: str,
    source: AuditSource,
    hash_match: HashMatchSummary | None,
) -> IntakeResult:
    now = timezone.now()
    escalation = Escalation(
        channel=payload.channel.value,
        caller=caller,
        external_id=payload.external_id,
        category=payload.category.value,
        summary=payload.summary,
        occurred_at=payload.occurred_at,
        received_at=now,
        payload=payload.model_dump(mode="json"),
        payload_sha256=digest,
    )
    escalation.save(force_insert=True)
    subjects = subjects_lock(platform_ids=[s.platform_id for s in payload.subjects])
    EscalationSubject.objects.bulk_create(
        [
            EscalationSubject(
                escalation=escalation,
                subject=subjects[s.platform_id],
                role=s.role.value,
                age=s.age,
                country=s.country or "",
            )
            for s in payload.subjects
        ]
    )
    items = _content_items(payload, now)
    EscalationContent.objects.bulk_create(
        [
            EscalationContent(escalation=escalation, content=item, position=i)
            for i, item in enumerate(items)
        ]
    )
    audit_record(
        event_type=AuditEventType.ESCALATION_RECEIVED,
        actor=caller,
        source=source,
        target_type="escalation",
        target_id=escalation.pk,
        data={
            "channel": escalation.channel,
            "external_id": escalation.external_id,
            "category": escalation.category,
            "payload_sha256": digest,
        },
    )
    suspects = [subjects[s.platform_id] for s in payload.subjects if s.role is SubjectRole.SUSPECT]
    case, _ = case_for_escalation(
        escalation=escalation,
        suspects=suspects,
        actor=caller,
        source=source,
        content_ids=[item.pk for item in items],
    )
    # Triage runs in the same transaction: the 201 carries the priority, and a P0's page is
    # enqueued if and only if the escalation is stored.
    case_triage(case=case, escalation=escalation, source=source, hash_match=hash_match)
    case.refresh_from_db()
    return IntakeResult(escalation=escalation, case=case, created=True)


def escalation_intake(
    *,
    payload: EscalationIn,
    caller: User,
    source: AuditSource = AuditSource.API,
    hash_match: HashMatchSummary | None = None,
) -> IntakeResult:
    """Accept an escalation, or return the one already accepted under the same key.

    The escalation, its links, its case and their audit events are written in one transaction
    before this returns, so a 2xx always means the escalation is durable. `hash_match` is how
    Safeguard's own matcher tells triage what it found; it is not part of the public contract.
    """
    _check_channel(caller, payload.channel)
    digest = payload_digest(payload)
    existing = _existing(caller, payload, digest)
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return _accept(caller, payload, digest, source, hash_match)
    except IntegrityError:
        # A concurrent request with the same key won the race; answer as its retry.
        existing = _existing(caller, payload, digest)
        if existing is None:
            raise
        return existing
