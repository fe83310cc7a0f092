"""Legal holds: placing, extending and releasing them (services), which holds cover which
content (selectors), and the hold check, the only code that can clear a deletion in the vault."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable
from datetime import UTC, datetime

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from safeguard.accounts.models import User
from safeguard.accounts.permissions import Permission
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.audit.services import audit_record
from safeguard.core.errors import Conflict, Forbidden, Invalid, NotFound
from safeguard.evidence.hooks import HoldKey, hold_scope
from safeguard.evidence.models import (
    Blob,
    ContentItem,
    DestructionRequest,
    HoldSource,
    HoldTarget,
    LegalHold,
    LegalHoldExtension,
)
from safeguard.evidence.vault import DeletionClearance, clearance_issuer

# Taken once, when this module is imported: from then on only the hold check below can make a
# clearance, and so only it can let the vault delete bytes (evidence.vault.DeletionClearance).
_issue = clearance_issuer()

REASON_MAX = 2000
REFERENCE_MAX = 200
AUDIT_TARGET = "legal_hold"


class HoldInvalid(Invalid):
    """A hold asked for with a missing or impossible field."""


class HoldConflict(Conflict):
    """A change to a hold that its recorded state does not allow (released, ended)."""


class HoldForbidden(Forbidden):
    """The person lacks EVIDENCE_HOLD_MANAGE."""


def _require_manage(actor: User | None) -> None:
    # None is Safeguard itself (a task placing a filed report's hold), which needs no role.
    if actor is not None and not actor.has_permission(Permission.EVIDENCE_HOLD_MANAGE):
        raise HoldForbidden(
            f"{actor.username} ({actor.role or 'no role'}) lacks "
            f"{Permission.EVIDENCE_HOLD_MANAGE.value}"
        )


class HoldNotFound(NotFound):
    def __init__(self, hold_id: object) -> None:
        super().__init__(f"no legal hold {hold_id}")


def hold_describe(hold: LegalHold) -> str:
    """One line a person can act on: which hold, on what, from where, until when, and why."""
    source = hold.source if not hold.source_reference else f"{hold.source} {hold.source_reference}"
    until = (
        f"until {hold.ends_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
        if hold.ends_at is not None
        else "no end date"
    )
    return (
        f"hold {hold.pk} on {hold.target_type} {hold.target_id} ({source}; {until}): {hold.reason}"
    )


class ContentHeld(Conflict):
    """A deletion refused because a legal hold covers the content; nothing was changed."""

    def __init__(self, held: dict[uuid.UUID, list[LegalHold]]) -> None:
        self.held = held
        parts = []
        for content_id, holds in held.items():
            named = "; ".join(hold_describe(h) for h in holds)
            parts.append(f"content {content_id} is under legal hold — {named}")
        super().__init__(
            ". ".join(parts) + ". Nothing was deleted: a held item can be deleted only after "
            "its holds are released or end, or destroyed on an approved law-enforcement "
            "destruction request"
        )


# --- selectors -------------------------------------------------------------------------------


def _active(now: datetime) -> Q:
    return Q(released_at__isnull=True) & (Q(ends_at__isnull=True) | Q(ends_at__gt=now))


def holds_active(*, now: datetime | None = None) -> QuerySet[LegalHold]:
    return LegalHold.objects.filter(_active(now or timezone.now()))


def holds_list_for(
    *,
    user: User,
    active_only: bool = False,
    target_type: str | None = None,
    target_id: str | None = None,
    now: datetime | None = None,
) -> QuerySet[LegalHold]:
    """The holds a person may read, newest first (none without EVIDENCE_HOLD_READ)."""
    if not user.has_permission(Permission.EVIDENCE_HOLD_READ):
        return LegalHold.objects.none()
    query = LegalHold.objects.select_related("placed_by", "released_by").prefetch_related(
        "extensions__extended_by"
    )
    if active_only:
        query = query.filter(_active(now or timezone.now()))
    if target_type:
        query = query.filter(target_type=target_type)
    if target_id:
        query = query.filter(target_id=target_id)
    return query.order_by("-placed_at")


def hold_get_for(*, user: User, hold_id: uuid.UUID) -> LegalHold:
    """A hold the person may read; the same "not found" when there is none or they may not."""
    hold = holds_list_for(user=user).filter(pk=hold_id).first()
    if hold is None:
        raise HoldNotFound(hold_id)
    return hold


def holds_covering(
    *, content_ids: Collection[uuid.UUID], now: datetime | None = None
) -> dict[uuid.UUID, list[LegalHold]]:
    """The holds in force over each content item that has any: a hold on the item itself, or on
    a case or subject it belongs to (as the registered providers say, at this moment)."""
    if not content_ids:
        return {}
    keys = hold_scope.keys_for(content_ids)
    wanted: set[HoldKey] = set().union(*keys.values())
    matching = Q()
    for kind in {k for k, _ in wanted}:
        matching |= Q(target_type=kind, target_id__in=[t for k, t in wanted if k == kind])
    by_key: dict[HoldKey, list[LegalHold]] = {}
    for hold in (
        LegalHold.objects.filter(_active(now or timezone.now()))
        .filter(matching)
        .order_by("placed_at")
    ):
        by_key.setdefault((hold.target_type, hold.target_id), []).append(hold)
    held: dict[uuid.UUID, list[LegalHold]] = {}
    for content_id in content_ids:
        found = [h for key in sorted(keys[content_id]) for h in by_key.get(key, [])]
        if found:
            held[content_id] = found
    return held


# --- the hold check: the only issuer of vault deletion clearances ----------------------------


def deletion_clearance(
    *, content_ids: Collection[uuid.UUID], addresses: Iterable[str], now: datetime
) -> DeletionClearance:
    """Clear `addresses` (the vault objects of `content_ids` that may go) for deletion, or raise
    ContentHeld naming every hold in force over any of the items. Call it inside the deleting
    transaction, after locking the items."""
    held = holds_covering(content_ids=content_ids, now=now)
    if held:
        raise ContentHeld(held)
    return _issue(addresses, "deletion of content under no hold")


class DestructionNotApproved(Conflict):
    """A destruction clearance asked for a request that a second legal person has not approved."""


def destruction_clearance(
    *, request: DestructionRequest, addresses: Iterable[str]
) -> DeletionClearance:
    """Clear `addresses` for an approved lawful destruction: the one clearance that holds do not
    stop (18 U.S.C. §2258B(c)). The request must be approved by someone other than its maker."""
    if request.approved_at is None or request.approved_by_id is None:
        raise DestructionNotApproved(f"destruction {request.pk} has not been approved")
    if request.approved_by_id == request.requested_by_id:
        raise DestructionNotApproved(
            f"destruction {request.pk} was approved by the person who recorded it"
        )
    return _issue(addresses, f"destruction {request.pk}")


def orphan_clearance(*, addresses: Iterable[str]) -> DeletionClearance:
    """Clear vault files that no blob row references any more (left by a deletion that
    committed but did not finish unlinking): nothing can hold bytes that nothing references."""
    wanted = set(addresses)
    referenced = Blob.objects.filter(
        Q(sha256__in=wanted) | Q(thumbnail_sha256__in=wanted) | Q(display_sha256__in=wanted)
    ).values_list("sha256", "thumbnail_sha256", "display_sha256")
    still = {a for row in referenced for a in row} & wanted
    if still:
        raise HoldConflict(f"still referenced, not orphans: {', '.join(sorted(still))}")
    return _issue(wanted, "orphaned vault files")


# --- services --------------------------------------------------------------------------------


def _reason(value: str, field: str = "reason") -> str:
    cleaned = (value or "").strip()
    if not cleaned:
        raise HoldInvalid(f"{field} is required: say why, for whoever reads this hold later")
    if len(cleaned) > REASON_MAX:
        raise HoldInvalid(f"{field} is at most {REASON_MAX} characters")
    return cleaned


def _future(ends_at: datetime | None, now: datetime) -> datetime | None:
    if ends_at is None:
        return None
    if timezone.is_naive(ends_at):
        raise HoldInvalid("ends_at needs a time zone (UTC, e.g. 2027-01-31T00:00:00Z)")
    if ends_at <= now:
        raise HoldInvalid(
            f"ends_at {ends_at.isoformat()} is not in the future; a hold ends after it is placed"
        )
    return ends_at


def _target(target_type: str, target_id: str) -> tuple[HoldTarget, str]:
    try:
        kind = HoldTarget(target_type)
    except ValueError:
        known = ", ".join(t.value for t in HoldTarget)
        raise HoldInvalid(f"unknown hold target type {target_type!r}; one of {known}") from None
    raw = (target_id or "").strip()
    try:
        parsed = uuid.UUID(raw)
    except ValueError:
        raise HoldInvalid(f"target_id {raw!r} is not a {kind.value} id (a UUID)") from None
    if kind is HoldTarget.CONTENT and not ContentItem.objects.filter(pk=parsed).exists():
        raise HoldInvalid(f"there is no content item {parsed}")
    return kind, str(parsed)


def _source(source: str, reference: str) -> tuple[HoldSource, str]:
    try:
        kind = HoldSource(source)
    except ValueError:
        known = ", ".join(s.value for s in HoldSource)
        raise HoldInvalid(f"unknown hold source {source!r}; one of {known}") from None
    cleaned = (reference or "").strip()
    if len(cleaned) > REFERENCE_MAX:
        raise HoldInvalid(f"source_reference is at most {REFERENCE_MAX} characters")
    if kind is not HoldSource.MANUAL and not cleaned:
        raise HoldInvalid(
            f"a hold from a {kind.value} names it: give the {kind.value}'s id as source_reference"
        )
    return kind, cleaned


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def hold_place(
    *,
    target_type: str,
    target_id: str,
    reason: str,
    hold_source: HoldSource | str,
    actor: User | None,
    source: AuditSource,
    source_reference: str = "",
    ends_at: datetime | None = None,
) -> LegalHold:
    """Place a legal hold on a content item, subject or case. `actor=None` means Safeguard
    itself placed it (a filed report's preservation, placed by a task). `hold_source` is why
    the hold exists (request, report, manual); `source` is where this call came from."""
    _require_manage(actor)
    now = timezone.now()
    kind, target = _target(target_type, target_id)
    kind_of_source, reference = _source(str(hold_source), source_reference)
    cleaned = _reason(reason)
    until = _future(ends_at, now)
    with transaction.atomic():
        if kind is HoldTarget.CONTENT:
            # Serialises with a deletion of the same item, which locks it before its hold check.
            ContentItem.objects.select_for_update().filter(pk=target).first()
        hold = LegalHold.objects.create(
            target_type=kind,
            target_id=target,
            reason=cleaned,
            source=kind_of_source,
            source_reference=reference,
            placed_by=actor,
            placed_at=now,
            ends_at=until,
        )
        audit_record(
            event_type=AuditEventType.LEGAL_HOLD_PLACED,
            actor=actor,
            source=source,
            target_type=AUDIT_TARGET,
            target_id=hold.pk,
            data={
                "target_type": kind.value,
                "target_id": target,
                "source": kind_of_source.value,
                "source_reference": reference,
                "ends_at": _iso(until),
                "reason": cleaned,
            },
        )
    return hold


def _locked_open(hold: LegalHold, now: datetime, doing: str) -> LegalHold:
    locked = LegalHold.objects.select_for_update().get(pk=hold.pk)
    if locked.released_at is not None:
        raise HoldConflict(
            f"hold {locked.pk} was released at {locked.released_at.isoformat()}; cannot {doing} "
            "a released hold (place a new one)"
        )
    if locked.ends_at is not None and locked.ends_at <= now:
        raise HoldConflict(
            f"hold {locked.pk} ended at {locked.ends_at.isoformat()}; cannot {doing} a hold "
            "that has ended (place a new one)"
        )
    return locked


def hold_extend(
    *,
    hold: LegalHold,
    ends_at: datetime | None,
    reason: str,
    actor: User | None,
    source: AuditSource,
) -> LegalHold:
    """Move a hold's end later (or remove it: `ends_at=None` holds until released). Each
    extension is kept and audited; whether a source allows another one (a US preservation is
    extended once) is the source's rule, checked by the app that placed it."""
    _require_manage(actor)
    now = timezone.now()
    cleaned = _reason(reason)
    until = _future(ends_at, now)
    with transaction.atomic():
        locked = _locked_open(hold, now, "extend")
        if locked.ends_at is None:
            raise HoldConflict(f"hold {locked.pk} has no end date: there is nothing to extend")
        if until is not None and until <= locked.ends_at:
            raise HoldInvalid(
                f"ends_at {until.isoformat()} is not later than the hold's current end "
                f"{locked.ends_at.isoformat()}; an extension moves the end later"
            )
        previous = locked.ends_at
        LegalHoldExtension.objects.create(
            hold=locked,
            previous_ends_at=previous,
            ends_at=until,
            reason=cleaned,
            extended_by=actor,
            extended_at=now,
        )
        locked.ends_at = until
        locked.save(update_fields=["ends_at"])
        audit_record(
            event_type=AuditEventType.LEGAL_HOLD_EXTENDED,
            actor=actor,
            source=source,
            target_type=AUDIT_TARGET,
            target_id=locked.pk,
            data={
                "previous_ends_at": _iso(previous),
                "ends_at": _iso(until),
                "reason": cleaned,
                "extensions": locked.extensions.count(),
            },
        )
    return locked


def hold_release(
    *, hold: LegalHold, reason: str, actor: User | None, source: AuditSource
) -> LegalHold:
    """End a hold now. A released hold stays on record; it protects nothing from then on."""
    _require_manage(actor)
    now = timezone.now()
    cleaned = _reason(reason, "release reason")
    with transaction.atomic():
        locked = _locked_open(hold, now, "release")
        locked.released_at = now
        locked.released_by = actor
        locked.release_reason = cleaned
        locked.save(update_fields=["released_at", "released_by", "release_reason"])
        audit_record(
            event_type=AuditEventType.LEGAL_HOLD_RELEASED,
            actor=actor,
            source=source,
            target_type=AUDIT_TARGET,
            target_id=locked.pk,
            data={
                "target_type": locked.target_type,
                "target_id": locked.target_id,
                "reason": cleaned,
            },
        )
    return locked


def hold_state(hold: LegalHold, now: datetime) -> str:
    """ "in force", "ended" (its end date passed) or "released"."""
    if hold.released_at is not None:
        return "released"
    if hold.ends_at is not None and hold.ends_at <= now:
        return "ended"
    return "in force"
