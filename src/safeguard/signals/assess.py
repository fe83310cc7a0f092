"""One text assessed as triage needs it: its language, the indicator families of that language,
and the time expressions in it, each resolved against the moment the text was written.

A text in a language Safeguard has no indicator files for is analysed with the English families
(chats mix languages) but reported as not assessed, so triage can say so instead of reading
silence as "benign".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from safeguard.signals.indicators import Family, SignalResult, analyze
from safeguard.signals.languages import detect_language, families_for, supported_languages
from safeguard.signals.temporal import TimeExpression, find_times, supported_time_languages

__all__ = ["TextAssessment", "TimedText", "assess_text"]

# Language detection reads this much of a text: enough to tell a language, bounded in time.
DETECT_CHARS = 2000


@dataclass(frozen=True, slots=True)
class TimedText:
    """A piece of text and the moment it was written; offset places it in a longer text."""

    text: str
    sent_at: datetime
    offset: int = 0


@dataclass(frozen=True, slots=True)
class TextAssessment:
    language: str | None
    # False when the text is in a language with no indicator files: not scored, only flagged.
    assessed: bool
    result: SignalResult
    times: tuple[TimeExpression, ...]


def assess_text(
    text: str,
    *,
    sent_at: datetime,
    zone: tzinfo,
    parts: Sequence[TimedText] = (),
    families: Sequence[Family] | None = None,
) -> TextAssessment:
    """Assess `text`. With `parts` (a thread's messages joined into `text`), each part's time
    expressions are read against that part's own `sent_at`; spans always index `text`.

    `families` overrides the language's families (a lead's uploaded set, or a test's).
    """
    language = detect_language(text[:DETECT_CHARS])
    assessed = language is None or language in supported_languages()
    time_languages = ("en",) if language is None else (language,)
    time_languages = tuple(lang for lang in time_languages if lang in supported_time_languages())
    pieces = parts or (TimedText(text=text, sent_at=sent_at),)
    times: list[TimeExpression] = []
    for piece in pieces:
        for found in find_times(
            piece.text, sent_at=piece.sent_at, zone=zone, languages=time_languages or ("en",)
        ):
            if piece.offset:
                found = TimeExpression(
                    text=found.text,
                    start=found.start + piece.offset,
                    end=found.end + piece.offset,
                    at=found.at,
                    precision=found.precision,
                    language=found.language,
                )
            times.append(found)
    chosen = tuple(families) if families is not None else families_for(language)
    result = analyze(text, chosen, time_spans=[(t.start, t.end) for t in times])
    return TextAssessment(language=language, assessed=assessed, result=result, times=tuple(times))
