"""Imminence at intake: a harm time is a deadline, and a far harm time brings a re-triage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from safeguard.audit.events import AuditSource
from safeguard.intake.models import Escalation
from safeguard.triage.models import TriageRecord
from safeguard.triage.services import case_retriage_fire, case_triage
from tests.conftest import ApiClient, case_of, escalation_body

URL = "/api/v1/escalations"


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _thread(*messages: tuple[datetime, str]) -> list[dict[str, Any]]:
    return [
        {
            "platform_id": "thread:imminent",
            "kind": "message_thread",
            "messages": [
                {"sent_at": _stamp(at), "author": "user:s1", "text": text} for at, text in messages
            ],
        }
    ]


def test_a_meeting_in_two_hours_is_p0_and_due_before_the_harm(service_api: ApiClient) -> None:
    now = timezone.now()
    body = service_api.post(
        URL,
        escalation_body(
            content=_thread(
                (now - timedelta(minutes=5), "hey its me again"),
                (now - timedelta(minutes=4), "lets meet at the bus station in 2 hours"),
                (now - timedelta(minutes=3), "come alone ok"),
            )
        ),
    ).json()
    case = case_of(body)
    assert case.priority == "P0", case.explanation
    assert "≈" in case.explanation
    assert "h" in case.explanation
    record = TriageRecord.objects.get(case=case)
    harm = datetime.fromisoformat(record.deadlines["harm"])
    assert timedelta(hours=1, minutes=50) < harm - now < timedelta(hours=2, minutes=10)
    assert case.first_action_due is not None
    assert case.first_action_due <= harm
    # The console keeps the messages, one line each, with who sent them and when.
    item = Escalation.objects.get().content.get().content
    assert "user:s1: lets meet at the bus station in 2 hours" in item.text


def test_a_far_harm_time_is_triaged_again_when_it_comes_within_a_day(
    service_api: ApiClient,
) -> None:
    now = timezone.now()
    body = service_api.post(
        URL,
        escalation_body(
            category="self_harm",
            subjects=[{"platform_id": "user:v7", "role": "victim", "age": 14}],
            content=_thread((now - timedelta(minutes=2), "i am going to kill myself in 3 days")),
        ),
    ).json()
    case = case_of(body)
    assert case.priority != "P0", case.explanation
    record = TriageRecord.objects.get(case=case)
    harm = datetime.fromisoformat(record.deadlines["harm"])
    retriage = datetime.fromisoformat(record.deadlines["retriage"])
    assert retriage == harm - timedelta(hours=24)
    task = DBTaskResult.objects.get(task_path="safeguard.triage.tasks.case_retriage")
    assert abs(task.run_after - retriage) < timedelta(seconds=1)

    # When that moment comes, the same escalation reads as imminent and the case rises.
    escalation = Escalation.objects.get()
    later = case_triage(
        case=case, escalation=escalation, source=AuditSource.TASK, now=retriage + timedelta(hours=1)
    )
    assert later.priority == "P0"
    case.refresh_from_db()
    assert case.priority == "P0"


@pytest.mark.django_db
def test_retriage_of_a_missing_case_does_nothing() -> None:
    import uuid

    assert case_retriage_fire(
        case_id=uuid.uuid4(), escalation_id=uuid.uuid4(), harm_at="2026-01-01T00:00:00+00:00"
    ).startswith("no such")


def test_messages_belong_to_threads_and_classifiers_are_checked(service_api: ApiClient) -> None:
    now = _stamp(timezone.now())
    bad = [
        {
            "content": [
                {
                    "platform_id": "img:1",
                    "kind": "image",
                    "messages": [{"sent_at": now, "text": "tonight"}],
                }
            ]
        },
        {
            "content": [
                {"platform_id": "t:1", "kind": "message_thread", "messages": [{"text": "x"}]}
            ]
        },
        {"classifiers": [{"model": "m", "version": "1", "label": "grooming", "score": 1.5}]},
        {"classifiers": [{"model": "m", "version": "1", "label": "Not A Label", "score": 0.5}]},
        {"reporter": {"kind": "trusted_flagger"}, "channel": "internal"},
        {"reporter": {"kind": "police"}},
    ]
    for overrides in bad:
        response = service_api.post(URL, escalation_body(**overrides))
        assert response.status_code == 422, overrides
    assert not Escalation.objects.exists()
