"""Characters a reader cannot see or that reorder the text around them: refused in identifiers,
shown as visible markers wherever free text is displayed (pure; no Django import)."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from typing import Final

__all__ = [
    "BIDI_CONTROLS",
    "LAYOUT",
    "describe",
    "first_invisible",
    "is_invisible",
    "runs",
]

# The explicit directional embeddings, overrides and isolates, and the implicit marks: each can
# make a string display in an order other than the one it is stored in ("Trojan Source").
BIDI_CONTROLS: Final = frozenset(
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
)
# Control (C0, DEL, C1), format (bidi controls, zero-width characters, BOM, soft hyphen, ...),
# lone surrogates, and the line and paragraph separators that break a line without a newline.
_INVISIBLE_CATEGORIES: Final = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
# Ordinary layout in free text: kept, and not marked when displayed.
LAYOUT: Final = frozenset("\t\n\r")

# unicodedata has no names for the C0 and C1 controls; these are their usual abbreviations.
_CONTROL_NAMES: Final = {
    0x00: "NUL",
    0x07: "BEL",
    0x08: "BACKSPACE",
    0x09: "TAB",
    0x0A: "LINE FEED",
    0x0B: "VERTICAL TAB",
    0x0C: "FORM FEED",
    0x0D: "CARRIAGE RETURN",
    0x1B: "ESCAPE",
    0x7F: "DELETE",
    0x85: "NEXT LINE",
}


def _is_noncharacter(code: int) -> bool:
    return 0xFDD0 <= code <= 0xFDEF or (code & 0xFFFE) == 0xFFFE


def is_invisible(char: str) -> bool:
    """Whether one character is a control, format, surrogate, separator or noncharacter."""
    return unicodedata.category(char) in _INVISIBLE_CATEGORIES or _is_noncharacter(ord(char))


def first_invisible(text: str) -> tuple[int, str] | None:
    """The position and character of the first invisible character in `text`, or None."""
    # isprintable() is False for every character we refuse (and for some we do not, such as
    # non-ASCII spaces), so it is a cheap way to skip the common case.
    if text.isprintable():
        return None
    for position, char in enumerate(text):
        if is_invisible(char):
            return position, char
    return None


def describe(char: str) -> str:
    """'U+202E RIGHT-TO-LEFT OVERRIDE': the code point and, where known, its name."""
    code = ord(char)
    name = _CONTROL_NAMES.get(code) or unicodedata.name(char, "")
    if not name and unicodedata.category(char) == "Cc":
        name = "control character"
    return f"U+{code:04X} {name}".rstrip()


def runs(text: str) -> Iterator[tuple[str, bool]]:
    """Split `text` into runs of ordinary text and single invisible characters, in order.

    Each item is (text, invisible). Tab, newline and carriage return count as ordinary layout.
    Joining the texts gives back `text` exactly.
    """
    if text.isprintable():
        if text:
            yield text, False
        return
    start = 0
    for position, char in enumerate(text):
        if char not in LAYOUT and is_invisible(char):
            if start < position:
                yield text[start:position], False
            yield char, True
            start = position + 1
    if start < len(text):
        yield text[start:], False
