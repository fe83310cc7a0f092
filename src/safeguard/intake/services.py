"""Accepting escalations: durable, idempotent on the caller's key, grouped into a case at once."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from safeguard.accounts.models import User
from safeguard.accounts.permissions import Permission, Role
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.audit.leaves import canonical_json
from safeguard.audit.services import audit_record
from safeguard.core.errors import Conflict, Forbidden, Invalid
from safeguard.evidence.models import ContentItem
from safeguard.intake import hooks
from safeguard.intake.enums import Channel, ContentKind, SubjectRole
from safeguard.intake.hooks import HashMatchSummary
from safeguard.intake.models import (
    ContentClaim,
    Escalation,
    EscalationContent,
    EscalationSubject,
    Subject,
)
from safeguard.intake.schemas import ContentIn, EscalationIn
from safeguard.intake.sources import source_of


class IntakeError(Exception):
    """Base of intake's refusals; each maps to a 4xx with its message."""


class ChannelNotAllowed(Forbidden, IntakeError):
    pass


class IdempotencyConflict(Conflict, IntakeError):
    pass


class ContentConflict(Conflict, IntakeError):
    pass


class StreamOriginRefused(Invalid, IntakeError):
    pass


@dataclass(frozen=True)
class IntakeResult:
    escalation: Escalation
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


def subjects_lock(*, platform_ids: Sequence[str]) -> dict[str, Subject]:
    """Get or create subjects by platform id and lock them for this transaction.

    Creating with ignore_conflicts and then locking in a fixed order lets concurrent intakes
    that name the same new suspect agree on one subject row, and so on one case, without
    deadlocking.
    """
    if not platform_ids:
        return {}
    now = timezone.now()
    wanted = sorted(set(platform_ids))
    Subject.objects.bulk_create(
        [Subject(platform_id=pid, first_seen_at=now) for pid in wanted], ignore_conflicts=True
    )
    locked = Subject.objects.select_for_update().filter(platform_id__in=wanted).order_by("id")
    return {s.platform_id: s for s in locked}


def _existing(caller: User, payload: EscalationIn, digest: str) -> IntakeResult | None:
    found = Escalation.objects.filter(
        caller=caller, channel=payload.channel.value, external_id=payload.external_id
    ).first()
    if found is None:
        return None
    if found.payload_sha256 != digest:
        raise IdempotencyConflict(
            f"external_id {payload.external_id!r} was already used on channel "
            f"{payload.channel.value!r} for a different escalation; use a new external_id"
        )
    return IntakeResult(escalation=found, created=False)


def _namespace(caller: User, platform: str | None) -> tuple[str, bool]:
    """Whose content ids the escalation names, and whether the caller speaks for that platform.

    A service account names its own platform's content; everyone else (law-enforcement partners,
    staff) references the configured platform's content, or `platform` where Safeguard's own
    matcher files about an item of another platform.
    """
    namespace = platform or caller.platform or settings.SAFEGUARD_PLATFORM
    return namespace, bool(caller.platform) and caller.platform == namespace


def origin_of(url: str) -> str:
    """scheme://host[:port] of a URL, lower-cased, without a default port."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if ":" in host:  # an IPv6 literal keeps its brackets in an origin
        host = f"[{host}]"
    default = {"http": 80, "https": 443}.get(parts.scheme)
    port = f":{parts.port}" if parts.port is not None and parts.port != default else ""
    return f"{parts.scheme}://{host}{port}"


def _check_stream_origins(payload: EscalationIn) -> None:
    """A viewer URL is played inside the console, so it must be on an origin the deployment
    lists (SAFEGUARD_STREAM_ORIGINS), which the case page's policy then allows media from."""
    allowed = set(settings.SAFEGUARD_STREAM_ORIGINS)
    for index, content in enumerate(payload.content):
        if content.viewer_url is None:
            continue
        origin = origin_of(content.viewer_url)
        if origin not in allowed:
            listed = ", ".join(sorted(allowed)) or "none are configured"
            raise StreamOriginRefused(
                f"content[{index}].viewer_url: {origin} is not an origin the console plays "
                f"streams from (SAFEGUARD_STREAM_ORIGINS: {listed}); send stream_url alone"
            )


def _stream_update(
    item: ContentItem, content: ContentIn, escalation: Escalation, source: AuditSource
) -> None:
    """The owner's later word on a livestream: new links, live again, or ended. Fields it does
    not send are left as they were; what changed is audited."""
    if item.kind != ContentKind.LIVESTREAM:
        return
    wanted: dict[str, object] = {}
    if content.stream_url is not None:
        wanted["stream_url"] = content.stream_url
    if content.viewer_url is not None:
        wanted["viewer_url"] = content.viewer_url
    if content.ended_at is not None:
        wanted["ended_at"] = content.ended_at
        wanted["live"] = False
    elif "live" in content.model_fields_set:
        wanted["live"] = content.live
        if content.live:
            wanted["ended_at"] = None  # live again: the end it was given no longer holds
    changes = {
        name: [getattr(item, name), value]
        for name, value in wanted.items()
        if getattr(item, name) != value
    }
    if not changes:
        return
    for name, (_old, new) in changes.items():
        setattr(item, name, new)
    item.save(update_fields=sorted(changes))
    audit_record(
        event_type=AuditEventType.CONTENT_STREAM_UPDATED,
        actor=escalation.caller,
        source=source,
        target_type="content",
        target_id=item.pk,
        data={"escalation": str(escalation.pk), "changes": changes},
    )


def _conflict(content: ContentIn) -> ContentConflict:
    # Names only what the caller sent: never the hash or kind someone filed before.
    return ContentConflict(
        f"content {content.platform_id!r} was described earlier with another kind or sha256; "
        "a platform id names one piece of content, and its bytes do not change"
    )


def content_text(content: ContentIn) -> str:
    """The text an item keeps: as sent, and for a thread sent as messages, one line per message
    with its time (UTC) and author, so the console shows who said what when."""
    lines = [content.text] if content.text else []
    for message in content.messages or []:
        when = message.sent_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
        author = f" {message.author}" if message.author else ""
        lines.append(f"[{when}]{author}: {message.text}")
    return "\n".join(lines)


def _describe(item: ContentItem, content: ContentIn) -> None:
    """The owner's description of its own item: the first one fixes it, a different one later
    is refused. A description another source gave first was provisional and is replaced."""
    if not item.described_by_owner:
        item.kind = content.kind.value
        item.text = content_text(content)
        item.live = content.live
        item.declared_sha256 = content.sha256 or ""
        item.described_by_owner = True
        if item.blob_id and item.declared_sha256 and item.blob_id != item.declared_sha256:
            raise _conflict(content)
        item.save(update_fields=["kind", "text", "live", "declared_sha256", "described_by_owner"])
        return
    known_sha = item.blob_id or item.declared_sha256
    if item.kind != content.kind.value or (
        content.sha256 and known_sha and content.sha256 != known_sha
    ):
        raise _conflict(content)
    if content.sha256 and not known_sha:
        item.declared_sha256 = content.sha256
        item.save(update_fields=["declared_sha256"])


def _claim(
    item: ContentItem,
    content: ContentIn,
    escalation: Escalation,
    source: AuditSource,
    now: datetime,
) -> ContentClaim | None:
    """Another source's description, kept beside the item when it says more than the owner did
    or says it differently; the item itself is left as its owner described it."""
    differs = []
    if item.described_by_owner and item.kind != content.kind.value:
        differs.append("kind")
    known_sha = item.blob_id or item.declared_sha256
    if content.sha256 and known_sha and content.sha256 != known_sha:
        differs.append("sha256")
    if not differs and not content.sha256:
        return None
    claim = ContentClaim.objects.create(
        content=item,
        escalation=escalation,
        caller=escalation.caller,
        kind=content.kind.value,
        sha256=content.sha256 or "",
        differs=differs,
        recorded_at=now,
    )
    audit_record(
        event_type=AuditEventType.CONTENT_CLAIM_RECORDED,
        actor=escalation.caller,
        source=source,
        target_type="content",
        target_id=item.pk,
        data={
            "escalation": str(escalation.pk),
            "kind": claim.kind,
            "sha256": claim.sha256,
            "differs": differs,
        },
    )
    return claim


def _content_items(
    payload: EscalationIn, escalation: Escalation, source: AuditSource, platform: str | None
) -> list[ContentItem]:
    """Get or create the named content items of the right platform, locked.

    The owner describes its items (a conflicting description is refused); any other source only
    references them, and what it says differently is recorded as a claim for a person to see.
    """
    if not payload.content:
        return []
    namespace, owner = _namespace(escalation.caller, platform)
    now = escalation.received_at
    ContentItem.objects.bulk_create(
        [
            ContentItem(
                platform=namespace,
                platform_id=c.platform_id,
                kind=c.kind.value,
                text=content_text(c),
                live=c.live,
                stream_url=(c.stream_url or "") if owner else "",
                viewer_url=(c.viewer_url or "") if owner else "",
                ended_at=c.ended_at if owner else None,
                declared_sha256=(c.sha256 or "") if owner else "",
                described_by_owner=owner,
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
        .filter(platform=namespace, platform_id__in=ids)
        .order_by("id")
    }
    items = []
    for content in payload.content:
        item = known[content.platform_id]
        if owner:
            _describe(item, content)
            _stream_update(item, content, escalation, source)
        else:
            _claim(item, content, escalation, source, now)
        items.append(item)
    return items


def _accept(
    caller: User,
    payload: EscalationIn,
    digest: str,
    source: AuditSource,
    hash_match: HashMatchSummary | None,
    platform: str | None,
) -> IntakeResult:
    now = timezone.now()
    source_kind, source_verified = source_of(payload, le_partner=caller.role == Role.LE_PARTNER)
    escalation = Escalation(
        channel=payload.channel.value,
        source_kind=source_kind.value,
        source_verified=source_verified,
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
    items = _content_items(payload, escalation, source, platform)
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
    # Grouping and triage subscribe and run in this transaction (intake.hooks): a 2xx means the
    # escalation, its case and its triage are durable together.
    hooks.escalation_accepted.announce(
        escalation=escalation,
        suspects=suspects,
        content_ids=[item.pk for item in items],
        actor=caller,
        source=source,
        hash_match=hash_match,
    )
    return IntakeResult(escalation=escalation, created=True)


def escalation_intake(
    *,
    payload: EscalationIn,
    caller: User,
    source: AuditSource = AuditSource.API,
    hash_match: HashMatchSummary | None = None,
    platform: str | None = None,
) -> IntakeResult:
    """Accept an escalation, or return the one already accepted under the same key.

    The escalation, its links, its case and their audit events are written in one transaction
    before this returns, so a 2xx always means the escalation is durable. `hash_match` is how
    Safeguard's own matcher tells triage what it found, and `platform` which platform's content
    it found it on; neither is part of the public contract.
    """
    _check_channel(caller, payload.channel)
    digest = payload_digest(payload)
    existing = _existing(caller, payload, digest)
    if existing is not None:
        return existing
    _check_stream_origins(payload)
    try:
        with transaction.atomic():
            return _accept(caller, payload, digest, source, hash_match, platform)
    except IntegrityError:
        # A concurrent request with the same key won the race; answer as its retry.
        existing = _existing(caller, payload, digest)
        if existing is None:
            raise
        return existing
