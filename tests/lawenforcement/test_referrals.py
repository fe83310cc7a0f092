"""Outbound emergency referrals: the directory, the referral as an action on the case, the
acknowledgement and its clock."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail

from safeguard.accounts.permissions import Role
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.cases.models import Case, PlaybookStepTick
from safeguard.lawenforcement.directory import DirectoryError, directory, load_directory
from safeguard.lawenforcement.models import Referral
from safeguard.lawenforcement.referrals import (
    ReferralConflict,
    ReferralForbidden,
    ReferralRefused,
    referral_ack_overdue,
    referral_acknowledge,
    referral_send,
)
from safeguard.rota.models import Page
from tests.audit_helpers import assert_audited
from tests.conftest import case_of, escalation_body
from tests.factories import UserFactory

E = AuditEventType
pytestmark = pytest.mark.django_db
REASON = "A 14-year-old says she is meeting the suspect tonight at a station."


@pytest.fixture
def p0_case(service_api: Any, settings: Any) -> Case:
    settings.SAFEGUARD_ONCALL = [UserFactory(username="on.call").username]
    settings.SAFEGUARD_ONCALL_LEAD = UserFactory(username="the.lead", role=Role.LEAD.value).username
    filed = service_api.post(
        "/api/v1/escalations",
        escalation_body(
            category="imminent_danger",
            summary="Minor says they will meet an adult tonight.",
            content=[
                {
                    "platform_id": "thread:9",
                    "kind": "message_thread",
                    "text": "meet me tonight, don't tell your parents",
                }
            ],
        ),
    )
    case = case_of(filed)
    assert case.priority == "P0"
    return case


def test_a_referral_is_an_action_on_the_case_and_ticks_its_playbook(p0_case: Case) -> None:
    specialist = UserFactory(role=Role.SPECIALIST.value)

    referral = referral_send(
        case=p0_case,
        agency_key="us-demo-emergency",
        reason=REASON,
        actor=specialist,
        source=AuditSource.API,
    )

    case = Case.objects.get(pk=p0_case.pk)
    assert case.first_action_at is not None
    assert not Page.objects.filter(case=case, acknowledged_at__isnull=True).exists()
    assert referral.directory_version == directory().version
    assert referral.summary["priority"] == "P0"
    # Stored as JSON: the (platform id, age, country) triples come back as lists.
    assert Referral.objects.get(pk=referral.pk).summary["victims"] == [["user:v1", 12, "GB"]]
    ticks = PlaybookStepTick.objects.filter(case=case)
    assert ticks.count() == 1
    assert "Example National Child Exploitation Desk" in ticks.get().note
    assert_audited(
        E.LE_REFERRAL_SENT,
        target=case,
        data={"agency": "us-demo-emergency", "channel": "portal"},
    )


def test_an_email_agency_is_written_to_once_the_referral_commits(
    p0_case: Case, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        referral_send(
            case=p0_case,
            agency_key="gb-demo-emergency",
            reason=REASON,
            actor=UserFactory(role=Role.LEAD.value),
            source=AuditSource.API,
        )

    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["urgent-referrals@constabulary.example"]
    assert "user:v1" in sent.body
    assert "Please acknowledge" in sent.body


def test_bad_referrals_are_refused_and_change_nothing(p0_case: Case) -> None:
    specialist = UserFactory(role=Role.SPECIALIST.value)
    for key, reason, error, message in (
        ("nowhere", REASON, ReferralRefused, "known: us-demo-emergency"),
        ("us-demo-emergency", "now", ReferralRefused, "10 characters"),
    ):
        with pytest.raises(error, match=message):
            referral_send(
                case=p0_case,
                agency_key=key,
                reason=reason,
                actor=specialist,
                source=AuditSource.API,
            )
    with pytest.raises(ReferralForbidden):
        referral_send(
            case=p0_case,
            agency_key="us-demo-emergency",
            reason=REASON,
            actor=UserFactory(role=Role.LEGAL.value),
            source=AuditSource.API,
        )
    assert not Referral.objects.exists()
    assert Case.objects.get(pk=p0_case.pk).first_action_at is None


def test_the_acknowledgement_is_recorded_once_and_stops_its_clock(p0_case: Case) -> None:
    specialist = UserFactory(role=Role.SPECIALIST.value)
    referral = referral_send(
        case=p0_case,
        agency_key="us-demo-emergency",
        reason=REASON,
        actor=specialist,
        source=AuditSource.API,
    )

    done = referral_acknowledge(
        referral=referral, agency_reference="EX-2026-771", actor=specialist, source=AuditSource.API
    )

    assert done.agency_reference == "EX-2026-771"
    assert_audited(
        E.LE_REFERRAL_ACKNOWLEDGED,
        target=p0_case,
        data={"agency_reference": "EX-2026-771"},
    )
    with pytest.raises(ReferralConflict, match="EX-2026-771"):
        referral_acknowledge(
            referral=referral, agency_reference="again", actor=specialist, source=AuditSource.API
        )
    assert (
        referral_ack_overdue(referral_id=referral.pk, due=referral.ack_due_at.isoformat())
        == "acknowledged"
    )


def test_an_unacknowledged_referral_pages_the_lead(p0_case: Case) -> None:
    referral = referral_send(
        case=p0_case,
        agency_key="us-demo-emergency",
        reason=REASON,
        actor=UserFactory(role=Role.SPECIALIST.value),
        source=AuditSource.API,
    )
    due = referral.ack_due_at.isoformat()

    assert referral_ack_overdue(referral_id=referral.pk, due=due) == "paged 1"
    assert referral_ack_overdue(referral_id=referral.pk, due=due) == "already paged"

    page = Page.objects.get(recipient__username="the.lead", kind="deadline_breach")
    assert "UNACKNOWLEDGED" in page.message
    assert_audited(E.LE_REFERRAL_OVERDUE, target=p0_case, data={"paged": ["the.lead"]})


def test_the_api_refers_and_acknowledges(p0_case: Case, api_for: Any) -> None:
    specialist = api_for(Role.SPECIALIST)
    listed = specialist.get("/api/v1/le/directory", country="GB").json()
    assert [a["key"] for a in listed["agencies"]] == ["gb-demo-emergency"]

    made = specialist.post(
        f"/api/v1/cases/{p0_case.pk}/referrals",
        {"agency_key": "gb-demo-emergency", "reason": REASON},
    )
    assert made.status_code == 201, made.content
    referral_id = made.json()["id"]
    acked = specialist.post(
        f"/api/v1/le/referrals/{referral_id}/acknowledgement", {"agency_reference": "GB-1"}
    )
    assert acked.status_code == 200
    assert acked.json()["agency_reference"] == "GB-1"
    assert specialist.get(f"/api/v1/cases/{p0_case.pk}/referrals").json()[0]["id"] == referral_id


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("version: v\nagencies: []\n", "non-empty list"),
        ("agencies: []\n", "exactly 'version' and 'agencies'"),
        (
            "version: v\nagencies:\n  - {key: a, country: US, name: n, channel: fax, "
            "address: x, hours: h, source: s}\n",
            "channel 'fax'",
        ),
        (
            "version: v\nagencies:\n  - {key: a, country: US, name: n, channel: email, "
            "address: nope, hours: h, source: s}\n",
            "not an e-mail address",
        ),
        (
            "version: v\nagencies:\n  - {key: a, country: US, name: n, channel: portal, "
            "address: 'http://x.example', hours: h, source: s}\n",
            "https://",
        ),
        (
            "version: v\nagencies:\n  - {key: a, country: US, name: n, channel: phone, "
            "address: '+1 555 0100', hours: h, source: s, extra: 1}\n",
            "unknown field",
        ),
        (
            "version: v\nagencies:\n"
            "  - {key: a, country: US, name: n, channel: phone, address: '+15550100', "
            "hours: h, source: s}\n"
            "  - {key: a, country: GB, name: m, channel: phone, address: '+445550100', "
            "hours: h, source: s}\n",
            "appears twice",
        ),
    ],
)
def test_a_malformed_directory_is_refused_precisely(text: str, message: str) -> None:
    with pytest.raises(DirectoryError, match=message):
        load_directory(text)


def test_the_shipped_directory_is_synthetic_and_covers_the_demo_countries() -> None:
    book = directory()
    assert {a.country for a in book.agencies} >= {"US", "GB", "DE", "IE", "SG", "EU"}
    assert all("(fictional)" in a.name for a in book.agencies)
