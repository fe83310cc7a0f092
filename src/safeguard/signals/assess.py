"""One text assessed as triage needs it: its language, the indicator families of that language,
and the time expressions in it, each resolved against the moment the text was written.

A text in a language Safeguard has no indicator files for is analysed with the English families
(chats mix languages) but reported as not assessed, so triage can say so instead of reading
silence as "benign".
"""

from __future__ import annotations

import bisect
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from safeguard.signals.indicators import Family, SignalResult, analyze, with_times
from safeguard.signals.languages import detect_language, families_for, supported_languages
from safeguard.signals.temporal import TimeExpression, find_times, supported_time_languages

__all__ = ["TextAssessment", "TimedText", "assess_text"]

# Language detection reads this much of a text: enough to tell a language, bounded in time.
DETECT_CHARS = 2000
# A time counts from the messages this close to one that names a harm.
NEAR_MESSAGES = 3


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
    times_for: Collection[str] = (),
) -> TextAssessment:
    """Assess `text`. With `parts` (a thread's messages joined into `text`), each part's time
    expressions are read against that part's own `sent_at`; spans always index `text`.

    `families` overrides the language's families (a lead's uploaded set, or a test's). Times
    are looked for only in a text where a family with a time group, or one named in
    `times_for` (a harm whose time matters to the caller), found something: a time alone
    means nothing, and most texts name no harm, so most texts skip the search.
    """
    language = detect_language(text[:DETECT_CHARS])
    assessed = language is None or language in supported_languages()
    chosen = tuple(families) if families is not None else families_for(language)
    first = analyze(text, chosen)
    with_time = [f for f in chosen if any(group.time for group in f.groups)]
    timed = {f.name for f in with_time} | set(times_for)
    marks = [ind.start for ind in first.indicators if ind.family in timed]
    if not marks:
        return TextAssessment(language=language, assessed=assessed, result=first, times=())
    wanted = ("en",) if language is None else (language,)
    time_languages = tuple(lang for lang in wanted if lang in supported_time_languages())
    times: list[TimeExpression] = []
    for piece in _near(parts, marks) if parts else (TimedText(text=text, sent_at=sent_at),):
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
    if not times or not with_time:
        return TextAssessment(
            language=language, assessed=assessed, result=first, times=tuple(times)
        )
    # Only the families with a time group change once the times are known.
    result = with_times(first, text, with_time, [(t.start, t.end) for t in times])
    return TextAssessment(language=language, assessed=assessed, result=result, times=tuple(times))


def _near(parts: Sequence[TimedText], marks: Sequence[int]) -> list[TimedText]:
    """The messages within NEAR_MESSAGES of one where a harm was found: the time of a meeting
    or a plan is said beside it ("where?" "the station" "at 8"), not fifty messages away."""
    starts = [part.offset for part in parts]
    hit = {bisect.bisect_right(starts, mark) - 1 for mark in marks}
    keep = {k for h in hit for k in range(h - NEAR_MESSAGES, h + NEAR_MESSAGES + 1)}
    return [part for k, part in enumerate(parts) if k in keep]
