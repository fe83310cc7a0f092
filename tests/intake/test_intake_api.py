"""The intake contract over HTTP: acceptance, idempotency, grouping, and harmless refusals."""

from __future__ import annotations

from typing import Any

import pytest

from safeguard.accounts.permissions import Role
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.cases.models import Case
from safeguard.evidence.models import ContentItem
from safeguard.intake.models import Escalation, ImmutableRecord
from tests.audit_helpers import assert_audit_trail, assert_audited, assert_audited_many
from tests.conftest import case_of, escalation_body

E = AuditEventType
URL = "/api/v1/escalations"
LE_BLOCK = {
    "agency": "Example Police (fictional)",
    "country": "US",
    "request_type": "emergency_disclosure",
    "contact": "desk@police.example",
}


def test_accepts_an_escalation_and_opens_a_case(service_api: Any) -> None:
    response = service_api.post(URL, escalation_body())

    assert response.status_code == 201, response.content
    body = response.json()
    # The filer learns its own escalation and its own content ids, nothing of the case.
    assert set(body) == {"id", "status", "content"}
    assert body["status"] == "accepted"
    escalation = Escalation.objects.get(pk=body["id"])
    assert escalation.caller == service_api.user
    assert body["content"][0]["platform_id"] == "thread:1"
    assert escalation.payload["subjects"][1]["country"] == "GB"
    case = case_of(body)
    received = assert_audited(
        E.ESCALATION_RECEIVED,
        target=escalation,
        actor=service_api.user,
        source=AuditSource.API,
        data={
            "channel": "user_report",
            "external_id": "ext-1",
            "category": "grooming",
            "payload_sha256": escalation.payload_sha256,
        },
    )
    trail = assert_audit_trail(
        [E.CASE_OPENED, E.CASE_ESCALATION_JOINED, E.CASE_TRANSITIONED, E.CASE_TRIAGED],
        target=case,
    )
    assert received.pk < trail[0].pk
    opened, joined, _, triaged = trail
    assert opened.data == {"escalation": str(escalation.pk)}
    assert opened.actor == service_api.user
    assert joined.data == {"escalation": str(escalation.pk), "suspects": ["user:s1"]}
    assert triaged.actor is None
    assert triaged.data["escalation"] == str(escalation.pk)
    assert triaged.data["priority"] == case.priority
    assert triaged.data["queue"] == case.queue
    assert triaged.data["policy_version"] == "default-2"
    assert case.priority in {"P0", "P1", "P2", "P3"}
    assert case.explanation
    assert case.first_action_due is not None
    assert case.warn_at is not None


def test_resending_the_same_external_id_returns_200_and_the_same_ids(
    service_api: Any, snapshot_counts: Any
) -> None:
    first = service_api.post(URL, escalation_body())
    before = snapshot_counts()

    again = service_api.post(URL, escalation_body())

    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json() == {**first.json(), "status": "already_accepted"}
    assert snapshot_counts() == before


def test_reusing_an_external_id_for_different_content_is_a_conflict(
    service_api: Any, snapshot_counts: Any
) -> None:
    service_api.post(URL, escalation_body())
    before = snapshot_counts()

    response = service_api.post(URL, escalation_body(summary="Something else entirely."))

    assert response.status_code == 409
    assert "ext-1" in response.json()["detail"]
    assert snapshot_counts() == before


def test_the_same_external_id_from_another_caller_is_a_new_escalation(api_for: Any) -> None:
    one, two = api_for(Role.SERVICE), api_for(Role.SERVICE)

    a = one.post(URL, escalation_body())
    b = two.post(URL, escalation_body())

    assert (a.status_code, b.status_code) == (201, 201)
    assert a.json()["id"] != b.json()["id"]
    # Both name suspect user:s1, so both join the one open case about that suspect.
    assert case_of(a.json()) == case_of(b.json())


def test_an_escalation_about_a_suspect_with_an_open_case_joins_it(service_api: Any) -> None:
    first = service_api.post(URL, escalation_body()).json()
    second = service_api.post(
        URL,
        escalation_body(
            external_id="ext-2",
            subjects=[{"platform_id": "user:s1", "role": "suspect"}],
            content=[],
        ),
    ).json()
    other = service_api.post(
        URL,
        escalation_body(
            external_id="ext-3",
            subjects=[{"platform_id": "user:s2", "role": "suspect"}],
            content=[],
        ),
    ).json()

    assert case_of(second) == case_of(first)
    assert case_of(other) != case_of(first)
    case = case_of(first)
    assert case.links.count() == 2
    assert_audited(E.CASE_OPENED, target=case)
    joins = assert_audited_many(E.CASE_ESCALATION_JOINED, count=2, target=case)
    assert [j.data["escalation"] for j in joins] == [first["id"], second["id"]]
    assert_audited(E.CASE_OPENED, target=case_of(other), data={"escalation": other["id"]})


def test_a_victim_named_in_two_reports_does_not_merge_them(service_api: Any) -> None:
    a = service_api.post(
        URL,
        escalation_body(external_id="a", subjects=[{"platform_id": "user:v", "role": "victim"}]),
    ).json()
    b = service_api.post(
        URL,
        escalation_body(
            external_id="b",
            subjects=[{"platform_id": "user:v", "role": "victim"}],
            content=[],
        ),
    ).json()

    assert case_of(a) != case_of(b)


def test_a_closed_case_is_not_joined(service_api: Any) -> None:
    first = service_api.post(URL, escalation_body()).json()
    Case.objects.filter(pk=case_of(first).pk).update(state="closed")

    second = service_api.post(URL, escalation_body(external_id="ext-2", content=[])).json()

    assert case_of(second) != case_of(first)


def test_text_only_escalations_are_first_class(service_api: Any) -> None:
    response = service_api.post(
        URL, escalation_body(subjects=[], content=[], summary="Only words, no media.")
    )

    assert response.status_code == 201
    assert Case.objects.filter(pk=case_of(response.json()).pk).exists()


def test_law_enforcement_escalation_with_its_block(service_api: Any) -> None:
    response = service_api.post(
        URL, escalation_body(channel="law_enforcement", law_enforcement=LE_BLOCK)
    )

    assert response.status_code == 201
    escalation = Escalation.objects.get(pk=response.json()["id"])
    assert escalation.payload["law_enforcement"]["request_type"] == "emergency_disclosure"


def test_an_le_partner_may_file_only_law_enforcement_escalations(
    api_for: Any, snapshot_counts: Any
) -> None:
    partner = api_for(Role.LE_PARTNER)
    before = snapshot_counts()

    refused = partner.post(URL, escalation_body())

    assert refused.status_code == 403
    assert "user_report" in refused.json()["detail"]
    assert snapshot_counts() == before
    allowed = partner.post(
        URL, escalation_body(channel="law_enforcement", law_enforcement=LE_BLOCK)
    )
    assert allowed.status_code == 201


def test_content_conflicting_with_what_is_known_is_refused(
    service_api: Any, snapshot_counts: Any
) -> None:
    service_api.post(URL, escalation_body())
    before = snapshot_counts()

    response = service_api.post(
        URL,
        escalation_body(
            external_id="ext-2", content=[{"platform_id": "thread:1", "kind": "image"}]
        ),
    )

    assert response.status_code == 409
    assert "thread:1" in response.json()["detail"]
    assert snapshot_counts() == before


def test_escalations_are_immutable(service_api: Any) -> None:
    escalation = Escalation.objects.get(pk=service_api.post(URL, escalation_body()).json()["id"])
    escalation.summary = "rewritten"

    with pytest.raises(ImmutableRecord):
        escalation.save()
    with pytest.raises(ImmutableRecord):
        escalation.delete()


def test_an_escalation_reads_back_as_received(service_api: Any, specialist_api: Any) -> None:
    created = service_api.post(URL, escalation_body()).json()

    response = specialist_api.get(f"{URL}/{created['id']}")

    assert response.status_code == 200
    body = response.json()
    assert body["summary"] == escalation_body()["summary"]
    assert [s["platform_id"] for s in body["subjects"]] == ["user:s1", "user:v1"]
    assert body["content"][0]["text"] == "how old are you?"


BAD_INPUTS = [
    ("malformed JSON", b'{"channel": "user_report",', 400, "malformed JSON"),
    ("not an object", b"[1, 2]", 422, "invalid request"),
    ("empty body", b"", 422, "invalid request"),
    ("unknown channel", {"channel": "carrier_pigeon"}, 422, "channel"),
    ("unknown category", {"category": "spam"}, 422, "category"),
    ("unknown subject role", {"subjects": [{"platform_id": "u", "role": "boss"}]}, 422, "role"),
    ("unknown content kind", {"content": [{"platform_id": "c", "kind": "gif"}]}, 422, "kind"),
    (
        "bad country",
        {"subjects": [{"platform_id": "u", "role": "victim", "country": "GBR"}]},
        422,
        "country",
    ),
    ("negative age", {"subjects": [{"platform_id": "u", "role": "victim", "age": -1}]}, 422, "age"),
    (
        "bad sha256",
        {"content": [{"platform_id": "c", "kind": "image", "sha256": "abc"}]},
        422,
        "sha256",
    ),
    ("naive datetime", {"occurred_at": "2026-11-24T10:00:00"}, 422, "occurred_at"),
    ("unknown field", {"colour": "red"}, 422, "colour"),
    ("law enforcement without its block", {"channel": "law_enforcement"}, 422, "law_enforcement"),
    ("block on another channel", {"law_enforcement": LE_BLOCK}, 422, "law_enforcement"),
    (
        "bad LE request type",
        {"channel": "law_enforcement", "law_enforcement": {**LE_BLOCK, "request_type": "please"}},
        422,
        "request_type",
    ),
    ("duplicate content", {"content": [{"platform_id": "c", "kind": "image"}] * 2}, 422, "content"),
]


@pytest.mark.parametrize(("name", "change", "status", "mentions"), BAD_INPUTS)
def test_bad_input_gets_a_precise_4xx_and_writes_nothing(
    service_api: Any,
    snapshot_counts: Any,
    name: str,
    change: Any,
    status: int,
    mentions: str,
) -> None:
    before = snapshot_counts()
    if isinstance(change, bytes):
        response = service_api.post(URL, raw=change)
    else:
        response = service_api.post(URL, escalation_body(**change))

    assert response.status_code == status, (name, response.content)
    assert mentions in response.content.decode(), name
    assert snapshot_counts() == before


@pytest.mark.parametrize("field", ["channel", "external_id", "category", "summary"])
def test_missing_required_fields_are_named(
    service_api: Any, snapshot_counts: Any, field: str
) -> None:
    body = escalation_body()
    del body[field]
    before = snapshot_counts()

    response = service_api.post(URL, body)

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field
    assert snapshot_counts() == before


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        ({}, "authentication required"),
        ({"Authorization": "Bearer sg_not-a-real-token"}, "invalid"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "authentication required"),
    ],
)
def test_missing_or_wrong_token_is_401_and_writes_nothing(
    client: Any, db: None, snapshot_counts: Any, headers: dict[str, str], detail: str
) -> None:
    before = snapshot_counts()

    response = client.post(
        URL, data=escalation_body(), content_type="application/json", headers=headers
    )

    assert response.status_code == 401
    assert detail in response.json()["detail"]
    assert snapshot_counts() == before


def test_a_revoked_token_is_refused(service_api: Any) -> None:
    from safeguard.accounts.services import api_token_revoke
    from safeguard.audit.events import AuditSource

    token = service_api.user.api_tokens.get()
    api_token_revoke(token=token, actor=None, source=AuditSource.CLI)

    assert service_api.post(URL, escalation_body()).status_code == 401


def test_content_items_are_shared_between_escalations(service_api: Any) -> None:
    service_api.post(URL, escalation_body())
    service_api.post(URL, escalation_body(external_id="ext-2"))

    assert ContentItem.objects.filter(platform_id="thread:1").count() == 1
