"""Reviewer care: exposure counted per person and day, breaks suggested, stepping away, the team
spread without names, and per-person and organisation view settings."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

from django.test import Client
from django.utils import timezone
from PIL import Image

from safeguard.accounts.permissions import Role
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.cases.models import Case, CaseNote, ClaimRecord
from safeguard.review.models import ExposureDay
from safeguard.review.selectors import view_settings_for
from tests.audit_helpers import assert_audited, audited
from tests.conftest import case_of, sign_in_verified
from tests.factories import UserFactory
from tests.review.conftest import img_src
from tests.tasks import run_tasks


def person(role: Role = Role.SPECIALIST) -> tuple[Client, Any]:
    client = Client()
    user = UserFactory(role=role.value)
    sign_in_verified(client, user)
    return client, user


def test_reveals_and_claim_time_are_counted(case_with_image: dict[str, Any]) -> None:
    client, user = person()
    client.post("/console/queues/general/start")
    Case.objects.filter(pk=case_with_image["case_id"]).update(
        claimed_at=timezone.now() - timedelta(minutes=7)
    )

    client.post(f"/console/cases/{case_with_image['case_id']}/reveal/{case_with_image['image_id']}")
    client.post(
        f"/console/cases/{case_with_image['case_id']}/decide",
        {"labels": ["grooming"], "reason": "seen"},
    )

    day = ExposureDay.objects.get(user=user)
    assert day.items_revealed == 1
    (claim,) = ClaimRecord.objects.filter(holder=user)
    assert claim.sensitive
    assert 7 * 60 <= (claim.ended_at - claim.started_at).total_seconds() < 8 * 60
    page = client.get("/console/wellbeing/").content.decode()
    assert "<strong>1</strong>" in page
    assert "<strong>7</strong>" in page


def test_a_break_is_suggested_past_the_threshold(settings: Any, db: None) -> None:
    settings.SAFEGUARD_BREAK_AFTER_ITEMS = 3
    client, user = person()
    ExposureDay.objects.create(user=user, day=timezone.now().date(), items_revealed=3)

    assert 'id="break"' in client.get("/console/queues/").content.decode()


def test_step_away_returns_every_claim(case_with_image: dict[str, Any]) -> None:
    client, user = person()
    client.post("/console/queues/general/start")
    assert Case.objects.filter(holder=user).count() == 1

    client.post("/console/step-away")

    assert not Case.objects.filter(holder=user).exists()
    assert Case.objects.get(pk=case_with_image["case_id"]).state == "triaged"


def test_leads_see_totals_and_spread_but_no_names(db: None) -> None:
    lead, _ = person(Role.LEAD)
    today = timezone.now().date()
    for items in (2, 9, 30):
        ExposureDay.objects.create(user=UserFactory(), day=today, items_revealed=items)
    specialist, _ = person()

    page = lead.get("/console/wellbeing/").content.decode()

    assert "Team today" in page
    assert "<td>41</td><td>2</td><td>9</td><td>30</td>" in page
    for username in ExposureDay.objects.values_list("user__username", flat=True):
        assert username not in page
    assert "Team today" not in specialist.get("/console/wellbeing/").content.decode()


def test_view_settings_change_the_preview(case_with_image: dict[str, Any]) -> None:
    client, user = person()
    client.post("/console/view-settings", {"blur_radius": "8", "thumbnail_px": "160"})
    html = client.get(f"/console/cases/{case_with_image['case_id']}/").content.decode()
    assert_audited(
        AuditEventType.VIEW_SETTINGS_SAVED,
        target=("view_settings", user.pk),
        actor=user,
        data={"blur_radius": 8, "greyscale": False, "thumbnail_px": 160},
    )

    preview = client.get(img_src(html, "protected"))

    with Image.open(io.BytesIO(preview.content)) as image:
        assert image.mode == "RGB"  # greyscale switched off (checkbox not sent)
        assert max(image.size) <= 160
    refused = client.post(
        "/console/view-settings", {"blur_radius": "1", "thumbnail_px": "160"}, follow=True
    )
    assert "blur_radius must be between 4 and 64" in refused.content.decode()


def test_only_administrators_set_the_organisation_default(db: None) -> None:
    specialist, _ = person()
    admin, admin_user = person(Role.ADMIN)

    assert (
        specialist.post(
            "/console/view-settings",
            {"scope": "organisation", "blur_radius": "30", "thumbnail_px": "200"},
        ).status_code
        == 404
    )
    assert (
        admin.post(
            "/console/view-settings",
            {
                "scope": "organisation",
                "blur_radius": "30",
                "thumbnail_px": "200",
                "greyscale": "on",
            },
        ).status_code
        == 302
    )
    newcomer = UserFactory()

    assert view_settings_for(newcomer).blur_radius == 30
    event = assert_audited(
        AuditEventType.VIEW_SETTINGS_SAVED,
        target=("view_settings", "organisation"),
        actor=admin_user,
        source=AuditSource.CONSOLE,
    )
    assert event.data == {"blur_radius": 30, "greyscale": True, "thumbnail_px": 200}
    assert len(audited(AuditEventType.VIEW_SETTINGS_SAVED)) == 1  # the refusal saved nothing


def test_internal_notes(case_with_image: dict[str, Any]) -> None:
    client, user = person()
    url = f"/console/cases/{case_with_image['case_id']}/"

    client.post(
        f"/console/cases/{case_with_image['case_id']}/notes",
        {"text": "checked the reporter's history"},
    )
    empty = client.post(
        f"/console/cases/{case_with_image['case_id']}/notes", {"text": " "}, follow=True
    )

    assert "checked the reporter&#x27;s history" in client.get(url).content.decode()
    assert "Not added" in empty.content.decode()
    note = CaseNote.objects.get()
    event = assert_audited(
        AuditEventType.CASE_NOTE_ADDED,
        target=("case", case_with_image["case_id"]),
        actor=user,
        source=AuditSource.CONSOLE,
        data={"note": note.pk, "length": len("checked the reporter's history")},
    )
    assert "history" not in str(event.data)  # the audit keeps the length, not the words


def test_a_video_shows_a_blurred_strip_then_muted_and_paused(
    service_api: Any, tmp_path: Any
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.conftest import escalation_body
    from tests.matching.test_video import timeline, write_video

    video = write_video(tmp_path / "v.mp4", timeline([3, 4, 5, 6]))
    created = service_api.post(
        "/api/v1/escalations",
        escalation_body(
            category="other",
            summary="x",
            content=[{"platform_id": "vid:9", "kind": "video"}],
            subjects=[{"platform_id": "user:s9", "role": "suspect"}],
        ),
    ).json()
    vid = created["content"][0]["id"]
    service_api.upload(
        f"/api/v1/content/{vid}/media", {"file": SimpleUploadedFile("v.mp4", video.read_bytes())}
    )
    run_tasks()  # the key-frame strip is rendered off the request path
    client, _ = person()
    url = f"/console/cases/{case_of(created).pk}/"

    strip = client.get(img_src(client.get(url).content.decode(), "protected"))
    with Image.open(io.BytesIO(strip.content)) as image:
        assert image.mode == "L"
        assert image.width > image.height  # a row of frames
    client.post(f"/console/cases/{case_of(created).pk}/reveal/{vid}")
    html = client.get(url).content.decode()

    assert '<video class="media revealed" controls muted preload="metadata"' in html
    assert "autoplay" not in html
    assert client.get(img_src(html, "revealed strip")).status_code == 200


def test_a_lead_reverses_a_confirmed_action_in_the_console(
    case_with_image: dict[str, Any], settings: Any
) -> None:
    from safeguard.actions.models import Action, ActionStatus

    specialist, _ = person()
    specialist.post("/console/queues/general/start")
    specialist.post(
        f"/console/cases/{case_with_image['case_id']}/decide",
        {"labels": ["grooming"], "reason": "grooming", "actions": ["ban_account"]},
    )
    Action.objects.update(status=ActionStatus.CONFIRMED)  # as the platform would confirm
    ban = Action.objects.get()
    lead, _ = person(Role.LEAD)
    page = lead.get(f"/console/cases/{case_with_image['case_id']}/").content.decode()
    assert "Reverse</button>" in page
    assert (
        "Reverse</button>"
        not in specialist.get(f"/console/cases/{case_with_image['case_id']}/").content.decode()
    )

    lead.post(
        f"/console/cases/{case_with_image['case_id']}/actions/{ban.pk}/reverse",
        {"reason": "appeal upheld"},
    )

    undo = Action.objects.get(reverses=ban)
    assert undo.kind == "unban_account"
    assert undo.reason == "appeal upheld"


def test_a_claim_decided_after_its_lease_lapsed_counts_only_until_the_lease(
    case_with_image: dict[str, Any],
) -> None:
    client, user = person()
    client.post("/console/queues/general/start")
    # A ten-minute lease that lapsed a moment ago and that nobody took over; the holder decides
    # only now. (The lapse is kept this close to now so that it falls on the same UTC day as
    # the page read below at any time of day: "today" counts claims that ended today.)
    lapsed = timezone.now() - timedelta(seconds=1)
    Case.objects.filter(pk=case_with_image["case_id"]).update(
        claimed_at=lapsed - timedelta(minutes=10), lease_until=lapsed
    )

    client.post(f"/console/cases/{case_with_image['case_id']}/escalate", {"note": "needs a lead"})

    (claim,) = ClaimRecord.objects.filter(holder=user)
    assert (claim.ended_at - claim.started_at) == timedelta(minutes=10)
    page = client.get("/console/wellbeing/").content.decode()
    assert "<strong>10</strong>" in page
