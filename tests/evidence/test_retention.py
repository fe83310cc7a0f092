"""Retention: the periods as data (checked on load), the dry-run plan, the run that deletes what
is past its period and under no hold (recorded as hashes), the CLI, and the daily job that
schedules itself once per day however often it is asked to."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.audit.models import AuditEvent
from safeguard.evidence import tasks
from safeguard.evidence.hooks import hold_scope
from safeguard.evidence.models import ContentTombstone, DeletionKind, RetentionRun
from safeguard.evidence.retention import (
    RetentionConfigError,
    retention_next_due,
    retention_plan,
    retention_policy,
    retention_policy_parse,
    retention_run,
    retention_schedule,
)
from tests.audit_helpers import assert_audited, assert_not_audited
from tests.evidence.factories_holds import hold_on, image_item, thread_item, vault_files
from tests.tasks import run_tasks

pytestmark = pytest.mark.django_db

Capture = Callable[..., Any]
OLD = timezone.now() - timedelta(days=3 * 365)


def test_the_shipped_policy_loads_with_a_source_for_every_period() -> None:
    policy = retention_policy()
    by_type = {rule.data_type: rule for rule in policy.rules}
    assert set(by_type) == {"content_media", "message_thread_text"}
    assert by_type["content_media"].period == timedelta(days=730)
    assert all("§2258A(h)" in rule.source for rule in policy.rules)
    assert all("Policy" in rule.source for rule in policy.rules)
    assert policy.daily_at.strftime("%H:%M") == "02:30"


GOOD = """
version: 1
schedule: {daily_at: "03:00"}
rules:
  - data_type: content_media
    part: media
    period_days: 30
    counts_from: first_seen
    source: policy
"""


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (("version: 1", "version: 2"), "version: expected 1, found 2"),
        (("period_days: 30", "period_days: 0"), "rules[0] (content_media): period_days must"),
        (("period_days: 30", "period_days: thirty"), "period_days must be a whole number"),
        (("part: media", "part: bytes"), "part 'bytes' is not one of media, text"),
        (("counts_from: first_seen", "counts_from: closed"), "counts_from 'closed' is not one"),
        (("    source: policy", "    source: ''"), "source is required"),
        (("    source: policy", "    source: policy\n    colour: red"), "unknown field(s) colour"),
        (('daily_at: "03:00"', 'daily_at: "25:00"'), "schedule.daily_at: expected a UTC time"),
        (("part: media", "part: text"), None),
    ],
)
def test_a_bad_policy_is_refused_with_where_and_why(
    change: tuple[str, str], words: str | None
) -> None:
    text = GOOD.replace(*change)
    if words is None:
        assert retention_policy_parse(text).rules[0].part.value == "text"
        return
    with pytest.raises(RetentionConfigError) as refused:
        retention_policy_parse(text)
    assert words in str(refused.value)


def test_media_stored_is_refused_for_text_and_duplicates_are_refused() -> None:
    text = GOOD.replace("part: media", "part: text").replace("first_seen", "media_stored")
    with pytest.raises(RetentionConfigError, match="applies only to part media"):
        retention_policy_parse(text)
    doubled = GOOD + GOOD.split("rules:\n", 1)[1]
    with pytest.raises(RetentionConfigError, match="appears twice"):
        retention_policy_parse(doubled)


def test_the_plan_lists_what_is_past_retention_and_what_holds_keep_and_changes_nothing() -> None:
    old_image, old_thread, held_image = (
        image_item(first_seen=OLD),
        thread_item(first_seen=OLD),
        image_item(first_seen=OLD),
    )
    image_item()  # recent: not due
    hold = hold_on(held_image)
    events = AuditEvent.objects.count()

    plan = retention_plan()

    assert {(e.content_id, e.rule.data_type) for e in plan.to_delete} == {
        (old_image.pk, "content_media"),
        (old_thread.pk, "message_thread_text"),
    }
    [kept] = plan.kept_under_hold
    assert kept.content_id == held_image.pk
    assert str(hold.pk) in kept.holds[0]
    assert AuditEvent.objects.count() == events
    assert not ContentTombstone.objects.exists()


def test_the_run_deletes_what_the_plan_lists_as_hashes_and_keeps_held_bytes(
    django_capture_on_commit_callbacks: Capture,
) -> None:
    old_image, old_thread, held_image = (
        image_item(first_seen=OLD),
        thread_item(first_seen=OLD, text="send me a photo"),
        image_item(first_seen=OLD),
    )
    hold_on(held_image)

    with django_capture_on_commit_callbacks(execute=True):
        result = retention_run(source=AuditSource.TASK)

    assert {t.content_id for t in result.deleted} == {old_image.pk, old_thread.pk}
    assert [e.content_id for e in result.kept_under_hold] == [held_image.pk]
    assert old_image.blob_id not in vault_files()
    assert held_image.blob_id in vault_files()
    assert all(t.kind == DeletionKind.RETENTION and t.deleted_by is None for t in result.deleted)
    assert_audited(
        AuditEventType.CONTENT_RETENTION_DELETED,
        target=old_image,
        actor=None,
        source=AuditSource.TASK,
        data={
            "kind": "retention",
            "media_sha256": old_image.blob_id,
            "rule": {"data_type": "content_media", "period_days": 730, "counts_from": "first_seen"},
        },
    )
    event = assert_audited(
        AuditEventType.CONTENT_RETENTION_DELETED,
        target=old_thread,
        data={"text_sha256": hashlib.sha256(b"send me a photo").hexdigest()},
    )
    assert "photo" not in str(event.data)
    assert_not_audited(AuditEventType.CONTENT_RETENTION_DELETED, target=held_image)


def test_a_hold_on_a_case_keeps_its_content_from_the_retention_job() -> None:
    item = image_item(first_seen=OLD)
    hold_on(("case", "6d1f0c4e-0000-4000-8000-000000000001"))

    def provider(ids: frozenset[Any]) -> dict[Any, list[tuple[str, str]]]:
        return {item.pk: [("case", "6d1f0c4e-0000-4000-8000-000000000001")]}

    hold_scope.register(provider)
    try:
        result = retention_run()
    finally:
        hold_scope.unregister(provider)
    assert result.deleted == []
    assert item.blob_id in vault_files()


def test_the_cli_plan_prints_and_changes_nothing_and_run_deletes() -> None:
    item = image_item(first_seen=OLD)
    held = image_item(first_seen=OLD)
    hold = hold_on(held)
    out = io.StringIO()

    call_command("retention", "plan", stdout=out)

    text = out.getvalue()
    assert "dry run: nothing is changed" in text
    assert f"{item.pk}" in text
    assert f"kept by hold {hold.pk}" in text
    assert not ContentTombstone.objects.exists()

    ran = io.StringIO()
    call_command("retention", "run", stdout=ran)
    assert f"{item.pk}  sha256 {item.blob_id}" in ran.getvalue()
    assert "kept under a legal hold: 1" in ran.getvalue()
    assert_audited(AuditEventType.CONTENT_RETENTION_DELETED, target=item, source=AuditSource.CLI)


def _waiting() -> list[DBTaskResult[Any, Any]]:
    return list(
        DBTaskResult.objects.filter(
            task_path=tasks.retention_daily_task.module_path, status=TaskResultStatus.READY
        )
    )


def test_the_next_run_is_the_next_daily_time() -> None:
    before = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
    after = datetime(2026, 12, 1, 2, 30, tzinfo=UTC)
    assert retention_next_due(now=before) == datetime(2026, 12, 1, 2, 30, tzinfo=UTC)
    assert retention_next_due(now=after) == datetime(2026, 12, 2, 2, 30, tzinfo=UTC)


def test_scheduling_twice_enqueues_one_run() -> None:
    first, created = retention_schedule()
    again, created_again = retention_schedule()
    assert created
    assert not created_again
    assert first == again
    [waiting] = _waiting()
    assert waiting.run_after == first.due


def test_the_daily_job_runs_once_and_schedules_the_next_day() -> None:
    item = image_item(first_seen=OLD)
    run, _ = retention_schedule()

    run_tasks(within=timedelta(days=1))

    run.refresh_from_db()
    assert run.started_at is not None
    assert run.finished_at is not None
    assert run.deleted == 1
    assert ContentTombstone.objects.get().content_id == item.pk
    # Tomorrow's run is scheduled (the test's clock moved its wait nearer; its due is fixed).
    [tomorrow] = _waiting()
    following = RetentionRun.objects.get(started_at__isnull=True)
    assert following.due == run.due + timedelta(days=1)
    assert tomorrow.args_kwargs["kwargs"] == {"due": following.due.isoformat()}

    # The same day's run delivered twice (at-least-once) does nothing the second time.
    again = tasks.retention_daily_task.call(due=run.due.isoformat())
    assert "already ran" in again
    assert len(_waiting()) == 1
