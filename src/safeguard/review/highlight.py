"""Splitting a message into plain and highlighted segments from the text signals' spans (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Segment:
    text: str
    family: str | None  # the signal family that marked it, or None for plain text


def segments(text: str, spans: Sequence[tuple[int, int, str]]) -> list[Segment]:
    """Cut `text` at the given (start, end, family) spans; overlapping spans merge, the first
    family named wins. Every character of the text appears exactly once, in order."""
    marks: list[tuple[int, int, str]] = []
    for start, end, family in sorted(spans):
        start, end = max(0, start), min(len(text), end)
        if start >= end:
            continue
        if marks and start < marks[-1][1]:
            last = marks[-1]
            marks[-1] = (last[0], max(last[1], end), last[2])
        else:
            marks.append((start, end, family))
    out: list[Segment] = []
    at = 0
    for start, end, family in marks:
        if at < start:
            out.append(Segment(text[at:start], None))
        out.append(Segment(text[start:end], family))
        at = end
    if at < len(text):
        out.append(Segment(text[at:], None))
    return out
