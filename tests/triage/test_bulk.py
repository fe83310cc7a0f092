"""Bulk changes by a lead: many cases reassigned or re-prioritised with one reason, all or
nothing, each case audited by its own service and the batch by one event."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from safeguard.accounts.permissions import Role
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.cases.models import Case, Queue
from safeguard.cases.workflow import CaseState, Priority
from safeguard.triage.bulk import (
    MAX_BATCH,
    BulkPermissionDenied,
    BulkRefused,
    cases_bulk_reassign,
    cases_bulk_reprioritise,
)
from tests.audit_helpers import assert_audited, assert_audited_many, last_event_id
from tests.conftest import ApiClient, sign_in_verified
from tests.factories import UserFactory, filed_case

E = AuditEventType
URL = "/api/v1/cases/bulk"


def _cases(service_api: ApiClient, n: int, queue: str = "general") -> list[Case]:
    return [
        filed_case(
            caller=service_api.user,
            queue=queue,
            subjects=[{"platform_id": f"user:bulk-{queue}-{i}", "role": "suspect"}],
        )
        for i in range(n)
    ]


def _state(cases: list[Case]) -> list[tuple[str, str, str | None]]:
    rows = Case.objects.filter(pk__in=[c.pk for c in cases]).select_related("holder")
    by_id = {c.pk: (c.queue, c.priority, c.holder.username if c.holder else None) for c in rows}
    return [by_id[c.pk] for c in cases]


def test_a_lead_moves_many_cases_to_a_queue_each_audited_and_the_batch_once(
    service_api: ApiClient, api_for: Any
) -> None:
    cases = _cases(service_api, 3)
    lead = api_for(Role.LEAD).user
    before = last_event_id()

    changed = cases_bulk_reassign(
        case_ids=[c.pk for c in cases],
        actor=lead,
        reason="moving the backlog to grooming specialists",
        source=AuditSource.CONSOLE,
        to_queue=Queue.objects.get(name="grooming"),
    )

    assert [c.pk for c in changed] == [c.pk for c in cases]
    assert {q for q, _p, _h in _state(cases)} == {"grooming"}
    for case in cases:
        assert_audited(
            E.CASE_REASSIGNED,
            target=case,
            actor=lead,
            data={
                "to": {"queue": "grooming", "holder": None},
                "reason": "moving the backlog to grooming specialists",
            },
            after=before,
        )
    assert_audited(
        E.CASES_BULK_CHANGED,
        actor=lead,
        source=AuditSource.CONSOLE,
        data={
            "action": "reassign",
            "cases": [str(c.pk) for c in cases],
            "count": 3,
            "to_queue": "grooming",
            "to_user": None,
        },
        after=before,
    )


def test_a_lead_hands_many_cases_to_one_person_who_then_holds_them(
    service_api: ApiClient, api_for: Any
) -> None:
    cases = _cases(service_api, 2)
    lead, specialist = api_for(Role.LEAD), api_for(Role.SPECIALIST)

    answer = lead.post(
        URL,
        {
            "action": "reassign",
            "case_ids": [str(c.pk) for c in cases],
            "to_user": specialist.user.username,
            "reason": "she knows these accounts",
        },
    )

    assert answer.status_code == 200, answer.content
    assert answer.json()["changed"] == 2
    assert [h for _q, _p, h in _state(cases)] == [specialist.user.username] * 2
    assert all(c["state"] == CaseState.IN_REVIEW for c in answer.json()["cases"])


def test_a_lead_sets_the_priority_of_many_cases_each_with_its_override_record(
    service_api: ApiClient, api_for: Any
) -> None:
    cases = _cases(service_api, 2)
    lead = api_for(Role.LEAD)
    before = last_event_id()

    answer = lead.post(
        URL,
        {
            "action": "reprioritise",
            "case_ids": [str(c.pk) for c in cases],
            "priority": "P1",
            "reason": "same suspect ring, confirmed by the platform",
        },
    )

    assert answer.status_code == 200, answer.content
    assert [p for _q, p, _h in _state(cases)] == ["P1", "P1"]
    assert_audited_many(E.CASE_PRIORITY_OVERRIDDEN, count=2, actor=lead.user, after=before)
    assert_audited(
        E.CASES_BULK_CHANGED,
        actor=lead.user,
        source=AuditSource.API,
        data={"action": "reprioritise", "priority": "P1", "count": 2},
        after=before,
    )


def test_one_case_the_lead_may_not_see_refuses_the_batch_naming_it_and_changes_nothing(
    service_api: ApiClient, api_for: Any
) -> None:
    cases = _cases(service_api, 2)
    lead = api_for(Role.LEAD)
    # A case in a queue the lead may not work (only named members do).
    Queue.objects.create(name="private", roles=[])
    (hidden,) = _cases(service_api, 1, queue="private")
    unknown = uuid.uuid4()
    before_state, before = _state(cases), last_event_id()

    for stranger in (hidden.pk, unknown):
        answer = lead.post(
            URL,
            {
                "action": "reprioritise",
                "case_ids": [str(cases[0].pk), str(stranger), str(cases[1].pk)],
                "priority": "P0",
                "reason": "escalating the ring",
            },
        )
        assert answer.status_code == 422
        # The same words for a case that exists but is hidden and for one that does not.
        assert answer.json()["detail"] == (
            f"no case {stranger} that you may see; nothing was changed"
        )

    assert _state(cases) == before_state
    assert last_event_id() == before


def test_a_case_that_refuses_the_change_refuses_the_batch_after_earlier_ones_were_tried(
    service_api: ApiClient, api_for: Any
) -> None:
    cases = _cases(service_api, 3)
    Case.objects.filter(pk=cases[2].pk).update(state=CaseState.CLOSED)
    lead = api_for(Role.LEAD).user
    before_state, before = _state(cases), last_event_id()

    with pytest.raises(BulkRefused) as refused:
        cases_bulk_reassign(
            case_ids=[c.pk for c in cases],
            actor=lead,
            reason="rebalancing",
            source=AuditSource.API,
            to_queue=Queue.objects.get(name="grooming"),
        )

    assert refused.value.case_id == cases[2].pk
    assert str(refused.value).startswith(f"case {cases[2].pk}: only triaged or in-review")
    # The first two were moved inside the transaction and rolled back with it.
    assert _state(cases) == before_state
    assert last_event_id() == before


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"action": "reassign", "reason": "r"}, "reassign needs exactly one of to_queue, to_user"),
        (
            {"action": "reassign", "reason": "r", "to_queue": "general", "to_user": "x"},
            "reassign needs exactly one of to_queue, to_user",
        ),
        ({"action": "reprioritise", "reason": "r"}, "reprioritise needs a priority"),
        (
            {"action": "reprioritise", "reason": "r", "priority": "P1", "to_queue": "general"},
            "to_queue and to_user are for action 'reassign'",
        ),
        ({"action": "reprioritise", "reason": "r", "priority": "P7"}, "priority"),
        ({"action": "close", "reason": "r"}, "action"),
        (
            {"action": "reassign", "reason": "   ", "to_queue": "general"},
            "a change to many cases needs a reason",
        ),
        ({"action": "reassign", "reason": "r", "to_queue": "nope"}, "no queue 'nope'"),
        ({"action": "reassign", "reason": "r", "to_user": "nobody-here"}, "no active user"),
    ],
)
def test_a_malformed_batch_is_refused_precisely_and_changes_nothing(
    service_api: ApiClient, api_for: Any, body: dict[str, Any], message: str
) -> None:
    cases = _cases(service_api, 1)
    lead = api_for(Role.LEAD)
    before_state, before = _state(cases), last_event_id()

    answer = lead.post(URL, {"case_ids": [str(cases[0].pk)], **body})

    assert answer.status_code == 422, answer.content
    assert message in answer.content.decode()
    assert (_state(cases), last_event_id()) == (before_state, before)


def test_ids_listed_twice_an_empty_batch_and_an_oversized_one_are_refused(api_for: Any) -> None:
    lead = api_for(Role.LEAD)
    twice = uuid.uuid4()

    with pytest.raises(BulkRefused, match=f"case {twice} is listed twice"):
        cases_bulk_reprioritise(
            case_ids=[twice, twice],
            actor=lead.user,
            reason="r",
            priority=Priority.P2,
            source=AuditSource.API,
        )
    empty = lead.post(
        URL, {"action": "reprioritise", "priority": "P2", "reason": "r", "case_ids": []}
    )
    too_many = lead.post(
        URL,
        {
            "action": "reprioritise",
            "priority": "P2",
            "reason": "r",
            "case_ids": [str(uuid.uuid4()) for _ in range(MAX_BATCH + 1)],
        },
    )

    assert empty.status_code == 422
    assert too_many.status_code == 422
    assert (
        f"at most {MAX_BATCH} cases at once; {MAX_BATCH + 1} were sent" in too_many.content.decode()
    )


def test_only_a_lead_changes_cases_in_bulk(service_api: ApiClient, api_for: Any) -> None:
    cases = _cases(service_api, 1)
    specialist = api_for(Role.SPECIALIST)

    with pytest.raises(BulkPermissionDenied, match="needs cases:case:assign"):
        cases_bulk_reprioritise(
            case_ids=[cases[0].pk],
            actor=specialist.user,
            reason="r",
            priority=Priority.P0,
            source=AuditSource.API,
        )
    client = Client()
    sign_in_verified(client, specialist.user)
    assert client.get("/console/cases/bulk/").status_code == 404


def test_the_console_page_keeps_what_the_lead_entered_when_refused_and_changes_on_success(
    service_api: ApiClient,
) -> None:
    cases = _cases(service_api, 2)
    lead = UserFactory(role=Role.LEAD.value)
    client = Client()
    sign_in_verified(client, lead)
    ids = [str(c.pk) for c in cases]

    listed = client.get("/console/cases/bulk/", {"queue": "general"})
    refused = client.post(
        "/console/cases/bulk/",
        {"cases": ids, "reason": "   ", "to_queue": "grooming", "action": "reassign"},
    )
    done = client.post(
        "/console/cases/bulk/",
        {"cases": ids, "reason": "rebalancing", "priority": "P1", "action": "reprioritise"},
    )

    assert listed.status_code == 200
    for case_id in ids:
        assert f'value="{case_id}" id="pick-{case_id}"' in listed.content.decode()
    assert refused.status_code == 422
    html = refused.content.decode()
    assert 'id="reason-error"' in html
    assert "needs a reason" in html
    for case_id in ids:
        assert f'id="pick-{case_id}" aria-label="pick case {case_id}" checked' in html
    assert '<option value="grooming" selected>' in html
    assert done.status_code == 302
    assert [p for _q, p, _h in _state(cases)] == ["P1", "P1"]


def test_a_person_who_may_not_review_cannot_be_handed_cases(
    service_api: ApiClient, api_for: Any
) -> None:
    cases = _cases(service_api, 1)
    lead, admin = api_for(Role.LEAD), api_for(Role.ADMIN)
    before = last_event_id()

    answer = lead.post(
        URL,
        {
            "action": "reassign",
            "case_ids": [str(cases[0].pk)],
            "to_user": admin.user.username,
            "reason": "r",
        },
    )

    assert answer.status_code == 422
    assert answer.json()["detail"] == (
        f"{admin.user.username} may not review cases; nothing was changed"
    )
    assert last_event_id() == before


def _bulk_page_queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/console/cases/bulk/").status_code == 200
    return len(queries)


def test_the_bulk_page_query_count_does_not_grow_with_the_cases(service_api: ApiClient) -> None:
    lead = UserFactory(role=Role.LEAD.value)
    client = Client()
    sign_in_verified(client, lead)
    _cases(service_api, 1)
    one = _bulk_page_queries(client)
    for n in range(5):
        filed_case(
            caller=service_api.user,
            queue="general",
            subjects=[{"platform_id": f"user:more-{n}", "role": "suspect"}],
        )
    assert _bulk_page_queries(client) == one
