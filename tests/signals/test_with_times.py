"""with_times gives exactly what analyze gives with the same time spans, without matching the
phrases a second time (assess_text uses it once a text's times are known)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from safeguard.signals.indicators import analyze, with_times
from safeguard.signals.languages import families_for

PIECES = [
    "lets meet",
    "at the station",
    "come alone",
    "i am going to kill myself",
    "goodbye everyone",
    "pills",
    "tonight",
    "i could die of embarrassment",
    "nos vemos",
    "en la estación",
    "how old are you",
    "the homework is due",
]


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.sampled_from(PIECES), min_size=1, max_size=6),
    st.sampled_from(["en", "es"]),
    st.data(),
)
def test_with_times_equals_a_second_analysis(
    pieces: list[str], language: str, data: st.DataObject
) -> None:
    text = " ".join(pieces)
    families = families_for(language)
    count = data.draw(st.integers(min_value=1, max_value=3))
    spans = []
    for _ in range(count):
        start = data.draw(st.integers(min_value=0, max_value=len(text) - 1))
        end = data.draw(st.integers(min_value=start + 1, max_value=len(text)))
        spans.append((start, end))
    again = analyze(text, families, time_spans=spans)
    assert with_times(analyze(text, families), text, families, spans) == again
