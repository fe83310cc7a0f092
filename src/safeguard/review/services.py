"""Writes for reviewer care: revealing media (audited and counted), view settings, stepping away."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from safeguard.accounts.models import User
from safeguard.audit.events import AuditSource
from safeguard.cases.models import Case
from safeguard.evidence.models import ContentItem
from safeguard.evidence.services import content_reveal
from safeguard.review.models import ExposureDay, ViewSettings

# Built-in defaults, used until an administrator sets the organisation's.
DEFAULTS = {"blur_radius": 24, "greyscale": True, "thumbnail_px": 320}
LIMITS = {"blur_radius": (4, 64), "thumbnail_px": (120, 640)}
MAX_CLAIM_SECONDS = 2 * 60 * 60


class SettingsError(Exception):
    pass


def exposure_add(*, user: User, items: int = 0, seconds: int = 0) -> None:
    """Add to today's figures (UTC); runs inside the caller's transaction."""
    day = timezone.now().date()
    ExposureDay.objects.get_or_create(user=user, day=day)
    ExposureDay.objects.filter(user=user, day=day).update(
        items_revealed=F("items_revealed") + items,
        sensitive_seconds=F("sensitive_seconds") + min(seconds, MAX_CLAIM_SECONDS),
    )


@transaction.atomic
def media_reveal(*, content: ContentItem, case: Case, actor: User, source: AuditSource) -> None:
    content_reveal(content=content, case_id=case.pk, actor=actor, source=source)
    exposure_add(user=actor, items=1)


def claim_time_record(*, case: Case, holder: User, ended_at: timezone.datetime) -> None:
    """When a claim ends in a sensitive queue, count its duration as sensitive time."""
    from safeguard.cases.models import Queue

    if case.claimed_at is None:
        return
    if not Queue.objects.filter(name=case.queue, sensitive=True).exists():
        return
    seconds = int((ended_at - case.claimed_at).total_seconds())
    if seconds > 0:
        exposure_add(user=holder, seconds=seconds)


@dataclass(frozen=True)
class Effective:
    blur_radius: int
    greyscale: bool
    thumbnail_px: int


def view_settings_for(user: User) -> Effective:
    rows = {
        row.user_id: row
        for row in ViewSettings.objects.filter(user__isnull=True)
        | ViewSettings.objects.filter(user=user)
    }
    row = rows.get(user.pk) or rows.get(None)
    if row is None:
        return Effective(**DEFAULTS)  # type: ignore[arg-type]
    return Effective(row.blur_radius, row.greyscale, row.thumbnail_px)


@transaction.atomic
def view_settings_save(
    *, user: User | None, blur_radius: int, greyscale: bool, thumbnail_px: int
) -> ViewSettings:
    """A person's own settings, or (user=None) the organisation's defaults."""
    for name, value in (("blur_radius", blur_radius), ("thumbnail_px", thumbnail_px)):
        low, high = LIMITS[name]
        if not low <= value <= high:
            raise SettingsError(f"{name} must be between {low} and {high}")
    row, _ = ViewSettings.objects.update_or_create(
        user=user,
        defaults={"blur_radius": blur_radius, "greyscale": greyscale, "thumbnail_px": thumbnail_px},
    )
    return row


def step_away(*, user: User, source: AuditSource) -> int:
    """Give back every case the person holds, so they can leave at once. Returns how many."""
    from safeguard.cases.queues import case_claim_release

    held = list(Case.objects.filter(holder=user))
    for case in held:
        case_claim_release(case=case, actor=user, source=source, reason="stepped away")
    return len(held)


@dataclass(frozen=True)
class Today:
    items_revealed: int
    sensitive_minutes: int
    suggest_break: bool


def exposure_today(user: User) -> Today:
    row = ExposureDay.objects.filter(user=user, day=timezone.now().date()).first()
    items = row.items_revealed if row else 0
    minutes = (row.sensitive_seconds if row else 0) // 60
    suggest = (
        items >= settings.SAFEGUARD_BREAK_AFTER_ITEMS
        or minutes >= settings.SAFEGUARD_BREAK_AFTER_MINUTES
    )
    return Today(items, minutes, suggest)


def team_spread(days: int = 1) -> dict[str, object]:
    """Team totals and the spread for leads: no names, no ranking."""
    since = timezone.now().date() - timedelta(days=days - 1)
    rows = list(
        ExposureDay.objects.filter(day__gte=since).values_list(
            "items_revealed", "sensitive_seconds"
        )
    )
    items = sorted(r[0] for r in rows)
    minutes = sorted(r[1] // 60 for r in rows)

    def spread(values: list[int]) -> dict[str, int]:
        if not values:
            return {"min": 0, "median": 0, "max": 0}
        return {"min": values[0], "median": values[len(values) // 2], "max": values[-1]}

    return {
        "people": len(rows),
        "items_total": sum(items),
        "minutes_total": sum(minutes),
        "items": spread(items),
        "minutes": spread(minutes),
    }
