"""Free text in the console: kept exactly, but control, format and bidi characters are shown as
visible markers instead of reordering or hiding what a reviewer reads."""

from __future__ import annotations

from django.template import Context, Template
from django.test import Client
from hypothesis import given, settings
from hypothesis import strategies as st

from safeguard.accounts.permissions import Role
from safeguard.cases.models import Case
from safeguard.core.invisible import describe, first_invisible, is_invisible, runs
from safeguard.intake.models import Subject
from safeguard.review.templatetags.visible import visible
from tests.conftest import ApiClient, case_of, escalation_body, sign_in_verified
from tests.factories import UserFactory

RLO = "\u202e"
MARKER = '<span class="invisible-char" title="U+202E RIGHT-TO-LEFT OVERRIDE">⟨U+202E⟩</span>'


def test_the_filter_escapes_and_marks_each_invisible_character() -> None:
    html = visible(f"<b>hi</b> {RLO}gnp.exe\u200b\x07\x00 ok")

    assert html == (
        "&lt;b&gt;hi&lt;/b&gt; "
        + MARKER
        + "gnp.exe"
        + '<span class="invisible-char" title="U+200B ZERO WIDTH SPACE">⟨U+200B⟩</span>'
        + '<span class="invisible-char" title="U+0007 BEL">⟨U+0007⟩</span>'
        + '<span class="invisible-char" title="U+0000 NUL">⟨U+0000⟩</span>'
        + " ok"
    )


def test_line_breaks_and_tabs_are_layout_and_linebreaksbr_still_applies() -> None:
    rendered = Template("{% load visible %}{{ text|visible|linebreaksbr }}").render(
        Context({"text": "one\ntwo\tthree <i>"})
    )

    assert rendered == "one<br>two\tthree &lt;i&gt;"


@settings(max_examples=300)
@given(st.text())
def test_runs_cover_the_text_exactly_and_mark_only_invisible_characters(text: str) -> None:
    parts = list(runs(text))

    assert "".join(part for part, _ in parts) == text
    for part, invisible in parts:
        if invisible:
            assert len(part) == 1
            assert is_invisible(part)
        else:
            assert not any(is_invisible(c) and c not in "\t\n\r" for c in part)


@settings(max_examples=200)
@given(st.characters(categories=["Cc", "Cf", "Zl", "Zp"]))
def test_every_control_and_format_character_is_found_and_named(char: str) -> None:
    assert first_invisible(f"a{char}b") == (1, char)
    assert describe(char).startswith(f"U+{ord(char):04X}")
    rendered = visible(char)
    if char not in "\t\n\r":
        assert char not in rendered
        assert f"⟨U+{ord(char):04X}⟩" in rendered


def test_ordinary_text_in_any_script_is_not_marked() -> None:
    text = "Привет, 你好, مرحبا, שלום, café, emoji 😀, nbsp\u00a0here"

    assert first_invisible(text) is None
    assert visible(text) == text


def test_the_case_page_shows_bidi_characters_and_keeps_the_highlight(
    service_api: ApiClient,
) -> None:
    text = f"hi! how old are you?{RLO} dont tell your parents"
    created = service_api.post(
        "/api/v1/escalations",
        escalation_body(
            summary=f"Report {RLO}txt.exe",
            subjects=[{"platform_id": "user:s1", "role": "suspect"}],
            content=[{"platform_id": "t:1", "kind": "message_thread", "text": text}],
        ),
    ).json()
    Case.objects.filter(pk=case_of(created).pk).update(queue="general")
    specialist = Client()
    sign_in_verified(specialist, UserFactory(role=Role.SPECIALIST.value))

    html = specialist.get(f"/console/cases/{case_of(created).pk}/").content.decode()

    assert RLO not in html
    assert f"Report {MARKER}txt.exe" in html
    # The highlighted phrase is still exactly the phrase; the marker sits where the character is.
    assert f'<mark class="signal" title="age_probing">how old are you</mark>?{MARKER}' in html


def test_console_forms_refuse_a_nul_and_store_nothing(service_api: ApiClient) -> None:
    created = service_api.post("/api/v1/escalations", escalation_body()).json()
    case = case_of(created)
    Case.objects.filter(pk=case.pk).update(queue="general")
    specialist = Client()
    sign_in_verified(specialist, UserFactory(role=Role.SPECIALIST.value))
    specialist.post("/console/queues/general/start")

    note = specialist.post(f"/console/cases/{case.pk}/notes", {"text": "a note\x00hidden"})
    decided = specialist.post(
        f"/console/cases/{case.pk}/decide",
        {"labels": "grooming", "reason": "adult asks for secrecy\x00", "actions": []},
    )

    # Refused, and the page comes back with the error beside the field (not a redirect that
    # would drop what was typed).
    assert note.status_code == decided.status_code == 422
    assert "NUL character" in note.content.decode()
    assert "NUL character" in decided.content.decode()
    assert not case.notes.exists()
    assert not case.decisions.exists()


def test_ids_stored_before_the_identifier_rule_show_markers_on_home(
    service_api: ApiClient,
) -> None:
    created = service_api.post("/api/v1/escalations", escalation_body()).json()
    case = case_of(created)
    Case.objects.filter(pk=case.pk).update(queue="general")
    # Intake now refuses such an id; a row stored before that rule can still hold one.
    Subject.objects.filter(platform_id="user:s1").update(platform_id=f"user:{RLO}evil")
    lead = Client()
    sign_in_verified(lead, UserFactory(role=Role.LEAD.value))

    home = lead.get("/").content.decode()

    assert RLO not in home
    assert MARKER in home
