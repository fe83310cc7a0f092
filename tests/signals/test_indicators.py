"""Tests for indicator families: loading and validation, matching, spans, scores and speed."""

from __future__ import annotations

import importlib.resources
import itertools
import json
import re
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from safeguard.signals.indicators import (
    Family,
    FamilyFileError,
    PhraseSyntaxError,
    SignalResult,
    analyze,
    compile_phrase,
    default_families,
    load_families,
    load_family_file,
    parse_family,
)
from safeguard.signals.normalize import normalize

FAMILY_NAMES = {
    "secrecy",
    "age_probing",
    "platform_migration",
    "meeting_arrangement",
    "sextortion",
    "self_harm_intent",
    "self_harm_plan",
    "gifts_isolation",
    "family_context",
}

# Plain phrases that must trigger their family on their own. Sextortion needs a threat and a
# demand together, so it is tested with pairs below; the compositional families (meetings and
# self-harm plans) are tested from their parts in test_compositional.py.
TRIGGERING_PHRASES: dict[str, list[str]] = {
    "secrecy": [
        "don't tell your parents",
        "delete this chat",
        "this stays between us",
        "our little secret",
    ],
    "age_probing": ["how old are you", "what grade are you in"],
    "platform_migration": ["add me on another app", "let's talk on a different app"],
    # One phrase naming both the intent and the place, so its whole span is one indicator.
    "meeting_arrangement": ["come to my house", "get in my car", "come over to my place"],
    "self_harm_intent": [
        "i want to kill myself",
        "i want to die",
        "i'm going to hurt myself",
        "she wants to kill herself",
        "he is going to end his life",
    ],
    "gifts_isolation": ["nobody understands you like i do", "your parents don't get you"],
}
SEXTORTION_THREATS = ["i will share your pictures", "i'm going to post your photos"]
SEXTORTION_DEMANDS = ["send me money", "send more pictures"]

# Benign sentences about school, sports, weather, cooking, games and homework.
SUBJECTS = ["I", "We", "My team", "Our class", "My brother", "The coach", "She", "They", "Mom"]
PREDICATES = [
    "finished the science project",
    "has a math test on friday",
    "forgot the library book at home",
    "learned about volcanoes today",
    "got a good grade on the essay",
    "won the soccer game",
    "practiced free throws after school",
    "scored two goals in the second half",
    "needs new shoes for the tournament",
    "said it will rain all weekend",
    "saw snow on the mountains",
    "baked chocolate chip cookies",
    "made pancakes with blueberries",
    "burned the toast again",
    "beat the final boss",
    "unlocked a new level in the game",
    "built a castle out of blocks",
    "lost every round of the card game",
    "has two pages of fractions to do",
    "asked the teacher about the reading homework",
    "shared the photos from the field trip",
    "posted pictures of the science fair",
    "sent the class the homework answers",
    "saved money for a new bike",
    "bought a gift for grandma",
    "met the new coach at practice",
    "told the class a funny story",
    "deleted the old game to free up space",
]
VERBS = [
    "played",
    "finished",
    "baked",
    "watched",
    "forgot",
    "shared",
    "posted",
    "sent",
    "deleted",
    "bought",
    "lost",
    "won",
    "studied",
    "found",
    "cleaned",
    "planned",
]
OBJECTS = [
    "the soccer game",
    "our math homework",
    "a chocolate cake",
    "the weather report",
    "the new level",
    "the photos from practice",
    "pictures of the snowman",
    "the old messages about the quiz",
    "a gift for the teacher",
    "money for the bake sale",
    "the science project",
    "the recipe for pizza dough",
    "the class group chat",
    "a secret passage in the game",
    "the surprise party for dad",
    "the app for the school library",
]
PLACES = ["", " at school", " in the park", " at home", " at the library", " on the field"]
TIMES = ["", " today", " yesterday", " this morning", " after lunch", " at 5pm", " last week"]
# Near misses: ordinary sentences that share words with the indicator phrases.
NEAR_MISSES = [
    "Don't forget to tell your parents about the field trip.",
    "Please tell your parents the game moved to Saturday.",
    "Our secret ingredient is cinnamon.",
    "Keep it a secret until the surprise party!",
    "Delete the old files from the shared folder.",
    "How old is your dog now?",
    "What grade did you get on the quiz?",
    "I hurt my knee at practice yesterday.",
    "This homework is killing me.",
    "I'm dying to see the new movie.",
    "I almost died laughing at lunch.",
    "My phone is about to die.",
    "Send me the photos from the game.",
    "We met at the library after school.",
    "Where do you live these days, grandma?",
    "I'll buy you a snack at lunch.",
    "I got a gift card for my birthday.",
    "My parents don't get the new game either.",
    "The coach will pay me back for the snacks.",
    "Add me on discord so we can play tonight.",
    "I killed the dragon on the last level.",
    "I can't take it anymore, this puzzle is so hard.",
    "The weather app says it will rain.",
    "Mom can pick you up after practice.",
    "Is your house near the park?",
    "We live near the school.",
    "My sister is old enough to drive.",
    "I want to dye my hair blue.",
    "The recipe calls for 3 eggs and 1 cup of sugar.",
    "Post your score in the group chat.",
    "The app asked me to update my age for the game rating.",
    "I'll send the photos from the trip to everyone tonight.",
    "Can you pay me back for the tickets?",
    "Mom will share the pictures with the family.",
    "I'm going to post the team photo on the school page.",
    "Let's move to the other chat for homework help.",
    "Let's talk somewhere else, it is loud in here.",
    "Don't tell me the ending of the movie!",
    "Never tell anyone your password.",
    "The teacher said to keep it to yourself until Friday.",
    "Nobody understands fractions like my tutor does.",
    "Which class are you in for science?",
    "My dad will pick us up after the game.",
    "We will meet you at the gate.",
]

# Near misses with a meeting intent: harmless alone, but a meeting intent and a place anywhere in
# one text are a meeting arrangement (the thread may be many messages), so these are not mixed
# into the generated benign text.
NEAR_MISSES_ALONE = [
    "We should meet up before the match.",
    "Let's meet up sometime.",
    "Can we hang out?",
]

# Look-alikes whose upper- and lower-case forms both read as the same Latin letter.
CONFUSABLE = {
    "a": "\u0430\u03b1",
    "b": "\u0432\u03b2",
    "c": "\u0441",
    "e": "\u0435\u03b5",
    "i": "\u0456\u03b9",
    "k": "\u043a\u03ba",
    "m": "\u043c\u03bc",
    "o": "\u043e\u03bf",
    "p": "\u0440\u03c1",
    "s": "\u0455",
    "t": "\u0442\u03c4",
    "x": "\u0445\u03c7",
    "y": "\u0443",
}
LEET = {"a": "4@", "b": "8", "e": "3", "g": "9", "i": "1", "l": "1", "o": "0", "s": "5$", "t": "7"}
SEPARATORS = [".", "-", "_", "*", " "]


def family(name: str) -> Family:
    return next(f for f in default_families() if f.name == name)


@st.composite
def benign_sentence(draw: st.DrawFn) -> str:
    kind = draw(st.integers(0, 2))
    if kind == 0:
        return draw(st.sampled_from(NEAR_MISSES))
    subject = draw(st.sampled_from(SUBJECTS))
    if kind == 1:
        predicate = draw(st.sampled_from(PREDICATES))
    else:
        verb, thing = draw(st.sampled_from(VERBS)), draw(st.sampled_from(OBJECTS))
        predicate = f"{verb} {thing}{draw(st.sampled_from(PLACES))}"
    return f"{subject} {predicate}{draw(st.sampled_from(TIMES))}."


@st.composite
def benign_text(draw: st.DrawFn) -> str:
    return " ".join(draw(st.lists(benign_sentence(), min_size=1, max_size=8)))


@st.composite
def obfuscated_word(draw: st.DrawFn, word: str) -> tuple[str, bool]:
    """The word disguised; the flag says it is spaced out and needs two spaces around it."""
    glyphs: list[str] = []
    not_letter: list[bool] = []
    for char in word:
        if char == "'":
            glyphs.append(draw(st.sampled_from(["'", "\u2019"])))
            not_letter.append(True)
            continue
        options = ["plain", "fullwidth"]
        if char in CONFUSABLE:
            options.append("confusable")
        # A one-letter word stays a letter: "1" alone is a number, not the word "I".
        if char in LEET and len(word) > 1:
            options.append("leet")
        how = draw(st.sampled_from(options))
        if how == "leet":
            glyph = draw(st.sampled_from(LEET[char]))
        else:
            if how == "confusable":
                glyph = draw(st.sampled_from(CONFUSABLE[char]))
            elif how == "fullwidth":
                glyph = chr(ord(char) + 0xFEE0)
            else:
                glyph = char
            glyph = glyph.upper() if draw(st.booleans()) else glyph
        glyphs.append(glyph)
        not_letter.append(how == "leet")
    # A word written entirely in digits reads as a number, so keep one letter.
    if all(not_letter):
        glyphs[0] = word[0]
    # Stretching repeats the glyph the writer chose ("pl333ase"), as people do.
    # A stretched "1" is left out: in a chat spelling such as "1'm" only a single 1 is read as a
    # letter, so that "11ve" stays "live" rather than becoming "i've" (see docs/signals.md).
    chars = [
        glyph * draw(st.sampled_from([1, 1, 1, 2, 3, 5]))
        if char.isalpha() and glyph != "1"
        else glyph
        for char, glyph in zip(word, glyphs, strict=True)
    ]
    if len(word) >= 3 and "'" not in word and draw(st.integers(0, 3)) == 0:
        separator = draw(st.sampled_from(SEPARATORS))
        return separator.join("".join(chars)), separator == " "
    return "".join(chars), False


@st.composite
def obfuscated_phrase(draw: st.DrawFn, phrase: str) -> str:
    words = [draw(obfuscated_word(word)) for word in phrase.split()]
    out = words[0][0]
    for (_, previous_spaced), (text, spaced) in itertools.pairwise(words):
        out += ("  " if previous_spaced or spaced else " ") + text
    return out


def place(prefix: str, phrase: str, suffix: str) -> tuple[str, int, int]:
    text = f"{prefix}  {phrase}  {suffix}"
    start = len(prefix) + 2
    return text, start, start + len(phrase)


# --- Loading the default families -------------------------------------------------------------


def test_default_families_are_the_eight_documented_ones() -> None:
    families = default_families()
    assert {f.name for f in families} == FAMILY_NAMES
    for fam in families:
        assert fam.description
        assert 0 < fam.threshold <= 1
        assert fam.groups
        assert len(fam.digest) == 64


def test_default_families_are_loaded_once() -> None:
    assert default_families() is default_families()


def test_the_combination_families_and_what_they_require() -> None:
    required = {f.name: (f.requires_all, f.requires_any) for f in default_families()}
    assert required.pop("sextortion") == (("threat", "demand"), ())
    assert required.pop("self_harm_plan") == (("intent",), ("time", "method", "farewell"))
    assert required.pop("meeting_arrangement") == ((), ("place", "time", "ask_location"))
    assert set(required.values()) == {((), ())}


# --- Matching and spans -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "phrase"),
    [(name, phrase) for name, phrases in TRIGGERING_PHRASES.items() for phrase in phrases],
)
def test_each_plain_phrase_triggers_its_family_with_an_exact_span(name: str, phrase: str) -> None:
    text = f"hi there. {phrase}. ok bye"
    result = analyze(text)
    assert result.score(name).triggered
    found = [i for i in result.indicators if i.family == name]
    assert (text.index(phrase), text.index(phrase) + len(phrase)) in [i.span for i in found]
    assert all(text[i.start : i.end] == i.text for i in result.indicators)


def test_obfuscated_example_from_the_issue_is_found_with_its_original_span() -> None:
    text = "hey!! D0nt  t3ll ur p@rents about this ok"
    result = analyze(text)
    secrecy = [i for i in result.indicators if i.family == "secrecy"]
    assert [i.text for i in secrecy][:1] == ["D0nt  t3ll ur p@rents"]
    assert secrecy[0].span == (6, 27)
    assert secrecy[0].phrase_id == "secrecy.hide_from_adults.1"


def test_emoji_words_take_part_in_phrases() -> None:
    text = "i will post your \U0001f4f8 unless you send \U0001f4b0"
    result = analyze(text)
    assert result.score("sextortion").triggered
    spans = {i.group: i.text for i in result.indicators if i.family == "sextortion"}
    assert spans == {"threat": "i will post your \U0001f4f8", "demand": "send \U0001f4b0"}


def test_sextortion_needs_both_a_threat_and_a_demand() -> None:
    threat = analyze("i will share your pictures with everyone")
    demand = analyze("send me money by tonight")
    both = analyze("i will share your pictures with everyone unless you send me money")
    threshold = family("sextortion").threshold
    assert threat.score("sextortion").groups == ("threat",)
    assert demand.score("sextortion").groups == ("demand",)
    for partial in (threat, demand):
        assert partial.score("sextortion").score == pytest.approx(threshold / 2)
        assert not partial.score("sextortion").triggered
    assert both.score("sextortion").score == pytest.approx(1 - 0.4 * 0.4)
    assert both.score("sextortion").triggered


def test_weak_groups_combine_by_noisy_or() -> None:
    weak = analyze("where do you live?")
    assert weak.score("meeting_arrangement").score == pytest.approx(0.4)
    assert not weak.score("meeting_arrangement").triggered
    combined = analyze("let's meet up. where do you live?")
    assert combined.score("meeting_arrangement").groups == ("intent", "ask_location")
    assert combined.score("meeting_arrangement").score == pytest.approx(1 - 0.52 * 0.6)
    assert combined.score("meeting_arrangement").triggered


def test_requires_any_caps_a_family_missing_all_of_its_groups() -> None:
    # An intent and exclusivity, but no place, time or location ask: reported, capped.
    result = analyze("let's meet up, come alone")
    meeting = result.score("meeting_arrangement")
    assert meeting.groups == ("intent", "exclusivity")
    assert meeting.score == pytest.approx(meeting.threshold / 2)
    assert not meeting.triggered
    with_place = analyze("let's meet up at the station, come alone").score("meeting_arrangement")
    assert with_place.score == pytest.approx(1 - 0.52 * 0.95 * 0.65)
    assert with_place.triggered


def test_time_spans_match_the_time_group_and_become_indicators() -> None:
    text = "i want to die. tonight"
    without = analyze(text)
    assert without.score("self_harm_plan").groups == ("intent",)
    assert not without.score("self_harm_plan").triggered
    result = analyze(text, time_spans=[(15, 22)])
    plan = result.score("self_harm_plan")
    assert plan.groups == ("intent", "time")
    assert plan.score == pytest.approx(1 - 0.55 * 0.7)
    assert plan.triggered
    times = [i for i in result.indicators if i.group == "time"]
    assert [(i.family, i.text, i.span, i.phrase_id) for i in times] == [
        ("meeting_arrangement", "tonight", (15, 22), "meeting_arrangement.time.time"),
        ("self_harm_plan", "tonight", (15, 22), "self_harm_plan.time.time"),
    ]
    # A time alone never makes a meeting or a plan.
    alone = analyze("see you tonight", time_spans=[(8, 15)])
    assert alone.triggered == ()


@pytest.mark.parametrize("span", [(0, 0), (5, 3), (-1, 2), (0, 99)])
def test_time_spans_outside_the_text_are_refused(span: tuple[int, int]) -> None:
    with pytest.raises(ValueError, match="outside"):
        analyze("see you tonight", time_spans=[span])


def test_a_group_counts_once_however_often_it_matches() -> None:
    result = analyze("gift card? i'll buy you a gift card, gift cards for everyone")
    assert len([i for i in result.indicators if i.group == "gifts"]) >= 3
    assert result.score("gifts_isolation").score == pytest.approx(0.4)
    assert not result.score("gifts_isolation").triggered


def test_no_match_gives_zero_for_every_family() -> None:
    result = analyze("We baked cookies and played soccer.")
    assert result.indicators == ()
    assert {s.family for s in result.scores} == FAMILY_NAMES
    assert all(s.score == 0 and not s.triggered for s in result.scores)
    assert result.triggered == ()


def test_empty_and_punctuation_only_text() -> None:
    for text in ("", "   ", "?!...", "\U0001f600"):
        assert analyze(text).indicators == ()


def test_to_dict_is_json_and_keyed_by_family_for_policies() -> None:
    text = "don't tell your parents, how old r u?"
    data = analyze(text).to_dict()
    assert set(data) == FAMILY_NAMES
    assert json.loads(json.dumps(data)) == data
    secrecy = data["secrecy"]
    assert secrecy["triggered"] is True
    assert secrecy["score"] == pytest.approx(0.7)
    assert secrecy["threshold"] == pytest.approx(0.5)
    assert secrecy["groups"] == ["hide_from_adults"]
    assert secrecy["digest"] == family("secrecy").digest
    (indicator,) = secrecy["indicators"]
    assert indicator == {
        "group": "hide_from_adults",
        "phrase_id": "secrecy.hide_from_adults.1",
        "phrase": family("secrecy").groups[0].phrases[0].pattern,
        "text": "don't tell your parents",
        "start": 0,
        "end": 23,
    }
    assert data["age_probing"]["indicators"][0]["text"] == "how old r u"
    assert data["self_harm_intent"] == {
        "score": 0.0,
        "threshold": family("self_harm_intent").threshold,
        "triggered": False,
        "groups": [],
        "digest": family("self_harm_intent").digest,
        "indicators": [],
    }


def test_analyze_with_a_subset_of_families() -> None:
    result = analyze("how old are you", [family("age_probing")])
    assert [s.family for s in result.scores] == ["age_probing"]
    assert isinstance(result, SignalResult)
    with pytest.raises(KeyError):
        result.score("secrecy")


def test_analyze_rejects_two_families_with_the_same_name() -> None:
    with pytest.raises(FamilyFileError, match="also in"):
        analyze("hi", [family("secrecy"), family("secrecy")])


# --- The phrase pattern language -----------------------------------------------------------


def matches(pattern: str, text: str) -> list[str]:
    fam = family_from_phrases(pattern)
    return [i.text for i in analyze(text, [fam]).indicators]


def family_from_phrases(*phrases: str) -> Family:
    data = {
        "name": "test",
        "description": "test family",
        "threshold": 0.5,
        "groups": [{"name": "only", "weight": 1, "phrases": list(phrases)}],
    }
    return parse_family(data, source="<test>")


def test_pattern_alternatives_and_optional_words() -> None:
    pattern = "(meet|see) [you|me] (at|in) the park"
    assert matches(pattern, "see you at the park") == ["see you at the park"]
    assert matches(pattern, "meet in the park") == ["meet in the park"]
    assert matches(pattern, "meet us at the park") == []


def test_pattern_gap_allows_up_to_three_words() -> None:
    pattern = "delete ... chat"
    assert matches(pattern, "delete the chat") == ["delete the chat"]
    assert matches(pattern, "delete this whole old chat") == ["delete this whole old chat"]
    assert matches(pattern, "delete all of this old chat") == []


def test_patterns_match_whole_words_only() -> None:
    assert matches("our secret", "our secretary") == []
    assert matches("our secret", "your secret") == []
    assert matches("our secret", "hour secret") == []


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("(a|b", "never closed"),
        ("a|b", "unexpected '|'"),
        ("a )", "unexpected ')'"),
        ("(a]", "closed by"),
        ("(a||b)", "empty alternative"),
        ("()", "empty alternative"),
        ("... a", "between two words"),
        ("a ...", "between two words"),
        ("a ... ... b", "between two words"),
        ("(a ... b)", "not allowed inside"),
        ("[a] [b]", "no required word"),
        ("?!", "no letters or digits"),
        ("   ", "non-empty"),
    ],
)
def test_pattern_syntax_errors(pattern: str, message: str) -> None:
    with pytest.raises(PhraseSyntaxError, match=re.escape(message)):
        compile_phrase(pattern)


def test_phrases_are_normalised_like_text() -> None:
    assert compile_phrase("don't") == compile_phrase("do not") == compile_phrase("DONT")
    assert compile_phrase("how old r u") == compile_phrase("how old are you")


# --- Family files: loading from a directory and validation -----------------------------------

VALID_FAMILY = """\
name: {name}
description: A test family.
threshold: 0.5
groups:
  - name: ask
    weight: 0.6
    phrases:
      - "what is your favourite (color|colour)"
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_load_families_from_a_directory(tmp_path: Path) -> None:
    write(tmp_path, "colours", VALID_FAMILY.format(name="colours"))
    (tmp_path / "notes.txt").write_text("not a family", encoding="utf-8")
    (fam,) = load_families(tmp_path)
    assert fam.name == "colours"
    assert fam.source == str(tmp_path / "colours.yaml")
    result = analyze("What's ur favourite colour?", [fam])
    assert result.score("colours").triggered
    assert result.indicators[0].text == "What's ur favourite colour"


def test_a_lead_extends_a_default_family_and_adds_a_new_one(tmp_path: Path) -> None:
    extended = (
        importlib.resources.files("safeguard.signals")
        .joinpath("families/secrecy.yaml")
        .read_text(encoding="utf-8")
    )
    extended += '      - "burn after reading"\n'
    write(tmp_path, "secrecy", extended)
    write(tmp_path, "colours", VALID_FAMILY.format(name="colours"))
    families = load_families(tmp_path, extend_defaults=True)
    assert [f.name for f in families][-1] == "colours"
    assert {f.name for f in families} == FAMILY_NAMES | {"colours"}
    assert analyze("burn after reading", families).score("secrecy").groups == ("secret_talk",)
    assert analyze("burn after reading").score("secrecy").groups == ()


def field_error(tmp_path: Path, text: str, name: str = "bad") -> FamilyFileError:
    path = write(tmp_path, name, text)
    with pytest.raises(FamilyFileError) as caught:
        load_family_file(path)
    assert caught.value.source == str(path)
    assert str(path) in str(caught.value)
    return caught.value


@pytest.mark.parametrize(
    ("old", "new", "field", "message"),
    [
        ("threshold: 0.5", "threshold: 0.5\ncolour: red", "colour", "unknown key"),
        ("    weight: 0.6", "    weight: 0.6\n    wieght: 0.6", "groups[0].wieght", "unknown key"),
        ("description: A test family.\n", "", "description", "missing required key"),
        ("    weight: 0.6\n", "", "groups[0].weight", "missing required key"),
        ("    weight: 0.6", "    weight: 0", "groups[0].weight", "greater than 0"),
        ("    weight: 0.6", "    weight: 1.5", "groups[0].weight", "at most 1"),
        ("    weight: 0.6", "    weight: high", "groups[0].weight", "must be a number"),
        ("    weight: 0.6", "    weight: true", "groups[0].weight", "must be a number"),
        ("threshold: 0.5", "threshold: -1", "threshold", "must be a number"),
        ("threshold: 0.5", "threshold: .nan", "threshold", "must be a number"),
        ("name: bad", "name: Bad Name", "name", "lower-case identifier"),
        ("name: bad", "name: other", "name", "must match the file name"),
        ("description: A test family.", "description: ''", "description", "non-empty"),
        ("groups:\n", "groups: []\nx:\n", "x", "unknown key"),
        (
            '      - "what is your favourite (color|colour)"',
            "      - ''",
            "phrases[0]",
            "non-empty",
        ),
        (
            '      - "what is your favourite (color|colour)"',
            "      - 42",
            "phrases[0]",
            "non-empty",
        ),
        (
            '      - "what is your favourite (color|colour)"',
            "      []",
            "phrases",
            "non-empty list",
        ),
        (
            '      - "what is your favourite (color|colour)"',
            '      - "(a|b"',
            "phrases[0]",
            "closed",
        ),
        (
            '      - "what is your favourite (color|colour)"',
            '      - "what is your favourite colour"\n      - "WHAT IS UR FAVOURITE COLOUR"',
            "groups[0].phrases[1]",
            "duplicate of groups[0].phrases[0]",
        ),
        ("threshold: 0.5", "threshold: 0.5\nrequires_all: [ask, tell]", "requires_all[1]", "tell"),
        ("threshold: 0.5", "threshold: 0.5\nrequires_all: []", "requires_all", "non-empty"),
        ("threshold: 0.5", "threshold: 0.5\nrequires_all: [ask, ask]", "requires_all", "twice"),
        ("  - name: ask", "  - name: ask\n    name: asked", "line 6", "duplicate key 'name'"),
        ("  - name: ask", "  - name: 12", "groups[0].name", "lower-case identifier"),
        ("threshold: 0.5", "threshold: 0.5\nrequires_any: [ask, tell]", "requires_any[1]", "tell"),
        ("threshold: 0.5", "threshold: 0.5\nrequires_any: []", "requires_any", "non-empty"),
        ("threshold: 0.5", "threshold: 0.5\nrequires_any: [ask, ask]", "requires_any", "twice"),
        ("    weight: 0.6", "    weight: 0.6\n    time: true", "groups[0].phrases", "time group"),
        ("    weight: 0.6", "    weight: 0.6\n    time: false", "groups[0].time", "must be true"),
    ],
)
def test_family_file_validation_names_the_field(
    tmp_path: Path, old: str, new: str, field: str, message: str
) -> None:
    text = VALID_FAMILY.format(name="bad")
    assert old in text
    error = field_error(tmp_path, text.replace(old, new, 1))
    assert error.field.endswith(field)
    assert message.replace("twice", "more than once") in error.message


def test_a_time_group_has_no_phrases(tmp_path: Path) -> None:
    text = VALID_FAMILY.format(name="timed") + "  - name: when\n    weight: 0.3\n    time: true\n"
    fam = load_family_file(write(tmp_path, "timed", text))
    assert [(g.name, g.time, g.phrases) for g in fam.groups][1] == ("when", True, ())
    result = analyze("what is your favourite colour tomorrow", [fam], time_spans=[(30, 38)])
    assert result.score("timed").groups == ("ask", "when")


def test_duplicate_group_names_are_rejected(tmp_path: Path) -> None:
    text = VALID_FAMILY.format(name="bad")
    text += '  - name: ask\n    weight: 0.3\n    phrases: ["how are you"]\n'
    error = field_error(tmp_path, text)
    assert error.field == "groups[1].name"
    assert "duplicate group name" in error.message


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("name: [unclosed\n", "<yaml>"),
        ("- just\n- a list\n", "<document>"),
        ("", "<document>"),
    ],
)
def test_unreadable_documents(tmp_path: Path, text: str, field: str) -> None:
    assert field_error(tmp_path, text).field == field


def test_non_utf8_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(b"name: \xff\xfe\n")
    with pytest.raises(FamilyFileError, match="not UTF-8"):
        load_family_file(path)


def test_directory_errors(tmp_path: Path) -> None:
    with pytest.raises(FamilyFileError, match=re.escape("no *.yaml family files")):
        load_families(tmp_path)
    with pytest.raises(FamilyFileError, match="is not a directory"):
        load_families(tmp_path / "missing")
    with pytest.raises(FamilyFileError, match="cannot be read"):
        load_family_file(tmp_path / "missing.yaml")


# --- Property tests -----------------------------------------------------------------------------


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_obfuscated_phrases_are_found_with_their_original_span(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(sorted(TRIGGERING_PHRASES)))
    phrase = data.draw(st.sampled_from(TRIGGERING_PHRASES[name]))
    disguised = data.draw(obfuscated_phrase(phrase))
    text, start, end = place(data.draw(benign_text()), disguised, data.draw(benign_text()))
    result = analyze(text)
    spans = [i.span for i in result.indicators if i.family == name]
    assert (start, end) in spans, (disguised, normalize_text(text), spans)
    assert result.score(name).triggered


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_obfuscated_sextortion_threat_and_demand_are_found(data: st.DataObject) -> None:
    threat = data.draw(obfuscated_phrase(data.draw(st.sampled_from(SEXTORTION_THREATS))))
    demand = data.draw(obfuscated_phrase(data.draw(st.sampled_from(SEXTORTION_DEMANDS))))
    text, t_start, t_end = place(data.draw(benign_text()), threat, data.draw(benign_text()))
    d_start = len(text) + 2
    text = f"{text}  {demand}"
    result = analyze(text)
    spans = {
        group: [i.span for i in result.indicators if i.group == group]
        for group in ("threat", "demand")
    }
    assert (t_start, t_end) in spans["threat"], (threat, normalize_text(text))
    assert (d_start, d_start + len(demand)) in spans["demand"], (demand, normalize_text(text))
    assert result.score("sextortion").triggered


@settings(max_examples=200, deadline=None)
@given(benign_text())
def test_benign_text_triggers_no_family(text: str) -> None:
    result = analyze(text)
    assert result.triggered == (), [(i.family, i.text) for i in result.indicators]


@pytest.mark.parametrize("sentence", NEAR_MISSES + NEAR_MISSES_ALONE)
def test_near_miss_sentences_stay_below_threshold(sentence: str) -> None:
    assert analyze(sentence).triggered == ()


def normalize_text(text: str) -> str:
    return normalize(text).text


# --- Speed --------------------------------------------------------------------------------------


def fastest_analysis(message: str, runs: int = 15) -> float:
    """The fastest of `runs` analyses: on a shared machine the other processes only ever add
    time, so the minimum is what the analysis itself costs."""
    analyze(message)
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        analyze(message)
        best = min(best, time.perf_counter() - started)
    return best


def ordinary_message() -> str:
    words = " ".join(PREDICATES * 10)
    message = (words[:1000] + " d0nt t3ll ur p@rents \U0001f92b " + words)[:2000]
    assert len(message) == 2000
    return message


def test_a_long_message_is_analysed_in_a_few_milliseconds() -> None:
    # Typically about half a millisecond; the bound is loose because the test is there to catch
    # a pattern that backtracks, not to benchmark.
    assert fastest_analysis(ordinary_message()) < 0.02


@pytest.mark.parametrize(
    "message",
    [
        "k" + "1" * 2000 + "x",
        "i want to k" + "i1" * 1000 + " myself",
        "d" + "0" * 1000 + "nt " + "t" * 900,
        "s " * 1000,
        "s." * 1000,
        "\u0455\u0435\u0441r\u0435t " * 285,
        "ki" * 1000 + " " + "ll" * 1000,
    ],
)
def test_adversarial_messages_stay_fast(message: str) -> None:
    # Measured against an ordinary message of the same length on the same machine, so the bound
    # holds on a slow CPU too: these take about as long (0.6 to 1.6 times); a pattern that
    # backtracks on them takes hundreds of times as long.
    assert fastest_analysis(message, runs=5) < 10 * fastest_analysis(ordinary_message(), runs=5)
