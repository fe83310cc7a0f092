"""The console's live fragments (review.live): what each shows, 204 while nothing changed, and a
poll from a session that ended reloads its page instead of swapping a sign-in page in."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from safeguard.accounts.models import User
from safeguard.accounts.permissions import Role
from safeguard.cases.models import Case
from safeguard.cases.workflow import CaseState, Priority
from tests.factories import PageFactory, UserFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def _case(**fields: object) -> Case:
    now = timezone.now()
    values: dict[str, object] = {
        "state": CaseState.TRIAGED,
        "priority": Priority.P0,
        "queue": "emergency",
        "opened_at": now,
        "updated_at": now,
        "first_action_due": now + timedelta(minutes=15),
    }
    values.update(fields)
    return Case.objects.create(**values)


def _version(body: str) -> str:
    found = re.search(r'data-version="([0-9a-f]+)"', body)
    assert found, body
    return found.group(1)


def test_the_banner_names_waiting_p0s_and_answers_204_while_nothing_changes(
    verified_client: Callable[[User], Client],
) -> None:
    client = verified_client(UserFactory(role=Role.SPECIALIST.value))
    empty = client.get("/console/live/banner", **HTMX)
    assert empty.status_code == 200
    assert "p0-banner" not in empty.content.decode()

    case = _case()
    shown = client.get("/console/live/banner", {"v": _version(empty.content.decode())}, **HTMX)

    body = shown.content.decode()
    assert shown.status_code == 200
    assert f'href="/console/cases/{case.pk}/"' in body
    assert "1 P0 case waiting" in body
    again = client.get("/console/live/banner", {"v": _version(body)}, **HTMX)
    assert again.status_code == 204
    assert again.content == b""


def test_the_banner_leaves_out_p0s_someone_works_and_queues_the_person_may_not_work(
    verified_client: Callable[[User], Client],
) -> None:
    colleague = UserFactory(role=Role.SPECIALIST.value)
    held = _case(
        state=CaseState.IN_REVIEW,
        holder=colleague,
        lease_until=timezone.now() + timedelta(minutes=5),
    )
    _case(priority=Priority.P1)
    legal = verified_client(UserFactory(role=Role.LEGAL.value))
    specialist = verified_client(UserFactory(role=Role.SPECIALIST.value))

    assert "p0-banner" not in specialist.get("/console/live/banner").content.decode()
    # Legal reviews no queue: no banner region at all, and the fragment is empty.
    assert 'id="live-banner"' not in legal.get("/").content.decode()
    assert "p0-banner" not in legal.get("/console/live/banner").content.decode()
    # A lapsed lease puts the P0 back in the banner.
    Case.objects.filter(pk=held.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    assert str(held.pk)[:8] in specialist.get("/console/live/banner").content.decode()


def test_the_queues_table_counts_cases_being_reviewed(
    verified_client: Callable[[User], Client],
) -> None:
    colleague = UserFactory(role=Role.SPECIALIST.value)
    _case(priority=Priority.P1, queue="csam")
    _case(
        priority=Priority.P1,
        queue="csam",
        state=CaseState.IN_REVIEW,
        holder=colleague,
        lease_until=timezone.now() + timedelta(minutes=5),
    )
    client = verified_client(UserFactory(role=Role.SPECIALIST.value))

    page = client.get("/console/queues/").content.decode()
    fragment = client.get("/console/live/queues", **HTMX)

    row = re.search(r'<tr class="">\s*<th scope="row"><strong>csam</strong>.*?</tr>', page, re.S)
    assert row, page
    cells = re.findall(r"<td>(.*?)</td>", row.group(0), re.S)
    assert cells[:3] == ["2", "1", "1"]  # open, waiting, being reviewed
    # The page and its fragment agree, so the first poll swaps nothing.
    assert client.get("/console/live/queues", {"v": _version(page)}, **HTMX).status_code == 204
    assert fragment.status_code == 200


def test_a_case_status_shows_its_holder_and_its_pages(
    verified_client: Callable[[User], Client],
) -> None:
    colleague = UserFactory(role=Role.SPECIALIST.value, username="colleague-on-nights")
    case = _case(
        state=CaseState.IN_REVIEW,
        holder=colleague,
        lease_until=timezone.now() + timedelta(minutes=5),
    )
    answered = PageFactory(case=case, recipient=colleague)
    answered.acknowledged_at, answered.acknowledged_by = timezone.now(), colleague
    answered.save()
    PageFactory(case=case, recipient=UserFactory(role=Role.LEAD.value), round=1)
    client = verified_client(UserFactory(role=Role.SPECIALIST.value))

    body = client.get(f"/console/live/cases/{case.pk}", **HTMX).content.decode()

    assert "colleague-on-nights</strong> is working on this case now" in body
    assert "acknowledged by colleague-on-nights" in body
    assert "waiting for an answer" in body
    assert "(round 1)" in body


def test_a_case_status_is_not_found_outside_the_persons_queues(
    verified_client: Callable[[User], Client],
) -> None:
    case = _case(queue="lead")
    client = verified_client(UserFactory(role=Role.SPECIALIST.value))

    assert client.get(f"/console/live/cases/{case.pk}", **HTMX).status_code == 404


def test_a_poll_after_the_session_ended_reloads_the_page() -> None:
    poll = Client().get("/console/live/banner", **HTMX)

    assert poll.status_code == 204
    assert poll["HX-Refresh"] == "true"
    # Outside htmx the gate answers as for any console page.
    assert Client().get("/console/live/banner").status_code == 302


def test_start_reviewing_takes_the_most_urgent_case_across_queues(
    verified_client: Callable[[User], Client],
) -> None:
    now = timezone.now()
    p1 = _case(priority=Priority.P1, queue="csam", first_action_due=now - timedelta(hours=1))
    p0 = _case(queue="emergency", first_action_due=now + timedelta(minutes=10))
    person = UserFactory(role=Role.SPECIALIST.value)
    client = verified_client(person)

    first = client.post("/console/queues/next")
    second = client.post("/console/queues/next")
    empty = client.post("/console/queues/next", follow=True)

    assert first["Location"] == f"/console/cases/{p0.pk}/"
    assert second["Location"] == f"/console/cases/{p1.pk}/"
    assert "Every queue you work is empty" in empty.content.decode()
    assert client.get("/console/queues/next").status_code == 405
