"""Search: cases found by subject, content, hash or escalation id, only among those the searcher
may see; bad input refused precisely; a search that found something is audited."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from safeguard.accounts.permissions import Role
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.audit.models import AuditEvent
from safeguard.cases.grants import read_grant_create
from safeguard.cases.models import Case
from safeguard.cases.search import SearchQueryInvalid, case_search_for
from safeguard.cases.workflow import Priority
from safeguard.evidence.models import ContentItem
from safeguard.matching.models import Bank, BankEntry, ContentMatch
from tests.audit_helpers import assert_audited, assert_not_audited, last_event_id
from tests.conftest import ApiClient, sign_in_verified
from tests.factories import UserFactory, filed_case

E = AuditEventType
SHA = hashlib.sha256(b"a generated test pattern").hexdigest()
PDQ = "f" * 16 + "0" * 48


def _file(service_api: ApiClient, n: int, queue: str, **extra: Any) -> Case:
    body: dict[str, Any] = {
        "caller": service_api.user,
        "external_id": f"ext-search-{n}",
        "queue": queue,
        "subjects": [
            {"platform_id": f"user:searchable-{n}", "role": "suspect"},
            {"platform_id": f"user:child-{n}", "role": "victim", "age": 13},
        ],
        "content": [{"platform_id": f"img:search-{n}", "kind": "image"}],
    }
    body.update(extra)
    return filed_case(**body)


def _ids(hits: list[Any]) -> list[str]:
    return [str(h.case.pk) for h in hits]


@pytest.fixture
def cases(service_api: ApiClient) -> dict[str, Case]:
    return {
        "general": _file(service_api, 1, "general"),
        "hidden": _file(service_api, 2, "le-requests"),
    }


def test_a_subject_is_found_exactly_and_by_a_prefix_of_three_or_more(
    cases: dict[str, Case], api_for: Any
) -> None:
    specialist = api_for(Role.SPECIALIST).user

    exact = case_search_for(user=specialist, query="  user:searchable-1 ")
    prefix = case_search_for(user=specialist, query="user:search")

    assert _ids(exact) == [str(cases["general"].pk)]
    assert exact[0].matched == ["subject user:searchable-1 (suspect)"]
    assert _ids(prefix) == [str(cases["general"].pk)]
    # Two characters are not a prefix worth searching by: only an exact id of two matches.
    assert case_search_for(user=specialist, query="us") == []


def test_content_by_platform_id_or_its_uuid_and_an_escalation_by_external_id(
    cases: dict[str, Case], api_for: Any
) -> None:
    specialist = api_for(Role.SPECIALIST).user
    item = ContentItem.objects.get(platform_id="img:search-1")
    general = str(cases["general"].pk)

    by_platform_id = case_search_for(user=specialist, query="img:search-1")
    by_uuid = case_search_for(user=specialist, query=str(item.pk).upper())
    by_external_id = case_search_for(user=specialist, query="ext-search-1")

    assert [(_ids(by_platform_id), by_platform_id[0].matched)] == [
        ([general], ["content img:search-1 (image)"])
    ]
    assert _ids(by_uuid) == [general]
    assert [(_ids(by_external_id), by_external_id[0].matched)] == [
        ([general], ["escalation ext-search-1 (user_report)"])
    ]


def test_a_hash_finds_the_item_declared_with_it_and_items_that_matched_a_bank_entry(
    service_api: ApiClient, api_for: Any
) -> None:
    declared = _file(
        service_api,
        3,
        "general",
        content=[{"platform_id": "img:declared", "kind": "image", "sha256": SHA}],
    )
    matched = _file(service_api, 4, "general")
    now = timezone.now()
    bank = Bank.objects.create(name="test-bank", created_at=now)
    entry = BankEntry.objects.create(bank=bank, signal_type="pdq", hash=PDQ, added_at=now)
    ContentMatch.objects.create(
        content=ContentItem.objects.get(platform_id="img:search-4"),
        entry=entry,
        signal_type="pdq",
        distance=3,
        found_at=now,
    )
    specialist = api_for(Role.SPECIALIST).user

    by_sha = case_search_for(user=specialist, query=SHA.upper())
    by_pdq = case_search_for(user=specialist, query=PDQ)

    assert [(_ids(by_sha), by_sha[0].matched)] == [
        ([str(declared.pk)], [f"sha256 {SHA} (content img:declared)"])
    ]
    assert [(_ids(by_pdq), by_pdq[0].matched)] == [
        ([str(matched.pk)], [f"pdq {PDQ} (bank match on img:search-4)"])
    ]


def test_a_case_the_searcher_may_not_see_never_appears_and_changes_nothing(
    service_api: ApiClient, api_for: Any
) -> None:
    # The same suspect in a case the specialist works and one they may not see.
    shared = [{"platform_id": "user:shared-suspect", "role": "suspect"}]
    seen = _file(service_api, 5, "general", subjects=shared)
    Case.objects.filter(pk=seen.pk).update(state="closed")  # a closed case opens anew
    hidden = _file(service_api, 6, "le-requests", subjects=shared)
    assert hidden.pk != seen.pk
    specialist, lead = api_for(Role.SPECIALIST), api_for(Role.LEAD)

    as_specialist = specialist.get("/api/v1/search", q="user:shared-suspect")
    as_lead = lead.get("/api/v1/search", q="user:shared-suspect")
    hidden_only = specialist.get("/api/v1/search", q="ext-search-6")

    assert [h["case_id"] for h in as_specialist.json()] == [str(seen.pk)]
    assert {h["case_id"] for h in as_lead.json()} == {str(seen.pk), str(hidden.pk)}
    # The hidden case's own ids find nothing, exactly as an id nobody used.
    assert (hidden_only.status_code, hidden_only.json()) == (200, [])
    assert specialist.get("/api/v1/search", q="ext-nobody-used").json() == []
    assert_not_audited(E.CASES_SEARCHED, actor=specialist.user, data={"query": "ext-search-6"})


def test_a_search_that_found_cases_is_audited_with_its_query_and_the_cases_shown(
    cases: dict[str, Case], api_for: Any
) -> None:
    specialist = api_for(Role.SPECIALIST)
    before = last_event_id()

    found = specialist.get("/api/v1/search", q="user:searchable-1")
    specialist.get("/api/v1/search", q="nothing-matches-this")

    assert found.status_code == 200
    assert found.json()[0]["console_url"] == f"/console/cases/{cases['general'].pk}/"
    assert_audited(
        E.CASES_SEARCHED,
        target=("search", "user:searchable-1"),
        actor=specialist.user,
        source=AuditSource.API,
        data={"query": "user:searchable-1", "cases": [str(cases["general"].pk)], "found": 1},
        after=before,
    )
    # An empty answer showed nothing: it is not an event (see docs/search-and-bulk.md).
    assert AuditEvent.objects.filter(id__gt=before, event_type=E.CASES_SEARCHED).count() == 1


def test_an_auditors_search_is_a_read_under_their_grant(
    cases: dict[str, Case], api_for: Any
) -> None:
    auditor, lead = api_for(Role.AUDITOR), api_for(Role.LEAD)
    case = cases["general"]
    grant = read_grant_create(
        grantee=auditor.user,
        actor=lead.user,
        reason="quarterly review",
        source=AuditSource.API,
        case=case,
        expires_at=timezone.now() + timedelta(hours=1),
    )

    found = auditor.get("/api/v1/search", q="user:searchable")

    assert [h["case_id"] for h in found.json()] == [str(case.pk)]
    assert_audited(
        E.CASE_READ_UNDER_GRANT,
        target=case,
        actor=auditor.user,
        data={"grant": str(grant.pk), "read": "search", "query": "user:searchable"},
    )


def test_results_are_most_urgent_first_and_bounded_by_the_limit(
    service_api: ApiClient, api_for: Any
) -> None:
    low = _file(
        service_api, 7, "general", subjects=[{"platform_id": "user:sorted-7", "role": "suspect"}]
    )
    high = _file(
        service_api, 8, "general", subjects=[{"platform_id": "user:sorted-8", "role": "suspect"}]
    )
    Case.objects.filter(pk=low.pk).update(priority=Priority.P3)
    Case.objects.filter(pk=high.pk).update(priority=Priority.P0)
    specialist = api_for(Role.SPECIALIST)

    both = specialist.get("/api/v1/search", q="user:sorted")
    one = specialist.get("/api/v1/search", q="user:sorted", limit=1)

    assert [h["case_id"] for h in both.json()] == [str(high.pk), str(low.pk)]
    assert [h["priority"] for h in both.json()] == ["P0", "P3"]
    assert [h["case_id"] for h in one.json()] == [str(high.pk)]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "type something to search for"),
        ("   ", "type something to search for"),
        ("x" * 201, "a search is at most 200 characters; this one is 201"),
        ("user:\u202eabc", "contains U+202E RIGHT-TO-LEFT OVERRIDE at position 5"),
        ("user:a\tb", "contains U+0009 TAB"),
    ],
)
def test_a_search_that_cannot_be_made_is_refused_precisely_and_records_nothing(
    cases: dict[str, Case], api_for: Any, query: str, message: str
) -> None:
    specialist = api_for(Role.SPECIALIST)
    before = last_event_id()

    with pytest.raises(SearchQueryInvalid, match=re.escape(message)):
        case_search_for(user=specialist.user, query=query)
    answer = specialist.get("/api/v1/search", q=query)

    assert answer.status_code == 422
    assert message in answer.json()["detail"]
    assert last_event_id() == before


def test_the_console_page_links_each_result_to_its_case_and_shows_errors_by_the_box(
    cases: dict[str, Case],
) -> None:
    specialist = UserFactory(role=Role.SPECIALIST.value)
    client = Client()
    sign_in_verified(client, specialist)
    case = cases["general"]

    page = client.get("/console/search/", {"q": "img:search-1"})
    refused = client.get("/console/search/", {"q": "x" * 201})
    empty = client.get("/console/search/")

    assert page.status_code == 200
    html = page.content.decode()
    assert f'<a href="/console/cases/{case.pk}/"><code>{case.pk}</code></a>' in html
    assert "content img:search-1 (image)" in html
    assert str(cases["hidden"].pk) not in html
    assert refused.status_code == 422
    assert 'class="field-error" id="search-error"' in refused.content.decode()
    assert "at most 200 characters; this one is 201" in refused.content.decode()
    assert empty.status_code == 200
    assert_audited(E.CASES_SEARCHED, actor=specialist, source=AuditSource.CONSOLE)


def test_the_search_query_count_does_not_grow_with_the_cases_found(
    service_api: ApiClient, api_for: Any
) -> None:
    specialist = api_for(Role.SPECIALIST).user

    def queries() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as captured:
            hits = case_search_for(user=specialist, query="user:counted")
        return len(hits), len(captured)

    _file(
        service_api, 20, "general", subjects=[{"platform_id": "user:counted-0", "role": "suspect"}]
    )
    found_one, one = queries()
    for n in range(1, 6):
        _file(
            service_api,
            20 + n,
            "general",
            subjects=[{"platform_id": f"user:counted-{n}", "role": "suspect"}],
        )
    found_six, six = queries()

    assert (found_one, found_six) == (1, 6)
    assert six == one
