"""Reading a JSON request body strictly, for every operation of the API (pure; no Django).

A body is refused with a status and a message that says what is wrong: not `application/json`
(415), not UTF-8, nested deeper than `MAX_DEPTH`, a key repeated in one object, `NaN` or
`Infinity`, a number too long to be a value anyone means, or a lone surrogate (400). The depth
is measured on the raw text before `json.loads` runs, so no body can make the decoder recurse.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, Final

__all__ = ["MAX_DEPTH", "MAX_NUMBER_LENGTH", "BodyRefused", "check_media_type", "decode_json"]

MAX_DEPTH: Final = 32
# Characters in one number literal: ample for any 64-bit value or float, far below the point
# where converting it costs anything (Python refuses integers over 4,300 digits with ValueError).
MAX_NUMBER_LENGTH: Final = 100

# The depth is measured on the raw bytes: in UTF-8 every byte of a multi-byte character is 0x80
# or above, so a quote, backslash or bracket byte is always that ASCII character.
_STRING: Final = re.compile(rb'"[^"]*"?')
_AS_PARENS: Final = bytes.maketrans(b"[{]}", b"(())")
_NOT_BRACKETS: Final = bytes(b for b in range(256) if b not in b"[]{}")
# Only a \uD800-\uDFFF escape can put a surrogate into a decoded string.
_SURROGATE_ESCAPE: Final = re.compile(rb"\\u[dD][89a-fA-F]")
_SURROGATE: Final = re.compile("[\ud800-\udfff]")


class BodyRefused(ValueError):
    """A request body that is not acceptable JSON: the HTTP status to answer and why."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.message = message
        super().__init__(message)


def check_media_type(content_type: str | None, charset: str | None) -> None:
    """Refuse (415) anything but `application/json`, with no charset or charset utf-8."""
    media = (content_type or "").strip().lower()
    if media != "application/json":
        shown = media or "no Content-Type"
        raise BodyRefused(415, f"send the body as application/json (got {shown})")
    if charset is not None and charset.strip().strip('"').lower() != "utf-8":
        raise BodyRefused(415, f"a JSON body must be UTF-8 (got charset={charset})")


def _too_deep(body: bytes, limit: int) -> bool:
    """Whether any point of `body` sits inside more than `limit` open brackets.

    Escaped backslashes and quotes are dropped (pairing a run of backslashes from its left, as
    JSON does), then strings, then everything but brackets, which become parentheses. Each
    round deletes the innermost "()" pairs, so a balanced text of depth d is empty after d
    rounds. What survives `limit` rounds is a pair nested deeper than `limit` (an adjacent "()"
    remains) or brackets that never close; more than `limit` unclosed openings are too deep as
    well. Otherwise the depth is at most 2 * `limit`, and json.loads may look at it safely.
    Every step is a C-speed pass over the bytes; nothing recurses.
    """
    unescaped = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    brackets = _STRING.sub(b"", unescaped).translate(_AS_PARENS, _NOT_BRACKETS)
    run = b"(" * (limit + 1)
    for _ in range(limit):
        if not brackets:
            return False
        if run in brackets:
            return True
        reduced = brackets.replace(b"()", b"")
        if reduced == brackets:
            break
        brackets = reduced
    if not brackets:
        return False
    # Unbalanced input with few unclosed openings is shallow; json.loads then says what is wrong.
    return b"()" in brackets or brackets.count(b"(") > limit


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise BodyRefused(400, f"duplicate key {key!r} in one JSON object")
        result[key] = value
    return result


def _constant(name: str) -> Any:
    raise BodyRefused(400, f"{name} is not a JSON number; send a finite number or null")


def _integer(literal: str) -> int:
    if len(literal) > MAX_NUMBER_LENGTH:
        raise BodyRefused(400, f"a number has more than {MAX_NUMBER_LENGTH} digits")
    return int(literal)


def _float(literal: str) -> float:
    if len(literal) > MAX_NUMBER_LENGTH:
        raise BodyRefused(400, f"a number has more than {MAX_NUMBER_LENGTH} characters")
    value = float(literal)
    if not math.isfinite(value):
        raise BodyRefused(400, f"the number {literal} is too large to represent")
    return value


def _check_strings(value: Any) -> None:
    # Iterative, although the depth is already bounded, so it costs nothing to be sure.
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            found = _SURROGATE.search(item)
            if found is not None:
                raise BodyRefused(
                    400,
                    f"a string holds the lone surrogate \\u{ord(found.group()):04x}, "
                    "which is not a character",
                )
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def decode_json(body: bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """Decode a UTF-8 JSON document; raise BodyRefused (400) saying what is wrong with it."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BodyRefused(
            400, f"the body is not valid UTF-8 ({exc.reason} at byte {exc.start})"
        ) from None
    if _too_deep(body, max_depth):
        raise BodyRefused(400, f"the JSON is nested deeper than {max_depth} levels")
    try:
        value = json.loads(
            text,
            object_pairs_hook=_no_duplicates,
            parse_constant=_constant,
            parse_int=_integer,
            parse_float=_float,
        )
    except json.JSONDecodeError as exc:
        raise BodyRefused(400, f"malformed JSON: {exc}") from None
    if _SURROGATE_ESCAPE.search(body):
        _check_strings(value)
    return value
