"""Tests for finding time expressions and resolving them against a message's time and zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import pytz
from hypothesis import given, settings
from hypothesis import strategies as st

from safeguard.signals.temporal import (
    PRECISIONS,
    TimeExpression,
    TimeWordsError,
    find_times,
    load_time_words,
    parse_time_words,
    supported_time_languages,
)

MADRID = ZoneInfo("Europe/Madrid")
SAO_PAULO = ZoneInfo("America/Sao_Paulo")
JAKARTA = ZoneInfo("Asia/Jakarta")
KUALA_LUMPUR = ZoneInfo("Asia/Kuala_Lumpur")
SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")

# Wednesday 2 December 2026, 16:00 in São Paulo (19:00 UTC).
WEDNESDAY = datetime(2026, 12, 2, 16, 0, tzinfo=SAO_PAULO)


def local(zone: ZoneInfo, year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=zone)


def only(text: str, sent_at: datetime, zone: ZoneInfo, language: str = "en") -> TimeExpression:
    found = find_times(text, sent_at=sent_at, zone=zone, languages=(language,))
    assert len(found) == 1, found
    return found[0]


# (text, language, zone, sent_at, expected span, expected moment, precision)
CASES: list[tuple[str, str, ZoneInfo, datetime, str, datetime, str]] = [
    # English, sent on a Wednesday at 16:00 in São Paulo.
    ("ok right now", "en", SAO_PAULO, WEDNESDAY, "right now", WEDNESDAY, "minute"),
    (
        "meet me in an hour",
        "en",
        SAO_PAULO,
        WEDNESDAY,
        "in an hour",
        local(SAO_PAULO, 2026, 12, 2, 17),
        "hour",
    ),
    (
        "be there in 45 mins",
        "en",
        SAO_PAULO,
        WEDNESDAY,
        "in 45 mins",
        local(SAO_PAULO, 2026, 12, 2, 16, 45),
        "minute",
    ),
    (
        "in half an hour then",
        "en",
        SAO_PAULO,
        WEDNESDAY,
        "in half an hour",
        local(SAO_PAULO, 2026, 12, 2, 16, 30),
        "hour",
    ),
    (
        "c u l8r",
        "en",
        SAO_PAULO,
        WEDNESDAY,
        "l8r",
        local(SAO_PAULO, 2026, 12, 2, 18),
        "part_of_day",
    ),
    (
        "come over this evening",
        "en",
        SAO_PAULO,
        WEDNESDAY,
        "this evening",
        local(SAO_PAULO, 2026, 12, 2, 20),
        "part_of_day",
    ),
    (
        "2nyt after dinner",
        "en",
        SAO_PAULO,
        WEDNESDAY,
        "2nyt",
        local(SAO_PAULO, 2026, 12, 2, 20),
        "part_of_day",
    ),
    (
        "tmrw morning ok?",
        "en",
        SAO_PAULO,
        WEDNESDAY,
        "tmrw morning",
        local(SAO_PAULO, 2026, 12, 3, 9),
        "part_of_day",
    ),
    ("tomoz", "en", SAO_PAULO, WEDNESDAY, "tomoz", local(SAO_PAULO, 2026, 12, 3, 12), "day"),
    (
        "after school",
        "en",
        SAO_PAULO,
        WEDNESDAY,
        "after school",
        local(SAO_PAULO, 2026, 12, 3, 15, 30),
        "hour",
    ),
    (
        "gotta be home b4 9",
        "en",
        SAO_PAULO,
        WEDNESDAY,
        "b4 9",
        local(SAO_PAULO, 2026, 12, 2, 21),
        "hour",
    ),
    (
        "until 10 only",
        "en",
        SAO_PAULO,
        WEDNESDAY,
        "until 10",
        local(SAO_PAULO, 2026, 12, 2, 22),
        "hour",
    ),
    (
        "at 5:45pm",
        "en",
        SAO_PAULO,
        WEDNESDAY,
        "at 5:45pm",
        local(SAO_PAULO, 2026, 12, 2, 17, 45),
        "minute",
    ),
    (
        "station 19:30",
        "en",
        SAO_PAULO,
        WEDNESDAY,
        "19:30",
        local(SAO_PAULO, 2026, 12, 2, 19, 30),
        "minute",
    ),
    (
        "6.15pm",
        "en",
        SAO_PAULO,
        WEDNESDAY,
        "6.15pm",
        local(SAO_PAULO, 2026, 12, 2, 18, 15),
        "minute",
    ),
    ("8 pm", "en", SAO_PAULO, WEDNESDAY, "8 pm", local(SAO_PAULO, 2026, 12, 2, 20), "hour"),
    ("9p", "en", SAO_PAULO, WEDNESDAY, "9p", local(SAO_PAULO, 2026, 12, 2, 21), "hour"),
    ("20h", "en", SAO_PAULO, WEDNESDAY, "20h", local(SAO_PAULO, 2026, 12, 2, 20), "hour"),
    (
        "this Saturday 3pm",
        "en",
        SAO_PAULO,
        WEDNESDAY,
        "this Saturday 3pm",
        local(SAO_PAULO, 2026, 12, 5, 15),
        "hour",
    ),
    (
        "on wednesday at 8",
        "en",
        SAO_PAULO,
        WEDNESDAY,
        "on wednesday at 8",
        local(SAO_PAULO, 2026, 12, 2, 20),
        "hour",
    ),
    (
        "next wednesday",
        "en",
        SAO_PAULO,
        WEDNESDAY,
        "next wednesday",
        local(SAO_PAULO, 2026, 12, 9, 12),
        "day",
    ),
    (
        "over the weekend",
        "en",
        SAO_PAULO,
        WEDNESDAY,
        "over the weekend",
        local(SAO_PAULO, 2026, 12, 5, 12),
        "day",
    ),
    (
        "maybe next week",
        "en",
        SAO_PAULO,
        WEDNESDAY,
        "next week",
        WEDNESDAY + timedelta(days=7),
        "week",
    ),
    ("in 3 days", "en", SAO_PAULO, WEDNESDAY, "in 3 days", WEDNESDAY + timedelta(days=3), "day"),
    (
        "on 14 December",
        "en",
        SAO_PAULO,
        WEDNESDAY,
        "14 December",
        local(SAO_PAULO, 2026, 12, 14, 12),
        "day",
    ),
    (
        "January 3rd",
        "en",
        SAO_PAULO,
        WEDNESDAY,
        "January 3rd",
        local(SAO_PAULO, 2027, 1, 3, 12),
        "day",
    ),
    (
        "2026-12-24",
        "en",
        SAO_PAULO,
        WEDNESDAY,
        "2026-12-24",
        local(SAO_PAULO, 2026, 12, 24, 12),
        "day",
    ),
    (
        "T.O.N.I.G.H.T",
        "en",
        SAO_PAULO,
        WEDNESDAY,
        "T.O.N.I.G.H.T",
        local(SAO_PAULO, 2026, 12, 2, 20),
        "part_of_day",
    ),
    (
        "see u t o m o r r o w ok",
        "en",
        SAO_PAULO,
        WEDNESDAY,
        "t o m o r r o w",
        local(SAO_PAULO, 2026, 12, 3, 12),
        "day",
    ),
    (
        "tonighttt!!",
        "en",
        SAO_PAULO,
        WEDNESDAY,
        "tonighttt",
        local(SAO_PAULO, 2026, 12, 2, 20),
        "part_of_day",
    ),
    # Spanish, Madrid.
    (
        "nos vemos esta noche",
        "es",
        MADRID,
        local(MADRID, 2026, 12, 2, 18),
        "esta noche",
        local(MADRID, 2026, 12, 2, 20),
        "part_of_day",
    ),
    (
        "mañana a las 7",
        "es",
        MADRID,
        local(MADRID, 2026, 12, 2, 18),
        "mañana a las 7",
        local(MADRID, 2026, 12, 3, 7),
        "hour",
    ),
    (
        "en dos horas",
        "es",
        MADRID,
        local(MADRID, 2026, 12, 2, 18),
        "en dos horas",
        local(MADRID, 2026, 12, 2, 20),
        "hour",
    ),
    (
        "el sábado por la tarde",
        "es",
        MADRID,
        local(MADRID, 2026, 12, 2, 18),
        "el sábado por la tarde",
        local(MADRID, 2026, 12, 5, 15),
        "part_of_day",
    ),
    (
        "despues del cole",
        "es",
        MADRID,
        local(MADRID, 2026, 12, 2, 10),
        "despues del cole",
        local(MADRID, 2026, 12, 2, 15, 30),
        "hour",
    ),
    (
        "antes de las 9",
        "es",
        MADRID,
        local(MADRID, 2026, 12, 2, 18),
        "antes de las 9",
        local(MADRID, 2026, 12, 2, 21),
        "hour",
    ),
    # Portuguese, São Paulo.
    (
        "hoje de noite",
        "pt",
        SAO_PAULO,
        WEDNESDAY,
        "hoje de noite",
        local(SAO_PAULO, 2026, 12, 2, 20),
        "part_of_day",
    ),
    (
        "daqui a duas horas",
        "pt",
        SAO_PAULO,
        WEDNESDAY,
        "daqui a duas horas",
        local(SAO_PAULO, 2026, 12, 2, 18),
        "hour",
    ),
    (
        "te pego às 18h30",
        "pt",
        SAO_PAULO,
        WEDNESDAY,
        "às 18h30",
        local(SAO_PAULO, 2026, 12, 2, 18, 30),
        "minute",
    ),
    ("na sexta", "pt", SAO_PAULO, WEDNESDAY, "na sexta", local(SAO_PAULO, 2026, 12, 4, 12), "day"),
    (
        "amanhã depois da aula",
        "pt",
        SAO_PAULO,
        WEDNESDAY,
        "amanhã depois da aula",
        local(SAO_PAULO, 2026, 12, 3, 15, 30),
        "hour",
    ),
    # Indonesian and Malay.
    (
        "ketemu nanti malam ya",
        "id",
        JAKARTA,
        local(JAKARTA, 2026, 12, 2, 9),
        "nanti malam",
        local(JAKARTA, 2026, 12, 2, 20),
        "part_of_day",
    ),
    (
        "besok jam 7 malam",
        "id",
        JAKARTA,
        local(JAKARTA, 2026, 12, 2, 9),
        "besok jam 7 malam",
        local(JAKARTA, 2026, 12, 3, 19),
        "hour",
    ),
    (
        "30 menit lagi",
        "id",
        JAKARTA,
        local(JAKARTA, 2026, 12, 2, 9),
        "30 menit lagi",
        local(JAKARTA, 2026, 12, 2, 9, 30),
        "minute",
    ),
    (
        "pukul 19.30",
        "id",
        JAKARTA,
        local(JAKARTA, 2026, 12, 2, 9),
        "pukul 19.30",
        local(JAKARTA, 2026, 12, 2, 19, 30),
        "minute",
    ),
    (
        "esok petang",
        "ms",
        KUALA_LUMPUR,
        local(KUALA_LUMPUR, 2026, 12, 2, 9),
        "esok petang",
        local(KUALA_LUMPUR, 2026, 12, 3, 15),
        "part_of_day",
    ),
    (
        "hari Jumaat",
        "ms",
        KUALA_LUMPUR,
        local(KUALA_LUMPUR, 2026, 12, 2, 9),
        "hari Jumaat",
        local(KUALA_LUMPUR, 2026, 12, 4, 12),
        "day",
    ),
    # Simplified Chinese.
    (
        "我们今晚见",
        "zh",
        SHANGHAI,
        local(SHANGHAI, 2026, 12, 2, 9),
        "今晚",
        local(SHANGHAI, 2026, 12, 2, 20),
        "part_of_day",
    ),
    (
        "明天晚上8点半",
        "zh",
        SHANGHAI,
        local(SHANGHAI, 2026, 12, 2, 9),
        "明天晚上8点半",
        local(SHANGHAI, 2026, 12, 3, 20, 30),
        "minute",
    ),
    (
        "半小时后",
        "zh",
        SHANGHAI,
        local(SHANGHAI, 2026, 12, 2, 9),
        "半小时后",
        local(SHANGHAI, 2026, 12, 2, 9, 30),
        "hour",
    ),
    (
        "星期六下午",
        "zh",
        SHANGHAI,
        local(SHANGHAI, 2026, 12, 2, 9),
        "星期六下午",
        local(SHANGHAI, 2026, 12, 5, 15),
        "part_of_day",
    ),
    (
        "12月24日",
        "zh",
        SHANGHAI,
        local(SHANGHAI, 2026, 12, 2, 9),
        "12月24日",
        local(SHANGHAI, 2026, 12, 24, 12),
        "day",
    ),
]


@pytest.mark.parametrize(
    ("text", "language", "zone", "sent_at", "span", "expected", "precision"),
    CASES,
    ids=[case[0] for case in CASES],
)
def test_expressions_resolve(
    text: str,
    language: str,
    zone: ZoneInfo,
    sent_at: datetime,
    span: str,
    expected: datetime,
    precision: str,
) -> None:
    found = only(text, sent_at, zone, language)
    assert found.text == span
    assert text[found.start : found.end] == span
    assert abs(found.at - expected) <= timedelta(minutes=1)
    assert found.at.tzinfo is UTC
    assert found.precision == precision
    assert found.language == language


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("I'm 13 and she's 15", "en"),
        ("it was $20 for 3 pics", "en"),
        ("call me on 555 0199 or 0812 3456 7890", "en"),
        ("I came second in the race", "en"),
        ("you may come if you want", "en"),
        ("she sat on the bench in the sun", "en"),
        ("good morning, good night", "en"),
        ("10/10 would recommend, 24/7 support, scored 3/5", "en"),
        ("last friday was fun, every night the same", "en"),
        ("level 7, page 12, room 9, bus 42", "en"),
        ("tengo 13 años y 20 euros", "es"),
        ("desde luego, buenas noches", "es"),
        ("ela está na sexta série pela segunda vez", "pt"),
        ("umur saya 13 tahun, harganya 20 ribu", "id"),
        ("selamat malam semua", "ms"),
        ("我今年13岁\uff0c有3张照片", "zh"),
    ],
)
def test_benign_text_has_no_times(text: str, language: str) -> None:
    assert find_times(text, sent_at=WEDNESDAY, zone=SAO_PAULO, languages=(language,)) == ()


def test_tonight_already_past_is_an_hour_after_sending() -> None:
    sent = local(LONDON, 2026, 12, 2, 23, 50)
    assert only("tonight", sent, LONDON).at == sent + timedelta(hours=1)


def test_bare_hour_near_midnight_is_the_next_morning() -> None:
    sent = local(LONDON, 2026, 12, 2, 23, 50)
    assert only("at 7", sent, LONDON).at == local(LONDON, 2026, 12, 3, 7)
    assert only("by midnight", sent, LONDON).at == local(LONDON, 2026, 12, 3, 0)


def test_bare_hour_one_to_six_is_afternoon() -> None:
    sent = local(LONDON, 2026, 12, 2, 0, 30)
    assert only("at 3", sent, LONDON).at == local(LONDON, 2026, 12, 2, 15)


def test_tonight_at_one_is_the_small_hours() -> None:
    sent = local(LONDON, 2026, 12, 2, 20)
    assert only("tonight at 1", sent, LONDON).at == local(LONDON, 2026, 12, 3, 1)


def test_weekday_with_time_later_today_is_today() -> None:
    sent = local(LONDON, 2026, 12, 4, 10)  # A Friday.
    assert only("friday 7pm", sent, LONDON).at == local(LONDON, 2026, 12, 4, 19)
    assert only("friday", sent, LONDON).at == local(LONDON, 2026, 12, 11, 12)


def test_after_school_on_friday_evening_is_monday() -> None:
    sent = local(LONDON, 2026, 12, 4, 17)
    assert only("after school", sent, LONDON).at == local(LONDON, 2026, 12, 7, 15, 30)


def test_dst_spring_forward_uses_the_new_offset() -> None:
    # Madrid moves from +01:00 to +02:00 at 02:00 on 29 March 2026.
    sent = local(MADRID, 2026, 3, 28, 22)
    found = only("tomorrow at 9am", sent, MADRID)
    assert found.at == datetime(2026, 3, 29, 7, tzinfo=UTC)
    # An offset is elapsed time, so two hours after 01:30 is 04:30 on the new offset.
    sent = local(MADRID, 2026, 3, 29, 1, 30)
    assert only("in 2 hours", sent, MADRID).at == datetime(2026, 3, 29, 2, 30, tzinfo=UTC)


def test_dst_fall_back_keeps_wall_clock_for_tomorrow() -> None:
    sent = local(NEW_YORK, 2026, 10, 31, 21)  # New York leaves DST on 1 November.
    assert only("tmrw at 8pm", sent, NEW_YORK).at == datetime(2026, 11, 2, 1, tzinfo=UTC)


def test_pytz_zone_is_localised() -> None:
    zone = pytz.timezone("America/Sao_Paulo")
    found = find_times("tonight", sent_at=WEDNESDAY, zone=zone)
    assert found[0].at == datetime(2026, 12, 2, 23, tzinfo=UTC)


def test_spans_index_the_original_text_and_do_not_overlap() -> None:
    text = "Héllo 😀 so TMRW at 7PM, or t.o.n.i.g.h.t? maybe in 2 hrs. next week too"
    found = find_times(text, sent_at=WEDNESDAY, zone=SAO_PAULO)
    assert [item.text for item in found] == [
        "TMRW at 7PM",
        "t.o.n.i.g.h.t",
        "in 2 hrs",
        "next week",
    ]
    for item in found:
        assert text[item.start : item.end] == item.text
    assert all(a.end <= b.start for a, b in pairwise(found))


def test_english_is_always_tried() -> None:
    found = find_times("mañana tonight", sent_at=WEDNESDAY, zone=SAO_PAULO, languages=("es",))
    assert [(item.text, item.language) for item in found] == [("mañana", "es"), ("tonight", "en")]


def test_naive_sent_at_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        find_times("tonight", sent_at=datetime(2026, 12, 2, 16), zone=SAO_PAULO)


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="'xx'"):
        find_times("tonight", sent_at=WEDNESDAY, zone=SAO_PAULO, languages=("xx",))


def test_shipped_languages() -> None:
    assert supported_time_languages() == frozenset({"en", "es", "pt", "id", "ms", "zh"})


MINIMAL = {
    "language": "xx",
    "word_boundaries": True,
    "expressions": [{"rule": "now", "patterns": ["now"]}],
}


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"language": "EN"}, "language", "lower-case"),
        ({"colour": 1}, "colour", "not a known field"),
        ({"word_boundaries": "yes"}, "word_boundaries", "true or false"),
        ({"expressions": []}, "expressions", "non-empty"),
        ({"expressions": [{"rule": "never", "patterns": ["x"]}]}, "expressions[0].rule", "one of"),
        (
            {"expressions": [{"rule": "now", "patterns": ["{nope}"]}]},
            "expressions[0].patterns[0]",
            "unknown slot",
        ),
        (
            {"expressions": [{"rule": "now", "patterns": ["{weekday}"]}]},
            "expressions[0].patterns[0]",
            "no words",
        ),
        (
            {"expressions": [{"rule": "now", "patterns": ["(now"]}]},
            "expressions[0].patterns[0]",
            "not a valid pattern",
        ),
        (
            {"expressions": [{"rule": "now", "patterns": ["(?i)now"]}]},
            "expressions[0].patterns[0]",
            "inline flags",
        ),
        ({"expressions": [{"rule": "day", "patterns": ["x"]}]}, "expressions[0].day", "required"),
        ({"units": {"fortnight": ["fn"]}}, "units.fortnight", "one of"),
        ({"numbers": {"two": "2"}}, "numbers.two", "a number"),
        ({"parts": {"morning": ["am"], "evening": ["am"]}}, "parts.evening", "also listed"),
        ({"spellings": {"two words": ["x"]}}, "spellings.two words", "single word"),
    ],
)
def test_invalid_tables_name_the_field(change: dict[str, object], field: str, message: str) -> None:
    with pytest.raises(TimeWordsError, match=message) as caught:
        parse_time_words({**MINIMAL, **change}, source="test.yaml")
    assert caught.value.source == "test.yaml"
    assert caught.value.field == field


def test_file_errors_name_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "xx.yaml"
    path.write_text("language: xx\nlanguage: yy\n", encoding="utf-8")
    with pytest.raises(TimeWordsError, match="duplicate key") as caught:
        load_time_words(path)
    assert caught.value.source == str(path)
    assert caught.value.field == "line 2"
    path.write_text("language: yy\nword_boundaries: true\nexpressions: []\n", encoding="utf-8")
    with pytest.raises(TimeWordsError, match="file name") as caught:
        load_time_words(path)
    assert caught.value.field == "language"


# --- Properties -------------------------------------------------------------------------------

# Expressions that name a moment within a week of sending, by language.
PHRASES: dict[str, tuple[str, ...]] = {
    "en": (
        "tonight",
        "tomorrow",
        "today",
        "later",
        "soon",
        "now",
        "right now",
        "this evening",
        "this afternoon",
        "tomorrow night",
        "in an hour",
        "in 2 hours",
        "in 30 mins",
        "in half an hour",
        "after school",
        "by midnight",
        "before 9",
        "b4 9",
        "until 10",
        "at 7",
        "at 7pm",
        "19:30",
        "7.30pm",
        "7 pm",
        "7p",
        "19h",
        "this friday 7pm",
        "next friday",
        "on sunday",
        "the weekend",
        "this weekend",
        "next week",
        "in 3 days",
        "2day",
        "2nite",
        "2nyt",
        "tonite",
        "tmrw",
        "tmr",
        "2moro",
        "tomoz",
        "l8r",
    ),
    "es": (
        "esta noche",
        "mañana",
        "en una hora",
        "a las 7",
        "el viernes",
        "luego",
        "hoy",
        "después de clase",
        "antes de las 9",
        "esta tarde",
        "en 20 minutos",
    ),
    "pt": (
        "hoje à noite",
        "hoje de noite",
        "amanhã",
        "daqui a uma hora",
        "às 19h",
        "sexta",
        "mais tarde",
        "depois da aula",
        "agora",
        "na quinta às 8",
    ),
    "id": (
        "malam ini",
        "nanti malam",
        "besok",
        "sejam lagi",
        "satu jam lagi",
        "jam 7",
        "pukul 19.00",
        "Jumat",
        "nanti",
        "pulang sekolah",
    ),
    "ms": (
        "malam ini",
        "esok",
        "sejam lagi",
        "jam 7",
        "pukul 19.00",
        "Jumaat",
        "nanti",
        "lepas sekolah",
    ),
    "zh": (
        "今晚",
        "今天晚上",
        "明天",
        "一小时后",
        "晚上7点",
        "周五",
        "星期五",
        "放学后",
        "马上",
        "等下",
    ),
}
SPACEABLE = ("tonight", "tomorrow", "today", "later", "soon", "weekend")
FILLER = (
    "hey",
    "so",
    "we",
    "could",
    "meet",
    "ok",
    "lol",
    "the",
    "park",
    "bring",
    "your",
    "friend",
    "u",
    "c",
    "dont",
    "tell",
    "anyone",
    "!",
    "?",
    "...",
)
ZONES = (SAO_PAULO, MADRID, JAKARTA, KUALA_LUMPUR, SHANGHAI, NEW_YORK, LONDON, UTC)


@st.composite
def obfuscated(draw: st.DrawFn) -> tuple[str, str]:
    language = draw(st.sampled_from(sorted(PHRASES)))
    phrase = draw(st.sampled_from(PHRASES[language]))
    style = draw(st.sampled_from(("plain", "upper", "title", "stretch", "spaced")))
    if style == "upper":
        phrase = phrase.upper()
    elif style == "title":
        phrase = phrase.title()
    elif style == "stretch" and phrase[-1].isalpha() and phrase.isascii():
        phrase += phrase[-1] * draw(st.integers(2, 4))
    elif style == "spaced" and phrase in SPACEABLE:
        phrase = draw(st.sampled_from((".", " ", "-", "*"))).join(phrase)
    return language, phrase


sent_times = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
)


@settings(max_examples=150, deadline=None)
@given(
    expression=obfuscated(),
    before=st.lists(st.sampled_from(FILLER), max_size=5),
    after=st.lists(st.sampled_from(FILLER), max_size=5),
    sent_at=sent_times,
    zone=st.sampled_from(ZONES),
)
def test_composed_expressions_are_found(
    expression: tuple[str, str],
    before: list[str],
    after: list[str],
    sent_at: datetime,
    zone: ZoneInfo,
) -> None:
    language, phrase = expression
    separator = "" if language == "zh" else " "
    prefix = separator.join(before) + separator if before else ""
    text = prefix + phrase + (separator + separator.join(after) if after else "")
    start, end = len(prefix), len(prefix) + len(phrase)
    found = find_times(text, sent_at=sent_at, zone=zone, languages=(language,))
    covering = [item for item in found if item.start <= start and end <= item.end]
    assert covering, (text, found)
    for item in found:
        assert text[item.start : item.end] == item.text
        assert item.precision in PRECISIONS
        assert sent_at - timedelta(minutes=1) <= item.at <= sent_at + timedelta(days=8)


BENIGN = (
    "i am {n}",
    "im {n} years old",
    "she is {n} yo",
    "{n} pics",
    "it costs ${n}",
    "{n} dollars",
    "{n}.{m} for the ticket",
    "my number is {phone}",
    "call {phone}",
    "i have {n} cats",
    "level {n}",
    "page {n}",
    "{n}% battery",
    "grade {n}",
    "room {n}",
    "bus {n}",
    "i came second",
    "you may come",
    "she sat there",
    "the sun is hot",
    "i scored {n} points",
    "{n} followers",
    "we were {n} in the group",
    "top {n} songs",
)


@settings(max_examples=150, deadline=None)
@given(
    parts=st.lists(
        st.tuples(
            st.sampled_from(BENIGN),
            st.integers(0, 999),
            st.integers(0, 99),
            st.from_regex(r"\A(?:\+?[0-9]{2} )?[0-9]{3,4}[ -][0-9]{3,4}[ -]?[0-9]{0,4}\Z"),
        ),
        min_size=1,
        max_size=4,
    ),
    language=st.sampled_from(sorted(PHRASES)),
    sent_at=sent_times,
)
def test_benign_generated_texts_have_no_times(
    parts: list[tuple[str, int, int, str]], language: str, sent_at: datetime
) -> None:
    text = ", ".join(
        template.format(n=n, m=f"{m:02d}", phone=phone) for template, n, m, phone in parts
    )
    assert find_times(text, sent_at=sent_at, zone=SAO_PAULO, languages=(language,)) == ()


@settings(max_examples=150, deadline=None)
@given(
    text=st.text(
        alphabet=st.sampled_from(
            "at7pm 19:30.tonight2nyt@b4h/0-3 mañana晚上点后 \u200b\u0430\uff54"
        ),
        max_size=60,
    ),
    sent_at=sent_times,
    zone=st.sampled_from(ZONES),
)
def test_any_text_gives_valid_spans(text: str, sent_at: datetime, zone: ZoneInfo) -> None:
    found = find_times(text, sent_at=sent_at, zone=zone, languages=tuple(PHRASES))
    for item in found:
        assert text[item.start : item.end] == item.text
        assert item.at.tzinfo is UTC
    assert all(a.end <= b.start for a, b in pairwise(found))
