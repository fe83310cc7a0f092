"""A person's preferences (time zone, P0 sound), times in their zone, the home page's words for
permissions, and the navigation hidden until the second factor is passed."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from django.test import Client

from safeguard.accounts.models import AlertSound, User
from safeguard.accounts.permission_text import DESCRIPTIONS, permission_descriptions
from safeguard.accounts.permissions import Permission, Role, role_permissions
from safeguard.accounts.services import (
    AccountError,
    PreferenceInvalid,
    totp_device_create,
    user_preferences_save,
)
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.audit.models import AuditEvent
from safeguard.cases.models import Case
from safeguard.cases.workflow import CaseState, Priority
from tests.audit_helpers import assert_audited
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NAV = ('href="/console/queues/"', 'href="/pages/"', 'href="/console/wellbeing/"')


def test_saving_preferences_changes_them_and_is_audited() -> None:
    person = UserFactory(role=Role.SPECIALIST.value)

    user_preferences_save(
        user=person,
        time_zone="Europe/Berlin",
        p0_sound="siren",
        actor=person,
        source=AuditSource.CONSOLE,
    )

    person.refresh_from_db()
    assert (person.time_zone, person.p0_sound) == ("Europe/Berlin", AlertSound.SIREN)
    assert_audited(
        AuditEventType.USER_PREFERENCES_SAVED,
        target=person,
        actor=person,
        source=AuditSource.CONSOLE,
        data={
            "before": {"time_zone": "", "p0_sound": "none"},
            "after": {"time_zone": "Europe/Berlin", "p0_sound": "siren"},
        },
    )


@pytest.mark.parametrize(
    ("time_zone", "p0_sound", "field"),
    [
        ("Mars/Olympus_Mons", "chime", "time_zone"),
        ("europe/berlin", "chime", "time_zone"),  # IANA names are case-sensitive
        ("../../etc/passwd", "chime", "time_zone"),
        ("Europe/Berlin", "foghorn", "p0_sound"),
        ("Europe/Berlin", "", "p0_sound"),
    ],
)
def test_a_refused_preference_changes_nothing(time_zone: str, p0_sound: str, field: str) -> None:
    person = UserFactory(role=Role.SPECIALIST.value, time_zone="Asia/Tokyo")
    events = AuditEvent.objects.count()

    with pytest.raises(PreferenceInvalid) as refused:
        user_preferences_save(
            user=person,
            time_zone=time_zone,
            p0_sound=p0_sound,
            actor=person,
            source=AuditSource.CONSOLE,
        )

    assert refused.value.field == field
    assert refused.value.status == 422
    person.refresh_from_db()
    assert (person.time_zone, person.p0_sound) == ("Asia/Tokyo", "none")
    assert AuditEvent.objects.count() == events


def test_nobody_changes_another_persons_preferences() -> None:
    person, other = UserFactory(role=Role.SPECIALIST.value), UserFactory(role=Role.LEAD.value)

    with pytest.raises(AccountError):
        user_preferences_save(
            user=person, time_zone="", p0_sound="beep", actor=other, source=AuditSource.CONSOLE
        )

    person.refresh_from_db()
    assert person.p0_sound == "none"


def test_the_preferences_page_saves_and_shows_the_zone(
    verified_client: Callable[[User], Client],
) -> None:
    person = UserFactory(role=Role.SPECIALIST.value)
    client = verified_client(person)

    answer = client.post(
        "/accounts/preferences/", {"time_zone": "America/Chicago", "p0_sound": "chime"}
    )

    assert answer.status_code == 302
    page = client.get("/accounts/preferences/").content.decode()
    assert "Preferences saved." in page
    assert 'value="America/Chicago"' in page
    assert '<option value="chime" selected>' in page
    assert "times in America/Chicago" in page
    assert_audited(AuditEventType.USER_PREFERENCES_SAVED, target=person, actor=person)


def test_a_wrong_zone_is_refused_beside_its_field_and_kept_in_the_form(
    verified_client: Callable[[User], Client],
) -> None:
    person = UserFactory(role=Role.SPECIALIST.value, time_zone="Europe/Paris")
    client = verified_client(person)

    answer = client.post(
        "/accounts/preferences/", {"time_zone": "Atlantis/Capital", "p0_sound": "beep"}
    )

    assert answer.status_code == 400
    page = answer.content.decode()
    assert 'id="time_zone-error"' in page
    assert "not a time zone name" in page
    assert 'value="Atlantis/Capital"' in page  # what the person typed stays in the form
    assert 'aria-invalid="true" aria-describedby="time_zone-error"' in page
    assert '<option value="beep" selected>' in page
    person.refresh_from_db()
    assert (person.time_zone, person.p0_sound) == ("Europe/Paris", "none")


def test_times_show_in_the_profile_zone_then_the_browser_zone_with_utc_on_hover(
    verified_client: Callable[[User], Client],
) -> None:
    lead = UserFactory(role=Role.LEAD.value)
    opened = datetime(2026, 12, 1, 2, 22, tzinfo=UTC)
    case = Case.objects.create(
        state=CaseState.TRIAGED,
        priority=Priority.P1,
        queue="grooming",
        opened_at=opened,
        updated_at=opened,
    )
    client = verified_client(lead)

    client.cookies["sg_tz"] = "Asia/Kolkata"
    by_browser = client.get("/").content.decode()
    lead.time_zone = "Europe/Berlin"
    lead.save(update_fields=["time_zone"])
    by_profile = client.get("/").content.decode()

    assert '<time datetime="2026-12-01T02:22:00Z" title="2026-12-01 02:22:00 UTC">' in by_browser
    assert "2026-12-01 07:52 IST" in by_browser
    assert "2026-12-01 03:22 CET" in by_profile
    assert f'href="/console/cases/{case.pk}/"' in by_profile  # the case id is a link
    assert "(UTC)" not in by_profile


def test_the_home_page_says_what_each_permission_allows_in_words(
    verified_client: Callable[[User], Client],
) -> None:
    lead = UserFactory(role=Role.LEAD.value)

    page = verified_client(lead).get("/").content.decode()

    for permission in role_permissions(Role.LEAD.value):
        assert DESCRIPTIONS[permission] in page.replace("&#x27;", "'")
        assert permission.value not in page


def test_every_permission_has_a_description_in_words() -> None:
    assert set(DESCRIPTIONS) == set(Permission)
    for permission, text in DESCRIPTIONS.items():
        assert ":" not in text, permission
        assert text[0].isupper(), permission
    assert [name for _, name in permission_descriptions(Permission)] == [
        p.value for p in Permission
    ]


def test_the_second_factor_pages_show_no_navigation_until_the_code_is_typed() -> None:
    person = UserFactory(role=Role.SPECIALIST.value)
    totp_device_create(user=person, actor=None, source=AuditSource.CLI, confirmed=True)
    client = Client()
    client.force_login(person)  # the password only: the session has not passed a code

    verify = client.get("/accounts/2fa/verify/", follow=True).content.decode()

    assert "Type your code" in verify
    for link in NAV:
        assert link not in verify
    assert "Sign out" in verify
    assert 'id="live-banner"' not in verify


def test_a_verified_session_shows_the_navigation(
    verified_client: Callable[[User], Client],
) -> None:
    page = verified_client(UserFactory(role=Role.SPECIALIST.value)).get("/").content.decode()

    for link in NAV:
        assert link in page
    assert re.search(r'id="live-banner"[^>]*hx-get="/console/live/banner"', page)
