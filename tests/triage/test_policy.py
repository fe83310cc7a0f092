"""The triage policy: loading and checking rules, the default policy, and combining matches."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import cel
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from safeguard.cases.workflow import Priority
from safeguard.intake.schemas import EscalationIn
from safeguard.triage.context import HashMatchSummary, SuspectFacts, build_context
from safeguard.triage.policy import (
    GLOBAL_FUNCTIONS,
    METHOD_FUNCTIONS,
    PolicyError,
    RuleError,
    TriageResult,
    compile_policy,
    default_policy,
    default_policy_text,
    parse_duration,
)

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
DOC = Path(__file__).resolve().parents[2] / "docs" / "triage-policy.md"
LE_BLOCK = {
    "agency": "Example Police (fictional)",
    "country": "US",
    "request_type": "emergency_disclosure",
    "contact": "desk@police.example",
}
VICTIM_15 = {"platform_id": "victim-1", "role": "victim", "age": 15}
ADULT_30 = {"platform_id": "victim-2", "role": "victim", "age": 30}
LIVESTREAM = {"platform_id": "stream-1", "kind": "livestream"}
VIDEO = {"platform_id": "video-1", "kind": "video"}

# Phrases at the level of public online-safety guidance.
SECRECY = "don't tell your parents about us"
MEETING = "can we meet up? where do you live"
SEXTORTION = "I will share your photos with everyone unless you send money"
SELF_HARM = "I want to hurt myself"


def escalation(**fields: Any) -> dict[str, Any]:
    """A valid escalation in the contract's JSON, as the intake API stores it."""
    body: dict[str, Any] = {
        "channel": "user_report",
        "external_id": "synthetic-1",
        "category": "other",
        "summary": "A user reported an account.",
    }
    if "le" in fields:
        body["channel"] = "law_enforcement"
        body["law_enforcement"] = LE_BLOCK | {"request_type": fields.pop("le")}
    body.update(fields)
    return EscalationIn.model_validate(body).model_dump(mode="json")


def triage(payload: dict[str, Any], **kwargs: Any) -> TriageResult:
    return default_policy().evaluate(build_context(payload, now=NOW, **kwargs), now=NOW)


def scored(label: str, score: float) -> list[dict[str, Any]]:
    return [{"model": "vendor-x", "version": "1", "label": label, "score": score}]


def policy_yaml(*rules: str, head: str = 'version: "t1"\n') -> str:
    return head + "rules:\n" + "".join(rules)


def rule(name: str, when: str, priority: str = "P2", **extra: str) -> str:
    # A literal block keeps the condition's quotes and line breaks exactly as written.
    lines = [f"  - name: {name}\n", "    when: |-\n"]
    lines += [f"      {line}\n" for line in when.splitlines()]
    lines.append(f"    priority: {priority}\n")
    lines += [f"    {key}: {value}\n" for key, value in extra.items()]
    if "explain" not in extra:
        lines.append(f"    explain: because of {name}\n")
    return "".join(lines)


# --- The default policy: each rule fires on a crafted escalation and not on a near miss ----------

VERIFIED = HashMatchSummary(verified=True, count=1, min_distance=0)
UNVERIFIED = HashMatchSummary(verified=False, count=2, min_distance=12)

# rule name: (escalation that fires it, its extra arguments, near miss, its extra arguments)
CASES: dict[str, tuple[dict[str, Any], dict[str, Any], dict[str, Any], dict[str, Any]]] = {
    "meeting_minor_soon": (
        {"summary": "lets meet at the station tonight, come alone", "subjects": [VICTIM_15]},
        {},
        # Without a grooming context (a parent collecting their child reads the same).
        {"summary": "lets meet at the station tonight", "subjects": [VICTIM_15]},
        {},
    ),
    "meeting_place_time_secret": (
        {"category": "grooming", "summary": "sat 3pm at the bus stop. delete this chat after"},
        {},
        {"category": "grooming", "summary": "sat 3pm at the bus stop"},
        {},
    ),
    "self_harm_plan": (
        {"summary": "I am going to kill myself tonight"},
        {},
        {"summary": "I am going to kill myself tonight", "subjects": [ADULT_30]},
        {},
    ),
    "self_harm_report_with_plan": (
        {
            "category": "self_harm",
            "summary": "she posted: this is my last message, goodbye everyone",
        },
        {},
        {"category": "self_harm", "summary": "she posted that she feels sad"},
        {},
    ),
    "self_harm_report_method_soon": (
        {
            "category": "self_harm",
            "content": [
                {
                    "platform_id": "t-m",
                    "kind": "message_thread",
                    "messages": [
                        {"sent_at": "2026-03-02T09:00:00Z", "author": "victim-1", "text": msg}
                        for msg in ("ive got the pills saved up", "tonight when everyones asleep")
                    ],
                }
            ],
            "subjects": [VICTIM_15],
        },
        {},
        {
            "category": "self_harm",
            "content": [
                {
                    "platform_id": "t-m",
                    "kind": "message_thread",
                    "messages": [
                        {
                            "sent_at": "2026-03-02T09:00:00Z",
                            "author": "parent-1",
                            "text": "take your pills with dinner tonight",
                        }
                    ],
                }
            ],
            "subjects": [VICTIM_15],
        },
        {},
    ),
    "self_harm_method_and_farewell": (
        {
            "content": [
                {
                    "platform_id": "t-f",
                    "kind": "message_thread",
                    "messages": [
                        {"sent_at": "2026-03-02T09:00:00Z", "author": "victim-1", "text": msg}
                        for msg in ("took all my pills already", "bye everyone forever")
                    ],
                }
            ],
            "subjects": [VICTIM_15],
        },
        {},
        {
            "content": [
                {
                    "platform_id": "t-f",
                    "kind": "message_thread",
                    "messages": [
                        {"sent_at": "2026-03-02T09:00:00Z", "author": "victim-1", "text": msg}
                        for msg in ("took all my pills already", "see you at school")
                    ],
                }
            ],
            "subjects": [VICTIM_15],
        },
        {},
    ),
    "sextortion_deadline": (
        {"summary": f"{SEXTORTION} by midnight", "subjects": [VICTIM_15]},
        {},
        {"summary": SEXTORTION, "subjects": [VICTIM_15]},
        {},
    ),
    "le_emergency_disclosure": (
        {"le": "emergency_disclosure"},
        {},
        {"le": "preservation"},
        {},
    ),
    "livestream_with_minor": (
        {"content": [LIVESTREAM], "subjects": [VICTIM_15]},
        {},
        {"content": [VIDEO], "subjects": [VICTIM_15]},
        {},
    ),
    "livestream_abuse_or_danger": (
        {"content": [VIDEO | {"live": True}], "category": "imminent_danger"},
        {},
        {"content": [LIVESTREAM], "category": "grooming", "subjects": [ADULT_30]},
        {},
    ),
    "self_harm_in_sextortion": (
        {"category": "sextortion", "summary": SELF_HARM},
        {},
        {"category": "self_harm", "summary": SELF_HARM},
        {},
    ),
    "meeting_minor_with_secrecy": (
        {"summary": f"{MEETING}. {SECRECY}", "subjects": [VICTIM_15]},
        {},
        {"summary": MEETING, "subjects": [VICTIM_15]},
        {},
    ),
    "imminent_danger": (
        {"category": "imminent_danger"},
        {},
        {"category": "trafficking"},
        {},
    ),
    "self_harm_plan_later": (
        {"summary": "I am going to kill myself next week"},
        {},
        {"summary": SELF_HARM},
        {},
    ),
    "hotline_confirmed_csam": (
        {"channel": "hotline", "category": "csam"},
        {},
        {"category": "csam"},
        {},
    ),
    "suspect_many_children": (
        {"category": "grooming"},
        {"suspect": SuspectFacts(distinct_minors=3)},
        {"category": "grooming"},
        {"suspect": SuspectFacts(distinct_minors=2)},
    ),
    "classifier_self_harm": (
        {"classifiers": scored("self_harm", 0.95)},
        {},
        {"classifiers": scored("self_harm", 0.5)},
        {},
    ),
    "self_harm_intent": (
        {"summary": SELF_HARM},
        {},
        {"summary": "honestly I can't take it anymore, this homework"},
        {},
    ),
    "verified_hash_match": (
        {"content": [VIDEO]},
        {"hash_match": VERIFIED},
        {"content": [VIDEO]},
        {"hash_match": UNVERIFIED},
    ),
    "sextortion": (
        {"summary": SEXTORTION},
        {},
        {"summary": "I will share your photos with the family group chat"},
        {},
    ),
    "meeting_with_minor": (
        {"summary": MEETING, "category": "grooming"},
        {},
        {"summary": MEETING, "subjects": [ADULT_30]},
        {},
    ),
    "trafficking": ({"category": "trafficking"}, {}, {"category": "other"}, {}),
    "csam_unconfirmed": (
        {"category": "csam", "content": [VIDEO]},
        {},
        {"category": "csam", "content": [VIDEO]},
        {"hash_match": VERIFIED},
    ),
    "unverified_hash_match": ({}, {"hash_match": UNVERIFIED}, {}, {"hash_match": VERIFIED}),
    "classifier_abuse": (
        {"classifiers": scored("grooming", 0.95)},
        {},
        {"classifiers": scored("grooming", 0.5)},
        {},
    ),
    "meeting_intent_minor": (
        {"summary": "can we meet up sometime", "subjects": [VICTIM_15]},
        {},
        {"summary": "can we meet up sometime", "subjects": [ADULT_30]},
        {},
    ),
    "secrecy": (
        {"summary": SECRECY},
        {},
        {"summary": "this is our secret recipe for the bake sale"},
        {},
    ),
    "age_probing": ({"summary": "how old are you"}, {}, {"summary": "how old is your dog"}, {}),
    "platform_migration": (
        {"summary": "add me on another app"},
        {},
        {"summary": "what's your number"},
        {},
    ),
    "gifts_isolation": (
        {"summary": "nobody understands you like I do"},
        {},
        {"summary": "I can buy you lunch after practice"},
        {},
    ),
    "self_harm_report": ({"category": "self_harm"}, {}, {"category": "other"}, {}),
    "grooming_report": ({"category": "grooming"}, {}, {"category": "other"}, {}),
    "preservation_request": ({"le": "preservation"}, {}, {"le": "legal_process"}, {}),
    "repeated_escalations": ({}, {"case_escalations": 3}, {}, {"case_escalations": 2}),
    "law_enforcement_request": ({"le": "legal_process"}, {}, {"le": "emergency_disclosure"}, {}),
}


def test_every_default_rule_has_a_case() -> None:
    assert [r.name for r in default_policy().rules] == list(CASES)


@pytest.mark.parametrize("name", list(CASES))
def test_default_rule_fires_on_its_case_and_not_on_a_near_miss(name: str) -> None:
    hit, hit_kwargs, miss, miss_kwargs = CASES[name]
    rule_priority = next(r.priority for r in default_policy().rules if r.name == name)

    fired = triage(escalation(**hit), **hit_kwargs)
    missed = triage(escalation(**miss), **miss_kwargs)

    assert name in fired.rules_matched
    assert list(Priority).index(fired.priority) <= list(Priority).index(rule_priority)
    assert name not in missed.rules_matched
    assert fired.rule_errors == ()
    assert missed.rule_errors == ()


def test_plain_report_gets_the_default() -> None:
    result = triage(escalation(summary="This profile uses a rude nickname."))

    assert result.priority == Priority.P3
    assert result.queue == "general"
    assert result.rules_matched == ()
    assert result.explanation == "P3 because: no rule matched; low risk or policy-only"


def test_explanation_names_every_reason_most_urgent_first() -> None:
    payload = escalation(le="emergency_disclosure", summary=f"{SEXTORTION}. {SELF_HARM}")
    result = triage(payload)

    assert result.priority == Priority.P0
    assert result.queue == "emergency"
    assert result.explanation.startswith(
        "P0 because: law-enforcement emergency disclosure request from law enforcement, "
        "not verified; "
        "intent to self-harm stated in a sextortion context (also: "
    )
    assert "intent to self-harm stated or reported" in result.explanation
    assert "sextortion, a threat to share images" in result.explanation
    assert result.rules_matched == (
        "le_emergency_disclosure",
        "self_harm_in_sextortion",
        "self_harm_intent",
        "sextortion",
    )


def test_verified_match_goes_to_the_csam_queue_at_p1() -> None:
    result = triage(escalation(category="csam", content=[VIDEO]), hash_match=VERIFIED)

    assert result.priority == Priority.P1
    assert result.queue == "csam"
    assert result.explanation == (
        "P1 because: matches known abuse material in a verified hash bank"
    )
    assert result.tags == ("csam", "hash-match")


def test_grooming_indicators_route_to_grooming_at_p2() -> None:
    result = triage(escalation(summary=f"how old are you? {SECRECY}"))

    assert result.priority == Priority.P2
    assert result.queue == "grooming"
    assert result.rules_matched == ("secrecy", "age_probing")
    assert result.explanation == (
        "P2 because: asks the child to keep the contact secret; asks the child's age or school year"
    )


def test_default_policy_text_is_the_compiled_one() -> None:
    assert compile_policy(default_policy_text()).digest == default_policy().digest
    assert default_policy().version == "default-2"


# --- Combining matches ---------------------------------------------------------------------------


def test_combination_priority_queue_tags_and_order() -> None:
    policy = compile_policy(
        policy_yaml(
            rule("routing", "true", "P3", queue="routed", tags="[b-tag, a-tag]"),
            rule("urgent_no_queue", "true", "P1", tags="[z-tag]"),
            rule("urgent_queue", "true", "P1", queue="urgent"),
            rule("medium", "true", "P2", queue="medium"),
            rule("never", "false", "P0", queue="never"),
        )
    )
    result = policy.evaluate(build_context(escalation()), now=NOW)

    assert result.priority == Priority.P1
    # The first matched rule at the winning priority that names a queue.
    assert result.queue == "urgent"
    assert result.tags == ("a-tag", "b-tag", "z-tag")
    assert result.rules_matched == ("routing", "urgent_no_queue", "urgent_queue", "medium")
    assert result.explanation == (
        "P1 because: because of urgent_no_queue; because of urgent_queue "
        "(also: because of medium; because of routing)"
    )


def test_queue_falls_back_to_any_matched_rule_then_the_default() -> None:
    policy = compile_policy(
        policy_yaml(
            rule("top", "true", "P1"),
            rule("low", "true", "P3", queue="low-queue"),
        )
    )
    assert policy.evaluate(build_context(escalation()), now=NOW).queue == "low-queue"

    bare = compile_policy(policy_yaml(rule("top", "true", "P1")))
    assert bare.evaluate(build_context(escalation()), now=NOW).queue == "general"


def test_a_default_more_urgent_than_the_matches_leads_the_explanation() -> None:
    head = 'version: "t1"\ndefault:\n  priority: P2\n  queue: triage\n  explain: unreviewed\n'
    policy = compile_policy(policy_yaml(rule("minor", "true", "P3", queue="x"), head=head))
    result = policy.evaluate(build_context(escalation()), now=NOW)

    assert result.priority == Priority.P2
    assert result.queue == "x"
    assert result.explanation == "P2 because: unreviewed (also: because of minor)"


# --- Deadlines -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("category", "priority", "window"),
    [
        ("imminent_danger", Priority.P0, timedelta(minutes=15)),
        ("trafficking", Priority.P1, timedelta(hours=1)),
        ("grooming", Priority.P2, timedelta(hours=24)),
        ("other", Priority.P3, timedelta(hours=72)),
    ],
)
def test_deadlines_follow_the_sla_of_the_priority(
    category: str, priority: Priority, window: timedelta
) -> None:
    result = triage(escalation(category=category))

    assert result.priority == priority
    assert result.deadlines["first_action"] == NOW + window
    assert result.deadlines["warn"] == NOW + window * 0.75
    assert result.deadlines["first_action"].tzinfo == UTC


def test_p0_warning_fires_eleven_and_a_quarter_minutes_in() -> None:
    result = triage(escalation(category="imminent_danger"))

    assert result.deadlines["warn"] - NOW == timedelta(minutes=11, seconds=15)


def test_policy_sla_and_warn_at_are_used() -> None:
    head = 'version: "t1"\nsla:\n  P2: 2h\n  P3: 1d12h\nwarn_at: 0.5\n'
    policy = compile_policy(policy_yaml(rule("r", "true", "P2"), head=head))
    result = policy.evaluate(build_context(escalation()), now=NOW)

    assert policy.sla[Priority.P0] == timedelta(minutes=15)
    assert policy.sla[Priority.P3] == timedelta(hours=36)
    assert result.deadlines == {
        "first_action": NOW + timedelta(hours=2),
        "warn": NOW + timedelta(hours=1),
    }


def test_now_in_another_zone_gives_utc_deadlines_and_naive_now_is_refused() -> None:
    context = build_context(escalation(category="imminent_danger"))
    tokyo = NOW.astimezone(timezone(timedelta(hours=9)))

    result = default_policy().evaluate(context, now=tokyo)
    assert result.to_json()["deadlines"]["first_action"] == "2026-03-02T09:45:00Z"
    with pytest.raises(ValueError, match="aware"):
        default_policy().evaluate(context, now=NOW.replace(tzinfo=None))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15m", timedelta(minutes=15)),
        ("1h", timedelta(hours=1)),
        ("24h", timedelta(hours=24)),
        ("72h", timedelta(hours=72)),
        ("1h30m", timedelta(minutes=90)),
        ("2d", timedelta(days=2)),
        ("45s", timedelta(seconds=45)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["15", "15 minutes", "0m", "1.5h", "-1h", "h", "", 15, None])
def test_parse_duration_refuses(text: object) -> None:
    with pytest.raises(ValueError, match=r"duration|zero"):
        parse_duration(text)


# --- to_json ---------------------------------------------------------------------------------


def test_to_json_has_exactly_the_documented_shape() -> None:
    result = triage(escalation(le="emergency_disclosure"))
    data = result.to_json()

    assert list(data) == [
        "priority",
        "queue",
        "deadlines",
        "explanation",
        "rules_matched",
        "policy_version",
        "tags",
        "reasons",
    ]
    assert list(data["reasons"]) == ["imminence", "source", "suspect", "languages", "classifiers"]
    assert data["priority"] == "P0"
    assert data["queue"] == "emergency"
    assert data["deadlines"] == {
        "first_action": "2026-03-02T09:45:00Z",
        "warn": "2026-03-02T09:41:15Z",
    }
    assert data["rules_matched"] == ["le_emergency_disclosure"]
    assert data["policy_version"] == "default-2"
    assert data["tags"] == ["emergency-disclosure", "law-enforcement"]
    assert json.loads(json.dumps(data)) == data
    for moment in data["deadlines"].values():
        assert datetime.fromisoformat(moment).tzinfo is not None


# --- Bad policies are refused with the rule's name ----------------------------------------------


def refused(text: str) -> PolicyError:
    with pytest.raises(PolicyError) as caught:
        compile_policy(text)
    return caught.value


@pytest.mark.parametrize(
    ("when", "message"),
    [
        ('channel == "x" &&', "syntax error"),
        ("(live", "syntax error"),
        ('chanel == "x"', "unknown name 'chanel'"),
        ("signals.secrecy.triggerd", "unknown field 'signals.secrecy.triggerd'"),
        ("signals.secrcy.triggered", "unknown field 'signals.secrcy'"),
        ('signals["secrecy"].scor > 0.5', "unknown field 'signals.secrecy.scor'"),
        ("hash_match.verified.really", "hash_match.verified is a bool and has no field"),
        ("has(hash_match.match_count)", "unknown field 'hash_match.match_count'"),
        ("content_kinds.exists(k, kind == k)", "unknown name 'kind'"),
        ('category.lowerAscii() == "csam"', "unknown method .lowerAscii()"),
        ('startsWith(category, "c")', "unknown function startsWith()"),
        ("live && victim_min_age > 1 && minor_involvd", "unknown name 'minor_involvd'"),
        ('channel + 1 == "x"', "fails on sample context"),
        ("content_kinds.exists(k, k.kind)", "fails on sample context"),
        ("channel", "must give true or false"),
        ('.channel == "x"', "leading-dot"),
    ],
)
def test_a_bad_condition_is_refused_with_the_rule_name(when: str, message: str) -> None:
    error = refused(policy_yaml(rule("fine", "live"), rule("broken_rule", when)))

    assert error.rule == "broken_rule"
    assert str(error).startswith("rule 'broken_rule': when: ")
    assert message in str(error)


def test_unknown_fields_in_a_short_circuited_branch_are_still_caught() -> None:
    # The sample contexts alone would miss this: `false && …` never evaluates the right side.
    error = refused(policy_yaml(rule("lazy", "false && signals.secrecy.triggerd")))

    assert "unknown field 'signals.secrecy.triggerd'" in str(error)


@pytest.mark.parametrize(
    "when",
    [
        'signals["secrecy"].triggered && signals.age_probing.score >= 0.5',
        'content_kinds.exists(k, k == "livestream") || size(prior_decisions) > 2',
        'prior_decisions.all(d, d.startsWith("A")) && "csam" in prior_decisions',
        "victim_min_age >= 0 && victim_min_age < 13 // under thirteen\n&& minor_involved",
        'category == "chanel.signals" || channel.matches("^user_")',
        "type(victim_min_age) == int && hash_match.min_distance <= 31",
    ],
)
def test_valid_conditions_are_accepted(when: str) -> None:
    policy = compile_policy(policy_yaml(rule("ok", when)))
    assert [r.name for r in policy.rules] == ["ok"]


@pytest.mark.parametrize(
    ("text", "rule_name", "message"),
    [
        (policy_yaml(rule("twin", "live"), rule("twin", "true")), "twin", "duplicate"),
        (policy_yaml(rule("bad_priority", "live", "P5")), "bad_priority", "'P5' is not a priority"),
        (policy_yaml(rule("urgent", "live", "p0")), "urgent", "is not a priority"),
        (policy_yaml(rule("extra", "live", severity="high")), "extra", "severity: unknown key"),
        (
            policy_yaml(rule("nameless", "live").replace("    priority: P2\n", "")),
            "nameless",
            "priority: is missing",
        ),
        (policy_yaml(rule("two_lines", "live", explain="'a\n\n      b'")), "two_lines", "one line"),
        (policy_yaml(rule("bad_queue", "live", queue="'Urgent Queue'")), "bad_queue", "queue name"),
        (policy_yaml(rule("bad_tags", "live", tags="oops")), "bad_tags", "list of tags"),
    ],
)
def test_a_bad_rule_is_refused_with_its_name(text: str, rule_name: str, message: str) -> None:
    error = refused(text)

    assert error.rule == rule_name
    assert f"rule {rule_name!r}" in str(error)
    assert message in str(error)


@pytest.mark.parametrize(
    ("head", "message"),
    [
        ('version: "t"\nsla:\n  P1: 1 hour\n', "sla.P1: '1 hour' is not a duration"),
        ('version: "t"\nsla:\n  P2: 0h\n', "sla.P2: '0h' must be longer than zero"),
        ('version: "t"\nsla:\n  P5: 1h\n', "sla.P5: is not a priority"),
        ('version: "t"\nsla:\n  P0: 2h\n', "sla.P0: (2h) must not be longer than P1 (1h)"),
        ('version: "t"\nwarn_at: 1.5\n', "warn_at: must be a number between 0 and 1"),
        ('version: "t"\nwarn_at: yes\n', "warn_at: must be a number"),
        ('version: "t"\npriorities: {}\n', "priorities: unknown key"),
        ("version: 2\n", "version: must be a non-empty string"),
        ('version: "t"\ndefault:\n  priority: P9\n', "default.priority: 'P9' is not a priority"),
        ('version: "t"\ndefault:\n  queue: general\n  owner: me\n', "default.owner: unknown key"),
        ('version: "t"\nversion: "u"\n', "duplicate key 'version'"),
        ('version: "t"\nrules: [\n', "is not valid YAML"),
    ],
)
def test_a_bad_policy_is_refused_naming_the_field(head: str, message: str) -> None:
    text = head if "rules" in head else head + "rules: []\n"
    assert message in str(refused(text))


def test_missing_rules_and_version_are_reported() -> None:
    assert "rules: is missing" in str(refused('version: "t"\n'))
    assert "version: is missing" in str(refused("rules: []\n"))


def test_every_bad_rule_is_reported_at_once() -> None:
    error = refused(
        policy_yaml(
            rule("first_bad", "chanel == 1"),
            rule("good", "live"),
            rule("second_bad", "live &&"),
        )
    )

    assert [problem.rule for problem in error.problems] == ["first_bad", "second_bad"]


def test_a_rule_without_a_valid_name_is_named_by_position() -> None:
    error = refused(policy_yaml(rule("Bad Name", "live")))

    assert "rules[0].name" in str(error)


# --- A rule that fails at run time never hides another rule's result ----------------------------


def test_runtime_rule_error_is_recorded_and_others_still_count() -> None:
    # The sample contexts have a prior decision, so this compiles; real cases have none yet.
    fragile = rule("fragile", 'prior_decisions[0] == "grooming"', "P0")
    danger = rule("danger", 'category == "imminent_danger"', "P0", queue="emergency")
    policy = compile_policy(policy_yaml(fragile, danger))

    result = policy.evaluate(build_context(escalation(category="imminent_danger")), now=NOW)

    assert result.priority == Priority.P0
    assert result.queue == "emergency"
    assert result.rules_matched == ("danger",)
    assert len(result.rule_errors) == 1
    assert isinstance(result.rule_errors[0], RuleError)
    assert result.rule_errors[0].rule == "fragile"
    assert "IndexError" in result.rule_errors[0].error
    assert result.explanation.endswith("[rules that could not be evaluated: fragile]")


def test_a_condition_that_is_not_boolean_on_the_samples_is_refused() -> None:
    odd = rule("odd", 'case_escalations > 1 ? "yes" : false', "P1")
    with pytest.raises(PolicyError, match="rule 'odd': when: must give true or false"):
        compile_policy(policy_yaml(odd))


def test_a_non_boolean_at_run_time_is_recorded_not_matched() -> None:
    # Both samples give false here; only a case with exactly two escalations gives a string.
    policy = compile_policy(policy_yaml(rule("odd", 'case_escalations == 2 ? "yes" : false')))
    result = policy.evaluate(build_context(escalation(), case_escalations=2), now=NOW)

    assert result.rules_matched == ()
    assert result.rule_errors == (RuleError("odd", "gave str 'yes', not true or false"),)


contexts = st.builds(
    lambda category, summary, age, live: build_context(
        escalation(
            category=category,
            summary=summary,
            subjects=[] if age is None else [{"platform_id": "v", "role": "victim", "age": age}],
            content=[LIVESTREAM] if live else [],
        )
    ),
    st.sampled_from(["csam", "grooming", "sextortion", "self_harm", "imminent_danger", "other"]),
    st.sampled_from(["", SECRECY, MEETING, SEXTORTION, SELF_HARM, f"{MEETING} {SECRECY}"]),
    st.one_of(st.none(), st.integers(min_value=5, max_value=40)),
    st.booleans(),
)


@settings(max_examples=40, deadline=None)
@given(contexts)
def test_a_failing_rule_never_changes_the_other_rules_result(context: Any) -> None:
    broken = default_policy_text() + rule("fragile", 'prior_decisions[0] == "x"', "P0")
    with_broken = compile_policy(broken).evaluate(context, now=NOW)
    plain = default_policy().evaluate(context, now=NOW)

    assert with_broken.priority == plain.priority
    assert with_broken.queue == plain.queue
    assert with_broken.rules_matched == plain.rules_matched
    assert [e.rule for e in with_broken.rule_errors] == ["fragile"]


# --- The CEL library provides what the checker allows -------------------------------------------


@pytest.mark.parametrize(
    "expression",
    [
        "size(s) == 3",
        'int("1") == 1',
        "uint(1) == 1u",
        "double(1) == 1.0",
        'string(1) == "1"',
        'bytes("a") == b"a"',
        "dyn(1) == 1",
        "type(1) == int",
        'timestamp("2020-01-01T00:00:00Z") < timestamp("2021-01-01T00:00:00Z")',
        'duration("1h") > duration("1m")',
        "has(m.a)",
    ],
)
def test_global_functions_the_checker_allows_exist(expression: str) -> None:
    assert cel.evaluate(expression, {"s": "abc", "m": {"a": 1}}) is True


def test_every_allowed_function_is_probed() -> None:
    probed = {"size", "int", "uint", "double", "string", "bytes", "dyn", "type"}
    probed |= {"timestamp", "duration", "has"}
    assert probed == GLOBAL_FUNCTIONS


@pytest.mark.parametrize("method", sorted(METHOD_FUNCTIONS))
def test_methods_the_checker_allows_exist(method: str) -> None:
    calls = {
        "size": "s.size() == 3",
        "contains": 's.contains("b")',
        "startsWith": 's.startsWith("a")',
        "endsWith": 's.endsWith("c")',
        "matches": 's.matches("^a")',
        "all": "l.all(x, x > 0)",
        "exists": "l.exists(x, x == 2)",
        "exists_one": "l.exists_one(x, x == 2)",
        "map": "l.map(x, x + 1) == [2, 3]",
        "filter": "l.filter(x, x > 1) == [2]",
    }
    expression = calls.get(method, f"t.{method}() >= 0 || t.{method}() < 0")
    context = {"s": "abc", "l": [1, 2], "t": datetime(2020, 1, 1, tzinfo=UTC)}
    assert cel.evaluate(expression, context) is True


def test_functions_outside_the_allow_list_are_undefined_in_the_library() -> None:
    # If an upgrade adds these, the allow-list can grow; until then the checker refuses them.
    for expression in ('"A".lowerAscii() == "a"', "max([1, 2]) == 2", '"a,b".split(",")'):
        with pytest.raises(RuntimeError, match="Undefined"):
            cel.evaluate(expression)


# --- The documentation covers the default rules --------------------------------------------------


def test_every_default_rule_is_in_the_documentation() -> None:
    doc = DOC.read_text(encoding="utf-8")
    for default_rule in default_policy().rules:
        assert f"`{default_rule.name}`" in doc
