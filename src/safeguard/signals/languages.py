"""The language a text is written in, and the indicator families that apply to it (pure; no
Django): English everywhere, plus the phrases of the text's language where Safeguard has them.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Final

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

from safeguard.signals.indicators import (
    Family,
    default_families,
    merge_families,
    packaged_language_families,
    packaged_languages,
)

__all__ = [
    "ALSO_MATCHED",
    "DETECTABLE_LANGUAGES",
    "MAX_DETECT_CHARS",
    "MIN_LETTERS",
    "MIN_RELATIVE_DISTANCE",
    "MIN_WORDS",
    "detect_language",
    "families_for",
    "supported_languages",
]

# Languages the detector can tell apart. Far more than those with indicator files, so that a text
# in an unsupported language is named ("not assessed: language fr") rather than mistaken for the
# nearest supported one and scored as benign.
DETECTABLE_LANGUAGES: Final = (
    Language.ENGLISH,
    Language.SPANISH,
    Language.PORTUGUESE,
    Language.INDONESIAN,
    Language.MALAY,
    Language.CHINESE,
    Language.FRENCH,
    Language.GERMAN,
    Language.ITALIAN,
    Language.DUTCH,
    Language.RUSSIAN,
    Language.UKRAINIAN,
    Language.POLISH,
    Language.ROMANIAN,
    Language.SWEDISH,
    Language.TURKISH,
    Language.ARABIC,
    Language.PERSIAN,
    Language.URDU,
    Language.HINDI,
    Language.BENGALI,
    Language.VIETNAMESE,
    Language.THAI,
    Language.KOREAN,
    Language.JAPANESE,
    Language.TAGALOG,
    Language.SWAHILI,
    Language.GREEK,
    Language.HEBREW,
    Language.CZECH,
)

# Below these a text says too little to tell a language by (a greeting, an emoji, a name).
MIN_WORDS: Final = 3
MIN_LETTERS: Final = 12
# lingua's confidence values sum to 1; when the best and the second best are closer than this,
# the text is ambiguous and no language is claimed. Malay and Indonesian are often this close,
# so they are compared as one before the check (both have indicator files).
MIN_RELATIVE_DISTANCE: Final = 0.2
# A text whose letters are at least this share Han characters is Chinese without asking lingua
# (Japanese mixes in kana, which do not count as Han).
HAN_SHARE: Final = 0.6
# Han text has no spaces, so its words cannot be counted; this many characters is enough.
MIN_HAN: Final = 4
# Detection reads at most this many characters (cut at a space): enough to tell a language
# apart, and lingua's time grows with the length (about 0.2 ms here, 1.4 ms for 2,000).
MAX_DETECT_CHARS: Final = 200
ENGLISH_WINDOW: Final = 400

_WORD: Final = re.compile(r"[^\W\d_]+")
# Words that occur in nearly every English text and in no other detectable language as words
# of their own (so not "a", "me", "no", "do", "in", "on", which Spanish, Portuguese or
# Indonesian also use). A text where they are this common is English without asking lingua:
# most traffic is English, and this saves the detector's half millisecond per text.
_ENGLISH_MARKERS: Final = frozenset(
    [
        "the",
        "and",
        "you",
        "your",
        "is",
        "are",
        "was",
        "were",
        "with",
        "what",
        "this",
        "that",
        "have",
        "has",
        "will",
        "would",
        "it's",
        "i'm",
        "don't",
        "can't",
        "they",
        "their",
        "there",
        "them",
        "been",
        "from",
        "which",
        "when",
        "where",
        "who",
        "how",
        "about",
        "just",
    ]
)
ENGLISH_SHARE: Final = 0.12
ENGLISH_MARKERS_MIN: Final = 3
_HAN: Final = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff]")
_KANA: Final = re.compile(r"[\u3040-\u30ff]")
_CLOSE_RELATIVES: Final = frozenset({Language.MALAY, Language.INDONESIAN})
# Languages whose texts the detector often gives to each other: a text detected as one is also
# matched against the other's phrases, so the confusion costs nothing.
ALSO_MATCHED: Final = {"id": ("ms",), "ms": ("id",)}


@cache
def _detector() -> LanguageDetector:
    # Preloading the models costs about half a second once, at the first detection, and keeps
    # every later detection free of file reads.
    return (
        LanguageDetectorBuilder.from_languages(*DETECTABLE_LANGUAGES)
        .with_preloaded_language_models()
        .build()
    )


def _code(language: Language) -> str:
    return language.iso_code_639_1.name.lower()


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", limit // 2, limit)
    return text[: cut if cut > 0 else limit]


def detect_language(text: str) -> str | None:
    """The ISO 639-1 code of the language text is written in ("zh" for Chinese), or None when
    the text is too short, has no letters, or is not clearly in one language.

    Only the first MAX_DETECT_CHARS characters are read.
    """
    # The English fast path reads a longer window: it only counts words.
    window = _cut(text, ENGLISH_WINDOW)
    text = _cut(text, MAX_DETECT_CHARS)
    letters = sum(len(word) for word in _WORD.findall(text))
    han = len(_HAN.findall(text))
    if han >= MIN_HAN and han >= HAN_SHARE * letters and not _KANA.search(text):
        return "zh"
    words = _WORD.findall(text)
    # A Han or kana text has few "words" (no spaces) but may still be long enough.
    too_short = len(words) < MIN_WORDS or letters < MIN_LETTERS
    if too_short and han + len(_KANA.findall(text)) < MIN_HAN:
        return None
    if words and window.isascii():
        lowered = [word.lower() for word in window.split()]
        markers = [word for word in lowered if word.strip('.,!?;:"()') in _ENGLISH_MARKERS]
        if len(set(markers)) >= ENGLISH_MARKERS_MIN and len(markers) >= ENGLISH_SHARE * len(
            lowered
        ):
            return "en"
    values = _detector().compute_language_confidence_values(text)
    if not values:
        return None
    best = values[0]
    # Malay and Indonesian share most of their vocabulary; their confidence is pooled so that
    # the pair is not mistaken for an ambiguous text.
    rest = [v.value for v in values[1:] if not {v.language, best.language} <= _CLOSE_RELATIVES]
    pooled = best.value + sum(
        v.value for v in values[1:] if {v.language, best.language} <= _CLOSE_RELATIVES
    )
    runner_up = rest[0] if rest else 0.0
    if pooled - runner_up < MIN_RELATIVE_DISTANCE:
        return None
    return _code(best.language)


def supported_languages() -> frozenset[str]:
    """Languages with indicator files: English (the top-level files) and each language directory."""
    return packaged_languages() | {"en"}


@cache
def families_for(language: str | None) -> tuple[Family, ...]:
    """The families to analyse a text of this language with: English merged with the language's
    (and, for Indonesian and Malay, each other's; see ALSO_MATCHED).

    English applies to every text, since chats mix languages. An unknown language, or None, gets
    the English families alone; the caller reports such a text as not assessed.
    """
    if language is None or language == "en" or language not in packaged_languages():
        return default_families()
    merged = default_families()
    for tag in (language, *ALSO_MATCHED.get(language, ())):
        merged = merge_families(merged, packaged_language_families(tag), tag=tag)
    return merged
