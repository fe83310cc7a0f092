"""The console without a browser: queues, case page, protected media, reveal, decide, escalate."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from PIL import Image

from safeguard.accounts.permissions import Role
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.cases.grants import read_grant_create
from safeguard.cases.models import Case, Queue
from safeguard.evidence.models import ContentItem
from tests.audit_helpers import assert_audited
from tests.conftest import ApiClient, case_of, escalation_body, sign_in_verified
from tests.factories import UserFactory
from tests.review.conftest import IMAGE, img_src


def console(role: Role) -> Client:
    client = Client()
    sign_in_verified(client, UserFactory(role=role.value))
    return client


def test_start_reviewing_opens_the_case_with_media_blurred(case_with_image: dict[str, Any]) -> None:
    specialist = console(Role.SPECIALIST)

    assert "Start reviewing" in specialist.get("/console/queues/").content.decode()
    opened = specialist.post("/console/queues/general/start", follow=True)
    html = opened.content.decode()

    assert opened.status_code == 200
    assert case_with_image["case_id"] in html
    assert '<mark class="signal" title="age_probing">how old are you</mark>' in html
    preview = specialist.get(img_src(html, "protected"))
    assert preview.status_code == 200
    assert "no-store" in preview["Cache-Control"].split(", ")
    with Image.open(io.BytesIO(preview.content)) as image:
        assert image.mode == "L"  # greyscale
        assert image.size[0] <= 320
    assert 'class="media revealed"' not in html
    assert not ContentItem.objects.get(pk=case_with_image["image_id"]).viewed_by_person


def test_reveal_is_audited_and_only_then_serves_the_original(
    case_with_image: dict[str, Any],
) -> None:
    person = UserFactory(role=Role.SPECIALIST.value)
    specialist = Client()
    sign_in_verified(specialist, person)
    specialist.post("/console/queues/general/start")
    case_url = f"/console/cases/{case_with_image['case_id']}/"
    html = specialist.get(case_url).content.decode()
    full_before = img_src(html, "protected").replace("/preview?", "/full?")
    assert specialist.get(full_before).status_code == 404  # not revealed, and wrong token

    revealed = specialist.post(
        f"/console/cases/{case_with_image['case_id']}/reveal/{case_with_image['image_id']}"
    )
    html = specialist.get(case_url).content.decode()
    full = specialist.get(img_src(html, "revealed"))

    assert revealed.status_code == 302
    assert full.status_code == 200
    assert full.content == IMAGE
    assert "no-store" in full["Cache-Control"].split(", ")
    item = ContentItem.objects.get(pk=case_with_image["image_id"])
    assert_audited(
        AuditEventType.MEDIA_REVEALED,
        target=item,
        actor=person,
        source=AuditSource.CONSOLE,
        data={"case": case_with_image["case_id"], "sha256": item.blob_id},
    )
    assert ContentItem.objects.get(pk=case_with_image["image_id"]).viewed_by_person


def test_media_urls_are_personal_and_need_the_permission(case_with_image: dict[str, Any]) -> None:
    specialist = console(Role.SPECIALIST)
    html = specialist.get(f"/console/cases/{case_with_image['case_id']}/").content.decode()
    url = img_src(html, "protected")

    assert console(Role.SPECIALIST).get(url).status_code == 404  # signed for someone else
    assert console(Role.AUDITOR).get(url).status_code == 404  # may read cases, not media
    # An auditor reads a case only under a lead's grant, and even then sees no media.
    auditor = UserFactory(role=Role.AUDITOR.value)
    auditor_console = Client()
    sign_in_verified(auditor_console, auditor)
    case_url = f"/console/cases/{case_with_image['case_id']}/"
    assert auditor_console.get(case_url).status_code == 404
    read_grant_create(
        grantee=auditor,
        actor=UserFactory(role=Role.LEAD.value),
        reason="quarterly audit of the general queue",
        expires_at=timezone.now() + timedelta(days=1),
        queue=Queue.objects.get(name="general"),
        source=AuditSource.CLI,
    )
    auditor_page = auditor_console.get(case_url)
    assert auditor_page.status_code == 200
    assert "<img" not in auditor_page.content.decode()
    assert_audited(
        AuditEventType.CASE_READ_UNDER_GRANT,
        target=("case", case_with_image["case_id"]),
        actor=auditor,
        source=AuditSource.CONSOLE,
        data={"read": "case_page"},
    )
    assert (
        console(Role.ADMIN).get(f"/console/cases/{case_with_image['case_id']}/").status_code == 404
    )
    assert Client().get(url).status_code == 302  # anonymous: to sign in


def test_decide_with_submit_and_next(
    case_with_image: dict[str, Any], service_api: ApiClient
) -> None:
    other = service_api.post(
        "/api/v1/escalations",
        escalation_body(
            external_id="other",
            category="other",
            content=[],
            summary="x",
            subjects=[{"platform_id": "user:s2", "role": "suspect"}],
        ),
    ).json()
    Case.objects.filter(pk=case_of(other).pk).update(queue="general")
    specialist = console(Role.SPECIALIST)
    first = specialist.post("/console/queues/general/start")
    first_id = first["Location"].split("/")[3]

    decided = specialist.post(
        f"/console/cases/{first_id}/decide",
        {"labels": ["grooming"], "reason": "grooming indicators", "next": "1"},
    )

    assert decided.status_code == 302
    assert Case.objects.get(pk=first_id).state == "decided"
    second_id = decided["Location"].split("/")[3]
    assert second_id != first_id
    assert Case.objects.get(pk=second_id).holder is not None


def test_a_decision_without_a_reason_is_refused(case_with_image: dict[str, Any]) -> None:
    specialist = console(Role.SPECIALIST)
    specialist.post("/console/queues/general/start")

    response = specialist.post(
        f"/console/cases/{case_with_image['case_id']}/decide",
        {"labels": ["grooming"], "reason": "  "},
        follow=True,
    )

    assert "Not recorded: a decision needs a reason" in response.content.decode()
    assert Case.objects.get(pk=case_with_image["case_id"]).state == "in_review"


def test_escalate_to_lead_from_the_console(case_with_image: dict[str, Any]) -> None:
    specialist = console(Role.SPECIALIST)
    specialist.post("/console/queues/general/start")

    specialist.post(
        f"/console/cases/{case_with_image['case_id']}/escalate", {"note": "please take a look"}
    )

    case = Case.objects.get(pk=case_with_image["case_id"])
    assert (case.queue, case.state, case.holder) == ("lead", "triaged", None)


def test_every_shortcut_on_the_case_page_is_unique_and_shown(
    case_with_image: dict[str, Any],
) -> None:
    specialist = console(Role.SPECIALIST)
    specialist.post("/console/queues/general/start")

    html = specialist.get(f"/console/cases/{case_with_image['case_id']}/").content.decode()

    keys = re.findall(r'data-key="([^"]+)"', html)
    assert len(keys) == len(set(keys)), keys
    assert {"r", "g", "s", "m", "b", "c", "n", "ctrl+enter", "l"} <= set(keys)
    for key in keys:
        assert f"<kbd>{key}</kbd>" in html, key


@pytest.mark.parametrize("cases", [1, 6])
def test_the_queues_page_query_count_does_not_grow(
    service_api: ApiClient, django_assert_num_queries: Any, cases: int
) -> None:
    for n in range(cases):
        created = service_api.post(
            "/api/v1/escalations",
            escalation_body(
                external_id=f"q{n}",
                content=[],
                summary="x",
                category="other",
                subjects=[{"platform_id": f"user:q{n}", "role": "suspect"}],
            ),
        ).json()
        Case.objects.filter(pk=case_of(created).pk).update(queue="general")
    specialist = console(Role.SPECIALIST)

    # session, user, OTP device, exposure (items revealed, claim records), queues, members,
    # counts, oldest, at risk, breached
    with django_assert_num_queries(11):
        response = specialist.get("/console/queues/")

    assert response.status_code == 200
