"""The shadow policy on every escalation: stored beside the live result and never acted on, a
failing shadow never stopping intake, and `safeguard triage diff --shadow` on what it stored."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django_tasks_db.models import DBTaskResult

from safeguard.accounts.permissions import Role
from safeguard.audit.events import AuditEventType
from safeguard.config import cli
from safeguard.rota.models import Page
from safeguard.triage.models import PolicyStatus, TriageKind, TriagePolicy, TriageRecord
from tests.audit_helpers import assert_audited_many
from tests.conftest import ApiClient, case_of, escalation_body
from tests.factories import UserFactory
from tests.triage.test_lifecycle import policy_text

E = AuditEventType
URL = "/api/v1/escalations"
PUT = "/api/v1/triage/policy"
# A report that no default rule makes P0, and that the shadow's extra rule does.
HOTLINE = {"channel": "hotline", "category": "other", "content": [], "summary": "A notice."}


def hotline(n: int) -> dict[str, Any]:
    return escalation_body(
        external_id=f"hotline-{n}",
        subjects=[{"platform_id": f"user:suspect-{n}", "role": "suspect"}],
        **HOTLINE,
    )


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """`safeguard ARGS` through the real entry point, in this process (this test's database)."""
    with pytest.raises(SystemExit) as exited:
        cli.main(list(args))
    captured = capsys.readouterr()
    code = exited.value.code
    assert isinstance(code, int)
    return code, captured.out, captured.err


@pytest.fixture
def admin(api_for: Any) -> ApiClient:
    client: ApiClient = api_for(Role.ADMIN)
    return client


@pytest.fixture
def paged(settings: Any) -> None:
    """Someone on call, so that a P0 the live policy found would page them."""
    UserFactory(username="first.oncall", email="first@safeguard.example")
    settings.SAFEGUARD_ONCALL = ["first.oncall"]
    settings.SAFEGUARD_ONCALL_LEAD = ""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def test_without_a_shadow_nothing_more_is_stored(service_api: ApiClient) -> None:
    service_api.post(URL, hotline(1))

    assert list(TriageRecord.objects.values_list("kind", flat=True)) == [TriageKind.AUTOMATIC]


def test_the_shadow_result_is_stored_and_never_acted_on(
    admin: ApiClient, service_api: ApiClient, paged: None
) -> None:
    uploaded = admin.put(PUT, {"source": policy_text("shadow-1"), "status": "shadow"})
    assert uploaded.status_code == 200, uploaded.content

    filed = service_api.post(URL, hotline(1))

    assert filed.status_code == 201, filed.content
    case = case_of(filed)
    live = TriageRecord.objects.get(kind=TriageKind.AUTOMATIC)
    shadow = TriageRecord.objects.get(kind=TriageKind.SHADOW)
    assert live.priority != "P0"
    assert (shadow.priority, shadow.queue) == ("P0", "emergency")
    assert "every_hotline_notice" in shadow.rules_matched
    assert shadow.policy_version == "shadow-1"
    assert shadow.applied is False
    assert (shadow.case_id, shadow.escalation_id) == (live.case_id, live.escalation_id)
    assert shadow.computed_at == live.computed_at
    assert shadow.signals_triggered == live.signals_triggered  # the same context
    # The case is the live policy's: priority, queue, deadlines; nobody was paged.
    assert (case.priority, case.queue) == (live.priority, live.queue)
    assert case.first_action_due is not None
    assert case.first_action_due.isoformat() == live.deadlines["first_action"]
    assert not Page.objects.exists()
    shadow_due = set(shadow.deadlines.values())
    assert not [t for t in DBTaskResult.objects.all() if t.run_after.isoformat() in shadow_due]
    assert_audited_many(
        E.CASE_TRIAGED, count=1, target=case, data={"policy_version": live.policy_version}
    )

    # The same notice under the shadow promoted to live pages: the check above could fail.
    admin.post("/api/v1/triage/policies/shadow-1/promote", {"reason": "a week in shadow"})
    promoted = case_of(service_api.post(URL, hotline(2)))
    assert promoted.priority == "P0"
    assert Page.objects.count() == 1


def test_a_shadow_that_cannot_run_is_recorded_and_intake_goes_on(
    admin: ApiClient, service_api: ApiClient
) -> None:
    admin.put(PUT, {"source": policy_text("shadow-1"), "status": "shadow"})
    # A stored text that no longer compiles (as when an indicator family it names is removed).
    TriagePolicy.objects.filter(version="shadow-1").update(source="version: 'shadow-1'\nrules: 7\n")

    filed = service_api.post(URL, hotline(1))

    assert filed.status_code == 201, filed.content
    shadow = TriageRecord.objects.get(kind=TriageKind.SHADOW)
    assert shadow.priority == ""
    assert shadow.applied is False
    assert shadow.rule_errors[0][0] == "<policy>"
    assert "PolicyError" in shadow.rule_errors[0][1]
    assert "rules: must be a list" in shadow.explanation
    assert case_of(filed).priority == TriageRecord.objects.get(kind=TriageKind.AUTOMATIC).priority


def test_a_shadow_rule_that_errors_is_recorded_like_a_live_one(
    admin: ApiClient, service_api: ApiClient
) -> None:
    rule = (
        "  - name: first_decision\n    when: 'prior_decisions[0] == \"grooming\"'\n"
        "    priority: P1\n    explain: the suspect was found grooming before\n"
    )
    admin.put(PUT, {"source": policy_text("shadow-2", rule), "status": "shadow"})

    service_api.post(URL, hotline(1))

    shadow = TriageRecord.objects.get(kind=TriageKind.SHADOW)
    assert [name for name, _ in shadow.rule_errors] == ["first_decision"]
    assert shadow.priority in {"P0", "P1", "P2", "P3"}


def test_diff_shows_where_shadow_and_live_disagree(
    admin: ApiClient, service_api: ApiClient, capsys: pytest.CaptureFixture[str]
) -> None:
    admin.put(PUT, {"source": policy_text("shadow-1"), "status": "shadow"})
    moved = [case_of(service_api.post(URL, hotline(n))) for n in (1, 2)]
    same = case_of(
        service_api.post(
            URL, escalation_body(external_id="other-1", category="imminent_danger", content=[])
        )
    )
    live_priority = TriageRecord.objects.get(case=moved[0], kind=TriageKind.AUTOMATIC).priority

    code, out, err = run(capsys, "triage", "diff", "--shadow", "--since", "7d", "--json")

    assert (code, err) == (0, "")
    report = json.loads(out)
    assert report["shadow"] == "shadow-1"
    assert report["compared"] == 3
    assert report["disagree"] == 2
    assert {(p["live"], p["shadow"], p["count"]) for p in report["pairs"]} == {
        (live_priority, "P0", 2),
        ("P0", "P0", 1),
    }
    assert {d["case"] for d in report["disagreements"]} == {str(c.pk) for c in moved}
    assert str(same.pk) not in out
    first = report["disagreements"][0]
    assert first["to"] == {"priority": "P0", "queue": "emergency"}
    assert "every_hotline_notice" in first["rules"]

    code, text, _ = run(capsys, "triage", "diff", "--shadow")
    assert code == 0
    assert "shadow policy shadow-1 against live: 3 escalations" in text
    assert "2 disagree" in text
    assert f"case {moved[0].pk}" in text
    assert f"{live_priority} general -> P0 emergency" in text


def test_diff_counts_only_the_current_shadow_and_the_window(
    admin: ApiClient, service_api: ApiClient, capsys: pytest.CaptureFixture[str]
) -> None:
    admin.put(PUT, {"source": policy_text("shadow-1"), "status": "shadow"})
    service_api.post(URL, hotline(1))
    admin.put(PUT, {"source": policy_text("shadow-2"), "status": "shadow"})
    service_api.post(URL, hotline(2))
    TriageRecord.objects.filter(kind=TriageKind.SHADOW, policy_version="shadow-2").update(
        computed_at=TriageRecord.objects.get(policy_version="shadow-2").computed_at.replace(
            year=2020
        )
    )

    code, out, _ = run(capsys, "triage", "diff", "--shadow", "--json")

    assert code == 0
    assert json.loads(out)["compared"] == 0  # shadow-1's records are another policy's


def test_diff_refuses_clearly(admin: ApiClient, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "triage", "diff", "--shadow")
    assert code == 2
    assert "there is no shadow policy" in err

    admin.put(PUT, {"source": policy_text("shadow-1"), "status": "shadow"})
    with pytest.raises(SystemExit) as exited:
        cli.main(["triage", "diff", "--shadow", "--since", "7x"])
    assert exited.value.code == 2
    assert "'7x' is not a duration" in capsys.readouterr().err
    assert TriagePolicy.objects.get().status == PolicyStatus.SHADOW
