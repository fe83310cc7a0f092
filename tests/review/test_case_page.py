"""The case page without a browser: refused submits keep the work, decisions read as words, the
clock stops at the first action, and every stored value shown has a word."""

from __future__ import annotations

import html as html_lib
import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from safeguard.accounts.models import User
from safeguard.accounts.permissions import Role
from safeguard.audit.models import AuditEvent
from safeguard.cases.decisions import DecisionKind
from safeguard.cases.models import Case, CaseNote, Decision
from safeguard.review import words
from safeguard.review.views import ACTION_KEYS, LABEL_KEYS
from tests.conftest import ApiClient, case_of, escalation_body, sign_in_verified
from tests.factories import UserFactory


def claimed(case_with_image: dict[str, Any]) -> tuple[Client, User, str]:
    person = UserFactory(role=Role.SPECIALIST.value)
    client = Client()
    sign_in_verified(client, person)
    started = client.post("/console/queues/general/start")
    assert started["Location"] == f"/console/cases/{case_with_image['case_id']}/"
    return client, person, case_with_image["case_id"]


def checked(html: str, name: str) -> set[str]:
    """The values of the ticked checkboxes called `name`."""
    found = set()
    for tag in re.findall(r"<input [^>]*>", html):
        if f'name="{name}"' in tag and " checked" in tag:
            found.add(re.search(r'value="([^"]+)"', tag).group(1))  # type: ignore[union-attr]
    return found


def textarea(html: str, element_id: str) -> str:
    match = re.search(rf'<textarea id="{element_id}"[^>]*>(.*?)</textarea>', html, re.S)
    assert match, element_id
    return html_lib.unescape(match.group(1))


def error_of(html: str, element_id: str) -> str:
    match = re.search(rf'<p class="field-error" id="{element_id}" role="alert">(.*?)</p>', html)
    assert match, f"no error {element_id} on the page"
    return html_lib.unescape(re.sub(r"<[^>]+>", "", match.group(1)))


def test_a_refused_label_rule_answers_422_and_keeps_every_tick_and_the_reason(
    case_with_image: dict[str, Any],
) -> None:
    client, _, case_id = claimed(case_with_image)

    refused = client.post(
        f"/console/cases/{case_id}/decide",
        {
            "labels": ["not_violating"],
            "actions": ["preserve", "ban_account"],
            "referrals": ["reporting"],
            f"class_{case_with_image['image_id']}": "B2",
            "reason": "Looks like a <b>joke</b> between friends.",
        },
    )

    assert refused.status_code == 422
    html = refused.content.decode()
    assert checked(html, "labels") == {"not_violating"}
    assert checked(html, "actions") == {"preserve", "ban_account"}
    assert checked(html, "referrals") == {"reporting"}
    assert re.search(r"<option selected>B2</option>", html)
    assert textarea(html, "reason") == "Looks like a <b>joke</b> between friends."
    assert "<b>joke</b>" not in html  # kept, and escaped
    assert "stands alone" in error_of(html, "labels-error")
    assert 'aria-describedby="labels-error"' in html
    assert not Decision.objects.filter(case_id=case_id).exists()
    assert Case.objects.get(pk=case_id).state == "in_review"


def test_a_reason_of_only_whitespace_answers_422_beside_the_reason(
    case_with_image: dict[str, Any],
) -> None:
    client, _, case_id = claimed(case_with_image)

    refused = client.post(
        f"/console/cases/{case_id}/decide",
        {"labels": ["grooming", "sextortion"], "actions": ["preserve"], "reason": "   \n "},
    )

    assert refused.status_code == 422
    html = refused.content.decode()
    assert checked(html, "labels") == {"grooming", "sextortion"}
    assert checked(html, "actions") == {"preserve"}
    assert error_of(html, "reason-error") == "Error Not recorded: a decision needs a reason"
    assert re.search(r'<textarea id="reason"[^>]*aria-invalid="true"', html)
    assert re.search(r'<textarea id="reason"[^>]*aria-describedby="reason-error"', html)
    assert "Decision recorded." not in html
    assert not Decision.objects.filter(case_id=case_id).exists()


def test_a_stale_claim_answers_409_and_keeps_the_work(case_with_image: dict[str, Any]) -> None:
    client, _, case_id = claimed(case_with_image)
    # Someone else took the case while this person was still writing.
    other = UserFactory(role=Role.SPECIALIST.value)
    Case.objects.filter(pk=case_id).update(holder=other)

    refused = client.post(
        f"/console/cases/{case_id}/decide",
        {"labels": ["grooming"], "actions": ["preserve"], "reason": "Secrecy and age probing."},
    )
    escalation = client.post(f"/console/cases/{case_id}/escalate", {"note": "Please look."})

    assert refused.status_code == escalation.status_code == 409
    html = refused.content.decode()
    assert checked(html, "labels") == {"grooming"}
    assert checked(html, "actions") == {"preserve"}
    assert textarea(html, "reason") == "Secrecy and age probing."
    assert "no longer hold this case" in error_of(html, "decide-error")
    assert textarea(escalation.content.decode(), "note") == "Please look."
    assert "no longer hold" in error_of(escalation.content.decode(), "note-error")
    assert not Decision.objects.filter(case_id=case_id).exists()
    assert Case.objects.get(pk=case_id).holder == other


def test_a_refused_escalation_and_note_keep_their_text(case_with_image: dict[str, Any]) -> None:
    client, _, case_id = claimed(case_with_image)

    escalation = client.post(f"/console/cases/{case_id}/escalate", {"note": "  "})
    note = client.post(f"/console/cases/{case_id}/notes", {"text": "x" * 10_001})

    assert escalation.status_code == note.status_code == 422
    assert "needs a note" in error_of(escalation.content.decode(), "note-error")
    assert textarea(note.content.decode(), "note-text") == "x" * 10_001
    assert "Not added" in error_of(note.content.decode(), "note-text-error")
    assert not CaseNote.objects.exists()
    assert Case.objects.get(pk=case_id).queue == "general"


def test_a_value_outside_the_choices_is_refused_with_the_form_kept(
    case_with_image: dict[str, Any],
) -> None:
    client, _, case_id = claimed(case_with_image)

    refused = client.post(
        f"/console/cases/{case_id}/decide",
        {"labels": ["grooming", "wrong"], "reason": "typed with care"},
    )

    assert refused.status_code == 422
    html = refused.content.decode()
    assert "Not recorded: &#x27;wrong&#x27; is not a valid DecisionLabel" in html
    assert textarea(html, "reason") == "typed with care"
    assert not Decision.objects.filter(case_id=case_id).exists()


def test_the_decision_history_and_the_case_head_read_as_words(
    case_with_image: dict[str, Any],
) -> None:
    client, person, case_id = claimed(case_with_image)
    image = case_with_image["image_id"]
    decided = client.post(
        f"/console/cases/{case_id}/decide",
        {
            "labels": ["grooming", "self_harm"],
            f"class_{image}": "A1",
            "actions": ["preserve"],
            "referrals": ["law_enforcement"],
            "reason": "Secrecy; a child at risk.",
        },
    )
    assert decided.status_code == 302
    Decision.objects.create(
        case_id=case_id,
        kind=DecisionKind.ESCALATION,
        decided_by=person,
        labels=["sextortion"],
        item_labels={},
        reason="A second look, please.",
        decided_at=timezone.now(),
    )

    html = client.get(f"/console/cases/{case_id}/").content.decode()
    history = html[html.index('id="h-decisions"') : html.index('id="h-trail"')]
    text = html_lib.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", history)))

    assert "Decision by" in text
    assert "Labels: Grooming, Self-harm" in text
    assert "Industry class: img:1 (image) — A1" in text
    assert "Actions: Preserve" in text
    assert "Referred to: Law enforcement" in text
    assert "Escalated to lead by" in text
    assert "Labels: Sextortion" in text
    for raw in ("{}", "{'", "self_harm", "law_enforcement", "escalation", image):
        assert raw not in history, raw
    head = html[html.index('class="casehead"') : html.index('id="h-escalations"')]
    assert "Decided" in head
    assert "decided" not in re.sub(r"<[^>]+>", "", head).replace("Decided", "")
    # The trail numbers each event as the audit log does (the id `audit prove` takes).
    trail = html[html.index('id="h-trail"') :]
    decided_event = AuditEvent.objects.filter(
        target_type="case", target_id=str(case_id), event_type="case.decided"
    ).get()
    assert f"<tr><td>{decided_event.pk}</td>" in trail


def test_the_clock_counts_down_until_the_first_action_then_says_when(
    case_with_image: dict[str, Any],
) -> None:
    client, _, case_id = claimed(case_with_image)
    case = Case.objects.get(pk=case_id)
    opened = timezone.now() - timedelta(minutes=20)
    Case.objects.filter(pk=case_id).update(
        opened_at=opened, first_action_due=opened + timedelta(minutes=15)
    )

    running = client.get(f"/console/cases/{case_id}/").content.decode()
    Case.objects.filter(pk=case_id).update(first_action_at=opened + timedelta(minutes=6))
    stopped = client.get(f"/console/cases/{case_id}/").content.decode()

    assert case.first_action_at is None
    assert '<time class="countdown"' in running
    assert 'class="clock clock-overdue"' in running
    assert "no first action yet, 5 m past target" in running
    assert '<time class="countdown"' not in stopped
    assert 'class="clock clock-met"' in stopped
    assert "First action 6 m after intake, within target" in stopped


@pytest.mark.parametrize("vocabulary", sorted(words.ENUMS))
def test_every_stored_value_the_console_shows_has_a_word(vocabulary: str) -> None:
    members = {m.value for m in words.ENUMS[vocabulary]}
    assert set(words.VOCABULARIES[vocabulary]) == members
    for value in members:
        shown = words.word(value, vocabulary)
        assert shown, (vocabulary, value)
        assert "_" not in shown, (vocabulary, value)


def test_label_and_action_keys_collide_with_no_other_shortcut() -> None:
    # The case page's other keys (console.js and case.html): reveal, note, reason, escalation
    # note, next case, help, and 1-4 for the industry class.
    others = {"r", "i", "c", "l", "n", "?", "1", "2", "3", "4"}
    keys = [*LABEL_KEYS.values(), *ACTION_KEYS.values()]
    assert len(keys) == len(set(keys))
    assert not set(keys) & others


def test_a_livestream_item_renders_its_part_inside_its_content_item(
    service_api: ApiClient,
) -> None:
    created = service_api.post(
        "/api/v1/escalations",
        escalation_body(content=[{"platform_id": "live:1", "kind": "livestream"}]),
    ).json()
    case = case_of(created)
    Case.objects.filter(pk=case.pk).update(queue="general")
    client = Client()
    sign_in_verified(client, UserFactory(role=Role.SPECIALIST.value))

    page = client.get(f"/console/cases/{case.pk}/")

    assert page.status_code == 200
    html = page.content.decode()
    article = html[html.index('<article class="content"') : html.index("</article>")]
    assert "livestream <code>live:1</code>" in article
    assert 'class="livestream"' in article
