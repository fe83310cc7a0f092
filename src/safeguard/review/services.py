"""Writes for reviewer care: revealing media (audited and counted), view settings, stepping away."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from safeguard.accounts.models import User
from safeguard.accounts.permissions import Permission
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.audit.services import audit_record
from safeguard.cases.models import Case
from safeguard.cases.queues import case_claim_release
from safeguard.evidence.models import ContentItem
from safeguard.evidence.services import content_reveal
from safeguard.review.models import ExposureDay, ViewSettings

LIMITS = {"blur_radius": (4, 64), "thumbnail_px": (120, 640)}


class SettingsError(Exception):
    pass


class SettingsPermissionDenied(SettingsError):
    """Only administrators set the organisation's defaults."""


def exposure_add(*, user: User, items: int) -> None:
    """Add revealed items to today's figures (UTC); runs inside the caller's transaction."""
    day = timezone.now().date()
    ExposureDay.objects.get_or_create(user=user, day=day)
    ExposureDay.objects.filter(user=user, day=day).update(
        items_revealed=F("items_revealed") + items
    )


@transaction.atomic
def media_reveal(*, content: ContentItem, case: Case, actor: User, source: AuditSource) -> None:
    content_reveal(content=content, case_id=case.pk, actor=actor, source=source)
    exposure_add(user=actor, items=1)


@transaction.atomic
def view_settings_save(
    *,
    actor: User,
    organisation: bool,
    blur_radius: int,
    greyscale: bool,
    thumbnail_px: int,
    source: AuditSource,
) -> ViewSettings:
    """The actor's own settings, or (`organisation`, administrators only) everyone's defaults;
    audited either way, since they decide how much of the worst material people see."""
    if organisation and not actor.has_permission(Permission.ACCOUNTS_USER_MANAGE):
        raise SettingsPermissionDenied(
            f"{actor.username} may not change the organisation's view settings"
        )
    for name, value in (("blur_radius", blur_radius), ("thumbnail_px", thumbnail_px)):
        low, high = LIMITS[name]
        if not low <= value <= high:
            raise SettingsError(f"{name} must be between {low} and {high}")
    values = {"blur_radius": blur_radius, "greyscale": greyscale, "thumbnail_px": thumbnail_px}
    row, _ = ViewSettings.objects.update_or_create(
        user=None if organisation else actor, defaults=values
    )
    audit_record(
        event_type=AuditEventType.VIEW_SETTINGS_SAVED,
        actor=actor,
        source=source,
        target_type="view_settings",
        target_id="organisation" if organisation else actor.pk,
        data=values,
    )
    return row


def step_away(*, user: User, source: AuditSource) -> int:
    """Give back every case the person holds, so they can leave at once. Returns how many."""
    held = list(Case.objects.filter(holder=user))
    for case in held:
        case_claim_release(case=case, actor=user, source=source, reason="stepped away")
    return len(held)
