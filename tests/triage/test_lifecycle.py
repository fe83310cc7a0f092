"""The triage policy lifecycle, draft -> shadow -> live: uploads with a status, the shadow
replaced, promotion with a reason, each change audited and every refusal changing nothing."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from safeguard.accounts.permissions import Role
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.audit.models import AuditEvent
from safeguard.config import cli
from safeguard.triage.lifecycle import (
    PolicyConflict,
    PolicyForbidden,
    PolicyNotFound,
    PolicyPromotionInvalid,
    policy_promote,
    policy_shadow,
    policy_upload,
)
from safeguard.triage.models import PolicyStatus, TriagePolicy
from safeguard.triage.services import default_policy_source, policy_active
from tests.audit_helpers import assert_audited, last_event_id
from tests.conftest import ApiClient
from tests.factories import UserFactory

E = AuditEventType
S = PolicyStatus
PUT = "/api/v1/triage/policy"
EXTRA = (
    "  - name: every_hotline_notice\n    when: 'channel == \"hotline\"'\n    priority: P0\n"
    "    queue: emergency\n    explain: every hotline notice is urgent this week\n"
)


def policy_text(version: str, extra_rule: str = EXTRA) -> str:
    """The shipped policy under another version, with one rule more."""
    source, count = re.subn(
        r'^version: "[^"]*"', f'version: "{version}"', default_policy_source(), flags=re.M
    )
    assert count == 1
    return source.rstrip("\n") + "\n\n" + extra_rule


def statuses() -> dict[str, str]:
    return dict(TriagePolicy.objects.values_list("version", "status"))


@pytest.fixture
def admin(api_for: Any) -> ApiClient:
    client: ApiClient = api_for(Role.ADMIN)
    return client


def test_a_draft_is_stored_and_audited_and_the_live_policy_is_unchanged(admin: ApiClient) -> None:
    built_in = policy_active().version

    response = admin.put(PUT, {"source": policy_text("team-draft"), "status": "draft"})

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "draft"
    assert response.json()["version"] == "team-draft"
    assert statuses() == {"team-draft": "draft"}
    assert policy_active().version == built_in
    assert admin.get(PUT).json()["version"] == built_in
    event = assert_audited(
        E.POLICY_UPLOADED,
        target=TriagePolicy.objects.get(version="team-draft"),
        actor=admin.user,
        source=AuditSource.API,
        data={"status": "draft"},
    )
    assert event.data["rules"][-1] == "every_hotline_notice"


def test_upload_without_a_status_is_live_as_always(admin: ApiClient) -> None:
    assert admin.put(PUT, {"source": policy_text("team-1")}).status_code == 200
    assert admin.put(PUT, {"source": policy_text("team-2")}).status_code == 200

    assert statuses() == {"team-1": "draft", "team-2": "live"}
    assert TriagePolicy.objects.get(active=True).version == "team-2"
    assert policy_active().version == "team-2"
    assert_audited(
        E.POLICY_ACTIVATED, target=("triage_policy", "team-2"), data={"previous": "team-1"}
    )


def test_shadow_upload_then_a_second_shadow_replaces_the_first(admin: ApiClient) -> None:
    built_in = policy_active().version
    before = last_event_id()

    first = admin.put(PUT, {"source": policy_text("shadow-a"), "status": "shadow"})
    second = admin.put(PUT, {"source": policy_text("shadow-b"), "status": "shadow"})

    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json()["status"] == "shadow"
    assert statuses() == {"shadow-a": "draft", "shadow-b": "shadow"}
    assert policy_active().version == built_in  # a shadow never decides
    assert_audited(
        E.POLICY_SHADOWED,
        target=("triage_policy", "shadow-a"),
        actor=admin.user,
        data={"uploaded": True, "replaced": None},
        after=before,
    )
    assert_audited(
        E.POLICY_SHADOWED,
        target=("triage_policy", "shadow-b"),
        data={"uploaded": True, "replaced": "shadow-a"},
        after=before,
    )


def test_an_uploaded_draft_becomes_the_shadow_by_version(admin: ApiClient) -> None:
    admin.put(PUT, {"source": policy_text("later"), "status": "draft"})
    before = last_event_id()

    response = admin.post("/api/v1/triage/policies/later/shadow")

    assert response.status_code == 200, response.content
    assert statuses() == {"later": "shadow"}
    assert_audited(
        E.POLICY_SHADOWED,
        target=("triage_policy", "later"),
        data={"uploaded": False, "replaced": None},
        after=before,
    )
    # Asking again changes nothing and records nothing.
    assert admin.post("/api/v1/triage/policies/later/shadow").status_code == 200
    assert AuditEvent.objects.filter(id__gt=before).count() == 1


def test_promoting_the_shadow_makes_it_live_and_the_old_live_a_draft(admin: ApiClient) -> None:
    admin.put(PUT, {"source": policy_text("live-1")})
    admin.put(PUT, {"source": policy_text("candidate-2"), "status": "shadow"})
    before = last_event_id()

    response = admin.post(
        "/api/v1/triage/policies/candidate-2/promote", {"reason": "a week in shadow, 0 misses"}
    )

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "live"
    assert statuses() == {"live-1": "draft", "candidate-2": "live"}
    assert policy_active().version == "candidate-2"
    assert admin.get(PUT).json()["version"] == "candidate-2"
    assert_audited(
        E.POLICY_PROMOTED,
        target=TriagePolicy.objects.get(version="candidate-2"),
        actor=admin.user,
        source=AuditSource.API,
        data={"from": "shadow", "previous": "live-1", "reason": "a week in shadow, 0 misses"},
        after=before,
    )
    assert AuditEvent.objects.filter(id__gt=before).count() == 1


def test_a_draft_can_be_promoted_directly(admin: ApiClient) -> None:
    record = policy_upload(
        source_text=policy_text("draft-3"),
        status=S.DRAFT,
        actor=admin.user,  # type: ignore[arg-type]
        source=AuditSource.CLI,
    )

    promoted = policy_promote(
        version="draft-3",
        actor=admin.user,  # type: ignore[arg-type]
        source=AuditSource.CLI,
        reason="backtested on 30 days",
    )

    assert promoted.pk == record.pk
    assert promoted.status == S.LIVE
    assert promoted.active is True
    assert_audited(
        E.POLICY_PROMOTED,
        target=("triage_policy", "draft-3"),
        source=AuditSource.CLI,
        data={"from": "draft", "previous": None},
    )


def test_refusals_change_nothing(admin: ApiClient) -> None:
    admin.put(PUT, {"source": policy_text("live-1")})
    admin.put(PUT, {"source": policy_text("shadow-1"), "status": "shadow"})
    before_rows, before = statuses(), last_event_id()
    promote = "/api/v1/triage/policies/{}/promote"

    answers = {
        "unknown version": admin.post(promote.format("nope"), {"reason": "x"}),
        "no reason": admin.post(promote.format("shadow-1"), {"reason": ""}),
        "promote the live one": admin.post(promote.format("live-1"), {"reason": "x"}),
        "shadow the live one": admin.post("/api/v1/triage/policies/live-1/shadow"),
        "shadow an unknown version": admin.post("/api/v1/triage/policies/nope/shadow"),
        "same version, other rules": admin.put(
            PUT, {"source": policy_text("shadow-1", extra_rule=""), "status": "shadow"}
        ),
        "the live one again as a draft": admin.put(
            PUT, {"source": policy_text("live-1"), "status": "draft"}
        ),
        "a draft that does not compile": admin.put(
            PUT,
            {
                "source": policy_text("bad-1", EXTRA.replace("channel ==", "chanel ==")),
                "status": "draft",
            },
        ),
        "an unknown status": admin.put(PUT, {"source": policy_text("x-1"), "status": "retired"}),
    }

    codes = {name: response.status_code for name, response in answers.items()}
    assert codes == {
        "unknown version": 404,
        "no reason": 422,
        "promote the live one": 409,
        "shadow the live one": 409,
        "shadow an unknown version": 404,
        "same version, other rules": 409,
        "the live one again as a draft": 409,
        "a draft that does not compile": 422,
        "an unknown status": 422,
    }
    assert "every_hotline_notice" in answers["a draft that does not compile"].json()["detail"]
    assert "no triage policy has version 'nope'" in answers["unknown version"].json()["detail"]
    assert statuses() == before_rows
    assert last_event_id() == before


def test_only_those_who_may_activate_a_policy_may_change_its_status(admin: ApiClient) -> None:
    lead = UserFactory(role=Role.LEAD.value)
    admin.put(PUT, {"source": policy_text("shadow-1"), "status": "shadow"})
    before = last_event_id()

    with pytest.raises(PolicyForbidden, match="triage:policy:manage"):
        policy_promote(version="shadow-1", actor=lead, source=AuditSource.CLI, reason="x")
    with pytest.raises(PolicyForbidden):
        policy_shadow(version="shadow-1", actor=lead, source=AuditSource.CLI)
    with pytest.raises(PolicyForbidden):
        policy_upload(
            source_text=policy_text("x-2"), status=S.DRAFT, actor=lead, source=AuditSource.CLI
        )

    assert statuses() == {"shadow-1": "shadow"}
    assert last_event_id() == before


def test_service_errors_name_the_problem(admin: ApiClient) -> None:
    user = admin.user
    assert user is not None
    with pytest.raises(PolicyNotFound):
        policy_shadow(version="missing", actor=user, source=AuditSource.CLI)
    policy_upload(
        source_text=policy_text("d-1"), status=S.DRAFT, actor=user, source=AuditSource.CLI
    )
    with pytest.raises(PolicyPromotionInvalid, match="needs a reason"):
        policy_promote(version="d-1", actor=user, source=AuditSource.CLI, reason="   ")
    policy_promote(version="d-1", actor=user, source=AuditSource.CLI, reason="ok")
    with pytest.raises(PolicyConflict, match="is live already"):
        policy_promote(version="d-1", actor=user, source=AuditSource.CLI, reason="again")


@pytest.mark.parametrize("status", [S.LIVE, S.SHADOW])
def test_the_database_holds_at_most_one_live_and_one_shadow(db: None, status: S) -> None:
    now = timezone.now()
    TriagePolicy.objects.create(version="a", source="a", status=status, uploaded_at=now)
    TriagePolicy.objects.create(version="b", source="b", status=S.DRAFT, uploaded_at=now)

    with pytest.raises(IntegrityError), transaction.atomic():
        TriagePolicy.objects.create(version="c", source="c", status=status, uploaded_at=now)
    # Drafts are not limited; `active` is computed from the status.
    TriagePolicy.objects.create(version="d", source="d", status=S.DRAFT, uploaded_at=now)
    assert set(TriagePolicy.objects.filter(active=True).values_list("version", flat=True)) == (
        {"a"} if status == S.LIVE else set()
    )


def test_the_lifecycle_at_the_command_line(
    admin: ApiClient, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "candidate.yaml"
    path.write_text(policy_text("cli-1"), encoding="utf-8")
    user = admin.user
    assert user is not None
    lead = UserFactory(role=Role.LEAD.value)

    def safeguard(*args: str) -> tuple[object, str, str]:
        with pytest.raises(SystemExit) as exited:
            cli.main(["triage", "policy", *args])
        captured = capsys.readouterr()
        return exited.value.code, captured.out, captured.err

    assert safeguard("upload", str(path), "--status", "shadow", "--by", user.username)[:2] == (
        0,
        "cli-1 is shadow\n",
    )
    code, out, _ = safeguard("list")
    assert (code, out.split()[:2]) == (0, ["shadow", "cli-1"])
    refused = safeguard("promote", "cli-1", "--by", lead.username, "--reason", "x")
    assert refused[0] == 2
    assert "may not change the triage policy" in refused[2]
    assert safeguard("promote", "nope", "--by", user.username, "--reason", "x")[0] == 2
    assert safeguard("promote", "cli-1", "--by", user.username, "--reason", "tried")[:2] == (
        0,
        "cli-1 is live\n",
    )

    assert statuses() == {"cli-1": "live"}
    assert_audited(E.POLICY_SHADOWED, target=("triage_policy", "cli-1"), source=AuditSource.CLI)
    assert_audited(
        E.POLICY_PROMOTED,
        target=("triage_policy", "cli-1"),
        actor=user,
        source=AuditSource.CLI,
        data={"from": "shadow", "reason": "tried"},
    )
