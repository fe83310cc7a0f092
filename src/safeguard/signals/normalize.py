"""Normalise message text for indicator matching, keeping a map from every normalised character
back to the span of the original text it came from.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import groupby
from types import MappingProxyType
from typing import Final

__all__ = [
    "CONFUSABLES",
    "EMOJI_WORDS",
    "LEET",
    "SLANG",
    "Normalized",
    "normalize",
    "word_pattern",
]

# Emoji that stand in for a word often enough in grooming and sextortion messages that safety
# guides call them out. The table stays small on purpose: every entry is a word a phrase can use.
EMOJI_WORDS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "\U0001f92b": "secret",  # shushing face
        "\U0001f910": "secret",  # zipper-mouth face
        "\U0001f4f7": "photo",  # camera
        "\U0001f4f8": "photo",  # camera with flash
        "\U0001f4b0": "money",  # money bag
        "\U0001f4b5": "money",  # dollar banknote
        "\U0001f4b8": "money",  # money with wings
        "\U0001f381": "gift",  # wrapped gift
        "\U0001f52a": "knife",  # kitchen knife
        "\U0001f3e0": "house",  # house
        "\U0001f3e1": "house",  # house with garden
        "\U0001f4f1": "phone",  # mobile phone
        "\U0001f697": "car",  # automobile
    }
)

# Letters from other scripts that render like Latin letters. Upper-case forms are mapped before
# case folding because some of them look like a different Latin letter than their lower-case
# form does (Greek capital eta looks like H, small eta like n).
_UPPER_CONFUSABLES: Final[Mapping[str, str]] = MappingProxyType(
    {
        # Cyrillic capitals.
        "\u0410": "a",
        "\u0412": "b",
        "\u0415": "e",
        "\u041a": "k",
        "\u041c": "m",
        "\u041d": "h",
        "\u041e": "o",
        "\u0420": "p",
        "\u0421": "c",
        "\u0422": "t",
        "\u0423": "y",
        "\u0425": "x",
        "\u0405": "s",
        "\u0406": "i",
        "\u0408": "j",
        "\u04ba": "h",
        "\u04c0": "l",
        # Greek capitals.
        "\u0391": "a",
        "\u0392": "b",
        "\u0395": "e",
        "\u0396": "z",
        "\u0397": "h",
        "\u0399": "i",
        "\u039a": "k",
        "\u039c": "m",
        "\u039d": "n",
        "\u039f": "o",
        "\u03a1": "p",
        "\u03a4": "t",
        "\u03a5": "y",
        "\u03a7": "x",
    }
)

# Lower-case look-alikes, applied after case folding.
CONFUSABLES: Final[Mapping[str, str]] = MappingProxyType(
    {
        # Cyrillic.
        "\u0430": "a",
        "\u0435": "e",
        "\u043e": "o",
        "\u0440": "p",
        "\u0441": "c",
        "\u0443": "y",
        "\u0445": "x",
        "\u0455": "s",
        "\u0456": "i",
        "\u0458": "j",
        "\u04bb": "h",
        "\u0501": "d",
        "\u051b": "q",
        "\u051d": "w",
        "\u04cf": "l",
        "\u044c": "b",
        "\u043a": "k",
        "\u0442": "t",
        "\u043c": "m",
        "\u0432": "b",
        "\u043d": "h",
        # Greek.
        "\u03b1": "a",
        "\u03b2": "b",
        "\u03b5": "e",
        "\u03b7": "n",
        "\u03b9": "i",
        "\u03ba": "k",
        "\u03bd": "v",
        "\u03bf": "o",
        "\u03c1": "p",
        "\u03c4": "t",
        "\u03c5": "u",
        "\u03c7": "x",
        "\u03c9": "w",
        "\u03b6": "z",
        "\u03bc": "m",
        # Latin letters outside ASCII that case folding and accent stripping leave alone.
        "\u0131": "i",
        "\u0251": "a",
        "\u0261": "g",
        "\u0269": "i",
        "\u0270": "m",
        "\u028f": "y",
    }
)

# Digits and symbols read as letters. "1" is deliberately absent: it stands for "i" as often as
# for "l", so it stays "1" in the normalised text and phrase patterns accept it for either letter.
LEET: Final[Mapping[str, str]] = MappingProxyType(
    {
        "0": "o",
        "3": "e",
        "4": "a",
        "5": "s",
        "7": "t",
        "8": "b",
        "9": "g",
        "@": "a",
        "$": "s",
    }
)

# Chat spellings and contractions, expanded so that a phrase written once ("don't tell") also
# matches "dont tell", "do not tell" and "d0nt t3ll". Keys are whole words after the steps above.
SLANG: Final[Mapping[str, str]] = MappingProxyType(
    {
        "u": "you",
        "ya": "you",
        "yu": "you",
        "ur": "your",
        "r": "are",
        "youre": "you are",
        "ure": "you are",
        "im": "i am",
        "ive": "i have",
        "dont": "do not",
        "doesnt": "does not",
        "didnt": "did not",
        "cant": "can not",
        "cannot": "can not",
        "wont": "will not",
        "isnt": "is not",
        "arent": "are not",
        "wasnt": "was not",
        "shouldnt": "should not",
        "wouldnt": "would not",
        "couldnt": "could not",
        "whats": "what is",
        "wheres": "where is",
        "wanna": "want to",
        "gonna": "going to",
        "gotta": "got to",
        "pls": "please",
        "plz": "please",
        "cuz": "because",
        "coz": "because",
        "bc": "because",
        "tmrw": "tomorrow",
        "tmr": "tomorrow",
        "2moro": "tomorrow",
        "2morrow": "tomorrow",
        "tonite": "tonight",
        "2nite": "tonight",
        "pic": "picture",
        "pics": "pictures",
        "pix": "pictures",
        "ppl": "people",
        "msg": "message",
        "msgs": "messages",
    }
)


@dataclass(frozen=True, slots=True)
class Normalized:
    """Normalised text plus, for each of its characters, the original span it came from."""

    original: str
    text: str
    # starts[i] and ends[i] bound the original characters that produced text[i]. Both sequences
    # are non-decreasing, so a normalised span maps to one contiguous original span.
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Map the normalised span [start, end) to the (start, end) span of the original text."""
        if not 0 <= start < end <= len(self.text):
            raise ValueError(
                f"span ({start}, {end}) is empty or outside normalised text of {len(self.text)}"
            )
        return self.starts[start], self.ends[end - 1]

    def original_text(self, start: int, end: int) -> str:
        """The original text behind the normalised span [start, end)."""
        a, b = self.original_span(start, end)
        return self.original[a:b]


# A replacement for one regex match: pieces of new text, each with the [start, end) range of the
# match (relative to the match start) that it came from.
_Piece = tuple[str, int, int]
_Repl = Callable[[re.Match[str]], Sequence[_Piece] | None]


@dataclass(slots=True)
class _Buffer:
    text: str
    starts: list[int]
    ends: list[int]

    def rewrite(self, pattern: re.Pattern[str], repl: _Repl) -> None:
        """Replace each match of pattern by repl(match), carrying the original spans along."""
        parts: list[str] = []
        starts: list[int] = []
        ends: list[int] = []
        pos = 0
        changed = False
        for match in pattern.finditer(self.text):
            pieces = repl(match)
            if pieces is None:
                continue
            changed = True
            a, b = match.span()
            parts.append(self.text[pos:a])
            starts.extend(self.starts[pos:a])
            ends.extend(self.ends[pos:a])
            for piece, rel_start, rel_end in pieces:
                parts.append(piece)
                starts.extend([self.starts[a + rel_start]] * len(piece))
                ends.extend([self.ends[a + rel_end - 1]] * len(piece))
            pos = b
        if not changed:
            return
        parts.append(self.text[pos:])
        starts.extend(self.starts[pos:])
        ends.extend(self.ends[pos:])
        self.text = "".join(parts)
        self.starts = starts
        self.ends = ends


_EMIT, _EXTEND, _DROP = 0, 1, 2

# Han characters (CJK unified ideographs, their extensions and compatibility forms). Chinese is
# written without spaces, so each one becomes a word of its own: a phrase "见 面" then matches
# "我们见面吧" at word boundaries, and spans still point at the original characters.
_HAN_CHARS: Final = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff"
_HAN: Final = re.compile(f"[{_HAN_CHARS}]")


@lru_cache(maxsize=8192)
def _fold_char(char: str) -> tuple[str, int]:
    """Fold one non-ASCII character: emoji word, NFKC, look-alikes, case, accents stripped."""
    word = EMOJI_WORDS.get(char)
    if word is not None:
        # Spaces keep an emoji that touches a word from gluing onto it ("send📸").
        return f" {word} ", _EMIT
    category = unicodedata.category(char)
    # Combining marks, variation selectors and skin-tone modifiers belong to the character before
    # them, so they widen its span rather than vanish from highlighting.
    if category in ("Mn", "Me") or "\U0001f3fb" <= char <= "\U0001f3ff":
        return "", _EXTEND
    # Zero-width spaces, joiners and soft hyphens are invisible and are used to split words.
    if category == "Cf":
        return "", _DROP
    out: list[str] = []
    for compat in unicodedata.normalize("NFKC", char):
        for folded in _UPPER_CONFUSABLES.get(compat, compat).casefold():
            for base in unicodedata.normalize("NFD", folded):
                if not unicodedata.combining(base):
                    out.append(CONFUSABLES.get(base, base))
    folded_char = "".join(out)
    if _HAN.fullmatch(folded_char):
        return f" {folded_char} ", _EMIT
    return folded_char, _EMIT


# A run of common Han characters is folded at once (NFKC and case folding leave them alone);
# any other non-ASCII character is folded on its own.
_NON_ASCII: Final = re.compile(r"[\u4e00-\u9fff]{2,}|[^\x00-\x7f]")


def _fold(text: str) -> _Buffer:
    if text.isascii():
        # Nearly all traffic is ASCII, where lower() is exactly NFKC plus case folding.
        return _Buffer(text.lower(), list(range(len(text))), list(range(1, len(text) + 1)))
    parts: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    pos = 0
    for match in _NON_ASCII.finditer(text):
        k, stop = match.span()
        if pos < k:
            parts.append(text[pos:k].lower())
            starts.extend(range(pos, k))
            ends.extend(range(pos + 1, k + 1))
        if stop - k > 1:
            # Each Han character of the run becomes a word followed by a space.
            if not (parts and parts[-1].endswith(" ")):
                parts.append(" ")
                starts.append(k)
                ends.append(k + 1)
            parts.append(" ".join(match.group()) + " ")
            for i in range(k, stop):
                starts.extend((i, i))
                ends.extend((i + 1, i + 1))
            pos = stop
            continue
        folded, kind = _fold_char(text[k])
        if kind == _EMIT:
            # Han characters and emoji words come with a space on each side; dropping the leading
            # one after a space keeps a run of Han text from becoming a run of double spaces,
            # which the punctuation step would then rewrite one by one.
            if folded.startswith(" ") and parts and parts[-1].endswith(" "):
                folded = folded[1:]
            parts.append(folded)
            starts.extend([k] * len(folded))
            ends.extend([k + 1] * len(folded))
        elif kind == _EXTEND and starts:
            last = starts[-1]
            j = len(starts) - 1
            while j >= 0 and starts[j] == last:
                ends[j] = k + 1
                j -= 1
        pos = k + 1
    parts.append(text[pos:].lower())
    starts.extend(range(pos, len(text)))
    ends.extend(range(pos + 1, len(text) + 1))
    return _Buffer("".join(parts), starts, ends)


# A "word character" here is a letter or digit, plus the leet symbols that stand for letters.
_WORD_BEFORE: Final = r"(?<![^\W_])(?<![@$])"
_WORD_AFTER: Final = r"(?![^\W_])(?![@$])"
_CHAR: Final = r"(?:[^\W_]|[@$])"
# A character that can be part of a spaced-out word: Han characters are words of their own and
# are already separated by spaces, which must not glue them to each other or to Latin letters.
_SPACED_CHAR: Final = rf"(?:(?![{_HAN_CHARS}])[^\W_]|[@$])"
_SEPARATOR_CHARS: Final = r".\-_*~|/\\\u00b7\u2022+"

# Each pattern below starts with a character class where it can, so the regex engine scans for
# candidates quickly instead of trying every position.
_APOSTROPHE: Final = re.compile(rf"['\u2018\u2019\u02bc`](?<={_CHAR}.)(?={_CHAR})")

# Two single characters with a separator between them: cheap to find, and rare enough in
# ordinary text that the full pattern below rarely has to run.
_MAYBE_SPACED_OUT: Final = re.compile(
    rf"[ {_SEPARATOR_CHARS}](?<=(?<![^\W_])(?<![@$]){_SPACED_CHAR}.){_SPACED_CHAR}{_WORD_AFTER}"
)
# Single characters separated by punctuation ("s.e.c.r.e.t", "s-e-c-r-e-t"; two or more) or by
# single spaces ("s e c r e t"; three or more, because "a" and "i" are real one-letter words).
# Two spaces end a spaced-out word.
_SPACED_OUT: Final = re.compile(
    rf"{_WORD_BEFORE}{_SPACED_CHAR}(?:[{_SEPARATOR_CHARS}]{_SPACED_CHAR}{_WORD_AFTER})+"
    rf"|{_WORD_BEFORE}{_SPACED_CHAR}(?: {_SPACED_CHAR}{_WORD_AFTER}){{2,}}"
)

# A token that contains a digit or leet symbol somewhere; it is decoded only if it also has a
# letter, because "911" and "$20" are numbers, not words.
_LEET_TOKEN: Final = re.compile(rf"{_WORD_BEFORE}(?={_CHAR}*?[0-9@$]){_CHAR}+")
_MAYBE_LEET: Final = re.compile(r"[0-9@$]")
_NUMBER_WORD: Final = re.compile(r"(\d+)(st|nd|rd|th|am|pm|yo)")

_NON_WORD: Final = re.compile(r"[\W_]{2,}|[^\w ]|_")
_STRETCHED: Final = re.compile(r"([^\W_])\1{2,}")
# A run of "1" can hide two letters ("k111" is "kill"), so it keeps two characters.
_ONE_RUN: Final = "11"


def word_units(word: str, *, mixed_one_runs: bool = True) -> list[str]:
    """Regex units for one normalised word, tolerant of doubled letters and of "1" for i or l.

    Each run of a letter becomes one unit accepting one or more of it, so "tell" also matches
    "tel" (what "telllll" normalises to) and "see" matches "se". Digits in all-digit words are
    matched exactly. With mixed_one_runs false, a single "1" may replace a run of i or l but
    not mix with it or repeat, so neither "1ive" nor "11ve" (live) can be read as "ive".
    """
    has_letter = any(ch.isalpha() for ch in word)
    units: list[str] = []
    for char, run in groupby(word):
        if char.isdigit() and not (char == "1" and has_letter):
            units.append(re.escape(char * len(list(run))))
        elif char in "il" or char == "1":
            letters = "il" if char == "1" else char
            units.append(f"[{letters}1]+" if mixed_one_runs else f"(?:[{letters}]+|1)")
        else:
            units.append(re.escape(char) + "+")
    return units


def word_pattern(word: str) -> str:
    """Regex for one normalised word; see word_units."""
    return "".join(word_units(word))


_SQUEEZE: Final = re.compile(r"(.)\1+")


def word_key(text: str) -> str:
    """A coarse key under which every spelling that word_pattern accepts is equal.

    Runs are squeezed and i, l and 1 are merged, so equal keys are necessary (not sufficient)
    for a match; the matcher uses keys to skip phrases whose words are absent.
    """
    return _SQUEEZE.sub(r"\1", text.replace("1", "l").replace("i", "l"))


@dataclass(slots=True)
class _TrieNode:
    children: dict[str, _TrieNode] = field(default_factory=dict)
    word: str | None = None


def _trie_regex(words: Sequence[str]) -> tuple[str, tuple[str, ...]]:
    """One regex for many words, sharing common prefixes so each position tries few branches.

    An empty capturing group marks where a word ends; the second value lists the words in the
    order of their groups, so the word matched is words_by_group[match.lastindex - 1].
    """
    root = _TrieNode()
    for word in words:
        node = root
        # Chat spellings are short, so a run mixing "1" with a letter, or several 1s, would turn
        # "1ive" or "11ve" (live) into "i've".
        for unit in word_units(word, mixed_one_runs=False):
            node = node.children.setdefault(unit, _TrieNode())
        node.word = word
    by_group: list[str] = []

    def render(node: _TrieNode) -> str:
        branches: list[str] = []
        if node.word is not None:
            by_group.append(node.word)
            branches.append("()")
        branches.extend(unit + render(child) for unit, child in node.children.items())
        return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"

    return render(root), tuple(by_group)


_SLANG_TRIE, _SLANG_BY_GROUP = _trie_regex(tuple(SLANG))
_SLANG_PATTERN: Final = re.compile(r"(?<!\S)" + _SLANG_TRIE + r"(?!\S)")


def _is_number_word(token: str) -> bool:
    """True for "5pm", "13yo" and correctly suffixed ordinals such as "3rd" (but not "4nd")."""
    match = _NUMBER_WORD.fullmatch(token)
    if match is None:
        return False
    digits, suffix = match.groups()
    if suffix in ("am", "pm", "yo"):
        return True
    tens, last = int(digits) % 100, int(digits) % 10
    expected = "th" if 11 <= tens <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(last, "th")
    return suffix == expected


def _join_spaced_out(match: re.Match[str]) -> list[_Piece] | None:
    run = match.group()
    if not any(ch.isalpha() for ch in run):
        return None
    return [(ch, i, i + 1) for i, ch in enumerate(run) if ch.isalnum() or ch in "@$"]


def _decode_leet(match: re.Match[str]) -> list[_Piece] | None:
    run = match.group()
    if run == "@":
        return [("at", 0, 1)]
    if not any(ch.isalpha() for ch in run) or _is_number_word(run):
        return None
    return [(LEET.get(ch, ch), i, i + 1) for i, ch in enumerate(run)]


def _to_space(match: re.Match[str]) -> list[_Piece]:
    return [(" ", 0, match.end() - match.start())]


def _collapse(match: re.Match[str]) -> list[_Piece]:
    char = match.group(1)
    return [(_ONE_RUN if char == "1" else char, 0, match.end() - match.start())]


def _expand_slang(match: re.Match[str]) -> list[_Piece]:
    index = match.lastindex
    if index is None:  # pragma: no cover - every word in the trie ends in a capturing group.
        raise AssertionError("slang match without a group")
    return [(SLANG[_SLANG_BY_GROUP[index - 1]], 0, match.end() - match.start())]


def _delete(match: re.Match[str]) -> list[_Piece]:
    return []


# A text is normalised more than once in one triage (its signals before and after its times
# are known, the time expressions of an obfuscated text); the last few results are kept.
@lru_cache(maxsize=4)
def normalize(text: str) -> Normalized:
    """Normalise text for matching; see docs/signals.md for each step and its order."""
    buffer = _fold(text)
    buffer.rewrite(_APOSTROPHE, _delete)
    if _MAYBE_SPACED_OUT.search(buffer.text):
        buffer.rewrite(_SPACED_OUT, _join_spaced_out)
    if _MAYBE_LEET.search(buffer.text):
        buffer.rewrite(_LEET_TOKEN, _decode_leet)
    buffer.rewrite(_NON_WORD, _to_space)
    # Leading and trailing spaces carry no information and would only complicate spans.
    lead = 1 if buffer.text.startswith(" ") else 0
    trail = 1 if buffer.text.endswith(" ") and len(buffer.text) > lead else 0
    if lead or trail:
        stop = len(buffer.text) - trail
        buffer = _Buffer(buffer.text[lead:stop], buffer.starts[lead:stop], buffer.ends[lead:stop])
    buffer.rewrite(_STRETCHED, _collapse)
    buffer.rewrite(_SLANG_PATTERN, _expand_slang)
    return Normalized(text, buffer.text, tuple(buffer.starts), tuple(buffer.ends))
