"""Reads for the console: everything a case page shows, with the access checks."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from safeguard.accounts.models import User
from safeguard.accounts.permissions import Permission
from safeguard.audit.events import AuditSource
from safeguard.audit.models import AuditEvent
from safeguard.cases.clock import Clock, clock_for
from safeguard.cases.models import Case, ClaimRecord, Decision
from safeguard.cases.selectors import CaseNotFound, case_get_in, visibility_for
from safeguard.evidence.models import ContentItem
from safeguard.review.highlight import Segment, segments
from safeguard.review.media import MediaState, media_state, media_token, revealed_recently
from safeguard.review.models import ExposureDay, ViewSettings
from safeguard.signals.assess import TimedText, assess_text
from safeguard.signals.indicators import Indicator

AUDIT_TRAIL_LIMIT = 200


@dataclass
class ContentView:
    item: ContentItem
    segments: list[Segment] = field(default_factory=list)
    preview_token: str = ""
    full_token: str = ""
    strip_token: str = ""
    revealed: bool = False
    is_media: bool = False
    download_token: str = ""
    # What of the media the console can show, and why not (opaque evidence, being prepared).
    state: MediaState | None = None


@dataclass
class SubjectView:
    platform_id: str
    roles: list[str]
    ages: list[int]
    prior_decisions: list[Decision]


@dataclass(frozen=True)
class ItemLabel:
    """One industry class a decision gave, with the item it was given to, as people know it."""

    platform_id: str  # the platform's id, or the first characters of ours for a stranger
    kind: str
    industry_class: str


@dataclass
class DecisionView:
    decision: Decision
    items: list[ItemLabel]


@dataclass
class CasePage:
    case: Case
    contents: list[ContentView]
    subjects: list[SubjectView]
    decisions: list[DecisionView]
    trail: list[AuditEvent]
    can_view_media: bool
    # The first-action clock as it reads now (cases/clock.py): stopped at the first action.
    clock: Clock | None = None


def content_of_case(*, user: User, case_id: uuid.UUID, content_id: uuid.UUID) -> ContentItem:
    """A media item of a case the user may see media of; anything else is not found."""
    if not user.has_permission(Permission.EVIDENCE_MEDIA_VIEW):
        raise CaseNotFound(case_id)
    visibility = visibility_for(user)
    item = (
        ContentItem.objects.select_related("blob")
        .filter(
            pk=content_id,
            mentions__escalation__case_link__case_id=case_id,
            mentions__escalation__case_link__case__in=visibility.cases,
        )
        .first()
    )
    if item is None:
        raise CaseNotFound(case_id)
    return item


# One message of a thread as intake keeps it (intake.services.content_text).
_MESSAGE_LINE = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d) UTC\](?: [^\n]*?)?: ", re.MULTILINE)


def _highlights(text: str) -> tuple[Indicator, ...]:
    """The indicators to highlight in an item's text, read in its own language. A thread kept
    as "[time] author: text" lines is read message by message for its times, so the lines'
    own timestamps are never taken for a time someone wrote."""
    parts: list[TimedText] = []
    for match in _MESSAGE_LINE.finditer(text):
        end = text.find("\n", match.end())
        body = text[match.end() : end if end >= 0 else len(text)]
        sent_at = datetime.strptime(match.group(1), "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
        parts.append(TimedText(text=body, sent_at=sent_at, offset=match.end()))
    assessed = assess_text(text, sent_at=timezone.now(), zone=UTC, parts=parts)
    if not parts:
        return assessed.result.indicators
    headers = [(m.start(), m.end()) for m in _MESSAGE_LINE.finditer(text)]
    return tuple(
        ind for ind in assessed.result.indicators if not any(a <= ind.start < b for a, b in headers)
    )


def case_page_for(*, user: User, case_id: uuid.UUID) -> CasePage:
    """Everything the console's case page shows, for a case the user may see. Earlier decisions
    about the same suspects are shown only from cases the user may also see."""
    visibility = visibility_for(user)
    case = case_get_in(visibility, case_id=case_id, source=AuditSource.CONSOLE, read="case_page")
    can_view_media = user.has_permission(Permission.EVIDENCE_MEDIA_VIEW)
    contents: dict[uuid.UUID, ContentView] = {}
    subjects: dict[str, SubjectView] = {}
    for link in case.links.all():
        for mention in link.escalation.subjects.all():
            view = subjects.setdefault(
                mention.subject.platform_id, SubjectView(mention.subject.platform_id, [], [], [])
            )
            if mention.role not in view.roles:
                view.roles.append(mention.role)
            if mention.age is not None and mention.age not in view.ages:
                view.ages.append(mention.age)
        for named in link.escalation.content.all():
            item = named.content
            if item.pk in contents:
                continue
            view_ = ContentView(item=item, is_media=item.kind in ("image", "video"))
            if item.text:
                spans = [(i.start, i.end, i.family) for i in _highlights(item.text)]
                view_.segments = segments(item.text, spans)
            if view_.is_media and item.blob_id and can_view_media:
                view_.preview_token = media_token(user=user, content_id=item.pk, variant="preview")
                view_.state = media_state(item)
                view_.download_token = media_token(
                    user=user, content_id=item.pk, variant="download"
                )
                view_.revealed = revealed_recently(user=user, content=item)
                if view_.revealed:
                    view_.full_token = media_token(user=user, content_id=item.pk, variant="full")
                    view_.strip_token = media_token(user=user, content_id=item.pk, variant="strip")
            elif item.kind == "livestream" and can_view_media:
                # The stream plays from its platform; revealing it is audited all the same.
                view_.revealed = revealed_recently(user=user, content=item)
            contents[item.pk] = view_
    for view in subjects.values():
        view.prior_decisions = list(
            Decision.objects.filter(
                case__suspects__platform_id=view.platform_id, case__in=visibility.cases
            )
            .exclude(case=case)
            .select_related("decided_by")
            .order_by("-decided_at")[:5]
        )
    content_ids = [str(pk) for pk in contents]
    trail = list(
        AuditEvent.objects.filter(
            Q(target_type="case", target_id=str(case.pk))
            | Q(target_type="content", target_id__in=content_ids)
        ).order_by("-id")[:AUDIT_TRAIL_LIMIT]
    )
    return CasePage(
        case=case,
        contents=list(contents.values()),
        subjects=list(subjects.values()),
        decisions=[
            _decision_view(d, contents) for d in case.decisions.select_related("decided_by")
        ],
        trail=trail,
        can_view_media=can_view_media,
        clock=clock_for(case, now=timezone.now()),
    )


def _decision_view(decision: Decision, contents: dict[uuid.UUID, ContentView]) -> DecisionView:
    by_id = {str(pk): view.item for pk, view in contents.items()}
    items = []
    for item_id, industry_class in decision.item_labels.items():
        item = by_id.get(item_id)
        if item is None:  # no longer named by the case's escalations
            items.append(ItemLabel(f"{item_id[:8]}…", "content", industry_class))
        else:
            items.append(ItemLabel(item.platform_id, item.kind, industry_class))
    return DecisionView(decision=decision, items=items)


# --- Reviewer care: what a person saw today, and the team's spread (no names) ---------------

# Built-in defaults, used until an administrator sets the organisation's.
DEFAULTS = {"blur_radius": 24, "greyscale": True, "thumbnail_px": 320}
MAX_CLAIM_SECONDS = 2 * 60 * 60


def _day_start(days_back: int = 0) -> datetime:
    today = timezone.now().astimezone(UTC).date() - timedelta(days=days_back)
    return datetime.combine(today, time.min, tzinfo=UTC)


def sensitive_seconds_by_person(*, since: datetime) -> dict[int, int]:
    """Seconds each person held cases in sensitive queues, from the claims that ended since
    `since` (cases.claims records each one; a claim counts at most MAX_CLAIM_SECONDS)."""
    totals: dict[int, int] = {}
    for holder, started, ended in ClaimRecord.objects.filter(
        sensitive=True, ended_at__gte=since
    ).values_list("holder_id", "started_at", "ended_at"):
        seconds = min(int((ended - started).total_seconds()), MAX_CLAIM_SECONDS)
        totals[holder] = totals.get(holder, 0) + max(seconds, 0)
    return totals


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


@dataclass(frozen=True)
class Today:
    items_revealed: int
    sensitive_minutes: int
    suggest_break: bool


def exposure_today(user: User) -> Today:
    row = ExposureDay.objects.filter(user=user, day=timezone.now().date()).first()
    items = row.items_revealed if row else 0
    minutes = sensitive_seconds_by_person(since=_day_start()).get(user.pk, 0) // 60
    suggest = (
        items >= settings.SAFEGUARD_BREAK_AFTER_ITEMS
        or minutes >= settings.SAFEGUARD_BREAK_AFTER_MINUTES
    )
    return Today(items, minutes, suggest)


def team_spread(days: int = 1) -> dict[str, object]:
    """Team totals and the spread for leads: no names, no ranking."""
    since = _day_start(days - 1)
    revealed = dict(
        ExposureDay.objects.filter(day__gte=since.date()).values_list("user_id", "items_revealed")
    )
    seconds = sensitive_seconds_by_person(since=since)
    people = set(revealed) | set(seconds)
    items = sorted(revealed.get(p, 0) for p in people)
    minutes = sorted(seconds.get(p, 0) // 60 for p in people)

    def spread(values: list[int]) -> dict[str, int]:
        if not values:
            return {"min": 0, "median": 0, "max": 0}
        return {"min": values[0], "median": values[len(values) // 2], "max": values[-1]}

    return {
        "people": len(people),
        "items_total": sum(items),
        "minutes_total": sum(minutes),
        "items": spread(items),
        "minutes": spread(minutes),
    }
