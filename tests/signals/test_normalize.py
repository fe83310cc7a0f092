"""Tests for text normalisation and for mapping normalised spans back to the original text."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from safeguard.signals.normalize import Normalized, normalize, word_key, word_pattern


def span_of(norm: Normalized, needle: str) -> tuple[int, int]:
    """Original span of the first occurrence of needle in the normalised text."""
    start = norm.text.index(needle)
    return norm.original_span(start, start + len(needle))


def test_plain_ascii_is_lower_cased_and_keeps_exact_offsets() -> None:
    norm = normalize("Hello There")
    assert norm.text == "hello there"
    assert norm.starts == tuple(range(11))
    assert norm.ends == tuple(range(1, 12))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("\uff53\uff45\uff43\uff52\uff45\uff54", "secret"),  # Fullwidth forms.
        ("\U0001d42c\U0001d41e\U0001d41c\U0001d42b\U0001d41e\U0001d42d", "secret"),  # Math bold.
        ("\ufb01nd", "find"),  # Ligature.
        ("STRASSE stra\u00dfe", "strasse strasse"),  # Case folding of sharp s.
    ],
)
def test_nfkc_and_case_folding(text: str, expected: str) -> None:
    assert normalize(text).text == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("\u0455\u0435\u0441r\u0435t", "secret"),  # Cyrillic dze, ie, es.
        ("\u0405\u0415\u0421R\u0415\u0422", "secret"),  # Cyrillic capitals.
        ("\u03a1\u0397\u039f\u03a4\u039f", "photo"),  # Greek capitals: Rho, Eta, Omicron, Tau.
        ("\u03c1\u03bfst", "post"),  # Greek small rho and omicron.
        ("s\u00e9cr\u00ebt", "secret"),  # Accents are stripped.
    ],
)
def test_confusables_and_accents(text: str, expected: str) -> None:
    assert normalize(text).text == expected


def test_combining_mark_widens_the_span_of_its_letter() -> None:
    text = "se\u0301cret"
    norm = normalize(text)
    assert norm.text == "secret"
    assert norm.original_span(1, 2) == (1, 3)
    assert span_of(norm, "secret") == (0, len(text))


def test_zero_width_characters_do_not_split_words() -> None:
    text = "se\u200bcr\u00adet"
    norm = normalize(text)
    assert norm.text == "secret"
    assert span_of(norm, "secret") == (0, len(text))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("d0nt t3ll", "do not tell"),
        ("$3cr3t", "secret"),
        ("p@rents", "parents"),
        ("ph0t05", "photos"),
        ("m0n3y", "money"),
        ("7alk", "talk"),
        ("k1ll", "k1ll"),  # "1" stays ambiguous between i and l; patterns accept both.
        ("meet @ the park", "meet at the park"),
    ],
)
def test_leetspeak(text: str, expected: str) -> None:
    assert normalize(text).text == expected


def test_numbers_times_and_ordinals_are_not_read_as_leetspeak() -> None:
    text = "call 911 at 5pm on the 3rd, she is 13yo, costs $20"
    assert normalize(text).text == "call 911 at 5pm on the 3rd she is 13yo costs 20"


def test_a_digit_word_with_a_wrong_ordinal_suffix_is_leetspeak() -> None:
    assert normalize("you 4nd me").text == "you and me"


def test_one_stands_for_i_or_l_in_patterns() -> None:
    for word, spelling in [("kill", "k1ll"), ("kill", "ki11"), ("still", "st1ll"), ("i", "1")]:
        assert re.fullmatch(word_pattern(word), normalize(spelling).text), spelling
    assert re.fullmatch(word_pattern("kill"), normalize("kiss").text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pleeease", "please"),
        ("soooo", "so"),
        ("PLEEEEASE", "please"),
        ("see you too", "see you too"),  # Legitimate doubles stay.
        ("seeeee", "se"),
        ("helllllo", "helo"),
    ],
)
def test_stretched_letters_collapse(text: str, expected: str) -> None:
    assert normalize(text).text == expected


def test_collapsed_and_doubled_spellings_match_the_same_word_pattern() -> None:
    for word in ("see", "too", "tell", "please"):
        regex = word_pattern(word)
        squeezed = re.sub(r"(.)\1+", r"\1", word)
        stretched = "".join(char * 5 for char in word)
        for spelling in (word, squeezed, stretched):
            assert re.fullmatch(regex, normalize(spelling).text), (word, spelling)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("s.e.c.r.e.t", "secret"),
        ("s-e-c-r-e-t", "secret"),
        ("s_e_c_r_e_t", "secret"),
        ("s*e*c*r*e*t", "secret"),
        ("s e c r e t", "secret"),
        ("our s e c r e t ok", "our secret ok"),
        ("d o n t  t e l l", "do not tell"),  # Two spaces separate spaced-out words.
        ("d.o.n.t t.e.l.l", "do not tell"),
        ("s.3.c.r.3.t", "secret"),
        ("U.S.A.", "usa"),
    ],
)
def test_separators_inside_words(text: str, expected: str) -> None:
    assert normalize(text).text == expected


@pytest.mark.parametrize(
    "text",
    ["i had a great day", "a b", "grade A, b or c", "1.5 - 2.5 km", "well-known"],
)
def test_ordinary_single_letters_and_numbers_are_not_joined(text: str) -> None:
    expected = {"grade A, b or c": "grade a b or c", "1.5 - 2.5 km": "1 5 2 5 km"}
    assert normalize(text).text == expected.get(text, text.replace("-", " "))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("don't", "do not"),
        ("don\u2019t", "do not"),
        ("how old r u", "how old are you"),
        ("im gonna", "i am going to"),
        ("whats ur snap", "what is your snap"),
        ("plz send pics", "please send pictures"),
        ("doooont", "do not"),
    ],
)
def test_apostrophes_contractions_and_chat_spellings(text: str, expected: str) -> None:
    assert normalize(text).text == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("\U0001f92b", "secret"),
        ("send \U0001f4f8", "send photo"),
        ("send\U0001f4f7now", "send photo now"),
        ("\U0001f4b0\U0001f4b5", "money money"),
        ("a \U0001f381 for you", "a gift for you"),
        ("\U0001f52a", "knife"),
        ("\U0001f600 hi", "hi"),  # Emoji outside the table are dropped.
    ],
)
def test_emoji_used_as_words(text: str, expected: str) -> None:
    assert normalize(text).text == expected


def test_emoji_word_maps_back_to_the_emoji_and_its_modifiers() -> None:
    text = "send \U0001f4f8\ufe0f now"
    norm = normalize(text)
    assert span_of(norm, "photo") == (5, 7)
    assert norm.original_text(*_find(norm, "send photo")) == "send \U0001f4f8\ufe0f"


def _find(norm: Normalized, needle: str) -> tuple[int, int]:
    start = norm.text.index(needle)
    return start, start + len(needle)


def test_punctuation_and_whitespace_become_single_spaces() -> None:
    assert normalize("  hi,,  there!!\n\tok?  ").text == "hi there ok"


def test_span_of_obfuscated_phrase_is_exactly_the_original_substring() -> None:
    text = "hey you. D0nt  t3ll ur p@rents ok?"
    norm = normalize(text)
    assert norm.text == "hey you do not tell your parents ok"
    start, end = span_of(norm, "do not tell your parents")
    assert text[start:end] == "D0nt  t3ll ur p@rents"


def test_span_of_stretched_spaced_and_confusable_words() -> None:
    text = "it is \u043eur s e c r e t, pleeease"
    norm = normalize(text)
    assert norm.text == "it is our secret please"
    assert norm.original_text(*_find(norm, "our secret")) == "\u043eur s e c r e t"
    assert norm.original_text(*_find(norm, "please")) == "pleeease"


def test_span_of_part_of_an_expanded_word_covers_the_whole_word() -> None:
    norm = normalize("ok dont go")
    assert norm.original_text(*_find(norm, "not")) == "dont"


@pytest.mark.parametrize(("start", "end"), [(0, 0), (3, 2), (-1, 2), (0, 99)])
def test_original_span_rejects_empty_or_out_of_range_spans(start: int, end: int) -> None:
    with pytest.raises(ValueError, match="outside normalised text"):
        normalize("hello").original_span(start, end)


def test_word_key_is_equal_for_spellings_a_pattern_accepts() -> None:
    assert word_key("tell") == word_key("tel") == word_key("te11")
    assert word_key("tell") != word_key("tall")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_offsets_are_well_formed_for_any_text(text: str) -> None:
    norm = normalize(text)
    assert len(norm.starts) == len(norm.ends) == len(norm.text)
    for start, end in zip(norm.starts, norm.ends, strict=True):
        assert 0 <= start < end <= len(text)
    assert list(norm.starts) == sorted(norm.starts)
    assert list(norm.ends) == sorted(norm.ends)
    assert norm.text == norm.text.strip()
    assert "  " not in norm.text


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec="ascii"), max_size=200))
def test_every_normalised_word_comes_from_a_word_in_the_original(text: str) -> None:
    norm = normalize(text)
    for match in re.finditer(r"\S+", norm.text):
        original = norm.original_text(match.start(), match.end())
        assert re.search(r"[A-Za-z0-9@$]", original), (match.group(), original)


# --- Chinese ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我们见面吧", "我 们 见 面 吧"),
        ("今晚8点在车站", "今 晚 8 点 在 车 站"),
        ("别告诉你爸妈!!", "别 告 诉 你 爸 妈"),
        ("秘密s e c r e t好", "秘 密 secret 好"),
        # Spaced-out letters must not glue to a Han character beside them.
        ("a我b c d", "a 我 bcd"),
        ("我 们  见", "我 们 见"),
        ("\U0001f92b秘密", "secret 秘 密"),
        ("\uf900\u4e00", "\u8c48 \u4e00"),  # A compatibility ideograph becomes the unified one.
    ],
)
def test_each_han_character_is_a_word(text: str, expected: str) -> None:
    assert normalize(text).text == expected


def test_han_spans_map_back_to_the_original_characters() -> None:
    text = "好的\uff0c我们今晚见面吧"  # With a fullwidth comma.
    norm = normalize(text)
    start = norm.text.index("见 面")
    assert norm.original_span(start, start + 3) == (text.index("见面"), text.index("见面") + 2)
    for i, char in enumerate(norm.text):
        if char != " ":
            assert norm.original_text(i, i + 1) == char


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("我们见面吧今晚车站 s e1c.r,t!\U0001f92b"), max_size=40))
def test_han_text_spans_stay_within_the_original(text: str) -> None:
    norm = normalize(text)
    assert "  " not in norm.text
    assert len(norm.starts) == len(norm.ends) == len(norm.text)
    assert list(norm.starts) == sorted(norm.starts)
    assert list(norm.ends) == sorted(norm.ends)
    assert all(0 <= a < b <= len(text) for a, b in zip(norm.starts, norm.ends, strict=True))
