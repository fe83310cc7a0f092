"""Retention: how long each kind of evidence is kept (retention.yaml, as data), what is past
its period and under no hold (`retention_plan`), deleting it (`retention_run`), and the daily
job that runs it and schedules its next run."""

from __future__ import annotations

import hashlib
import importlib.resources
import re
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time, timedelta
from typing import Any

import yaml
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from safeguard.audit.events import AuditSource
from safeguard.core.errors import Invalid
from safeguard.core.tasks import enqueue
from safeguard.evidence import holds, tasks
from safeguard.evidence.deletion import (
    ContentPart,
    content_retention_delete,
    vault_sweep,
)
from safeguard.evidence.enums import ContentKind
from safeguard.evidence.models import ContentItem, ContentTombstone, RetentionRun

MAX_PERIOD_DAYS = 36500
# How many items one hold check asks about at once.
BATCH = 500
_FIELDS = {"data_type", "description", "part", "kinds", "period_days", "counts_from", "source"}
_DAILY_AT = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class RetentionConfigError(Invalid):
    """retention.yaml says something that cannot be applied; the message names where."""


# What a period counts from, and the field of a content item that holds that moment.
COUNTS_FROM: dict[str, str] = {
    "first_seen": "first_seen_at",
    "media_stored": "blob__stored_at",
}


@dataclass(frozen=True)
class RetentionRule:
    data_type: str
    description: str
    part: ContentPart
    kinds: frozenset[ContentKind]  # empty: every kind
    period: timedelta
    counts_from: str
    source: str

    def as_record(self) -> dict[str, Any]:
        """What the audit event says of the rule that deleted an item."""
        return {
            "data_type": self.data_type,
            "period_days": self.period.days,
            "counts_from": self.counts_from,
        }


@dataclass(frozen=True)
class RetentionPolicy:
    rules: tuple[RetentionRule, ...]
    daily_at: time


def _fail(where: str, message: str) -> RetentionConfigError:
    return RetentionConfigError(f"retention.yaml: {where}: {message}")


def _rule(index: int, raw: Any) -> RetentionRule:
    where = f"rules[{index}]"
    if not isinstance(raw, Mapping):
        raise _fail(where, "each rule is a mapping of data_type, part, period_days, ...")
    unknown = sorted(set(raw) - _FIELDS)
    if unknown:
        raise _fail(where, f"unknown field(s) {', '.join(unknown)}; known: {sorted(_FIELDS)}")
    data_type = raw.get("data_type")
    if not isinstance(data_type, str) or not re.fullmatch(r"[a-z][a-z0-9_]{0,63}", data_type):
        raise _fail(where, "data_type is required: lowercase letters, digits and _")
    where = f"rules[{index}] ({data_type})"
    try:
        part = ContentPart(str(raw.get("part")))
    except ValueError:
        known = ", ".join(p.value for p in ContentPart)
        raise _fail(where, f"part {raw.get('part')!r} is not one of {known}") from None
    kinds_raw = raw.get("kinds", [])
    if not isinstance(kinds_raw, list):
        raise _fail(where, "kinds is a list of content kinds")
    kinds = set()
    for kind in kinds_raw:
        try:
            kinds.add(ContentKind(kind))
        except ValueError:
            known = ", ".join(k.value for k in ContentKind)
            raise _fail(where, f"kind {kind!r} is not one of {known}") from None
    days = raw.get("period_days")
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_PERIOD_DAYS:
        raise _fail(where, f"period_days must be a whole number of days, 1 to {MAX_PERIOD_DAYS}")
    counts_from = raw.get("counts_from")
    if counts_from not in COUNTS_FROM:
        raise _fail(where, f"counts_from {counts_from!r} is not one of {', '.join(COUNTS_FROM)}")
    if counts_from == "media_stored" and part is not ContentPart.MEDIA:
        raise _fail(where, "counts_from media_stored applies only to part media")
    source = raw.get("source")
    if not isinstance(source, str) or not source.strip():
        raise _fail(where, "source is required: the law or the policy decision behind the period")
    description = raw.get("description", "")
    if not isinstance(description, str):
        raise _fail(where, "description is text")
    return RetentionRule(
        data_type=data_type,
        description=description.strip(),
        part=part,
        kinds=frozenset(kinds),
        period=timedelta(days=days),
        counts_from=counts_from,
        source=" ".join(source.split()),
    )


def retention_policy_parse(text: str) -> RetentionPolicy:
    """Read and check a retention document; every mistake is refused with where it is."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RetentionConfigError(f"retention.yaml is not valid YAML: {exc}") from None
    if not isinstance(data, Mapping):
        raise RetentionConfigError("retention.yaml: the document is a mapping with version, rules")
    if data.get("version") != 1:
        raise _fail("version", f"expected 1, found {data.get('version')!r}")
    unknown = sorted(set(data) - {"version", "schedule", "rules"})
    if unknown:
        raise _fail("top level", f"unknown field(s) {', '.join(unknown)}")
    schedule = data.get("schedule") or {}
    daily_at = schedule.get("daily_at") if isinstance(schedule, Mapping) else None
    match = _DAILY_AT.match(daily_at) if isinstance(daily_at, str) else None
    if match is None:
        raise _fail("schedule.daily_at", f'expected a UTC time as "HH:MM", found {daily_at!r}')
    raw_rules = data.get("rules")
    if not isinstance(raw_rules, list) or not raw_rules:
        raise _fail("rules", "a list of at least one rule")
    rules = [_rule(i, r) for i, r in enumerate(raw_rules)]
    seen: set[str] = set()
    for rule in rules:
        if rule.data_type in seen:
            raise _fail("rules", f"data_type {rule.data_type!r} appears twice")
        seen.add(rule.data_type)
    return RetentionPolicy(
        rules=tuple(rules), daily_at=time(int(match[1]), int(match[2]), tzinfo=UTC)
    )


def retention_policy() -> RetentionPolicy:
    """The retention policy shipped with Safeguard (safeguard/evidence/retention.yaml)."""
    resource = importlib.resources.files("safeguard.evidence").joinpath("retention.yaml")
    return retention_policy_parse(resource.read_text(encoding="utf-8"))


# --- the plan --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanEntry:
    content_id: uuid.UUID
    platform: str
    platform_id: str
    kind: str
    rule: RetentionRule
    counted_from: datetime
    due_at: datetime
    # The SHA-256 of what would go: the media's address, or of the UTF-8 text.
    sha256: str
    holds: tuple[str, ...] = ()  # a description of each hold keeping it; empty: it goes


@dataclass(frozen=True)
class RetentionPlan:
    now: datetime
    to_delete: tuple[PlanEntry, ...]
    kept_under_hold: tuple[PlanEntry, ...]


def _due(rule: RetentionRule, now: datetime) -> QuerySet[ContentItem]:
    query = ContentItem.objects.all()
    if rule.part is ContentPart.MEDIA:
        query = query.filter(blob__isnull=False)
    else:
        query = query.exclude(text="")
    if rule.kinds:
        query = query.filter(kind__in=[k.value for k in rule.kinds])
    moment = COUNTS_FROM[rule.counts_from]
    return query.filter(**{f"{moment}__lt": now - rule.period}).select_related("blob")


def _entries(rule: RetentionRule, now: datetime) -> Iterator[PlanEntry]:
    items = list(_due(rule, now).order_by("first_seen_at", "pk"))
    for start in range(0, len(items), BATCH):
        batch = items[start : start + BATCH]
        held = holds.holds_covering(content_ids=[i.pk for i in batch], now=now)
        for item in batch:
            counted = (
                item.blob.stored_at
                if rule.counts_from == "media_stored" and item.blob is not None
                else item.first_seen_at
            )
            if rule.part is ContentPart.MEDIA:
                digest = item.blob_id or ""
            else:
                digest = hashlib.sha256(item.text.encode("utf-8")).hexdigest()
            yield PlanEntry(
                content_id=item.pk,
                platform=item.platform,
                platform_id=item.platform_id,
                kind=item.kind,
                rule=rule,
                counted_from=counted,
                due_at=counted + rule.period,
                sha256=digest,
                holds=tuple(holds.hold_describe(h) for h in held.get(item.pk, [])),
            )


def retention_plan(
    *, now: datetime | None = None, policy: RetentionPolicy | None = None
) -> RetentionPlan:
    """What is past its retention period now: what would be deleted (under no hold) and what
    is kept because a hold covers it. Changes nothing."""
    moment = now or timezone.now()
    rules = (policy or retention_policy()).rules
    entries = [e for rule in rules for e in _entries(rule, moment)]
    return RetentionPlan(
        now=moment,
        to_delete=tuple(e for e in entries if not e.holds),
        kept_under_hold=tuple(e for e in entries if e.holds),
    )


@dataclass
class RetentionResult:
    now: datetime
    deleted: list[ContentTombstone] = field(default_factory=list)
    kept_under_hold: list[PlanEntry] = field(default_factory=list)
    swept: int = 0


def retention_run(
    *,
    now: datetime | None = None,
    policy: RetentionPolicy | None = None,
    source: AuditSource = AuditSource.TASK,
) -> RetentionResult:
    """Delete what the plan says may go, each item in its own transaction and each deletion
    audited as hashes; an item a hold came to cover since the plan was made is kept."""
    plan = retention_plan(now=now, policy=policy)
    result = RetentionResult(now=plan.now, kept_under_hold=list(plan.kept_under_hold))
    for entry in plan.to_delete:
        reason = (
            f"past retention: {entry.rule.data_type} is kept {entry.rule.period.days} days from "
            f"{entry.rule.counts_from.replace('_', ' ')} ({entry.rule.source})"
        )
        try:
            tombstone = content_retention_delete(
                content_id=entry.content_id,
                parts=frozenset({entry.rule.part}),
                reason=reason,
                rule=entry.rule.as_record(),
                now=plan.now,
                source=source,
            )
        except holds.ContentHeld as exc:
            held = tuple(holds.hold_describe(h) for hs in exc.held.values() for h in hs)
            result.kept_under_hold.append(
                replace(entry, holds=held)  # a hold that arrived since the plan
            )
            continue
        if tombstone is not None:
            result.deleted.append(tombstone)
    result.swept = vault_sweep()
    return result


# --- the daily job ---------------------------------------------------------------------------


def retention_next_due(*, now: datetime, policy: RetentionPolicy | None = None) -> datetime:
    """The next daily run strictly after `now`, at the policy's time of day (UTC)."""
    daily_at = (policy or retention_policy()).daily_at
    today = datetime.combine(now.astimezone(UTC).date(), daily_at)
    return today if today > now else today + timedelta(days=1)


def retention_schedule(*, now: datetime | None = None) -> tuple[RetentionRun, bool]:
    """Make sure the next daily run is scheduled; True when this call enqueued it.

    Every way of scheduling names the same moment (the next `daily_at`), and a run is a row
    unique on that moment, so scheduling twice, from a second worker, a deploy or the job
    itself, enqueues nothing more: runs never pile up. (`core.tasks.enqueue_once` guards only
    one transaction, and this job is scheduled from many.)"""
    due = retention_next_due(now=now or timezone.now())
    with transaction.atomic():
        run, created = RetentionRun.objects.get_or_create(
            due=due, defaults={"scheduled_at": timezone.now()}
        )
        if created:
            enqueue(tasks.retention_daily_task, run_after=due, due=due.isoformat())
    return run, created


def retention_scheduled_run(*, due: str) -> str:
    """The daily job: claim the run that was due, schedule tomorrow's first (so a failure today
    does not stop tomorrow), then run retention and record the counts."""
    moment = datetime.fromisoformat(due)
    now = timezone.now()
    with transaction.atomic():
        run = RetentionRun.objects.select_for_update().filter(due=moment).first()
        if run is None:
            run = RetentionRun.objects.create(due=moment, scheduled_at=now)
        if run.started_at is not None:
            return f"retention run due {due} already ran at {run.started_at.isoformat()}"
        run.started_at = now
        run.save(update_fields=["started_at"])
    retention_schedule(now=max(now, moment))
    result = retention_run(now=now, source=AuditSource.TASK)
    RetentionRun.objects.filter(pk=run.pk).update(
        finished_at=timezone.now(),
        deleted=len(result.deleted),
        kept_under_hold=len(result.kept_under_hold),
    )
    return f"deleted {len(result.deleted)}, kept {len(result.kept_under_hold)} under hold"


def retention_runs_recent(limit: int = 10) -> list[RetentionRun]:
    return list(RetentionRun.objects.order_by("-due")[:limit])
