"""Scanning stored media: hash it, match it, and turn each actionable match into an automated
escalation about the same content, which triage then ranks (a verified match is at least P1)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from safeguard.accounts.models import User
from safeguard.accounts.permissions import Role
from safeguard.accounts.services import AccountError, user_create
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.audit.services import audit_record
from safeguard.evidence.models import ContentItem
from safeguard.evidence.services import vault
from safeguard.intake.enums import ContentKind
from safeguard.intake.hooks import HashMatchSummary
from safeguard.intake.models import EscalationSubject
from safeguard.intake.schemas import EscalationIn
from safeguard.intake.services import escalation_intake
from safeguard.matching.models import BankEntry, ContentMatch
from safeguard.matching.services import Hit, lookup_record, match_hashes
from safeguard.matching.signal_types import HashResult, MediaError
from safeguard.matching.signals import get_signal_type

MATCHER = "safeguard-matcher"


def matcher_account() -> User:
    """The service account automated escalations are filed under (created on first use)."""
    user = User.objects.filter(username=MATCHER).first()
    if user is not None:
        return user
    try:
        with transaction.atomic():
            return user_create(
                username=MATCHER, role=Role.SERVICE, actor=None, source=AuditSource.SYSTEM
            )
    except (AccountError, IntegrityError):
        # Another worker created it at the same moment.
        existing = User.objects.filter(username=MATCHER).first()
        if existing is None:
            raise
        return existing


def exact_hashes(data: bytes) -> list[HashResult]:
    return [get_signal_type(s).hash_bytes(data, max_bytes=len(data)) for s in ("md5", "sha256")]


def hash_media(data: bytes, kind: str) -> list[HashResult]:
    """The hashes Safeguard keeps for media of this kind (perceptual first, then exact)."""
    exact = exact_hashes(data)
    if kind == ContentKind.IMAGE:
        return [get_signal_type("pdq").hash_bytes(data, max_bytes=len(data)), *exact]
    if kind == ContentKind.VIDEO:
        return [get_signal_type("video").hash_bytes(data, max_bytes=len(data)), *exact]
    return exact


@dataclass(frozen=True)
class ScanOutcome:
    hashes: list[HashResult]
    matches: int
    escalations: list[uuid.UUID]
    error: str = ""


def _suspects(item: ContentItem) -> list[dict[str, object]]:
    ids = (
        EscalationSubject.objects.filter(escalation__content__content=item, role="suspect")
        .values_list("subject__platform_id", flat=True)
        .distinct()
    )
    return [{"platform_id": pid, "role": "suspect"} for pid in sorted(ids)]


def content_scan(*, content_id: uuid.UUID) -> ScanOutcome:
    """Hash a content item's stored media and act on matches. Safe to run more than once.

    Every hit is recorded as a ContentMatch. Each bank the media matches gives one automated
    escalation (its closest hit names it): the same known image found by PDQ, MD5 and SHA-256
    is one finding, not three. Matches suppressed by an allow-list are recorded, not escalated.
    """
    item = ContentItem.objects.filter(pk=content_id).first()
    if item is None or item.blob_id is None:
        return ScanOutcome([], 0, [], "no stored media")
    data = vault().read(item.blob_id)
    error = ""
    try:
        hashes = hash_media(data, item.kind)
    except MediaError as exc:
        # Bytes that are not a decodable image or video (a hostile or damaged file, kept as
        # opaque evidence) are still matched exactly: a known file is found whatever it claims.
        hashes = exact_hashes(data)
        error = str(exc)
    results = match_hashes(hashes)
    lookup_record(actor=None, source=AuditSource.TASK, results=results)
    allow = next((h for r in results for h in r.hits if h.allow_list), None)
    by_bank: dict[str, list[ContentMatch]] = {}
    for result in results:
        for hit in result.hits:
            if hit.allow_list:
                continue
            match = _record(item, result.query.signal_type, hit, allow.entry_id if allow else None)
            by_bank.setdefault(hit.bank, []).append(match)
    escalations = []
    if allow is None:
        for matches in by_bank.values():
            escalation = _escalate(item, matches)
            if escalation is not None:
                escalations.append(escalation)
    return ScanOutcome(hashes, sum(len(m) for m in by_bank.values()), escalations, error)


def _record(
    item: ContentItem, signal_type: str, hit: Hit, suppressed_by: int | None
) -> ContentMatch:
    with transaction.atomic():
        match, created = ContentMatch.objects.select_related("entry__bank").get_or_create(
            content=item,
            entry_id=hit.entry_id,
            defaults={
                "signal_type": signal_type,
                "distance": hit.distance,
                "low_confidence": hit.low_confidence,
                "suppressed_by_id": suppressed_by,
                "found_at": timezone.now(),
            },
        )
        if created:
            audit_record(
                event_type=AuditEventType.CONTENT_MATCHED,
                actor=None,
                source=AuditSource.TASK,
                target_type="content",
                target_id=item.pk,
                data={
                    "bank": hit.bank,
                    "entry": hit.entry_id,
                    "signal_type": signal_type,
                    "distance": hit.distance,
                    "low_confidence": hit.low_confidence,
                    "suppressed_by_allow_list_entry": suppressed_by,
                },
            )
    return match


def _escalate(item: ContentItem, matches: list[ContentMatch]) -> uuid.UUID | None:
    """One automated escalation per content item and bank, linked from its matches."""
    existing = next((m.escalation_id for m in matches if m.escalation_id), None)
    if existing is not None:
        return existing
    best = min(matches, key=lambda m: (m.low_confidence, m.distance, m.signal_type != "sha256"))
    bank = BankEntry.objects.select_related("bank").get(pk=best.entry_id).bank
    payload = EscalationIn.model_validate(
        {
            "channel": "automated",
            "external_id": f"match:{item.pk}:{bank.name}",
            "category": "csam",
            "summary": (
                f"Hash match: bank {bank.name}, entry {best.entry_id} "
                f"({best.signal_type}, distance {best.distance}"
                f"{', low-confidence copy' if best.low_confidence else ''})."
            ),
            "subjects": _suspects(item),
            "content": [{"platform_id": item.platform_id, "kind": item.kind}],
        }
    )
    summary = HashMatchSummary(
        verified=bank.verified and not best.low_confidence,
        count=len(matches),
        min_distance=best.distance,
    )
    try:
        intake = escalation_intake(
            payload=payload,
            caller=matcher_account(),
            source=AuditSource.TASK,
            hash_match=summary,
            platform=item.platform,
        )
    except IntegrityError:
        return None
    ContentMatch.objects.filter(pk__in=[m.pk for m in matches], escalation__isnull=True).update(
        escalation=intake.escalation
    )
    return intake.escalation.pk
