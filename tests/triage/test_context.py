"""Building the triage context from an escalation in the intake contract's JSON."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from safeguard.intake.schemas import EscalationIn
from safeguard.signals.indicators import default_families
from safeguard.triage.context import (
    ContextError,
    HashMatchSummary,
    TriageContext,
    build_context,
    sample_contexts,
)

DOC = Path(__file__).resolve().parents[2] / "docs" / "triage-policy.md"
FAMILIES = [family.name for family in default_families()]


def escalation(**fields: Any) -> dict[str, Any]:
    """A valid escalation in the contract's JSON, as the intake API stores it."""
    body: dict[str, Any] = {
        "channel": "user_report",
        "external_id": "synthetic-1",
        "category": "other",
        "summary": "A user reported a profile.",
    }
    body.update(fields)
    return EscalationIn.model_validate(body).model_dump(mode="json")


def subject(role: str, age: int | None = None, platform_id: str = "") -> dict[str, Any]:
    return {"platform_id": platform_id or f"{role}-{age}", "role": role, "age": age}


def test_plain_report_has_every_field_with_neutral_values() -> None:
    context = build_context(escalation())

    assert context.channel == "user_report"
    assert context.category == "other"
    assert context.le_request_type == ""
    assert context.minor_involved is False
    assert context.victim_min_age == -1
    assert context.suspect_is_minor is False
    assert context.live is False
    assert context.content_kinds == ()
    assert context.hash_match == HashMatchSummary(verified=False, count=0, min_distance=-1)
    assert context.case_escalations == 1
    assert context.prior_decisions == ()
    assert context.indicators == ()


def test_every_default_family_is_present_even_when_nothing_matched() -> None:
    signals = build_context(escalation()).to_cel()["signals"]

    assert isinstance(signals, dict)
    assert sorted(signals) == sorted(FAMILIES)
    for value in signals.values():
        assert value == {"score": 0.0, "triggered": False, "groups": []}


def test_ages_decide_minor_flags_and_youngest_victim() -> None:
    payload = escalation(
        subjects=[
            subject("victim", 15),
            subject("victim", 12),
            subject("suspect", 34),
            subject("reporter", None),
        ]
    )
    context = build_context(payload)

    assert context.minor_involved is True
    assert context.victim_min_age == 12
    assert context.suspect_is_minor is False


def test_a_minor_reporter_counts_but_a_minor_suspect_does_not() -> None:
    reporter = build_context(escalation(subjects=[subject("reporter", 16)]))
    suspect = build_context(escalation(subjects=[subject("suspect", 16), subject("victim", 20)]))

    assert reporter.minor_involved is True
    assert reporter.victim_min_age == -1
    assert suspect.minor_involved is False
    assert suspect.suspect_is_minor is True
    assert suspect.victim_min_age == 20


def test_an_eighteen_year_old_is_not_a_minor() -> None:
    context = build_context(escalation(subjects=[subject("victim", 18)]))

    assert context.minor_involved is False
    assert context.victim_min_age == 18


@pytest.mark.parametrize(
    ("content", "live"),
    [
        ([{"platform_id": "s1", "kind": "livestream"}], True),
        ([{"platform_id": "v1", "kind": "video", "live": True}], True),
        ([{"platform_id": "v1", "kind": "video"}, {"platform_id": "p1", "kind": "profile"}], False),
    ],
)
def test_live_comes_from_the_flag_or_the_kind(content: list[dict[str, Any]], live: bool) -> None:
    assert build_context(escalation(content=content)).live is live


def test_content_kinds_are_distinct_and_sorted() -> None:
    content = [
        {"platform_id": "v1", "kind": "video"},
        {"platform_id": "i1", "kind": "image"},
        {"platform_id": "v2", "kind": "video"},
    ]
    assert build_context(escalation(content=content)).content_kinds == ("image", "video")


def test_le_request_type_only_for_law_enforcement() -> None:
    block = {
        "agency": "Example Police (fictional)",
        "country": "US",
        "request_type": "preservation",
        "contact": "desk@police.example",
    }
    context = build_context(escalation(channel="law_enforcement", law_enforcement=block))

    assert context.channel == "law_enforcement"
    assert context.le_request_type == "preservation"


def test_signals_come_from_the_summary_and_every_content_text() -> None:
    payload = escalation(
        summary="The reporter says the other account asked: how old are you",
        content=[
            {"platform_id": "thread:1", "kind": "message_thread", "text": "hi there"},
            {
                "platform_id": "thread:2",
                "kind": "message_thread",
                "text": "ok but don't tell your parents about us",
            },
        ],
    )
    context = build_context(payload)
    texts = {"summary": payload["summary"]} | {
        f"content:{item['platform_id']}": item["text"] for item in payload["content"]
    }

    assert context.signals["age_probing"].triggered is True
    assert context.signals["secrecy"].triggered is True
    assert context.signals["sextortion"].triggered is False
    sources = {indicator.source for indicator in context.indicators}
    assert sources == {"summary", "content:thread:2"}
    for indicator in context.indicators:
        # Spans index the text they came from, so the console can highlight them there.
        assert texts[indicator.source][indicator.start : indicator.end] == indicator.text


def test_a_family_takes_its_highest_score_over_the_texts() -> None:
    payload = escalation(
        summary="where do you live",
        content=[{"platform_id": "t", "kind": "message_thread", "text": "let's meet up"}],
    )
    single = build_context(escalation(summary="where do you live"))
    context = build_context(payload)

    # Each text is scored on its own; the stronger one counts and the scores do not add up.
    assert context.signals["meeting_arrangement"].score == pytest.approx(
        single.signals["meeting_arrangement"].score
    )


def test_hash_match_and_case_history_come_from_arguments() -> None:
    summary = HashMatchSummary(verified=True, count=2, min_distance=0)
    context = build_context(
        escalation(), case_escalations=3, prior_decisions=["grooming"], hash_match=summary
    )

    cel = context.to_cel()
    assert cel["hash_match"] == {"verified": True, "count": 2, "min_distance": 0}
    assert cel["case_escalations"] == 3
    assert cel["prior_decisions"] == ["grooming"]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"count": -1},
        {"verified": True},
        {"count": 0, "min_distance": 3},
        {"count": 2, "min_distance": -1},
    ],
)
def test_hash_match_summary_refuses_impossible_values(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"hash match|matches|min_distance"):
        HashMatchSummary(**kwargs)


def test_case_escalations_counts_this_one() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        build_context(escalation(), case_escalations=0)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"channel": "carrier_pigeon"}, "channel"),
        ({"category": None}, "category"),
        (
            {"subjects": [{"platform_id": "x", "role": "victim", "age": "twelve"}]},
            "subjects[0].age",
        ),
        ({"content": [{"platform_id": "x", "kind": "hologram"}]}, "content[0].kind"),
        ({"summary": 7}, "summary"),
    ],
)
def test_a_payload_outside_the_contract_names_the_field(change: dict[str, Any], field: str) -> None:
    payload = escalation() | change

    with pytest.raises(ContextError) as caught:
        build_context(payload)
    assert caught.value.field == field


def test_to_cel_is_plain_json_and_a_fresh_copy() -> None:
    context = build_context(escalation(content=[{"platform_id": "i", "kind": "image"}]))
    first = context.to_cel()
    first["content_kinds"] = []

    assert json.loads(json.dumps(context.to_cel())) == context.to_cel()
    assert context.to_cel()["content_kinds"] == ["image"]


def test_sample_contexts_have_the_shape_of_a_real_one() -> None:
    real = build_context(escalation()).to_cel()
    for sample in sample_contexts(FAMILIES):
        cel = sample.to_cel()
        assert _shape(cel) == _shape(real)
        assert cel["content_kinds"], "lists must be populated so rules index them safely"
        assert cel["prior_decisions"]


def _shape(value: object) -> object:
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    return type(value).__name__


def test_every_context_field_is_documented() -> None:
    doc = DOC.read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([a-z_.<>]+)` \|", doc, flags=re.MULTILINE))
    cel = build_context(escalation()).to_cel()
    expected = set(cel) | {"signals.<family>.score", "signals.<family>.triggered"}
    expected |= {f"hash_match.{key}" for key in ("verified", "count", "min_distance")}

    assert expected <= documented
    for family in FAMILIES:
        assert f"`{family}`" in doc


ages = st.one_of(st.none(), st.integers(min_value=0, max_value=130))
roles = st.sampled_from(["victim", "reporter", "suspect"])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(roles, ages), max_size=6))
def test_minor_flags_follow_the_stated_ages(people: list[tuple[str, int | None]]) -> None:
    subjects = [subject(role, age, platform_id=f"p{i}") for i, (role, age) in enumerate(people)]
    context: TriageContext = build_context(escalation(subjects=subjects))
    victims = [age for role, age in people if role == "victim" and age is not None]

    assert context.minor_involved == any(
        age is not None and age < 18 and role in ("victim", "reporter") for role, age in people
    )
    assert context.suspect_is_minor == any(
        age is not None and age < 18 and role == "suspect" for role, age in people
    )
    assert context.victim_min_age == (min(victims) if victims else -1)


def test_the_pure_core_imports_no_django() -> None:
    # Triage must run (and be benchmarked) without Django, e.g. for `safeguard triage explain`
    # before any database exists.
    src = Path(__file__).resolve().parents[2] / "src"
    code = (
        "import sys, safeguard.triage.policy, safeguard.triage.context; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'django'))"
    )
    env = {**os.environ, "PYTHONPATH": str(src)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert done.stdout.strip() == "[]"
