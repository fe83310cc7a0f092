"""Tests for language detection and for the indicator families chosen for a text's language."""

from __future__ import annotations

import re
import statistics
import time
from dataclasses import replace

import pytest

from safeguard.signals.indicators import (
    Family,
    FamilyFileError,
    analyze,
    default_families,
    merge_families,
    packaged_language_families,
)
from safeguard.signals.languages import (
    detect_language,
    families_for,
    supported_languages,
)

# Short chat lines as they are written, chat spellings included.
CHAT_LINES: dict[str, list[str]] = {
    "en": [
        "hey are you home alone tonight? my parents are out",
        "i dont want to live anymore, nobody would miss me",
        "lol did u finish the maths homework yet",
    ],
    "es": [
        "oye q haces, quieres vernos mañana en el parque?",
        "no le digas a tus papás que hablamos",
        "mi hija dijo que se quiere matar esta noche",
    ],
    "pt": [
        "oi vc quer me ver amanhã no shopping?",
        "não conta pros seus pais que a gente conversa",
        "minha filha disse que quer se matar hoje",
    ],
    "id": [
        "gw jemput lo besok ya, jangan bilang ortu",
        "kamu umur berapa? udah kelas berapa",
    ],
    "ms": [
        "awak tinggal kat mana? jom jumpa esok",
        "saya dah tak nak hidup lagi, semua orang lebih baik tanpa saya",
    ],
    "zh": ["我们今晚在车站见面吧", "别告诉你爸妈我们聊天的事", "我女儿说她想自杀"],
}
# Languages with no indicator files, which must be named rather than taken for a supported one.
UNSUPPORTED_LINES: dict[str, str] = {
    "fr": "salut tu veux qu on se voit demain au parc",
    "de": "hast du heute abend zeit, wir treffen uns am bahnhof",
    "ar": "هل انت وحدك في البيت الليلة",
    "ru": "ты сегодня вечером одна дома?",
    "it": "ci vediamo domani alla stazione, non dirlo ai tuoi genitori",
    "tr": "bu aksam evde yalniz misin, annene soyleme",
    "vi": "tối nay em có ở nhà một mình không",
    "ja": "今夜一人で家にいるの\uff1f両親には言わないでね",
}


@pytest.mark.parametrize(
    ("language", "line"),
    [(language, line) for language, lines in CHAT_LINES.items() for line in lines],
)
def test_each_supported_language_is_detected_in_chat_lines(language: str, line: str) -> None:
    detected = detect_language(line)
    # Malay and Indonesian share most words; either answer gets both sets of phrases.
    if language in ("id", "ms"):
        assert detected in ("id", "ms")
    else:
        assert detected == language


@pytest.mark.parametrize(("language", "line"), sorted(UNSUPPORTED_LINES.items()))
def test_an_unsupported_language_is_named(language: str, line: str) -> None:
    assert detect_language(line) == language
    assert language not in supported_languages()


@pytest.mark.parametrize(
    "text", ["", "hi", "ok lol", "hey you", "😂😂😂", "🙂 👍", "好的", "12345 678", "?!"]
)
def test_too_short_or_letterless_text_has_no_language(text: str) -> None:
    assert detect_language(text) is None


def test_supported_languages_are_those_with_family_files() -> None:
    assert supported_languages() == frozenset({"en", "es", "pt", "id", "ms", "zh"})


@pytest.mark.parametrize("language", [None, "en", "fr", "xx"])
def test_english_or_unknown_gets_the_english_defaults(language: str | None) -> None:
    assert families_for(language) is default_families()


def family(families: tuple[Family, ...], name: str) -> Family:
    return next(f for f in families if f.name == name)


@pytest.mark.parametrize("language", ["es", "pt", "id", "ms", "zh"])
def test_a_language_adds_its_phrases_to_every_english_family(language: str) -> None:
    merged = families_for(language)
    assert families_for(language) is merged
    english = default_families()
    assert [f.name for f in merged] == [f.name for f in english]
    for base, extended in zip(english, merged, strict=True):
        assert extended.threshold == base.threshold
        assert extended.requires_all == base.requires_all
        assert extended.requires_any == base.requires_any
        assert extended.digest != base.digest
        assert [g.name for g in extended.groups] == [g.name for g in base.groups]
        for group, bigger in zip(base.groups, extended.groups, strict=True):
            assert bigger.phrases[: len(group.phrases)] == group.phrases
            if not group.time:
                assert len(bigger.phrases) > len(group.phrases), (base.name, group.name)
        ids = [p.id for g in extended.groups for p in g.phrases]
        assert len(ids) == len(set(ids))
        assert any(f".{language}." in i for i in ids)


@pytest.mark.parametrize(
    ("language", "text", "family_name"),
    [
        ("es", "no le digas a tus papás", "secrecy"),
        ("pt", "quantos anos vc tem?", "age_probing"),
        ("id", "jangan bilang ke ortu kamu", "secrecy"),
        ("ms", "jangan bagitahu mak ayah awak", "secrecy"),
        ("zh", "别告诉你爸妈", "secrecy"),
        ("es", "voy a publicar tus fotos si no me pagas", "sextortion"),
        ("zh", "我女儿说她想自杀", "self_harm_intent"),
    ],
)
def test_a_language_phrase_triggers_only_with_that_language(
    language: str, text: str, family_name: str
) -> None:
    assert family_name in analyze(text, families_for(language)).triggered
    assert family_name not in analyze(text).triggered


def test_indonesian_and_malay_each_get_the_others_phrases() -> None:
    # "jangan bagitahu" is Malay; a Malay text detected as Indonesian is still read.
    assert "secrecy" in analyze("jangan bagitahu mak ayah awak", families_for("id")).triggered
    assert "secrecy" in analyze("jangan bilang ke ortu kamu", families_for("ms")).triggered


def test_detection_is_fast_after_warm_up() -> None:
    line = (
        "hey are you home alone tonight my parents said they would be out late and i "
        "was wondering if we could meet at the station near the school gate later"
    )
    assert len(line.split()) == 30
    detect_language(line)
    runs = []
    for _ in range(50):
        started = time.perf_counter()
        detect_language(line)
        runs.append(time.perf_counter() - started)
    # About 0.15 ms on the development machine; the bound leaves room for a busy machine.
    assert statistics.median(runs) < 0.005


def test_a_language_file_that_scores_differently_from_english_is_refused() -> None:
    english = family(default_families(), "secrecy")
    spanish = family(packaged_language_families("es"), "secrecy")
    with pytest.raises(FamilyFileError, match=re.escape("threshold: must equal 0.5")):
        merge_families([english], [replace(spanish, threshold=0.6)], tag="es")
    heavier = replace(spanish, groups=(replace(spanish.groups[0], weight=0.9), *spanish.groups[1:]))
    with pytest.raises(
        FamilyFileError, match=re.escape("groups.hide_from_adults: must have the weight")
    ):
        merge_families([english], [heavier], tag="es")
    copied = replace(spanish, groups=(english.groups[0],))
    with pytest.raises(FamilyFileError, match=re.escape("duplicate of secrecy.hide_from_adults.1")):
        merge_families([english], [copied], tag="es")
