"""Triage inside Safeguard: at intake, across a case, deadlines as tasks, and policy uploads."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from safeguard.accounts.permissions import Role
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.cases.models import Case, Queue
from safeguard.rota.models import Page, PageKind
from safeguard.triage.deadlines import DeadlineKind, case_deadline_fire
from safeguard.triage.models import TriagePolicy, TriageRecord
from safeguard.triage.services import default_policy_source
from tests.audit_helpers import (
    assert_audited,
    assert_audited_many,
    assert_not_audited,
    last_event_id,
)
from tests.cli import clean_env, safeguard
from tests.conftest import ApiClient, case_of, escalation_body
from tests.factories import UserFactory
from tests.tasks import run_tasks

E = AuditEventType
URL = "/api/v1/escalations"
SUSPECT = [
    {"platform_id": "user:s9", "role": "suspect"},
    {"platform_id": "user:v9", "role": "victim", "age": 15},
]


def test_intake_answers_with_priority_deadlines_and_explanation(service_api: ApiClient) -> None:
    before = timezone.now()
    body = service_api.post(URL, escalation_body(category="imminent_danger")).json()

    case = case_of(body)
    assert case.priority == "P0"
    assert "P0 because" in case.explanation
    due = case.first_action_due
    assert due is not None
    assert timedelta(minutes=14) < due - before <= timedelta(minutes=15, seconds=5)
    record = TriageRecord.objects.get()
    assert record.policy_version == "default-2"
    assert "imminent_danger" in record.rules_matched
    assert case_of(body).queue == "emergency"


def test_self_harm_after_sextortion_in_the_same_case_is_p0(service_api: ApiClient) -> None:
    first = service_api.post(
        URL,
        escalation_body(
            external_id="a",
            category="sextortion",
            subjects=SUSPECT,
            content=[
                {
                    "platform_id": "t:a",
                    "kind": "message_thread",
                    "text": "pay me or I will send your pictures to all your friends",
                }
            ],
        ),
    ).json()
    first_priority = case_of(first).priority
    second = service_api.post(
        URL,
        escalation_body(
            external_id="b",
            category="self_harm",
            subjects=SUSPECT,
            content=[
                {"platform_id": "t:b", "kind": "message_thread", "text": "i want to hurt myself"}
            ],
        ),
    ).json()

    assert first_priority == "P1"
    assert case_of(second) == case_of(first)
    assert case_of(second).priority == "P0"
    assert "sextortion context" in case_of(second).explanation
    # The P0 raised the case and paged; the first-action clock moved earlier, never later.
    case = case_of(first)
    assert case.priority == "P0"
    assert case.queue == "emergency"


def test_deadline_tasks_are_scheduled_at_warning_and_due(service_api: ApiClient) -> None:
    body = service_api.post(
        URL, escalation_body(category="other", content=[], summary="A report.")
    ).json()
    case = case_of(body)

    scheduled = {
        t.task_path.rsplit(".", 1)[-1]: t.run_after
        for t in DBTaskResult.objects.filter(task_path__startswith="safeguard.triage.tasks")
    }

    assert scheduled == {
        "case_deadline_warn": case.warn_at,
        "case_deadline_breach": case.first_action_due,
    }
    assert case.first_action_due - case.warn_at == timedelta(hours=72) * 0.25  # type: ignore[operator]


def test_warning_then_breach_notify_and_raise_visibility(service_api: ApiClient) -> None:
    lead = UserFactory(username="queue.lead", role=Role.LEAD.value)
    Queue.objects.filter(name="general").update(lead=lead)
    case = case_of(
        service_api.post(URL, escalation_body(category="other", content=[], summary="A report."))
    )
    due = case.first_action_due.isoformat()  # type: ignore[union-attr]

    warned = case_deadline_fire(case_id=case.pk, due=due, kind=DeadlineKind.WARNING)
    again = case_deadline_fire(case_id=case.pk, due=due, kind=DeadlineKind.WARNING)
    breached = case_deadline_fire(case_id=case.pk, due=due, kind=DeadlineKind.BREACH)

    assert warned.startswith("warning")
    assert again == "already warned"
    assert breached.startswith("breach")
    case.refresh_from_db()
    assert case.warned_at is not None
    assert case.breached_at is not None
    assert "breached" in case.tags
    kinds = list(Page.objects.filter(recipient=lead).values_list("kind", flat=True))
    assert sorted(kinds) == sorted([PageKind.DEADLINE_WARNING, PageKind.DEADLINE_BREACH])
    assert_audited(
        E.CASE_DEADLINE_WARNED, target=case, actor=None, source=AuditSource.TASK, data={"due": due}
    )
    assert_audited(
        E.CASE_DEADLINE_BREACHED,
        target=case,
        actor=None,
        source=AuditSource.TASK,
        data={"due": due},
    )


def test_the_deadline_tasks_warn_then_breach_as_time_passes(service_api: ApiClient) -> None:
    lead = UserFactory(username="queue.lead", role=Role.LEAD.value)
    Queue.objects.filter(name="general").update(lead=lead)
    case = case_of(
        service_api.post(URL, escalation_body(category="other", content=[], summary="A report."))
    )
    assert case.first_action_due is not None
    assert case.warn_at is not None
    due = case.first_action_due.isoformat()
    to_warning = case.warn_at - timezone.now()

    # Nothing is due until the warning's moment; the default policy gives "other" 72 hours.
    run_tasks(within=to_warning - timedelta(minutes=1))
    assert_not_audited(E.CASE_DEADLINE_WARNED, target=case)
    run_tasks(within=timedelta(minutes=2))
    warned = assert_audited(E.CASE_DEADLINE_WARNED, target=case, data={"due": due})
    assert_not_audited(E.CASE_DEADLINE_BREACHED, target=case)
    run_tasks(within=case.first_action_due - case.warn_at)

    breached = assert_audited(E.CASE_DEADLINE_BREACHED, target=case, data={"due": due})
    assert warned.pk < breached.pk
    case.refresh_from_db()
    assert "breached" in case.tags
    pages = assert_audited_many(E.PAGE_SENT, count=2, target=case, actor=None)
    assert [(p.data["kind"], p.data["to"]) for p in pages] == [
        ("deadline_warning", "queue.lead"),
        ("deadline_breach", "queue.lead"),
    ]


def test_an_old_deadline_does_nothing_once_acted_on_or_moved(
    service_api: ApiClient, specialist_api: ApiClient
) -> None:
    case = case_of(
        service_api.post(URL, escalation_body(category="other", content=[], summary="A report."))
    )
    old_due = case.first_action_due.isoformat()  # type: ignore[union-attr]

    moved = case_deadline_fire(
        case_id=case.pk,
        due=(case.first_action_due + timedelta(1)).isoformat(),  # type: ignore[operator]
        kind=DeadlineKind.BREACH,
    )
    specialist_api.post(f"/api/v1/queues/{case.queue}/next", {})
    # A claim is not the first action (cases/clock.py); a decision is.
    decided = specialist_api.post(
        f"/api/v1/cases/{case.pk}/decision", {"labels": ["other_violation"], "reason": "Seen."}
    )
    assert decided.status_code == 200, decided.content
    acted = case_deadline_fire(case_id=case.pk, due=old_due, kind=DeadlineKind.BREACH)

    assert moved == "deadline moved; a newer task covers it"
    assert acted == "already acted on"
    case.refresh_from_db()
    assert case.breached_at is None
    assert not Page.objects.exists()


BAD_POLICIES = [
    (
        "syntax",
        "  - name: broken_rule\n    when: 'channel == '\n    priority: P1\n    explain: x\n",
        "broken_rule",
    ),
    (
        "unknown field",
        "  - name: typo_rule\n    when: 'chanel == \"hotline\"'\n"
        "    priority: P1\n    explain: x\n",
        "typo_rule",
    ),
    (
        "unknown signal field",
        "  - name: field_rule\n    when: 'signals.secrecy.triggerd'\n"
        "    priority: P1\n    explain: x\n",
        "field_rule",
    ),
    (
        "bad priority",
        "  - name: p9_rule\n    when: 'true'\n    priority: P9\n    explain: x\n",
        "p9_rule",
    ),
]


def _policy(version: str, extra_rule: str = "") -> str:
    source = default_policy_source().replace('version: "default-2"', f'version: "{version}"')
    return source.rstrip("\n") + "\n\n" + extra_rule


@pytest.mark.parametrize(("name", "rule", "mentions"), BAD_POLICIES)
def test_a_bad_policy_is_rejected_with_the_rule_name_and_changes_nothing(
    api_for: Any, name: str, rule: str, mentions: str
) -> None:
    admin = api_for(Role.ADMIN)
    before = last_event_id()

    response = admin.client.put(
        "/api/v1/triage/policy",
        data=json.dumps({"source": _policy("bad-1", rule)}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {admin.token}"},
    )

    assert response.status_code == 422, (name, response.content)
    assert mentions in response.json()["detail"]
    assert not TriagePolicy.objects.exists()
    assert last_event_id() == before
    assert admin.get("/api/v1/triage/policy").json()["version"] == "default-2"


def test_a_new_policy_takes_effect_without_a_deploy(api_for: Any, service_api: ApiClient) -> None:
    admin = api_for(Role.ADMIN)
    rule = (
        "  - name: hotline_first\n    when: 'channel == \"hotline\"'\n    priority: P0\n"
        "    queue: emergency\n    explain: every hotline notice is urgent this week\n"
    )

    def put(source: str) -> Any:
        return admin.client.put(
            "/api/v1/triage/policy",
            data=json.dumps({"source": source}),
            content_type="application/json",
            headers={"Authorization": f"Bearer {admin.token}"},
        )

    assert put(_policy("team-2", rule)).status_code == 200
    activated = assert_audited(
        E.POLICY_ACTIVATED,
        target=TriagePolicy.objects.get(version="team-2"),
        actor=admin.user,
        source=AuditSource.API,
    )
    assert activated.data["rules"][-1] == "hotline_first"
    assert "imminent_danger" in activated.data["rules"]
    body = service_api.post(URL, escalation_body(channel="hotline", category="other")).json()
    assert case_of(body).priority == "P0"
    assert TriageRecord.objects.get().policy_version == "team-2"
    # The same version with different rules is refused.
    assert put(_policy("team-2")).status_code == 409
    assert_audited(E.POLICY_ACTIVATED, target=("triage_policy", "team-2"))


def test_triage_explain_works_in_a_fresh_checkout_without_a_database(tmp_path: Path) -> None:
    escalation = escalation_body(
        channel="law_enforcement",
        category="imminent_danger",
        law_enforcement={
            "agency": "Example Police (fictional)",
            "country": "US",
            "request_type": "emergency_disclosure",
            "contact": "desk@police.example",
        },
    )
    path = tmp_path / "escalation.json"
    path.write_text(json.dumps(escalation))
    done = safeguard(clean_env(), "triage", "explain", str(path), cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert set(result) == {
        "priority",
        "queue",
        "deadlines",
        "explanation",
        "rules_matched",
        "policy_version",
        "tags",
        "reasons",
    }
    assert result["priority"] == "P0"
    assert "le_emergency_disclosure" in result["rules_matched"]
    assert list(tmp_path.iterdir()) == [path]  # nothing was created: no database, no secrets


@pytest.mark.parametrize(
    ("content", "mentions"),
    [("{not json", "not valid JSON"), ('{"channel": "fax"}', "channel")],
)
def test_triage_explain_refuses_bad_files(tmp_path: Path, content: str, mentions: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)

    done = safeguard(clean_env(), "triage", "explain", str(path))

    assert done.returncode == 2
    assert mentions in done.stderr


def test_prior_decisions_about_the_suspect_reach_the_policy(
    api_for: Any, service_api: ApiClient
) -> None:
    from safeguard.audit.events import AuditSource
    from safeguard.cases.deciding import case_decide
    from safeguard.cases.decisions import DecisionLabel

    admin = api_for(Role.ADMIN)
    rule = (
        "  - name: known_groomer\n    when: '\"grooming\" in prior_decisions'\n    priority: P1\n"
        "    explain: the suspect was found grooming before\n"
    )
    admin.client.put(
        "/api/v1/triage/policy",
        data=json.dumps({"source": _policy("p-2", rule)}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {admin.token}"},
    )
    suspect = [{"platform_id": "user:repeat", "role": "suspect"}]
    first = service_api.post(
        URL,
        escalation_body(
            external_id="one", category="other", content=[], summary="x", subjects=suspect
        ),
    ).json()
    lead = UserFactory(role=Role.LEAD.value)
    case = case_of(first)
    Case.objects.filter(pk=case.pk).update(queue="lead")
    case_decide(
        case=case,
        actor=lead,
        labels=[DecisionLabel.GROOMING],
        reason="seen",
        source=AuditSource.CONSOLE,
    )
    Case.objects.filter(pk=case.pk).update(state="closed")

    again = service_api.post(
        URL,
        escalation_body(
            external_id="two", category="other", content=[], summary="x", subjects=suspect
        ),
    ).json()

    assert case_of(again) != case_of(first)
    assert case_of(again).priority == "P1"
    assert "found grooming before" in case_of(again).explanation
