"""`n` with no queue chosen: the most urgent case across every queue the person may work, and
the queues listed by urgency (issue 10, item 4)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from safeguard.accounts.permissions import Role
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.cases.models import Case, Queue
from safeguard.cases.queues import ClaimError, queue_claim_most_urgent
from safeguard.cases.selectors import queue_summaries_for
from tests.audit_helpers import assert_audited
from tests.cases.test_queues import file, force
from tests.conftest import ApiClient
from tests.factories import UserFactory

E = AuditEventType
LEASE = timedelta(minutes=10)


def test_the_p0s_in_emergency_come_before_a_p1_in_csam(
    service_api: ApiClient, specialist_api: ApiClient
) -> None:
    """The reproduction: with two P0s open in `emergency`, the next case was a P1 in `csam`."""
    now = timezone.now()
    ids = [file(service_api, n)["case_id"] for n in range(4)]
    # The P1 is older and due sooner than either P0: priority still comes first.
    force(ids[0], priority="P1", queue="csam", first_action_due=now - timedelta(hours=1))
    force(ids[1], priority="P0", queue="emergency", first_action_due=now + timedelta(minutes=9))
    force(ids[2], priority="P0", queue="emergency", first_action_due=now + timedelta(minutes=4))
    force(ids[3], priority="P2", queue="general", first_action_due=now - timedelta(hours=5))
    user = specialist_api.user
    assert user is not None

    served = [
        queue_claim_most_urgent(actor=user, lease=LEASE, source=AuditSource.CONSOLE)
        for _ in range(5)
    ]

    assert [str(c.pk) if c else None for c in served] == [ids[2], ids[1], ids[0], ids[3], None]
    first = served[0]
    assert first is not None
    assert first.holder == user
    assert first.state == "in_review"
    assert_audited(
        E.CASE_CLAIMED,
        target=first,
        actor=user,
        source=AuditSource.CONSOLE,
        data={"queue": "emergency", "expired_lease_of": None},
    )


def test_only_queues_the_person_may_work(service_api: ApiClient, api_for: Any) -> None:
    now = timezone.now()
    legal_only, general = (file(service_api, n)["case_id"] for n in range(2))
    force(legal_only, priority="P0", queue="le-requests", first_action_due=now)
    force(general, priority="P3", queue="general", first_action_due=now + timedelta(days=3))
    specialist = api_for(Role.SPECIALIST).user
    # A named member works a queue whatever their role.
    member = UserFactory(role=Role.SPECIALIST.value)
    Queue.objects.get(name="le-requests").members.add(member)

    taken = queue_claim_most_urgent(actor=specialist, lease=LEASE, source=AuditSource.API)
    assert taken is not None
    assert str(taken.pk) == general
    assert queue_claim_most_urgent(actor=specialist, lease=LEASE, source=AuditSource.API) is None
    by_member = queue_claim_most_urgent(actor=member, lease=LEASE, source=AuditSource.API)
    assert by_member is not None
    assert str(by_member.pk) == legal_only


def test_a_lapsed_lease_is_claimable_a_live_one_is_not(
    service_api: ApiClient, api_for: Any
) -> None:
    case_id = file(service_api, 1)["case_id"]
    force(case_id, priority="P0", queue="emergency", first_action_due=timezone.now())
    alice, bob = api_for(Role.SPECIALIST).user, api_for(Role.SPECIALIST).user

    assert queue_claim_most_urgent(actor=alice, lease=LEASE, source=AuditSource.API) is not None
    assert queue_claim_most_urgent(actor=bob, lease=LEASE, source=AuditSource.API) is None
    force(case_id, lease_until=timezone.now() - timedelta(seconds=1))
    again = queue_claim_most_urgent(actor=bob, lease=LEASE, source=AuditSource.API)

    assert again is not None
    assert again.holder == bob
    assert_audited(
        E.CASE_CLAIMED,
        target=again,
        actor=bob,
        data={"queue": "emergency", "expired_lease_of": alice.username},
    )


def test_someone_who_may_not_review_is_refused(db: None) -> None:
    auditor = UserFactory(role=Role.AUDITOR.value)
    with pytest.raises(ClaimError, match="may not review cases"):
        queue_claim_most_urgent(actor=auditor, lease=LEASE, source=AuditSource.API)


def test_queues_are_listed_by_urgency_and_a_p0_stands_out(
    service_api: ApiClient, specialist_api: ApiClient
) -> None:
    now = timezone.now()
    ids = [file(service_api, n)["case_id"] for n in range(4)]
    force(ids[0], state="triaged", priority="P2", queue="csam", first_action_due=now)
    force(ids[1], state="triaged", priority="P0", queue="general", first_action_due=now)
    force(
        ids[2],
        state="triaged",
        priority="P1",
        queue="grooming",
        first_action_due=now - timedelta(minutes=1),
        breached_at=now,
    )
    force(ids[3], state="triaged", priority="P1", queue="emergency", first_action_due=now)

    summaries = queue_summaries_for(user=specialist_api.user)

    # P0 first; then a breach; then by the most urgent case; then (all empty) by name.
    assert [s["name"] for s in summaries] == ["general", "grooming", "emergency", "csam"]
    assert [s["has_p0"] for s in summaries] == [True, False, False, False]
    assert summaries[1]["breached"] == 1
    # A case that was acted on no longer counts as at risk or breached.
    force(ids[2], first_action_at=now)
    again = {s["name"]: s for s in queue_summaries_for(user=specialist_api.user)}
    assert again["grooming"]["breached"] == 0
    assert Case.objects.filter(queue="grooming", breached_at__isnull=False).count() == 1


def test_empty_queues_follow_by_name(db: None) -> None:
    lead = UserFactory(role=Role.LEAD.value)
    names = [s["name"] for s in queue_summaries_for(user=lead)]
    assert names == sorted(names)
    assert all(s["has_p0"] is False for s in queue_summaries_for(user=lead))
