"""The policy's new data: source floors and raises, the language floor and queues, classifier
licences, harm deadlines and explanation placeholders (pure: no database)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from safeguard.triage.context import (
    Imminence,
    SourceFacts,
    SuspectFacts,
    build_context,
    reference_zone,
)
from safeguard.triage.policy import PolicyError, compile_policy, default_policy, default_policy_text

NOW = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)
BASE = {
    "channel": "user_report",
    "external_id": "x",
    "category": "other",
    "summary": "A report.",
    "subjects": [],
    "content": [],
}


def _policy(extra: str) -> str:
    rule = '  - name: r\n    when: category == "grooming"\n    priority: P2\n'
    return f'version: "t"\n{extra}\nrules:\n{rule}    explain: grooming {{source}}\n'


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ("sources:\n  martians: {floor: P1}", "sources.martians"),
        ("sources:\n  hotline: {floor: P9}", "sources.hotline"),
        ("sources:\n  hotline: {raise: 7}", "sources.hotline"),
        ("sources:\n  hotline: {lift: 1}", "sources.hotline.lift"),
        ("languages:\n  unassessed_floor: P7", "languages.unassessed_floor"),
        ("languages:\n  queues: {Arabic: arabic}", "languages.queues.Arabic"),
        ("classifiers:\n  licences: {m1: act_alone}", "classifiers.licences.m1"),
        ("harm_margin: soon", "harm_margin"),
    ],
)
def test_bad_policy_data_is_refused_naming_the_field(extra: str, field: str) -> None:
    with pytest.raises(PolicyError) as caught:
        compile_policy(_policy(extra))
    assert any(p.field == field for p in caught.value.problems), caught.value


def test_an_unknown_placeholder_is_refused() -> None:
    text = _policy("").replace("{source}", "{weather}")
    with pytest.raises(PolicyError, match="weather"):
        compile_policy(text)


def test_floors_raise_and_language_routing() -> None:
    policy = compile_policy(
        _policy(
            "sources:\n  trusted_flagger: {floor: P2, raise: 1}\n  hotline: {floor: P1}\n"
            "languages:\n  unassessed_floor: P2\n  queues: {ar: arabic}"
        )
    )
    grooming = build_context({**BASE, "category": "grooming"}, now=NOW)
    flagged = dataclasses.replace(grooming, source=SourceFacts("trusted_flagger", True))
    assert policy.evaluate(grooming, now=NOW).priority.value == "P2"
    raised = policy.evaluate(flagged, now=NOW)
    assert raised.priority.value == "P1"
    assert raised.explanation.startswith("P1 because: grooming a trusted flagger")
    assert "raised from P2" in raised.explanation
    hotline = dataclasses.replace(build_context(BASE, now=NOW), source=SourceFacts("hotline", True))
    assert policy.evaluate(hotline, now=NOW).priority.value == "P1"
    foreign = dataclasses.replace(
        build_context(BASE, now=NOW), languages=("ar",), unassessed_languages=("ar",)
    )
    routed = policy.evaluate(foreign, now=NOW)
    assert (routed.priority.value, routed.queue) == ("P2", "arabic")
    assert "not assessed: language ar" in routed.explanation


def test_a_harm_time_bounds_the_deadline_and_schedules_a_retriage() -> None:
    policy = default_policy()
    context = build_context(BASE, now=NOW)
    soon = dataclasses.replace(
        context,
        imminence=Imminence(
            known=True, hours_until=0.5, expression="in 30 min", at=NOW + timedelta(minutes=30)
        ),
    )
    deadlines = policy.evaluate(soon, now=NOW).deadlines
    # P3's window is 72 h; the harm is in 30 minutes, less the 1 h margin: due now.
    assert deadlines["first_action"] == NOW
    assert "retriage" not in deadlines
    far_at = NOW + timedelta(days=3)
    far = dataclasses.replace(
        context, imminence=Imminence(known=True, hours_until=72.0, expression="x", at=far_at)
    )
    deadlines = policy.evaluate(far, now=NOW).deadlines
    assert deadlines["retriage"] == far_at - timedelta(hours=24)
    assert deadlines["first_action"] <= far_at - timedelta(hours=1)


def test_explain_shows_imminence_source_and_suspect_reasons() -> None:
    context = dataclasses.replace(
        build_context({**BASE, "category": "grooming"}, now=NOW),
        suspect=SuspectFacts(distinct_minors=5, age_probed_minors=4, prior_labels=("grooming",)),
        source=SourceFacts("law_enforcement", True),
    )
    result = default_policy().evaluate(context, now=NOW).to_json()
    assert "5 different children" in result["explanation"]
    reasons = result["reasons"]
    assert reasons["suspect"]["distinct_minors"] == 5
    assert reasons["source"] == {
        "kind": "law_enforcement",
        "verified": True,
        "reads_as": "verified law enforcement",
    }
    assert reasons["imminence"]["known"] is False


def test_the_reference_zone_is_the_victims_countrys_else_the_platforms() -> None:
    victim = [{"role": "victim", "country": "BR"}, {"role": "suspect", "country": "PT"}]
    assert reference_zone(victim, "Europe/London")[1:] == (
        "America/Sao_Paulo",
        "the victim's country BR",
    )
    assert reference_zone([{"role": "suspect", "country": "PT"}], "Europe/London")[1] == (
        "Europe/London"
    )
    assert reference_zone([], "Not/AZone")[1] == "UTC"


def test_the_default_policy_compiles_with_its_new_sections() -> None:
    policy = compile_policy(default_policy_text())
    assert policy.sources["trusted_flagger"].raise_by == 1
    assert policy.unassessed_floor is not None
    assert policy.unassessed_floor.value == "P2"


def test_a_rule_may_name_any_classifier_label_guarded_with_has() -> None:
    rule = "  - name: nudity\n    when: '{when}'\n    priority: P2\n    explain: nudity\n"
    guarded = "has(classifiers.nudity) && classifiers.nudity.score > 0.8"
    policy = compile_policy('version: "t"\nrules:\n' + rule.format(when=guarded))
    scored = {
        **BASE,
        "classifiers": [{"model": "m", "version": "1", "label": "nudity", "score": 0.9}],
    }
    assert policy.evaluate(build_context(scored, now=NOW), now=NOW).priority.value == "P2"
    unscored = policy.evaluate(build_context(BASE, now=NOW), now=NOW)
    assert (unscored.priority.value, unscored.rule_errors) == ("P3", ())
    # Unguarded, the rule would fail on every escalation without the label: refused at upload.
    with pytest.raises(PolicyError, match="KeyError"):
        compile_policy(
            'version: "t"\nrules:\n' + rule.format(when="classifiers.nudity.score > 0.8")
        )
    with pytest.raises(PolicyError, match="has score, model, version"):
        compile_policy(
            'version: "t"\nrules:\n' + rule.format(when="has(classifiers.x) && classifiers.x.y")
        )
