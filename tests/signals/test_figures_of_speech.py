"""`unless` groups: figures of speech that hold the words of an intent drop that intent, in each
language; the same words meant plainly still count. And the English fast path of detection."""

from __future__ import annotations

import pytest

from safeguard.signals.indicators import FamilyFileError, analyze, parse_family
from safeguard.signals.languages import detect_language, families_for


@pytest.mark.parametrize(
    ("language", "figure", "plain"),
    [
        ("en", "i could die of embarrassment", "i want to die"),
        ("ms", "kerja rumah ni buat aku nak mati", "aku nak mati malam ni"),
        ("es", "me quiero morir de vergüenza jaja", "me quiero morir esta noche"),
        ("zh", "想死你了 明天见", "我想死"),
    ],
)
def test_a_figure_of_speech_drops_the_intent_it_holds(
    language: str, figure: str, plain: str
) -> None:
    families = families_for(language)
    assert "self_harm_intent" not in analyze(figure, families).triggered
    assert "self_harm_intent" in analyze(plain, families).triggered


def test_an_unless_group_is_checked_like_any_other() -> None:
    base = {
        "name": "demo",
        "description": "d",
        "threshold": 0.5,
        "groups": [{"name": "intent", "weight": 0.8, "phrases": ["i want to die"]}],
    }
    family = parse_family(
        {**base, "groups": [*base["groups"], {"name": "f", "unless": True, "phrases": ["x y"]}]},
        source="t",
    )
    assert family.groups[1].unless
    for bad in (
        {"name": "f", "unless": True, "weight": 0.5, "phrases": ["x"]},
        {"name": "f", "unless": "yes", "phrases": ["x"]},
    ):
        with pytest.raises(FamilyFileError):
            parse_family({**base, "groups": [*base["groups"], bad]}, source="t")


def test_english_dense_text_is_english_and_other_text_still_goes_to_the_detector() -> None:
    assert detect_language("what are you doing with the dog and the cat this weekend") == "en"
    assert detect_language("vamos a la playa con mis amigos y después comemos paella") == "es"
